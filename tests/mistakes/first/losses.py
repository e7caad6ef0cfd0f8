"""First fresh bank for losses, written before any diagnosis change."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("logsumexp_forgets_the_max", "shifts by the max but never adds it back",
           "out = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))",
           "out = np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))", diagnosis="max|shift"),
    Mutant("softmax_sums_everything", "normalises by the sum of the whole array",
           "return e / np.sum(e, axis=axis, keepdims=True)", "return e / np.sum(e)", diagnosis="axis"),
    Mutant("log_softmax_plus", "adds the log of the sum instead of subtracting it",
           "return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))",
           "return shifted + np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))",
           diagnosis="sign"),
    Mutant("cross_entropy_picks_columns", "indexes log_probs[:, labels], an (N, N) block",
           "return float(-np.mean(log_probs[np.arange(n), labels]))",
           "return float(-np.mean(log_probs[:, labels]))", diagnosis="label|row"),
    Mutant("backward_subtracts_whole_columns", "subtracts 1 from whole columns grad[:, labels]",
           "grad[np.arange(n), self._labels] -= 1", "grad[:, self._labels] -= 1", diagnosis="label|row"),
    Mutant("backward_without_exp", "uses the log-probabilities as the probabilities",
           "grad = np.exp(self._log_probs)", "grad = self._log_probs.copy()", diagnosis="exp|log"),
    Mutant("loss_without_minus", "returns the mean log-probability, not its negative",
           "return float(-np.mean(log_probs[np.arange(n), labels]))",
           "return float(np.mean(log_probs[np.arange(n), labels]))", diagnosis="sign"),
    Mutant("logsumexp_global_max", "shifts by the max of the whole array",
           "m = np.max(z, axis=axis, keepdims=True)", "m = np.max(z)", diagnosis="max|row|axis"),
    Mutant("backward_divides_by_classes", "divides the gradient by the number of classes",
           "return grad / n", "return grad / self._log_probs.shape[1]", diagnosis="classes|batch size"),
    Mutant("loss_mean_of_all_log_probs", "averages every log-probability, not the labels' ones",
           "return float(-np.mean(log_probs[np.arange(n), labels]))", "return float(-np.mean(log_probs))",
           diagnosis="label"),
]

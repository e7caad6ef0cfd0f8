"""Ninth fresh bank for losses, written blind on 2026-12-07 in round nine AFTER round nine's diagnosis changes
were merged (commit eeff076); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("logsumexp_subtracts_the_log", "subtracts the log of the shifted sum from the max instead of adding it",
           "out = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))",
           "out = m - np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))",
           diagnosis="minus|subtract|negat|opposite|+ log"),
    Mutant("logsumexp_shift_by_min", "shifts by the minimum instead of the maximum",
           "m = np.max(z, axis=axis, keepdims=True)", "m = np.min(z, axis=axis, keepdims=True)",
           diagnosis="minimum|overflow|largest logit|infinit|instead of the max"),
    Mutant("softmax_sum_over_axis_1", "shifts along `axis` but normalises along axis 1 hard-coded",
           "return e / np.sum(e, axis=axis, keepdims=True)", "return e / np.sum(e, axis=1, keepdims=True)",
           diagnosis="axis|hard-coded|column|each row|normalis"),
    Mutant("log_softmax_sign_flipped", "returns log sum exp minus the shifted logits",
           "return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))",
           "return np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True)) - shifted",
           diagnosis="negat|opposite|minus|reversed|flipped"),
    Mutant("ce_mean_of_one_hot_product", "averages log_probs times a one-hot mask over all N*C entries, dividing by C too",
           "return float(-np.mean(log_probs[np.arange(n), labels]))",
           "return float(-np.mean(log_probs * np.eye(c)[labels]))",
           diagnosis="1/c|classes|n*c|every entry|one-hot"),
    Mutant("ce_log_of_softmax", "takes np.log(softmax(logits)), -inf when a probability underflows",
           "log_probs = log_softmax(logits, axis=1)", "log_probs = np.log(softmax(logits, axis=1))",
           diagnosis="-inf|underflow|log(0)|log of|stable"),
    Mutant("ce_backward_averaged_over_batch", "averages the gradient over the batch instead of dividing every row by n",
           "return grad / n", "return grad.mean(axis=0)",
           diagnosis="per example|each row|averag|over the batch|batch size"),
    Mutant("ce_backward_index_order_swapped", "indexes the one-hot subtraction as [labels, rows]",
           "grad[np.arange(n), self._labels] -= 1", "grad[self._labels, np.arange(n)] -= 1",
           diagnosis="indices swapped|swapped|each row|label column|transpos"),
    Mutant("ce_backward_renormalised_per_column", "renormalises the softmax per column (over the batch) in backward",
           "grad = np.exp(self._log_probs)", "grad = np.exp(self._log_probs)\n        grad = grad / grad.sum(axis=0, keepdims=True)",
           diagnosis="axis|column|normalis|over the batch|over the wrong"),
]

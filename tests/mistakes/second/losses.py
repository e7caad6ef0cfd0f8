"""Second fresh bank for losses, written after the diagnosis changes."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("softmax_divides_by_max", "normalises by the max instead of the sum",
           "return e / np.sum(e, axis=axis, keepdims=True)", "return e / np.max(e, axis=axis, keepdims=True)",
           diagnosis="sum|normalis"),
    Mutant("log_softmax_forgets_the_log_sum", "returns the shifted logits",
           "    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))",
           "    return shifted", diagnosis="per row|log-sum|left out"),
    Mutant("logsumexp_keepdims_inverted", "squeezes when keepdims is True",
           "    if not keepdims:\n        out = np.squeeze(out, axis=axis)", "    if keepdims:\n        out = np.squeeze(out, axis=axis)",
           diagnosis="keepdims|axis|shape"),
    Mutant("loss_of_probabilities", "averages the probabilities, not their logs",
           "return float(-np.mean(log_probs[np.arange(n), labels]))",
           "return float(-np.mean(np.exp(log_probs)[np.arange(n), labels]))", diagnosis="log"),
    Mutant("backward_subtracts_from_column_0", "subtracts 1 in column 0",
           "grad[np.arange(n), self._labels] -= 1", "grad[np.arange(n), 0] -= 1",
           diagnosis="label|column|only"),
    Mutant("label_c_accepted", "accepts the label C",
           "if n > 0 and labels.max() >= c:", "if n > 0 and labels.max() > c:", diagnosis="label|range"),
    Mutant("logsumexp_exp_unshifted", "adds the max to the log-sum of unshifted exponentials",
           "out = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))",
           "out = m + np.log(np.sum(np.exp(z), axis=axis, keepdims=True))", diagnosis="max|per row|added"),
    Mutant("softmax_shift_on_the_last_axis", "subtracts the max of the last axis whatever axis is",
           "e = np.exp(z - np.max(z, axis=axis, keepdims=True))", "e = np.exp(z - np.max(z, axis=-1, keepdims=True))",
           diagnosis="axis"),
    Mutant("float_labels_accepted", "accepts float labels",
           "if not np.issubdtype(labels.dtype, np.integer):", "if False:", diagnosis="integer|dtype"),
    Mutant("loss_as_numpy_scalar", "returns a NumPy scalar",
           "return float(-np.mean(log_probs[np.arange(n), labels]))", "return -np.mean(log_probs[np.arange(n), labels])",
           diagnosis="float"),
]

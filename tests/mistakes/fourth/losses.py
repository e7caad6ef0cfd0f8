"""Fourth fresh bank for losses, written after round five's diagnosis changes (see tests/mistakes/README.md)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("backward_exp_into_the_cache", "computes exp(log_probs) into the cached array (out=)",
           "grad = np.exp(self._log_probs)", "grad = np.exp(self._log_probs, out=self._log_probs)",
           diagnosis="in place|overwr|stale|second call|cached|previous"),
    Mutant("backward_divides_by_every_entry", "divides the gradient by N * C (grad.size) instead of N",
           "return grad / n", "return grad / grad.size",
           diagnosis="number of classes|classes|n * c|n c|grad.size|1/"),
    Mutant("log_softmax_sum_without_keepdims", "takes the log-sum without keepdims in log_softmax",
           "return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))",
           "return shifted - np.log(np.sum(np.exp(shifted), axis=axis))",
           diagnosis="keepdims|expand_dims|[:, none]|lines up"),
    Mutant("logsumexp_always_squeezes", "squeezes the reduced axis even when keepdims is True",
           "    if not keepdims:\n        out = np.squeeze(out, axis=axis)",
           "    out = np.squeeze(out, axis=axis)",
           diagnosis="keepdims|lacks axis|axis of length 1|size 1|shape"),
    Mutant("labels_as_one_based", "picks log_probs at labels - 1",
           "return float(-np.mean(log_probs[np.arange(n), labels]))",
           "return float(-np.mean(log_probs[np.arange(n), labels - 1]))",
           diagnosis="off-by-one|off by one|labels - 1|wrong class|neighbour|one index"),
    Mutant("backward_assigns_minus_one", "sets the label entries to -1 instead of subtracting 1",
           "grad[np.arange(n), self._labels] -= 1", "grad[np.arange(n), self._labels] = -1",
           diagnosis="assign|subtract|p - 1|label entries|some entries|only some"),
    Mutant("loss_of_the_predicted_class", "averages the largest log-probability, not the label's",
           "return float(-np.mean(log_probs[np.arange(n), labels]))",
           "return float(-np.mean(log_probs.max(axis=1)))",
           diagnosis="label|predicted|argmax|largest"),
    Mutant("integers_to_float32", "converts integer logits to float32",
           "        z = z.astype(np.float64)\n    return z", "        z = z.astype(np.float32)\n    return z",
           diagnosis="float32|float64|dtype"),
]

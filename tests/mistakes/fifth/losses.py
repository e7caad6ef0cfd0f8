"""Fifth fresh bank for losses, written blind in round six (see tests/mistakes/README.md)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("softmax_max_without_keepdims", "takes softmax's maximum without keepdims, so it does not broadcast along the axis",
           "e = np.exp(z - np.max(z, axis=axis, keepdims=True))", "e = np.exp(z - np.max(z, axis=axis))",
           diagnosis="keepdims"),
    Mutant("logsumexp_sum_over_axis_0", "sums the exponentials over axis 0 whatever axis is",
           "out = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))",
           "out = m + np.log(np.sum(np.exp(z - m), axis=0, keepdims=True))",
           diagnosis="axis 0|axis=0|ignores axis|ignores the axis|wrong axis|other axis"),
    Mutant("log_softmax_minus_logsumexp_without_keepdims", "returns z - logsumexp(z, axis) without keepdims",
           "    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))",
           "    return z - logsumexp(z, axis=axis)",
           diagnosis="keepdims"),
    Mutant("softmax_shift_reversed", "exponentiates max(z) - z instead of z - max(z)",
           "e = np.exp(z - np.max(z, axis=axis, keepdims=True))", "e = np.exp(np.max(z, axis=axis, keepdims=True) - z)",
           diagnosis="sign|m - z|max(z) - z|max minus|negated|reversed shift|the other way"),
    Mutant("cross_entropy_caches_the_logits", "keeps the logits instead of the log-probabilities for backward",
           "        self._log_probs = log_probs\n", "        self._log_probs = logits\n",
           diagnosis="logits instead|raw logits|unnormali|not normali|sum to 1|sum to one"),
    Mutant("cross_entropy_shape_unpacked_swapped", "unpacks logits.shape as (C, N)",
           "        n, c = logits.shape\n", "        c, n = logits.shape\n",
           diagnosis="swapped|(c, n)|rows and columns|the other way|transposed"),
    Mutant("cross_entropy_np_take", "picks the labels' log-probabilities with np.take, which indexes the flattened array",
           "return float(-np.mean(log_probs[np.arange(n), labels]))",
           "return float(-np.mean(np.take(log_probs, labels)))",
           diagnosis="np.take|flatten|first row|take_along_axis|each row's own"),
    Mutant("backward_label_loop_skips_the_last", "subtracts the one-hot labels in a loop over range(n - 1), missing the last example",
           "        grad[np.arange(n), self._labels] -= 1\n",
           "        for i in range(n - 1):\n            grad[i, self._labels[i]] -= 1\n",
           diagnosis="last row|last example|last sample|off by one|off-by-one|n - 1"),
    Mutant("backward_without_the_forward_check", "drops the check that forward ran before backward",
           "        if self._log_probs is None:\n"
           "            raise RuntimeError(\"SoftmaxCrossEntropy.backward() called before forward(logits, labels)\")\n",
           "",
           diagnosis="before forward|forward first|forward must|runtimeerror|called before"),
]

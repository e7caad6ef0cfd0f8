"""Known-wrong variants of solutions/losses.py (spoilers: each quotes a line of the reference)."""

from grader.maintainer.mutation import Mutant

VALIDATION = """        if logits.ndim != 2:
            raise ValueError(f"logits must be 2-D of shape (N, C), got shape {logits.shape}")
        n, c = logits.shape
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must be integer class indices, got dtype {labels.dtype}")
        if labels.shape != (n,):
            raise ValueError(f"labels must have shape (N,) = ({n},) to match logits of shape "
                             f"{logits.shape}, got shape {labels.shape}")
        # A negative label would silently index from the end (-1 is the last class): reject it.
        if n > 0 and labels.min() < 0:
            raise ValueError(f"labels must be in [0, {c - 1}], got a negative label {labels.min()}")
        if n > 0 and labels.max() >= c:
            raise ValueError(f"labels must be in [0, {c - 1}] for {c} classes, got label {labels.max()}")
"""

STABLE_LOG_SOFTMAX = """    shifted = z - np.max(z, axis=axis, keepdims=True)
    # Subtract log sum exp(z - m) from z - m instead of logsumexp(z) from z: adding m and taking it
    # away again would round away the small digits (about 1e-3 at |z| = 1e4 in float32).
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
"""

MUTANTS = [
    Mutant("softmax_without_max_subtraction", "exponentiates the raw logits in softmax",
           "e = np.exp(z - np.max(z, axis=axis, keepdims=True))", "e = np.exp(z)",
           diagnosis="overflow"),
    Mutant("softmax_default_axis_0", "normalises softmax over axis 0 (the batch) by default",
           "def softmax(z, axis=-1):", "def softmax(z, axis=0):",
           diagnosis="axis 0"),
    Mutant("logsumexp_naive", "log(sum(exp(z))) without the maximum",
           "out = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))",
           "out = np.log(np.sum(np.exp(z), axis=axis, keepdims=True))",
           diagnosis="overflow"),
    Mutant("log_softmax_as_log_of_softmax", "takes log(softmax(z)), which is log 0 where softmax underflows",
           STABLE_LOG_SOFTMAX, "    return np.log(softmax(z, axis=axis))\n",
           diagnosis="divide by zero"),
    Mutant("cross_entropy_sum_instead_of_mean", "sums the per-sample losses instead of averaging them",
           "return float(-np.mean(log_probs[np.arange(n), labels]))",
           "return float(-np.sum(log_probs[np.arange(n), labels]))",
           diagnosis="instead of the mean"),
    Mutant("cross_entropy_gradient_without_1_over_n", "forgets the 1/N of the mean in backward",
           "return grad / n", "return grad",
           diagnosis="batch size"),
    Mutant("cross_entropy_gradient_sign_flipped", "returns (onehot - softmax) / N",
           "return grad / n", "return grad / -n",
           diagnosis="opposite sign"),
    Mutant("cross_entropy_gradient_without_onehot", "forgets to subtract the one-hot labels",
           "        grad[np.arange(n), self._labels] -= 1\n", "",
           diagnosis="one-hot"),
    Mutant("cross_entropy_backward_in_the_saved_array",
           "computes the gradient in place in the array forward saved, so a second backward differs",
           "        grad = np.exp(self._log_probs)\n",
           "        np.exp(self._log_probs, out=self._log_probs)\n        grad = self._log_probs\n",
           diagnosis="second call"),
    Mutant("cross_entropy_without_validation", "uses the labels as indices without checking them",
           VALIDATION, "        n, c = logits.shape\n",
           diagnosis="instead of a ValueError"),
    Mutant("cross_entropy_accepts_negative_labels", "checks only the upper bound of the labels",
           "if n > 0 and labels.min() < 0:", "if False:",
           diagnosis="negative"),
]

# Issue 19, round three: the docstring's shape rule (only `axis` is dropped) held by a test.
MUTANTS += [
    Mutant("logsumexp_squeezes_every_length_1_axis", "squeezes every length-1 axis, not only `axis`",
           "out = np.squeeze(out, axis=axis)", "out = np.squeeze(out)",
           diagnosis="np.squeeze without axis="),
]

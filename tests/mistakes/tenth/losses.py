"""Tenth fresh bank for losses, written blind on 2026-12-08 in round nine (second freeze) AFTER round nine (second freeze)'s
diagnosis changes were merged (commit ab255a4); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("softmax_sum_over_axis_zero", "sums over axis 0 whatever axis was asked",
           "e = np.exp(z - np.max(z, axis=axis, keepdims=True))\n    return e / np.sum(e, axis=axis, keepdims=True)",
           "e = np.exp(z - np.max(z, axis=axis, keepdims=True))\n    return e / np.sum(e, axis=0, keepdims=True)",
           diagnosis="axis|column|row|batch|ignores"),
    Mutant("log_softmax_global_shift", "shifts by the max of the whole array",
           "shifted = z - np.max(z, axis=axis, keepdims=True)", "shifted = z - np.max(z)",
           diagnosis="global|whole array|per row|underflow|every row"),
    Mutant("log_softmax_sum_whole_array", "sums the exponentials of the whole array in the log term",
           "return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))", "return shifted - np.log(np.sum(np.exp(shifted)))",
           diagnosis="whole array|every row|per row|axis|global"),
    Mutant("log_softmax_from_logsumexp", "returns z - logsumexp(z), losing the small digits at large |z|",
           "return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))", "return z - logsumexp(z, axis=axis, keepdims=True)",
           diagnosis="round|precision|float32|large|cancel"),
    Mutant("ce_picks_logits", "picks the raw logits at the labels instead of the log-probabilities",
           "return float(-np.mean(log_probs[np.arange(n), labels]))", "return float(-np.mean(logits[np.arange(n), labels]))",
           diagnosis="logits|log-probab|log_softmax|normalis|unnormalis"),
    Mutant("ce_backward_divides_twice", "divides by n when building the softmax and again at the end",
           "grad = np.exp(self._log_probs)", "grad = np.exp(self._log_probs) / n",
           diagnosis="twice|n^2|divide|batch size|double"),
    Mutant("ce_backward_subtracts_after_scaling", "scales by 1/n first, then subtracts a full 1 at the labels",
           "grad[np.arange(n), self._labels] -= 1\n        return grad / n", "grad = grad / n\n        grad[np.arange(n), self._labels] -= 1\n        return grad",
           diagnosis="1/n|order|scale|one-hot|after scaling"),
    Mutant("softmax_shift_after_exp", "divides exp(z) by exp(max) instead of shifting before the exp",
           "e = np.exp(z - np.max(z, axis=axis, keepdims=True))", "e = np.exp(z) / np.exp(np.max(z, axis=axis, keepdims=True))",
           diagnosis="overflow|infinit|nan|before the exp|shift"),
    Mutant("ce_forward_labels_not_saved", "never saves the labels for backward",
           "        self._labels = labels\n", "",
           diagnosis="labels|stale|stored|previous|saved"),
]

"""Seventh fresh bank for losses, written blind on 2026-12-07 in round seven AFTER round seven's diagnosis
changes were merged (commit a774e56); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("logsumexp_max_times_the_log", "multiplies the maximum by the log instead of adding it back",
           "out = m + np.log(", "out = m * np.log(",
           diagnosis="multipl|times|m *|instead of adding|add the max|plus the max"),
    Mutant("logsumexp_shift_outside_the_exp", "writes np.exp(z) - m: the shift outside the exponential",
           "out = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))",
           "out = m + np.log(np.sum(np.exp(z) - m, axis=axis, keepdims=True))",
           diagnosis="exp(z) - m|outside the exp|parenthes|inside the exp|overflow|shift"),
    Mutant("logsumexp_shift_by_the_mean", "shifts by the mean instead of the maximum, which still overflows",
           "m = np.max(z, axis=axis, keepdims=True)", "m = np.mean(z, axis=axis, keepdims=True)",
           diagnosis="mean|average|maximum|overflow|inf|largest"),
    Mutant("softmax_numerator_unshifted", "divides the unshifted exp(z) by the sum of the shifted ones",
           "return e / np.sum(e, axis=axis, keepdims=True)",
           "return np.exp(z) / np.sum(e, axis=axis, keepdims=True)",
           diagnosis="numerator|unshifted|exp(m)|exp(max)|factor|do not sum to 1|sum to 1|overflow"),
    Mutant("log_softmax_sum_of_the_logs", "takes the sum of the logs instead of the log of the sum",
           "return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))",
           "return shifted - np.sum(np.log(np.exp(shifted)), axis=axis, keepdims=True)",
           diagnosis="sum of the log|log of the sum|order|swapped|logsumexp"),
    Mutant("backward_divides_by_n_minus_1", "divides the gradient by N - 1",
           "return grad / n", "return grad / (n - 1)",
           diagnosis="n - 1|n-1|off by one|1/(n - 1)|n / (n - 1)|unbiased"),
    Mutant("backward_softmax_normalised_over_the_batch", "renormalises the probabilities over the whole batch",
           "grad = np.exp(self._log_probs)\n",
           "grad = np.exp(self._log_probs)\n        grad = grad / grad.sum()\n",
           diagnosis="whole batch|every entry|all entries|normalised over|sum over everything|1/n|1 / n|factor"),
    Mutant("backward_in_float32", "caches the log-probabilities in float32, so float64 logits get float32 gradients",
           "self._log_probs = log_probs\n", "self._log_probs = log_probs.astype(np.float32)\n",
           diagnosis="float32|dtype|precision|rounding"),
]

"""Fifth fresh bank for stability, written blind in round six (see tests/mistakes/README.md)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("stable_log_softmax_forgets_the_exp", "takes the log of the sum of the shifted logits, without exponentiating them",
           "    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))\n    # </exercise>\n\n\ndef naive_cross_entropy",
           "    return shifted - np.log(np.sum(shifted, axis=-1, keepdims=True))\n    # </exercise>\n\n\ndef naive_cross_entropy",
           diagnosis="without exp|no exp|forgot the exp|forgets the exp|exponentiat|missing exp"),
    Mutant("stable_log_softmax_sum_without_keepdims", "sums the stable log-softmax's exponentials without keepdims",
           "    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))\n    # </exercise>\n\n\ndef naive_cross_entropy",
           "    return shifted - np.log(np.sum(np.exp(shifted), axis=-1))\n    # </exercise>\n\n\ndef naive_cross_entropy",
           diagnosis="keepdims"),
    Mutant("stable_softmax_divides_by_the_shifted_sum", "divides by the sum of the shifted logits instead of the sum of the exponentials",
           "    e = np.exp(shifted)\n    return e / np.sum(e, axis=-1, keepdims=True)\n",
           "    e = np.exp(shifted)\n    return e / np.sum(shifted, axis=-1, keepdims=True)\n",
           diagnosis=("sum of the shifted|instead of the exponentials|sum of exp|sum of the exponentials|"
                      "shifted logits")),
    Mutant("stable_cross_entropy_calls_the_naive_helper", "builds the stable cross-entropy on naive_log_softmax (autocomplete)",
           "log_probabilities = stable_log_softmax(logits)", "log_probabilities = naive_log_softmax(logits)",
           diagnosis=("calls naive|uses the naive|naive helper|naive version|naive_log_softmax inside|"
                      "unstable helper")),
    Mutant("stable_sigmoid_exp_of_plus_abs", "takes e = exp(|x|) in the stable sigmoid, dropping the minus sign",
           "    e = np.exp(-np.abs(x))\n    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
           "    e = np.exp(np.abs(x))\n    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
           diagnosis="exp(|x|)|minus sign|sign of the exponent|exp(-|x|)|exp(+|x|)"),
    Mutant("naive_bce_without_minus", "returns the mean log-likelihood of the naive BCE without its minus sign",
           "    return -np.mean(targets * np.log(p) + (1.0 - targets) * np.log(1.0 - p))",
           "    return np.mean(targets * np.log(p) + (1.0 - targets) * np.log(1.0 - p))",
           diagnosis="minus sign|sign|negated|negative of the|log-likelihood"),
    Mutant("stable_bce_minimum", "writes np.minimum(z, 0) for max(z, 0) in the stable BCE",
           "np.maximum(logits, 0) - logits * targets + softplus", "np.minimum(logits, 0) - logits * targets + softplus",
           diagnosis="minimum|max(z, 0)|max(x, 0)|max(logits, 0)|np.maximum"),
    Mutant("naive_log_softmax_already_stable", "writes the naive log-softmax with the max shift (the stable formula)",
           "    return np.log(naive_softmax(z))\n",
           "    shifted = z - np.max(z, axis=-1, keepdims=True)\n"
           "    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))\n",
           diagnosis=("already stable|stable version|should overflow|meant to overflow|must overflow|should fail|"
                      "literally")),
]

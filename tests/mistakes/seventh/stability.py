"""Seventh fresh bank for stability, written blind on 2026-12-07 in round seven AFTER round seven's diagnosis
changes were merged (commit a774e56); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("naive_softmax_plus_one", "divides by 1 + sum(e), as in the sigmoid",
           "    e = np.exp(z)\n    return e / np.sum(e, axis=-1, keepdims=True)\n",
           "    e = np.exp(z)\n    return e / (1.0 + np.sum(e, axis=-1, keepdims=True))\n",
           diagnosis="1 +|plus one|extra term|sum to 1|sigmoid"),
    Mutant("stable_softmax_shift_by_the_largest_magnitude", "shifts by max |z|, so rows of large negative "
           "values underflow to 0 / 0",
           "    shifted = z - np.max(z, axis=-1, keepdims=True)\n    e = np.exp(shifted)\n",
           "    shifted = z - np.max(np.abs(z), axis=-1, keepdims=True)\n    e = np.exp(shifted)\n",
           diagnosis="abs|absolute|underflow|0 / 0|0/0|nan|magnitude"),
    Mutant("stable_log_softmax_max_over_the_batch", "takes the maximum over axis 0 (per column) for the shift",
           "    shifted = z - np.max(z, axis=-1, keepdims=True)\n    return shifted",
           "    shifted = z - np.max(z, axis=0, keepdims=True)\n    return shifted",
           diagnosis="axis 0|column|over the batch|per column|row max|wrong axis"),
    Mutant("naive_cross_entropy_log10", "takes log10 instead of the natural logarithm",
           "return -np.mean(np.log(picked))", "return -np.mean(np.log10(picked))",
           diagnosis="log10|base 10|natural log|2.30|0.434"),
    Mutant("stable_cross_entropy_mean_in_float32", "averages in float32 whatever the input dtype",
           "return -np.mean(log_probabilities[np.arange(logits.shape[0]), labels])",
           "return -np.mean(log_probabilities[np.arange(logits.shape[0]), labels], dtype=np.float32)",
           diagnosis="float32|rounding|precision|dtype"),
    Mutant("stable_sigmoid_negative_branch_reciprocal", "writes 1 / (1 + 1/e) for x < 0, where 1/e overflows",
           "return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
           "return np.where(x >= 0, 1.0 / (1.0 + e), 1.0 / (1.0 + 1.0 / e))",
           diagnosis="overflow|1 / e|exp(|x|)|divide|negative branch"),
    Mutant("naive_bce_second_term_copied", "copy-paste: log(p) in the second term instead of log(1 - p)",
           "(1.0 - targets) * np.log(1.0 - p)", "(1.0 - targets) * np.log(p)",
           diagnosis="log(1 - p)|copy|second term|negative class|1 - p"),
    Mutant("stable_bce_softplus_weighted_by_targets", "multiplies the softplus term by the targets",
           "return np.mean(np.maximum(logits, 0) - logits * targets + softplus)",
           "return np.mean(np.maximum(logits, 0) - logits * targets + softplus * targets)",
           diagnosis="softplus|targets|log1p|zero targets|negative class"),
]

"""Fourth fresh bank for stability, written after round five's diagnosis changes (see tests/mistakes/README.md)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("stable_sigmoid_minus_in_the_negative_branch", "writes e / (1 - e) for x < 0",
           "return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))", "return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 - e))",
           diagnosis="1 + e|sign|negative|x < 0|some entries|only some"),
    Mutant("softplus_without_the_one", "takes log(exp(-|z|)) instead of log1p(exp(-|z|))",
           "softplus = np.log1p(np.exp(-np.abs(logits)))", "softplus = np.log(np.exp(-np.abs(logits)))",
           diagnosis="log1p|1 +|softplus"),
    Mutant("naive_softmax_sum_without_keepdims", "sums the naive softmax's exponentials without keepdims",
           "    e = np.exp(z)\n    return e / np.sum(e, axis=-1, keepdims=True)", "    e = np.exp(z)\n    return e / np.sum(e, axis=-1)",
           diagnosis="keepdims|[:, none]|lines up|expand_dims"),
    Mutant("naive_log_softmax_with_epsilon", "adds 1e-12 inside the log of the naive log-softmax",
           "    return np.log(naive_softmax(z))", "    return np.log(naive_softmax(z) + 1e-12)",
           diagnosis="epsilon|1e-12|-inf|inf|literally|textbook"),
    Mutant("log_softmax_shift_by_the_min", "subtracts the row minimum in the stable log-softmax",
           "    shifted = z - np.max(z, axis=-1, keepdims=True)\n    return shifted - np.log",
           "    shifted = z - np.min(z, axis=-1, keepdims=True)\n    return shifted - np.log",
           diagnosis="min|max|overflow|inf"),
    Mutant("bce_without_softplus", "leaves out the softplus term of the stable BCE",
           "return np.mean(np.maximum(logits, 0) - logits * targets + softplus)",
           "return np.mean(np.maximum(logits, 0) - logits * targets)",
           diagnosis="softplus|log1p|term left out|left out|missing term"),
    Mutant("log_softmax_max_without_keepdims", "takes the row max without keepdims in the stable log-softmax",
           "    shifted = z - np.max(z, axis=-1, keepdims=True)\n    return shifted - np.log",
           "    shifted = z - np.max(z, axis=-1)\n    return shifted - np.log",
           diagnosis="keepdims|[:, none]|lines up|expand_dims|per row"),
    Mutant("naive_bce_sign_typo", "subtracts the (1 - t) log(1 - p) term inside the naive BCE",
           "return -np.mean(targets * np.log(p) + (1.0 - targets) * np.log(1.0 - p))",
           "return -np.mean(targets * np.log(p) - (1.0 - targets) * np.log(1.0 - p))",
           diagnosis="sign|minus|plus"),
]

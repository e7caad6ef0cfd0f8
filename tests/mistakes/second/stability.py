"""Second fresh bank for stability, written after the diagnosis changes."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("log_softmax_log_sum_unshifted", "takes the log-sum of the unshifted exponentials",
           "    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))",
           "    return shifted - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))", diagnosis="max|shift|per row|overflow"),
    Mutant("sigmoid_negative_branch_by_subtraction", "computes 1 - 1 / (1 + e) for x < 0",
           "return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
           "return np.where(x >= 0, 1.0 / (1.0 + e), 1.0 - 1.0 / (1.0 + e))", diagnosis="cancellation|rounding|subtract"),
    Mutant("bce_softplus_without_abs", "takes log1p(exp(-x))",
           "softplus = np.log1p(np.exp(-np.abs(logits)))", "softplus = np.log1p(np.exp(-logits))",
           diagnosis="abs|overflow|inf"),
    Mutant("bce_targets_complement", "multiplies the logits by 1 - t",
           "- logits * targets + softplus)", "- logits * (1.0 - targets) + softplus)", diagnosis="target|flipped|1 - t"),
    Mutant("naive_cross_entropy_sign", "returns the mean log-probability",
           "return -np.mean(np.log(picked))", "return np.mean(np.log(picked))", diagnosis="sign"),
    Mutant("naive_sigmoid_exp_of_x", "uses exp(x)",
           "return 1.0 / (1.0 + np.exp(-x))", "return 1.0 / (1.0 + np.exp(x))", diagnosis="sign|1 minus|complement"),
    Mutant("naive_bce_one_term", "forgets the (1 - t) log(1 - p) term",
           "targets * np.log(p) + (1.0 - targets) * np.log(1.0 - p)", "targets * np.log(p)",
           diagnosis="1 - t|term|target"),
    Mutant("log_softmax_sum_over_axis_0", "sums the exponentials over axis 0",
           "    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))",
           "    return shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))", diagnosis="axis"),
    Mutant("cross_entropy_over_classes", "divides by the number of classes too",
           "return -np.mean(log_probabilities[np.arange(logits.shape[0]), labels])",
           "return -np.mean(log_probabilities[np.arange(logits.shape[0]), labels]) / logits.shape[1]",
           diagnosis="classes|count|factor"),
    Mutant("bce_abs_for_max", "uses |x| for max(x, 0)",
           "np.mean(np.maximum(logits, 0) - logits * targets", "np.mean(np.abs(logits) - logits * targets",
           diagnosis="max|abs"),
]

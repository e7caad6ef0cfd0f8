"""Tenth fresh bank for stability, written blind on 2026-12-08 in round nine (second freeze) AFTER round nine (second freeze)'s
diagnosis changes were merged (commit ab255a4); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("stable_log_softmax_log_of_softmax", "takes the log of the stable softmax",
           "return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))", "return np.log(stable_softmax(shifted))",
           diagnosis="log of|underflow|-inf|tiny|zero"),
    Mutant("stable_softmax_max_without_keepdims", "takes the row max without keepdims, so the shift broadcasts along the wrong axis",
           "shifted = z - np.max(z, axis=-1, keepdims=True)\n    e = np.exp(shifted)", "shifted = z - np.max(z, axis=-1)\n    e = np.exp(shifted)",
           diagnosis="keepdims|broadcast|shape|row|column"),
    Mutant("stable_softmax_sum_over_axis_0", "sums the shifted exponentials over the batch axis",
           "e = np.exp(shifted)\n    return e / np.sum(e, axis=-1, keepdims=True)", "e = np.exp(shifted)\n    return e / np.sum(e, axis=0, keepdims=True)",
           diagnosis="axis|column|batch|per row|row"),
    Mutant("stable_softmax_shift_by_first_logit", "shifts by each row's first logit instead of its max",
           "shifted = z - np.max(z, axis=-1, keepdims=True)\n    e = np.exp(shifted)", "shifted = z - z[..., :1]\n    e = np.exp(shifted)",
           diagnosis="max|first logit|overflow|largest|shift"),
    Mutant("stable_softmax_shifts_caller_array", "subtracts the max from the caller's array in place",
           "shifted = z - np.max(z, axis=-1, keepdims=True)\n    e = np.exp(shifted)", "z -= np.max(z, axis=-1, keepdims=True)\n    shifted = z\n    e = np.exp(shifted)",
           diagnosis="in place|caller|modif|overwr|input array"),
    Mutant("stable_bce_mean_over_axis_0", "averages over axis 0 only, returning an array for 2-D logits",
           "return np.mean(np.maximum(logits, 0) - logits * targets + softplus)", "return np.mean(np.maximum(logits, 0) - logits * targets + softplus, axis=0)",
           diagnosis="scalar|axis|an array|mean over|every entry"),
    Mutant("naive_log_softmax_log10", "takes log10 of the naive softmax",
           "return np.log(naive_softmax(z))", "return np.log10(naive_softmax(z))",
           diagnosis="log10|natural|layer.__init__|log e"),
    Mutant("naive_cross_entropy_indices_swapped", "indexes the probabilities with labels first and rows second",
           "picked = probabilities[np.arange(logits.shape[0]), labels]", "picked = probabilities[labels, np.arange(logits.shape[0])]",
           diagnosis="index|swapped|order|row|column"),
    Mutant("naive_bce_summed", "sums the per-example losses in the naive binary cross-entropy",
           "return -np.mean(targets * np.log(p) + (1.0 - targets) * np.log(1.0 - p))", "return -np.sum(targets * np.log(p) + (1.0 - targets) * np.log(1.0 - p))",
           diagnosis="mean|summed|average|batch size|divide"),
]

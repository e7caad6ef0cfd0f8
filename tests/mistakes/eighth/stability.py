"""Eighth fresh bank for stability, written blind on 2026-12-07 in round eight AFTER round eight's diagnosis
changes were merged (commit 3a1f4a2); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("stable_softmax_shift_by_min", "shifts by the minimum instead of the maximum",
           "shifted = z - np.max(z, axis=-1, keepdims=True)\n    e = np.exp(shifted)", "shifted = z - np.min(z, axis=-1, keepdims=True)\n    e = np.exp(shifted)",
           diagnosis="min|max|overflow|inf|largest"),
    Mutant("naive_ce_sum", "sums the naive cross-entropy instead of averaging",
           "    return -np.mean(np.log(picked))", "    return -np.sum(np.log(picked))",
           diagnosis="average|summed|batch size|n times"),
    Mutant("stable_ce_first_column", "picks column 0 instead of the labels' columns",
           "return -np.mean(log_probabilities[np.arange(logits.shape[0]), labels])", "return -np.mean(log_probabilities[:, 0])",
           diagnosis="label|column|index|pick|class"),
    Mutant("stable_sigmoid_where_arms_reversed", "swaps the branches of the stable sigmoid",
           "return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))", "return np.where(x >= 0, e / (1.0 + e), 1.0 / (1.0 + e))",
           diagnosis="branch|swapped|negative|1 - |where"),
    Mutant("naive_bce_targets_swapped", "weights log(p) by 1 - t and log(1 - p) by t",
           "return -np.mean(targets * np.log(p) + (1.0 - targets) * np.log(1.0 - p))",
           "return -np.mean((1.0 - targets) * np.log(p) + targets * np.log(1.0 - p))",
           diagnosis="swapped|targets|1 - t|labels|order"),
    Mutant("stable_softmax_unshifted_denominator", "divides the shifted exponentials by the sum of the unshifted ones",
           "e = np.exp(shifted)\n    return e / np.sum(e, axis=-1, keepdims=True)", "e = np.exp(shifted)\n    return e / np.sum(np.exp(z), axis=-1, keepdims=True)",
           diagnosis="denominator|unshifted|sum to 1|shift|overflow"),
    Mutant("naive_ce_picks_every_label_per_row", "indexes probabilities[:, labels], an (N, N) block",
           "picked = probabilities[np.arange(logits.shape[0]), labels]", "picked = probabilities[:, labels]",
           diagnosis="index|row|arange|pair|fancy"),
    Mutant("naive_softmax_float32", "computes the naive softmax in float32",
           "e = np.exp(z)\n", "e = np.exp(z.astype(np.float32))\n",
           diagnosis="float32|dtype|precision|overflow"),
    Mutant("stable_bce_softplus_positive_abs", "writes exp(|x|) instead of exp(-|x|) in the softplus",
           "softplus = np.log1p(np.exp(-np.abs(logits)))", "softplus = np.log1p(np.exp(np.abs(logits)))",
           diagnosis="minus|exp(-|overflow|negat|inf"),
]

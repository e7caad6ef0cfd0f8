"""Tenth fresh bank for batchnorm, written blind on 2026-12-08 in round nine (second freeze) AFTER round nine (second freeze)'s
diagnosis changes were merged (commit ab255a4); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("backward_ignores_eval_branch", "uses the batch-statistics formula even after an eval-mode forward",
           "        if not used_batch_statistics:\n            return g_hat * inv_std\n", "",
           diagnosis="eval|running|constant|batch statistic|inference"),
    Mutant("x_hat_not_centred", "scales x by inv_std without subtracting the mean",
           "x_hat = (x - mean) * inv_std", "x_hat = x * inv_std",
           diagnosis="mean|centr|subtract|missing|offset"),
    Mutant("output_subtracts_beta", "subtracts beta instead of adding it",
           "return self.gamma.data.reshape(shape) * x_hat + self.beta.data.reshape(shape)", "return self.gamma.data.reshape(shape) * x_hat - self.beta.data.reshape(shape)",
           diagnosis="minus|subtract|plus|opposite|shift"),
    Mutant("gamma_not_reshaped", "multiplies by gamma without reshaping it to the channel axis",
           "return self.gamma.data.reshape(shape) * x_hat + self.beta.data.reshape(shape)", "return self.gamma.data * x_hat + self.beta.data.reshape(shape)",
           diagnosis="channel axis|reshape|broadcast|last axis|axis 1"),
]

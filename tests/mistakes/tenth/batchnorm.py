"""Tenth fresh bank for batchnorm, written blind on 2026-12-08 in round nine (second freeze) AFTER round nine (second freeze)'s
diagnosis changes were merged (commit ab255a4); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("backward_ignores_eval_branch", "uses the batch-statistics formula even after an eval-mode forward",
           "        if not used_batch_statistics:\n            return g_hat * inv_std\n", "",
           diagnosis="eval|running|constant|batch statistic|inference"),
    Mutant("x_hat_not_centred", "scales x by inv_std without subtracting the mean",
           "x_hat = (x - mean) * inv_std", "x_hat = x * inv_std",
           diagnosis="mean|centr|subtract|not centred|offset"),
    Mutant("output_subtracts_beta", "subtracts beta instead of adding it",
           "return self.gamma.data.reshape(shape) * x_hat + self.beta.data.reshape(shape)", "return self.gamma.data.reshape(shape) * x_hat - self.beta.data.reshape(shape)",
           diagnosis="minus|subtract|plus|opposite|shift"),
    Mutant("gamma_not_reshaped", "multiplies by gamma without reshaping it to the channel axis",
           "return self.gamma.data.reshape(shape) * x_hat + self.beta.data.reshape(shape)", "return self.gamma.data * x_hat + self.beta.data.reshape(shape)",
           diagnosis="channel axis|reshape|broadcast|last axis|axis 1"),
    Mutant("running_var_float64", "creates the running variance without the dtype",
           "self.running_var = np.ones(num_features, dtype=dtype)", "self.running_var = np.ones(num_features)",
           diagnosis="dtype|float32|float64|precision|astype"),
    Mutant("eval_variance_not_reshaped", "uses the running variance without reshaping it to the channel axis",
           "var = self.running_var.reshape(shape)", "var = self.running_var",
           diagnosis="channel axis|reshape|broadcast|last axis|axis 1"),
    Mutant("backward_reads_current_mode", "tests the layer's current mode in backward instead of the one forward used",
           "if not used_batch_statistics:", "if not self.training:",
           diagnosis="cached|eval mode|forward's|switched|flag"),
    Mutant("mean_divided_by_batch_size", "sums over the axes but divides by the batch size only",
           "mean = x.mean(axis=axes, keepdims=True)", "mean = x.sum(axis=axes, keepdims=True) / x.shape[0]",
           diagnosis="spatial|count|batch size|per channel|height"),
    Mutant("running_mean_batch_unweighted", "adds the batch mean to the decayed running mean without the momentum factor",
           "(1.0 - self.momentum) * self.running_mean + self.momentum * mean.reshape(-1)", "(1.0 - self.momentum) * self.running_mean + mean.reshape(-1)",
           diagnosis="momentum|weight|factor|new batch|scale"),
    Mutant("running_var_batch_unweighted", "adds the corrected batch variance without the momentum factor",
           "self.momentum * var.reshape(-1) * m / (m - 1)", "var.reshape(-1) * m / (m - 1)",
           diagnosis="momentum|weight|factor|new batch|scale"),
]

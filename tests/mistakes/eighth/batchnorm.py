"""Eighth fresh bank for batchnorm, written blind on 2026-12-07 in round eight AFTER round eight's diagnosis
changes were merged (commit 3a1f4a2); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("bn_running_var_std", "stores the standard deviation in the running variance",
           "self.momentum * var.reshape(-1) * m / (m - 1)", "self.momentum * np.sqrt(var.reshape(-1) * m / (m - 1))",
           diagnosis="std|sqrt|variance|standard deviation"),
    Mutant("bn_m_per_batch_only", "counts m as the batch size, ignoring spatial positions",
           "            m = x.size // self.num_features\n", "            m = x.shape[0]\n",
           diagnosis="spatial|per channel|h * w|count|batch size|per-channel count"),
    Mutant("bn_backward_eval_branch_inverted", "uses the batch-statistics formula after an eval forward and vice versa",
           "if not used_batch_statistics:", "if used_batch_statistics:",
           diagnosis="eval|branch|running|mode|inverted"),
    Mutant("bn_backward_sum_gx_wrong_axes", "sums g_hat * x_hat over every axis",
           "sum_gx = (g_hat * x_hat).sum(axis=axes, keepdims=True)", "sum_gx = (g_hat * x_hat).sum()",
           diagnosis="axis|axes|channel|every|per channel"),
    Mutant("bn_var_around_global_mean", "computes the variance around the mean of the whole array",
           "var = x.var(axis=axes, keepdims=True)", "var = ((x - x.mean()) ** 2).mean(axis=axes, keepdims=True)",
           diagnosis="global mean|whole|per channel|channel mean|centred|centered"),
    Mutant("bn_cache_always_training", "records training mode in the cache whatever the mode",
           "self._cache = (x_hat, inv_std, axes, self.training)", "self._cache = (x_hat, inv_std, axes, True)",
           diagnosis="eval|mode|running|branch|batch statistics"),
    Mutant("bn_momentum_keras_convention", "stores 1 - momentum (the Keras convention) as the momentum",
           "self.momentum = momentum", "self.momentum = 1.0 - momentum",
           diagnosis="convention|1 - momentum|momentum|old|weight"),
    Mutant("bn_running_var_from_running_mean", "decays the running mean into the running variance (copy-paste)",
           "self.running_var = (1.0 - self.momentum) * self.running_var", "self.running_var = (1.0 - self.momentum) * self.running_mean",
           diagnosis="copy|running_mean|running mean|paste|wrong buffer"),
]

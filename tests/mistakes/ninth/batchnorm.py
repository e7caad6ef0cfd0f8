"""Ninth fresh bank for batchnorm, written blind on 2026-12-07 in round nine AFTER round nine's diagnosis changes
were merged (commit eeff076); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("eval_mean_from_the_batch", "normalises with the batch mean in eval mode (running variance kept)",
           "mean = self.running_mean.reshape(shape)", "mean = x.mean(axis=axes, keepdims=True)",
           diagnosis="running mean|eval mode|batch mean|batch statistics|evaluation"),
    Mutant("x_hat_divided_by_inv_std", "divides by inv_std instead of multiplying by it",
           "x_hat = (x - mean) * inv_std", "x_hat = (x - mean) / inv_std",
           diagnosis="divid|std|inverse|multipl|variance"),
    Mutant("backward_sum_gx_as_mean", "takes the mean instead of the sum for the x_hat term",
           "sum_gx = (g_hat * x_hat).sum(axis=axes, keepdims=True)", "sum_gx = (g_hat * x_hat).mean(axis=axes, keepdims=True)",
           diagnosis="mean instead|1/m|factor|variance term|x_hat term"),
    Mutant("backward_sum_g_as_mean", "takes the mean instead of the sum for the mean term",
           "sum_g = g_hat.sum(axis=axes, keepdims=True)", "sum_g = g_hat.mean(axis=axes, keepdims=True)",
           diagnosis="mean instead|1/m|factor|mean term|too small"),
    Mutant("params_shaped_on_axis_0", "puts the channel count on axis 0 of the broadcast shape",
           "shape[1] = self.num_features", "shape[0] = self.num_features",
           diagnosis="axis|channel|broadcast|reshape|gamma"),
    Mutant("eps_added_after_the_inverse", "writes 1 / sqrt(var) + eps",
           "inv_std = 1.0 / np.sqrt(var + self.eps)", "inv_std = 1.0 / np.sqrt(var) + self.eps",
           diagnosis="epsilon|inside the square root|inside|parenthes|precedence"),
    Mutant("backward_sum_g_typed_twice", "uses sum_g where sum_gx belongs in the last term",
           "m * g_hat - sum_g - x_hat * sum_gx", "m * g_hat - sum_g - x_hat * sum_g",
           diagnosis="variance term|x_hat|sum_gx|third term|wrong term"),
    Mutant("running_var_includes_eps", "adds eps to the variance stored in the running average",
           "self.momentum * var.reshape(-1) * m / (m - 1)", "self.momentum * (var + self.eps).reshape(-1) * m / (m - 1)",
           diagnosis="epsilon|running var|slightly|running variance|variance plus"),
    Mutant("m_counts_per_sample", "counts the values per channel as x.size // batch size",
           "m = x.size // self.num_features", "m = x.size // x.shape[0]",
           diagnosis="count|per channel|m / (m - 1)|unbiased|number of values"),
]

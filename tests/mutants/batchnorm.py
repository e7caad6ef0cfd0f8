"""Known-wrong variants of solutions/batchnorm.py (spoilers: each quotes a line of the reference)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("running_var_biased", "updates the running variance with the biased batch variance",
           "self.momentum * var.reshape(-1) * m / (m - 1)",
           "self.momentum * var.reshape(-1)",
           diagnosis="updated with the biased variance"),
    Mutant("normalises_with_unbiased_variance", "normalises the batch with the unbiased variance",
           "var = x.var(axis=axes, keepdims=True)", "var = x.var(axis=axes, keepdims=True, ddof=1)",
           diagnosis="normalised with the unbiased variance"),
    Mutant("running_stats_in_training", "normalises with the running averages in training mode too",
           "        else:\n            mean = self.running_mean.reshape(shape)",
           "        if True:\n            mean = self.running_mean.reshape(shape)",
           diagnosis="in training mode normalise with the batch's own"),
    Mutant("eval_uses_batch_stats", "uses the batch statistics in eval mode",
           "        if self.training:\n            m = x.size",
           "        if True:\n            m = x.size",
           diagnosis="in eval mode (self.training is False) normalise with running_mean"),
    Mutant("gradient_missing_mean_term", "drops the term from the mean in dL/dx",
           "return inv_std / m * (m * g_hat - sum_g - x_hat * sum_gx)",
           "return inv_std / m * (m * g_hat - x_hat * sum_gx)",
           diagnosis="without the mean's term"),
    Mutant("gradient_missing_variance_term", "drops the term from the variance in dL/dx",
           "return inv_std / m * (m * g_hat - sum_g - x_hat * sum_gx)",
           "return inv_std / m * (m * g_hat - sum_g)",
           diagnosis="without the variance's term"),
    Mutant("gradient_treats_statistics_as_constants", "backpropagates as if mean and variance were constants",
           "if not used_batch_statistics:", "if True:",
           diagnosis="as if mean and variance were constants"),
    Mutant("eval_backward_uses_training_formula", "uses the training-mode gradient in eval mode",
           "if not used_batch_statistics:", "if False:",
           diagnosis="the training-mode formula"),
    Mutant("momentum_reversed", "weights the new batch by 1 - momentum (0.9) instead of momentum (0.1)",
           "self.running_mean = (1.0 - self.momentum) * self.running_mean + self.momentum * mean",
           "self.running_mean = self.momentum * self.running_mean + (1.0 - self.momentum) * mean",
           diagnosis="weights swapped"),
    Mutant("parameter_gradients_over_axis_0_only", "sums dL/dgamma and dL/dbeta over axis 0 only (wrong in 2d)",
           ".sum(axis=axes).reshape(-1)", ".sum(axis=0).reshape(-1)", count=2,
           diagnosis="reduced over axes (0, 2, 3)"),
    Mutant("gradient_without_gamma", "forgets gamma in dL/dx (uses dL/dy for dL/dx_hat)",
           "g_hat = grad_out * self.gamma.data.reshape(shape)", "g_hat = grad_out",
           diagnosis="without the factor gamma"),
    Mutant("no_eps", "normalises with sqrt(var) instead of sqrt(var + eps)",
           "inv_std = 1.0 / np.sqrt(var + self.eps)", "inv_std = 1.0 / np.sqrt(var)",
           diagnosis="without eps"),
    Mutant("beta_gradient_assigned", "assigns dL/dbeta instead of adding it",
           "self.beta.grad += grad_out.sum(axis=axes).reshape(-1)",
           "self.beta.grad[...] = grad_out.sum(axis=axes).reshape(-1)",
           diagnosis="add (+=) into beta.grad"),
    Mutant("m_is_the_batch_size", "takes m = N (the batch size) for BatchNorm2d instead of m = N H W",
           ".size // self.num_features", ".shape[0]", count=2,
           diagnosis="per channel over N, H and W"),
    Mutant("backward_m_is_the_batch_size", "takes m = N (the batch size) in backward only",
           "m = grad_out.size // self.num_features", "m = grad_out.shape[0]",
           diagnosis="per channel over N, H and W"),
    Mutant("statistics_over_axis_0_only", "takes BatchNorm2d's mean and variance over axis 0 only in forward",
           "mean = x.mean(axis=axes, keepdims=True)", "mean = x.mean(axis=0, keepdims=True)",
           diagnosis="per channel over N, H and W"),
    Mutant("normalises_over_axis_0_only", "normalises BatchNorm2d over axis 0 only (running averages per channel)",
           "        inv_std = 1.0 / np.sqrt(var + self.eps)\n        x_hat = (x - mean) * inv_std\n",
           "        if self.training:\n"
           "            mean, var = x.mean(axis=0, keepdims=True), x.var(axis=0, keepdims=True)\n"
           "        inv_std = 1.0 / np.sqrt(var + self.eps)\n        x_hat = (x - mean) * inv_std\n",
           diagnosis="per channel over N, H and W"),
]

# Correct implementations written differently from the reference: every test must pass them.
LEGITIMATE = [
    Mutant("gradient_through_mean_and_variance", "dL/dx from dL/dvar and dL/dmu, the long form of the docstring",
           "        return inv_std / m * (m * g_hat - sum_g - x_hat * sum_gx)",
           "        x_mu = x_hat / inv_std\n"
           "        d_var = -0.5 * inv_std ** 3 * (g_hat * x_mu).sum(axis=axes, keepdims=True)\n"
           "        d_mu = -inv_std * sum_g\n"
           "        return inv_std * g_hat + d_mu / m + d_var * 2.0 * x_mu / m",
           diagnosis=""),
    Mutant("running_averages_in_place", "updates the running averages in place",
           "            self.running_mean = (1.0 - self.momentum) * self.running_mean"
           " + self.momentum * mean.reshape(-1)\n",
           "            self.running_mean *= 1.0 - self.momentum\n"
           "            self.running_mean += self.momentum * mean.reshape(-1)\n",
           diagnosis=""),
    Mutant("variance_written_out", "the biased variance as the mean of squared deviations",
           "var = x.var(axis=axes, keepdims=True)", "var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)",
           diagnosis=""),
]

# Issue 19: gamma and beta not reshaped to the channel axis were said to be "summed over axis 0 only".
MUTANTS += [
    Mutant("gamma_beta_not_reshaped", "multiplies by gamma without reshaping it to the channel axis",
           "return self.gamma.data.reshape(shape) * x_hat + self.beta.data.reshape(shape)",
           "return self.gamma.data * x_hat + self.beta.data", diagnosis="reshape it to (1, C, 1, 1)",
           misdiagnosis="Summing over axis 0 only leaves"),
]

# Round seven: a float32 layer keeps float32 (gamma created without the dtype); the backward terms' slips.
MUTANTS += [
    Mutant("gamma_in_float64", "creates gamma without the dtype, so float32 layers give float64 outputs",
           "self.gamma = Parameter(np.ones(num_features, dtype=dtype))", "self.gamma = Parameter(np.ones(num_features))",
           diagnosis="create gamma with dtype=dtype"),
    Mutant("backward_without_inv_std", "forgets the factor 1 / sqrt(var + eps) in dL/dx (training mode)",
           "return inv_std / m * (m * g_hat - sum_g - x_hat * sum_gx)", "return 1.0 / m * (m * g_hat - sum_g - x_hat * sum_gx)",
           diagnosis="without the factor s = 1 / sqrt(var + eps)"),
    Mutant("eval_variance_from_the_batch", "normalises with the running mean but the batch's own variance in eval mode",
           "            var = self.running_var.reshape(shape)\n", "            var = x.var(axis=axes, keepdims=True)\n",
           diagnosis="the batch's own variance"),
]

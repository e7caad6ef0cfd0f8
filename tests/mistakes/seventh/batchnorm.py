"""Seventh fresh bank for batchnorm, written blind on 2026-12-07 in round seven AFTER round seven's diagnosis
changes were merged (commit a774e56); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("var_not_centred", "takes the mean of x^2 as the variance, without subtracting the mean",
           "var = x.var(axis=axes, keepdims=True)", "var = (x ** 2).mean(axis=axes, keepdims=True)",
           diagnosis="centred|centered|mean not subtracted|e[x^2]|second moment|mean^2"),
    Mutant("running_mean_from_running_var", "copy-paste: decays running_var into running_mean",
           "self.running_mean = (1.0 - self.momentum) * self.running_mean",
           "self.running_mean = (1.0 - self.momentum) * self.running_var",
           diagnosis="copy|running_var|pasted|mixed|variance"),
    Mutant("eval_mean_from_running_var", "copy-paste: uses running_var as the mean in eval mode",
           "mean = self.running_mean.reshape(shape)", "mean = self.running_var.reshape(shape)",
           diagnosis="copy|running_var|variance|pasted|mixed"),
    Mutant("output_precedence", "writes gamma * (x_hat + beta), scaling beta by gamma",
           "return self.gamma.data.reshape(shape) * x_hat + self.beta.data.reshape(shape)",
           "return self.gamma.data.reshape(shape) * (x_hat + self.beta.data.reshape(shape))",
           diagnosis="precedence|parenthes|gamma * beta|beta scaled|scaled by gamma"),
    Mutant("beta_grad_with_x_hat", "copies gamma's formula for beta's gradient",
           "self.beta.grad += grad_out.sum(axis=axes).reshape(-1)",
           "self.beta.grad += (grad_out * x_hat).sum(axis=axes).reshape(-1)",
           diagnosis="x_hat|copy|gamma's|same as gamma|times x"),
    Mutant("backward_times_m", "writes inv_std * m for inv_std / m",
           "return inv_std / m * (m * g_hat - sum_g - x_hat * sum_gx)",
           "return inv_std * m * (m * g_hat - sum_g - x_hat * sum_gx)",
           diagnosis="m^2|m ** 2|1/m|times m|instead of dividing|factor"),
    Mutant("sum_g_without_gamma", "sums grad_out instead of g_hat = grad_out * gamma in the mean term",
           "sum_g = g_hat.sum(axis=axes, keepdims=True)", "sum_g = grad_out.sum(axis=axes, keepdims=True)",
           diagnosis="gamma|g_hat|mean term|without gamma"),
    Mutant("params_reshaped_channels_last", "reshapes gamma, beta and the statistics to the last axis",
           "shape[1] = self.num_features", "shape[-1] = self.num_features",
           diagnosis="last axis|channels last|axis 1|channel axis|broadcast"),
]

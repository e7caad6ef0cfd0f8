"""Fifth fresh bank for batchnorm, written blind in round six (see tests/mistakes/README.md)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("running_var_starts_at_zero", "starts the running variance at zeros instead of ones",
           "self.running_var = np.ones(num_features, dtype=dtype)", "self.running_var = np.zeros(num_features, dtype=dtype)",
           diagnosis=("start at 1|starts at one|start at one|initialised to 1|initialized to 1|np.ones|starts at 0|"
                      "starts at zero|initialised to 0|initialised to zero")),
    Mutant("beta_starts_at_one", "initialises beta with ones (copied from gamma's line)",
           "self.beta = Parameter(np.zeros(num_features, dtype=dtype))", "self.beta = Parameter(np.ones(num_features, dtype=dtype))",
           diagnosis=("start at 0|starts at zero|start at zero|initialised to 0|initialized to 0|np.zeros|starts at 1|"
                      "starts at one|initialised to 1|copied from gamma")),
    Mutant("gamma_in_float64", "creates gamma without the dtype, so float32 layers give float64 outputs",
           "self.gamma = Parameter(np.ones(num_features, dtype=dtype))", "self.gamma = Parameter(np.ones(num_features))",
           diagnosis="float64|dtype"),
    Mutant("running_mean_keeps_the_batch_shape", "updates the running mean with the keepdims-shaped batch mean (not reshaped to (C,))",
           "self.momentum * mean.reshape(-1)", "self.momentum * mean",
           diagnosis="reshape(-1)|keepdims shape|(1, c|flatten|extra axes|extra axis|keepdims=true shape"),
    Mutant("eval_variance_from_the_batch", "normalises with the running mean but the batch's own variance in eval mode",
           "            var = self.running_var.reshape(shape)\n",
           "            var = x.var(axis=axes, keepdims=True)\n",
           diagnosis="batch variance|variance of the batch|batch's variance|batch statistics in eval|batch's own"),
    Mutant("running_averages_updated_in_eval", "updates the running averages in eval mode too (with the batch's statistics)",
           "            mean = self.running_mean.reshape(shape)\n            var = self.running_var.reshape(shape)\n",
           "            mean = self.running_mean.reshape(shape)\n            var = self.running_var.reshape(shape)\n"
           "            m = x.size // self.num_features\n"
           "            self.running_mean = (1.0 - self.momentum) * self.running_mean + self.momentum * x.mean(axis=axes)\n"
           "            self.running_var = (1.0 - self.momentum) * self.running_var + self.momentum * x.var(axis=axes) * m / (m - 1)\n",
           diagnosis=("updates the running|update the running|in eval mode the running|frozen|must not change|"
                      "must stay|unchanged in eval")),
    Mutant("backward_g_hat_with_beta", "multiplies grad_out by beta instead of gamma for dL/dx_hat",
           "g_hat = grad_out * self.gamma.data.reshape(shape)", "g_hat = grad_out * self.beta.data.reshape(shape)",
           diagnosis="beta instead|instead of gamma|by beta|times beta"),
    Mutant("backward_sum_without_keepdims", "sums g_hat over the axes without keepdims",
           "sum_g = g_hat.sum(axis=axes, keepdims=True)", "sum_g = g_hat.sum(axis=axes)",
           diagnosis="keepdims"),
    Mutant("backward_without_inv_std", "forgets the factor 1 / sqrt(var + eps) in dL/dx (training mode)",
           "return inv_std / m * (m * g_hat - sum_g - x_hat * sum_gx)", "return 1.0 / m * (m * g_hat - sum_g - x_hat * sum_gx)",
           diagnosis="inv_std|1 / sqrt|1/sqrt|standard deviation|divide by the std|1 / std|1/std|sigma"),
]

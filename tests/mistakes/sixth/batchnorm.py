"""Sixth fresh bank for batchnorm, written blind on 2026-12-07 in round seven (see tests/mistakes/README.md)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("statistics_per_sample", "takes mean and variance over axis 1 (each sample's features, layer norm) instead of the channel's values",
           "            mean = x.mean(axis=axes, keepdims=True)\n"
           "            # The biased variance normalises this batch; the unbiased one estimates the population's.\n"
           "            var = x.var(axis=axes, keepdims=True)\n",
           "            mean = x.mean(axis=1, keepdims=True)\n"
           "            # The biased variance normalises this batch; the unbiased one estimates the population's.\n"
           "            var = x.var(axis=1, keepdims=True)\n",
           diagnosis="per sample|layer norm|axis 1|over the features|each sample|wrong axis"),
    Mutant("running_var_from_the_mean", "updates running_var with the batch mean (a line copied from running_mean)",
           "self.momentum * var.reshape(-1) * m / (m - 1)", "self.momentum * mean.reshape(-1) * m / (m - 1)",
           diagnosis="the mean|copied|batch mean|mean instead of the variance|equals the mean"),
    Mutant("running_m_counts_every_entry", "counts m as every entry of x, channels included, in the unbiased factor",
           "            m = x.size // self.num_features\n", "            m = x.size\n",
           diagnosis="m / (m - 1)|unbiased|every entry|number of values|values per channel"),
    Mutant("backward_first_term_without_gamma", "uses grad_out instead of g_hat in the first term of dL/dx",
           "return inv_std / m * (m * g_hat - sum_g - x_hat * sum_gx)",
           "return inv_std / m * (m * grad_out - sum_g - x_hat * sum_gx)",
           diagnosis="times gamma|without gamma|g_hat|first term|m g"),
    Mutant("backward_sums_over_everything", "sums g_hat over every axis, not only over the channel's values",
           "sum_g = g_hat.sum(axis=axes, keepdims=True)", "sum_g = g_hat.sum(keepdims=True)",
           diagnosis="every axis|all axes|whole array|every channel|per channel"),
    Mutant("multiplies_by_the_std", "multiplies x - mean by the standard deviation instead of dividing by it",
           "inv_std = 1.0 / np.sqrt(var + self.eps)", "inv_std = np.sqrt(var + self.eps)",
           diagnosis="multipl|instead of dividing|standard deviation|reciprocal|inverse"),
    Mutant("running_mean_without_decay", "adds momentum * mean to the running mean without the (1 - momentum) decay",
           "self.running_mean = (1.0 - self.momentum) * self.running_mean + self.momentum * mean.reshape(-1)",
           "self.running_mean = self.running_mean + self.momentum * mean.reshape(-1)",
           diagnosis="1 - momentum|decay|grows|never forgets|exponential moving average|accumulat"),
    Mutant("running_mean_starts_at_one", "initialises running_mean with ones (copied from running_var)",
           "self.running_mean = np.zeros(num_features, dtype=dtype)",
           "self.running_mean = np.ones(num_features, dtype=dtype)",
           diagnosis="initial|starts at|initialis|ones instead of zeros"),
    Mutant("backward_third_term_without_x_hat", "subtracts sum(g_hat x_hat) without multiplying it by x_hat",
           "return inv_std / m * (m * g_hat - sum_g - x_hat * sum_gx)",
           "return inv_std / m * (m * g_hat - sum_g - sum_gx)",
           diagnosis="x_hat|third term|times x_hat|variance term"),
    Mutant("running_var_precedence", "writes var * m / m - 1 instead of var * m / (m - 1)",
           "var.reshape(-1) * m / (m - 1)", "var.reshape(-1) * m / m - 1",
           diagnosis="precedence|parenthes|minus 1|m / (m - 1)"),
    Mutant("x_hat_scaled_before_centring", "computes x * s - mean instead of (x - mean) * s",
           "x_hat = (x - mean) * inv_std", "x_hat = x * inv_std - mean",
           diagnosis="precedence|parenthes|before subtracting|centr|scaled first"),
]

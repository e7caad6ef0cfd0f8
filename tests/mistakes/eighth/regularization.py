"""Eighth fresh bank for regularization, written blind on 2026-12-07 in round eight AFTER round eight's diagnosis
changes were merged (commit 3a1f4a2); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("l2_grad_assigned", "overwrites the gradient with the penalty's gradient",
           "p.grad += lam * p.data", "p.grad = lam * p.data",
           diagnosis="overwr|accumulat|+=|add to|replace"),
    Mutant("dropout_stores_keep_probability", "stores the keep probability 1 - p in self.p",
           "self.p = float(p)", "self.p = 1.0 - float(p)",
           diagnosis="keep probability|1 - p|drop probability|inverted|keep prob"),
    Mutant("dropout_forward_output_unscaled", "masks the output with the 0/1 pattern, but backward uses the scaled mask",
           "return x * self._mask\n", "return np.where(self._mask > 0, x, 0.0)\n",
           diagnosis="scale|1/(1 - p)|1 - p|rescal|expected value|average"),
    Mutant("dropout_eval_backward_scaled", "scales the gradient by 1 - p when no mask was drawn",
           "        if self._mask is None:\n            return grad_out\n",
           "        if self._mask is None:\n            return grad_out * (1.0 - self.p)\n",
           diagnosis="eval|identity|unchanged|scale|1 - p"),
    Mutant("dropout_keep_above_one_minus_p", "keeps where the draw exceeds 1 - p, i.e. with probability p",
           "keep = self.rng.random(x.shape) >= self.p", "keep = self.rng.random(x.shape) >= 1.0 - self.p",
           diagnosis="keep|drop|1 - p|probability|inverted"),
    Mutant("l2_penalty_sqrt_of_total", "returns the norm of all weights instead of its square",
           "return 0.5 * lam * total", "return 0.5 * lam * np.sqrt(total)",
           diagnosis="sqrt|square|squared|norm"),
    Mutant("l2_penalty_divides_by_lam", "divides by lambda instead of multiplying",
           "return 0.5 * lam * total", "return 0.5 / lam * total",
           diagnosis="divid|multipl|lam|lambda|strength"),
    Mutant("l2_grad_adds_lam_only", "adds lam to the gradient, forgetting the weight",
           "p.grad += lam * p.data", "p.grad += lam",
           diagnosis="weight|times the weight|times|p.data|constant"),
    Mutant("l2_grad_biases_only", "applies the decay to the 1-D parameters only (wrong branch)",
           "    for p in params:\n        p.grad += lam * p.data",
           "    for p in params:\n        if p.data.ndim == 1:\n            p.grad += lam * p.data",
           diagnosis="bias|weight|matri|ndim|branch|skipped"),
    Mutant("l2_grad_summed_weights", "adds lam times the sum of the weights to every entry",
           "p.grad += lam * p.data", "p.grad += lam * p.data.sum()",
           diagnosis="summed|each entry|elementwise|element-wise|per entry|own weight"),
]

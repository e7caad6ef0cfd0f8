"""Second fresh bank for regularization, written after the diagnosis changes."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("p_zero_rejected", "rejects p = 0", "if not 0.0 <= p < 1.0:", "if not 0.0 < p < 1.0:", diagnosis="p = 0|p=0"),
    Mutant("penalty_without_half", "returns lam * sum(w^2)",
           "return 0.5 * lam * total", "return lam * total", diagnosis="0.5|half|twice|1/2"),
    Mutant("penalty_of_the_gradients", "sums the squares of the gradients",
           "float(np.sum(p.data ** 2))", "float(np.sum(p.grad ** 2))", diagnosis="data|weights"),
    Mutant("penalty_gradient_half", "adds 0.5 lam w",
           "p.grad += lam * p.data", "p.grad += 0.5 * lam * p.data", diagnosis="half|1/2"),
    Mutant("penalty_gradient_squared", "adds lam w^2",
           "p.grad += lam * p.data", "p.grad += lam * p.data ** 2", diagnosis="square|derivative"),
    Mutant("eval_reuses_the_last_mask", "applies the last training mask in eval mode",
           "            self._mask = None\n            return x\n",
           "            return x * self._mask if self._mask is not None else x\n", diagnosis="eval|stale|mask"),
    Mutant("backward_mask_boolean", "passes the gradient where kept, unscaled",
           "        return grad_out * self._mask", "        return grad_out * (self._mask > 0)",
           diagnosis="1 - p|scale|1/(1 - p)"),
    Mutant("penalty_gradient_first_only", "adds the decay to the first parameter only",
           "    for p in params:\n        p.grad += lam * p.data", "    for p in params[:1]:\n        p.grad += lam * p.data",
           diagnosis="every parameter|each parameter|all zeros"),
    Mutant("penalty_mean", "averages the squares",
           "float(np.sum(p.data ** 2))", "float(np.mean(p.data ** 2))", diagnosis="sum|mean"),
    Mutant("mask_from_global_random", "draws the mask from np.random",
           "keep = self.rng.random(x.shape) >= self.p", "keep = np.random.random(x.shape) >= self.p",
           diagnosis="rng|generator|seed"),
]

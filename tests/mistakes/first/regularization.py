"""First fresh bank for regularization, written before any diagnosis change."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("eval_scales_by_keep", "multiplies by 1 - p in eval mode",
           "            self._mask = None\n            return x\n",
           "            self._mask = None\n            return x * (1.0 - self.p)\n", diagnosis="eval|1 - p"),
    Mutant("mask_times_keep", "multiplies the survivors by 1 - p instead of dividing",
           "(keep / (1.0 - self.p))", "(keep * (1.0 - self.p))", diagnosis="1 - p|1/(1 - p)"),
    Mutant("backward_ignores_mask", "passes the gradient through unchanged",
           "        return grad_out * self._mask", "        return grad_out", diagnosis="mask|dropped"),
    Mutant("penalty_without_lambda", "forgets lam in the penalty",
           "return 0.5 * lam * total", "return 0.5 * total", diagnosis="lam|lambda"),
    Mutant("penalty_l1", "sums |w| instead of w^2",
           "float(np.sum(p.data ** 2))", "float(np.sum(np.abs(p.data)))", diagnosis="square|L1"),
    Mutant("penalty_gradient_doubled", "uses 2 lam w as the gradient",
           "p.grad += lam * p.data", "p.grad += 2 * lam * p.data", diagnosis="twice|2|half"),
    Mutant("penalty_gradient_sign", "subtracts lam w",
           "p.grad += lam * p.data", "p.grad -= lam * p.data", diagnosis="sign"),
    Mutant("one_mask_for_the_batch", "draws one mask per feature, shared by the batch",
           "keep = self.rng.random(x.shape) >= self.p", "keep = self.rng.random(x.shape[1:]) >= self.p",
           diagnosis="example|batch|row"),
    Mutant("forward_in_place", "multiplies the input in place",
           "        return x * self._mask", "        x *= self._mask\n        return x", diagnosis="in place|input"),
    Mutant("backward_scales_again", "divides by 1 - p again in backward",
           "        return grad_out * self._mask", "        return grad_out * self._mask / (1.0 - self.p)",
           diagnosis="1 - p|twice"),
]

"""Fourth fresh bank for autograd, written after round five's diagnosis changes (see tests/mistakes/README.md)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("rtruediv_reversed", "computes self / other for other / self",
           "        return _as_tensor(other, self) / self", "        return self / _as_tensor(other, self)",
           diagnosis="reversed|order|other / self|operands|swapped"),
    Mutant("matmul_grad_a_untransposed", "computes g @ b instead of g @ b^T for the left operand",
           "grad_a = unbroadcast(g @ np.swapaxes(b2, -1, -2), a2.shape)", "grad_a = unbroadcast(g @ b2, a2.shape)",
           diagnosis="transpos|.t|swapaxes"),
    Mutant("seed_gradient_float64", "seeds backward() with np.ones(shape), float64 for float32 outputs",
           "            grad = np.ones_like(self.data)", "            grad = np.ones(self.data.shape)",
           diagnosis="float64|dtype|float32"),
    Mutant("transpose_default_keeps_the_axes", "uses the identity permutation when no axes are given",
           "            axes = tuple(reversed(range(a.data.ndim)))", "            axes = tuple(range(a.data.ndim))",
           diagnosis="revers|transpos|identity|.t"),
    Mutant("detach_returns_self", "returns the tensor itself from detach()",
           "        return Tensor(self.data)\n", "        return self\n",
           diagnosis="detach|requires_grad|graph|new tensor|same object"),
    Mutant("no_grad_exit_enables", "re-enables recording on exit instead of restoring the previous state",
           "        _grad_enabled = self._previous", "        _grad_enabled = True",
           diagnosis="previous|nested|restor"),
    Mutant("cross_entropy_normalises_the_cache", "divides the cached exponentials in place in backward",
           "        probs = exp / sum_exp\n", "        probs = exp\n        probs /= sum_exp\n",
           diagnosis="in place|cached|second|twice|overwr|stale"),
    Mutant("pow_precedence", "writes a ** b - 1 for a ** (b - 1)",
           "g * b.data * a.data ** (b.data - 1)", "g * b.data * a.data ** b.data - 1",
           diagnosis="parenthes|precedence|b - 1"),
]

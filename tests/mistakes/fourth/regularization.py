"""Fourth fresh bank for regularization, written after round five's diagnosis changes (see tests/mistakes/README.md)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("backward_in_place", "multiplies the upstream gradient by the mask in place",
           "            return grad_out\n        return grad_out * self._mask",
           "            return grad_out\n        grad_out *= self._mask\n        return grad_out",
           diagnosis="in place|caller|modif|overwr"),
    Mutant("eval_returns_none", "returns nothing in eval mode",
           "            self._mask = None\n            return x\n", "            self._mask = None\n            return\n",
           diagnosis="none|return"),
    Mutant("default_generator_seeded", "uses np.random.default_rng(0) when no rng is given",
           "self.rng = np.random.default_rng() if rng is None else rng",
           "self.rng = np.random.default_rng(0) if rng is None else rng",
           diagnosis="seed|fresh|default|same mask|identical"),
    Mutant("backward_without_the_eval_case", "multiplies by the mask even when it is None (eval mode)",
           "        if self._mask is None:\n            return grad_out\n        return grad_out * self._mask",
           "        return grad_out * self._mask",
           diagnosis="eval|none|identity"),
    Mutant("penalty_backward_returns_the_gradients", "returns the list lam * W instead of adding it into p.grad",
           "    for p in params:\n        p.grad += lam * p.data",
           "    return [lam * p.data for p in params]",
           diagnosis="p.grad|in place|add|never|unchanged|returns"),
    Mutant("penalty_skips_the_biases", "penalises only parameters with two or more axes",
           "    for p in params:\n        total += float(np.sum(p.data ** 2))",
           "    for p in params:\n        if p.data.ndim > 1:\n            total += float(np.sum(p.data ** 2))",
           diagnosis="bias|every param|all param|only some|1-d"),
    Mutant("penalty_averaged_over_parameters", "divides the penalty by the number of parameters",
           "    return 0.5 * lam * total", "    return 0.5 * lam * total / len(params)",
           diagnosis="number of param|len(params)|mean|average|count"),
    Mutant("mask_reused_while_the_shape_matches", "draws a new mask only when the input's shape changes",
           "        keep = self.rng.random(x.shape) >= self.p\n",
           "        if self._mask is not None and self._mask.shape == x.shape:\n            return x * self._mask\n"
           "        keep = self.rng.random(x.shape) >= self.p\n",
           diagnosis="same mask|new mask|every call|each call|fresh|redraw|stale|previous"),
]

"""Eighth fresh bank for autograd, written blind on 2026-12-07 in round eight AFTER round eight's diagnosis
changes were merged (commit 3a1f4a2); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("add_backward_unbroadcast_swapped_shapes", "unbroadcasts each gradient to the other operand's shape",
           "return (unbroadcast(g, a.data.shape) if a.requires_grad else None,\n                    unbroadcast(g, b.data.shape) if b.requires_grad else None)",
           "return (unbroadcast(g, b.data.shape) if a.requires_grad else None,\n                    unbroadcast(g, a.data.shape) if b.requires_grad else None)",
           diagnosis="broadcast|swapped|other operand"),
    Mutant("matmul_grad_b_order", "writes g @ a.T for the gradient of b",
           "grad_b = unbroadcast(np.swapaxes(a2, -1, -2) @ g, b2.shape)", "grad_b = unbroadcast(np.swapaxes(g @ np.swapaxes(a2, -1, -2), -1, -2), b2.shape)",
           diagnosis="order|transpos|a.t @ g|swapped"),
    Mutant("exp_backward_drops_upstream", "returns exp(x) without multiplying by the upstream gradient",
           "out = np.exp(a.data)\n\n        def backward(g):\n            return (g * out,)",
           "out = np.exp(a.data)\n\n        def backward(g):\n            return (out,)",
           diagnosis="chain|exp(x)|output|upstream|input"),
    Mutant("backward_seed_zeros", "seeds the backward pass with zeros",
           "grad = np.ones_like(self.data)", "grad = np.zeros_like(self.data)",
           diagnosis="seed|ones|zero|dl/dl"),
    Mutant("backward_leaf_grad_overwritten", "overwrites the leaf's gradient on a second backward",
           "                    node.grad += g\n", "                    node.grad = g\n",
           diagnosis="accumulat|overwr|+=|second backward|add"),
    Mutant("pow_exponent_grad_without_log", "forgets the log(a) factor in the exponent's gradient",
           "unbroadcast(g * out * np.log(a.data), b.data.shape)", "unbroadcast(g * out, b.data.shape)",
           diagnosis="log(a)|log of the base|np.log|exponent|factor|missing"),
    Mutant("pow_base_grad_exponent_b", "uses a ** b instead of a ** (b - 1) in the base's gradient",
           "unbroadcast(g * b.data * a.data ** (b.data - 1), a.data.shape)", "unbroadcast(g * b.data * out, a.data.shape)",
           diagnosis="b - 1|power|exponent|minus one|off by one"),
    Mutant("mean_backward_count_all", "divides by the total size even when averaging along an axis",
           "count = a.data.size // max(np.size(out), 1)", "count = a.data.size",
           diagnosis="count|axis|divid|number"),
    Mutant("sigmoid_backward_one_plus", "writes out * (1 + out)",
           "return (g * out * (1 - out),)", "return (g * out * (1 + out),)",
           diagnosis="1 - |minus|plus|derivative|operator"),
    Mutant("unbroadcast_sums_without_keepdims", "sums the stretched axes without keepdims",
           "grad = grad.sum(axis=stretched, keepdims=True)", "grad = grad.sum(axis=stretched)",
           diagnosis="keepdims|stretched|size-1|broadcast"),
]

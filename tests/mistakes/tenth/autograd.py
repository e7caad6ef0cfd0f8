"""Tenth fresh bank for autograd, written blind on 2026-12-08 in round nine (second freeze) AFTER round nine (second freeze)'s
diagnosis changes were merged (commit ab255a4); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("add_backward_b_not_unbroadcast", "returns g for the second operand without summing over broadcast axes",
           "            return (unbroadcast(g, a.data.shape) if a.requires_grad else None,\n                    unbroadcast(g, b.data.shape) if b.requires_grad else None)",
           "            return (unbroadcast(g, a.data.shape) if a.requires_grad else None,\n                    g if b.requires_grad else None)",
           diagnosis="broadcast|shape|sum over|reduce|expanded"),
    Mutant("matmul_grad_b_transposed_result", "computes g^T a, the transpose of the gradient of b",
           "grad_b = unbroadcast(np.swapaxes(a2, -1, -2) @ g, b2.shape)", "grad_b = unbroadcast(np.swapaxes(g, -1, -2) @ a2, b2.shape)",
           diagnosis="transpos|order|a^t|swapped"),
    Mutant("exp_backward_uses_input", "multiplies g by the input instead of exp(input)",
           "return (g * out,)", "return (g * a.data,)",
           diagnosis="exponential|output|input|derivative|e^x"),
    Mutant("matmul_grad_a_not_reshaped", "leaves a vector's gradient as a (1, n) matrix",
           "grad_a = unbroadcast(g @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.data.shape)", "grad_a = unbroadcast(g @ np.swapaxes(b2, -1, -2), a2.shape)",
           diagnosis="shape|vector|reshape|1-d|matrix"),
    Mutant("sum_backward_ones", "returns ones for the input, ignoring the upstream gradient",
           "return (np.broadcast_to(g, a.data.shape),)\n\n        return _result(a.data.sum(", "return (np.ones_like(a.data),)\n\n        return _result(a.data.sum(",
           diagnosis="upstream|ones|chain|ignored"),
    Mutant("topological_order_preorder", "appends a node before its parents (pre-order)",
           "            visited.add(node)\n            stack.append((node, True))\n", "            visited.add(node)\n            order.append(node)\n",
           diagnosis="order|before its parents|topolog|post-order|pre-order"),
    Mutant("cross_entropy_backward_no_one_hot", "forgets to subtract 1 at the labels",
           "        probs[rows, labels] -= 1\n", "",
           diagnosis="one-hot|label|subtract|minus 1|true class"),
    Mutant("unbroadcast_sums_trailing_axes", "sums the trailing axes instead of the leading ones",
           "grad = grad.sum(axis=tuple(range(extra)))", "grad = grad.sum(axis=tuple(range(grad.ndim - extra, grad.ndim)))",
           diagnosis="leading|trailing|axes|prepended|left"),
    Mutant("getitem_backward_ignores_index", "returns g broadcast to the whole input instead of scattering it at the index",
           "            grad = np.zeros_like(a.data)\n            np.add.at(grad, index, g)\n            return (grad,)",
           "            return (np.broadcast_to(g, a.data.shape),)",
           diagnosis="index|scatter|selected|zero elsewhere|other entries"),
]

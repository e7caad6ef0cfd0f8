"""Sixth fresh bank for autograd, written blind on 2026-12-07 in round seven (see tests/mistakes/README.md)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("matmul_vector_axes_restored_in_the_wrong_order", "re-inserts a's dropped axis before b's, which fails for a dot product of two vectors (0-d g)",
           "            if b.data.ndim == 1:\n                g = np.expand_dims(g, -1)\n"
           "            if a.data.ndim == 1:\n                g = np.expand_dims(g, -2)\n",
           "            if a.data.ndim == 1:\n                g = np.expand_dims(g, -2)\n"
           "            if b.data.ndim == 1:\n                g = np.expand_dims(g, -1)\n",
           diagnosis="vector|1-d|0-d|dot product|expand_dims|axis -2"),
    Mutant("matmul_dot_T_for_stacks", "transposes with .T, which reverses every axis of a stack instead of swapping the last two",
           "grad_a = unbroadcast(g @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.data.shape)\n"
           "            if b.requires_grad:\n"
           "                grad_b = unbroadcast(np.swapaxes(a2, -1, -2) @ g, b2.shape)",
           "grad_a = unbroadcast(g @ b2.T, a2.shape).reshape(a.data.shape)\n"
           "            if b.requires_grad:\n"
           "                grad_b = unbroadcast(a2.T @ g, b2.shape)",
           diagnosis="a2.t|b2.t|.t reverses|swapaxes|last two axes|stack|batched|3-d|every axis"),
    Mutant("sum_backward_not_broadcast", "returns g itself from sum's backward, without broadcasting it back to the input's shape",
           "            return (np.broadcast_to(g, a.data.shape),)\n", "            return (g,)\n",
           diagnosis="broadcast|input's shape|scalar|not expanded|every summed entry"),
    Mutant("topological_pre_order", "appends a node when it is first expanded (pre-order), so it comes before its parents",
           "            if parents_done:\n                order.append(node)\n                continue\n"
           "            if node in visited:\n                continue\n            visited.add(node)\n",
           "            if parents_done:\n                continue\n"
           "            if node in visited:\n                continue\n            visited.add(node)\n            order.append(node)\n",
           diagnosis="pre-order|preorder|before its parents|topolog|post-order|order of the nodes"),
    Mutant("backward_seed_for_any_shape", "accepts backward() without grad for a several-element output, seeding it with ones",
           "            if self.data.size != 1:\n"
           "                raise ValueError(f\"backward() without a gradient needs a one-element output, not shape \"\n"
           "                                 f\"{self.data.shape}: pass grad=dL/d(this tensor).\")\n",
           "",
           diagnosis="one element|one-element|several elements|scalar|grad="),
    Mutant("div_b_gradient_roles_swapped", "writes -g b / a^2 for the divisor's gradient, a and b swapped",
           "-g * a.data / (b.data * b.data)", "-g * b.data / (a.data * a.data)",
           diagnosis="swapped|a and b|roles|divisor|numerator|denominator"),
    Mutant("mean_count_of_the_outputs", "divides the gradient by the number of outputs instead of the number of entries averaged",
           "count = a.data.size // max(np.size(out), 1)", "count = max(np.size(out), 1)",
           diagnosis="number of outputs|entries averaged|size of the result|averaged over"),
    Mutant("reshape_tuple_not_unpacked", "passes reshape((2, 3))'s single tuple on as a nested tuple",
           "        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):\n            shape = tuple(shape[0])\n",
           "",
           diagnosis="tuple|reshape((|one argument|nested|single argument"),
    Mutant("transpose_inverse_by_reversal", "inverts the permutation by reversing it instead of argsort",
           "inverse = tuple(np.argsort(axes))", "inverse = tuple(reversed(axes))",
           diagnosis="inverse permutation|argsort|reversed|inverse"),
    Mutant("sigmoid_gradient_from_the_input", "uses the input a instead of the output in g * out * (1 - out)",
           "return (g * out * (1 - out),)", "return (g * a.data * (1 - a.data),)",
           diagnosis="input instead|of the input|out instead|instead of the output"),
    Mutant("cross_entropy_sum_not_mean", "sums the per-sample losses while the backward still divides by N",
           "loss = np.mean(np.log(sum_exp[:, 0]) - shifted[rows, labels])",
           "loss = np.sum(np.log(sum_exp[:, 0]) - shifted[rows, labels])",
           diagnosis="sum instead|1/n|batch size|n times|instead of the mean"),
    Mutant("cross_entropy_sum_exp_column", "subtracts a column (N, 1) from a row (N,), broadcasting to an (N, N) matrix before the mean",
           "loss = np.mean(np.log(sum_exp[:, 0]) - shifted[rows, labels])",
           "loss = np.mean(np.log(sum_exp) - shifted[rows, labels])",
           diagnosis="broadcast|(n, 1)|(n, n)|column|keepdims|[:, 0]"),
    Mutant("getitem_gradient_in_the_shape_of_g", "allocates the index gradient in the shape of g instead of the input's",
           "            grad = np.zeros_like(a.data)\n            np.add.at(grad, index, g)\n",
           "            grad = np.zeros_like(g)\n            np.add.at(grad, index, g)\n",
           diagnosis="shape of g|input's shape|zeros_like(g)|selected entries|scatter"),
]

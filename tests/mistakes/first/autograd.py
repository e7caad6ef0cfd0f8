"""First fresh bank for autograd, written before any diagnosis change."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("mul_gradients_swapped", "gives each operand its own value as the gradient factor",
           "return (unbroadcast(g * b.data, a.data.shape) if a.requires_grad else None,\n"
           "                    unbroadcast(g * a.data, b.data.shape) if b.requires_grad else None)",
           "return (unbroadcast(g * a.data, a.data.shape) if a.requires_grad else None,\n"
           "                    unbroadcast(g * b.data, b.data.shape) if b.requires_grad else None)",
           diagnosis="swapped|other operand|other factor", misdiagnosis="overflow"),
    Mutant("sum_without_expand_dims", "broadcasts the gradient of sum(axis) without restoring the axis",
           "            if axis is not None and not keepdims:\n                g = np.expand_dims(g, axis)\n"
           "            return (np.broadcast_to(g, a.data.shape),)",
           "            return (np.broadcast_to(g, a.data.shape),)", diagnosis="expand_dims|keepdims|axis"),
    Mutant("div_gradient_sign", "forgets the minus in d(a/b)/db",
           "-g * a.data / (b.data * b.data)", "g * a.data / (b.data * b.data)", diagnosis="sign"),
    Mutant("pow_without_exponent", "forgets the factor b in d(a^b)/da",
           "g * b.data * a.data ** (b.data - 1)", "g * a.data ** (b.data - 1)", diagnosis="exponent|factor"),
    Mutant("exp_gradient_is_the_input", "multiplies by the input instead of exp(input)",
           "        out = np.exp(a.data)\n        def backward(g):\n            return (g * out,)",
           "        out = np.exp(a.data)\n        def backward(g):\n            return (g * a.data,)", diagnosis="exp"),
    Mutant("log_gradient_times_x", "multiplies by x instead of dividing",
           "return (g / a.data,)", "return (g * a.data,)", diagnosis="1/x|divide"),
    Mutant("tanh_gradient_not_squared", "uses 1 - out instead of 1 - out^2",
           "return (g * (1 - out * out),)", "return (g * (1 - out),)", diagnosis="square"),
    Mutant("relu_gradient_times_output", "multiplies by relu(x) instead of the mask",
           "return (g * (a.data > 0),)", "return (g * np.maximum(a.data, 0),)", diagnosis="mask"),
    Mutant("matmul_grad_b_untransposed", "uses a @ g for the right operand",
           "grad_b = unbroadcast(np.swapaxes(a2, -1, -2) @ g, b2.shape)", "grad_b = unbroadcast(a2 @ g, b2.shape)",
           diagnosis="transpose"),
    Mutant("mean_divides_by_everything", "divides by the total size whatever the axis",
           "return (np.broadcast_to(g / count, a.data.shape),)", "return (np.broadcast_to(g / a.data.size, a.data.shape),)",
           diagnosis="count|axis|number of"),
    Mutant("transpose_backward_same_axes", "transposes the gradient by the same axes, not the inverse",
           "return (g.transpose(inverse),)", "return (g.transpose(axes),)", diagnosis="inverse|permut"),
    Mutant("cross_entropy_backward_without_1_over_n", "forgets the 1/N of the mean",
           "probs *= g / n", "probs *= g", diagnosis="batch size|1/N"),
]

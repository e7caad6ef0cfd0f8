"""First fresh bank for layers, written before any diagnosis change (see tests/mistakes/measure.py)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("forward_saves_nothing", "forward never stores its input for backward",
           "        self._x = x\n", "", diagnosis="save|store|never kept"),
    Mutant("bias_grad_axis_1", "sums the bias gradient over the features instead of the batch",
           "self.b.grad += grad_out.sum(axis=0)", "self.b.grad += grad_out.sum(axis=1)",
           diagnosis="axis"),
    Mutant("bias_grad_total", "sums the bias gradient over every entry",
           "self.b.grad += grad_out.sum(axis=0)", "self.b.grad += grad_out.sum()",
           diagnosis="axis"),
    Mutant("forward_transposed_weights", "multiplies by W.T in forward",
           "return x @ self.W.data + self.b.data", "return x @ self.W.data.T + self.b.data",
           diagnosis="transpose"),
    Mutant("weight_grad_mean", "divides the weight gradient by the batch size",
           "self.W.grad += self._x.T @ grad_out", "self.W.grad += self._x.T @ grad_out / len(grad_out)",
           diagnosis="batch size|1/N"),
    Mutant("input_grad_negated", "returns minus the input gradient",
           "return grad_out @ self.W.data.T", "return -grad_out @ self.W.data.T",
           diagnosis="sign"),
    Mutant("bias_grad_assigned", "assigns the bias gradient instead of adding to it",
           "self.b.grad += grad_out.sum(axis=0)", "self.b.grad = grad_out.sum(axis=0)",
           diagnosis="assign|accumulate|+="),
    Mutant("zero_grad_zeroes_data", "zero_grad clears the weights instead of the gradients",
           "p.grad[...] = 0", "p.data[...] = 0", diagnosis="data|weights"),
    Mutant("grad_always_float64", "creates every gradient in float64",
           "self.grad = np.zeros_like(data)", "self.grad = np.zeros(data.shape)",
           diagnosis="dtype|float64"),
    Mutant("names_without_dot", "joins nested parameter names without a dot",
           "visit(child, prefix + name + \".\")", "visit(child, prefix + name)",
           diagnosis="dot|\".\"|name"),
]

"""Known-wrong variants of solutions/layers.py (spoilers: each quotes a line of the reference)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("bias_grad_mean", "averages the bias gradient over the batch instead of summing",
           "self.b.grad += grad_out.sum(axis=0)", "self.b.grad += grad_out.mean(axis=0)",
           diagnosis="batch size"),
    Mutant("weight_grad_assigned", "assigns the weight gradient instead of adding to it",
           "self.W.grad += self._x.T @ grad_out", "self.W.grad = self._x.T @ grad_out",
           diagnosis="not assigned"),
    Mutant("input_grad_without_transpose", "multiplies by W instead of W^T in backward",
           "return grad_out @ self.W.data.T", "return grad_out @ self.W.data",
           diagnosis="transpose W"),
    Mutant("weight_grad_transposed", "computes dL/dW as G^T X, the transpose",
           "self.W.grad += self._x.T @ grad_out", "self.W.grad += grad_out.T @ self._x",
           diagnosis="transpose"),
    Mutant("forward_without_bias", "forgets the bias in forward",
           "out += self.b.data", "pass",
           diagnosis="without the bias"),
    Mutant("zero_grad_rebinds", "replaces p.grad by a new array instead of clearing it in place",
           "p.grad[...] = 0", "p.grad = np.zeros_like(p.grad)",
           diagnosis="in place"),
    Mutant("shared_parameters_listed_twice", "lists the parameters of a shared layer twice",
           "if id(child) not in seen:", "if True:",
           diagnosis="listed twice"),
    Mutant("eval_not_recursive", "switches only the outer layer to eval mode",
           "self._set_mode(False)", "self.training = False",
           diagnosis="every sub-layer"),
]

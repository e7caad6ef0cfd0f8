"""Second fresh bank for layers, written after the diagnosis changes (see tests/mistakes/measure.py)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("forward_subtracts_bias", "subtracts the bias in forward",
           "return x @ self.W.data + self.b.data", "return x @ self.W.data - self.b.data",
           diagnosis="sign|added or left out|offset"),
    Mutant("grad_from_empty_like", "creates the gradient with np.empty_like",
           "self.grad = np.zeros_like(data)", "self.grad = np.empty_like(data)",
           diagnosis="zero|garbage|initial|stale"),
    Mutant("init_drawn_transposed", "draws W as (out, in) and transposes it",
           "initializer(in_features, out_features, rng)", "initializer(out_features, in_features, rng).T",
           diagnosis="transpose|order|fan"),
    Mutant("zero_grad_to_scalar", "sets p.grad = 0 (a number, not an array)",
           "p.grad[...] = 0", "p.grad = 0", diagnosis="in place|array"),
    Mutant("set_mode_skips_itself", "switches the sub-layers but not the layer itself",
           "        self.training = training\n        for _, child in self._children():",
           "        for _, child in self._children():", diagnosis="training|eval mode|itself"),
    Mutant("input_gradient_flag_ignored", "returns dL/dx even when input_gradient is False",
           "        if not self.input_gradient:\n            return None\n", "",
           diagnosis="None|input_gradient"),
    Mutant("forward_checks_the_wrong_axis", "compares x's features with W's columns",
           "x.shape[1] != self.W.data.shape[0]", "x.shape[1] != self.W.data.shape[1]",
           diagnosis="shape|features"),
    Mutant("bias_grad_keepdims", "sums the bias gradient with keepdims",
           "self.b.grad += grad_out.sum(axis=0)", "self.b.grad += grad_out.sum(axis=0, keepdims=True)",
           diagnosis="keepdims|shape|axis"),
    Mutant("input_grad_masked", "multiplies dL/dx by a ReLU mask of the input",
           "return grad_out @ self.W.data.T", "return grad_out @ self.W.data.T * (self._x > 0)",
           diagnosis="mask|0 in|where"),
    Mutant("weight_grad_subtracted", "subtracts X^T G from W.grad",
           "self.W.grad += self._x.T @ grad_out", "self.W.grad -= self._x.T @ grad_out", diagnosis="sign"),
]

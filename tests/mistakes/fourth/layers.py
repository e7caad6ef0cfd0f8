"""Fourth fresh bank for layers, written after round five's diagnosis changes (see tests/mistakes/README.md)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("input_grad_uses_W_grad", "multiplies grad_out by W.grad instead of W.data in backward",
           "return grad_out @ self.W.data.T", "return grad_out @ self.W.grad.T",
           diagnosis="w.grad|gradient instead|instead of the weights|w.data"),
    Mutant("forward_bias_upcast", "adds the bias as float64, so float32 inputs give float64 outputs",
           "return x @ self.W.data + self.b.data", "return x @ self.W.data + self.b.data.astype(np.float64)",
           diagnosis="float64|dtype"),
    Mutant("bias_as_a_row", "creates the bias with shape (1, out_features)",
           "self.b = Parameter(np.zeros(out_features, dtype=dtype))",
           "self.b = Parameter(np.zeros((1, out_features), dtype=dtype))",
           diagnosis="shape|extra axis|(1,|row"),
    Mutant("init_ignores_rng", "draws W from a fresh generator instead of rng",
           "self.W = Parameter(np.asarray(initializer(in_features, out_features, rng), dtype=dtype))",
           "self.W = Parameter(np.asarray(initializer(in_features, out_features, np.random.default_rng()), dtype=dtype))",
           diagnosis="rng|generator|seed|reproduc"),
    Mutant("forward_without_shape_check", "drops the input-shape check",
           "        if x.ndim != 2 or x.shape[1] != self.W.data.shape[0]:\n"
           "            raise ValueError(f\"Linear expects input of shape (N, {self.W.data.shape[0]}), got {x.shape}\")\n",
           "",
           diagnosis="valueerror|raise|check the shape|in_features"),
    Mutant("no_input_gradient_skips_weights", "returns None before filling W.grad and b.grad when input_gradient is False",
           "        self.W.grad += self._x.T @ grad_out\n        self.b.grad += grad_out.sum(axis=0)\n"
           "        if not self.input_gradient:\n            return None\n",
           "        if not self.input_gradient:\n            return None\n"
           "        self.W.grad += self._x.T @ grad_out\n        self.b.grad += grad_out.sum(axis=0)\n",
           diagnosis="input_gradient|still fill|before|all zeros|never computed"),
    Mutant("children_ignore_tuples", "finds layers held in lists but not in tuples",
           "elif isinstance(value, (list, tuple)):", "elif isinstance(value, list):",
           diagnosis="tuple"),
    Mutant("input_grad_from_the_input", "returns grad_out @ x.T instead of grad_out @ W.T",
           "return grad_out @ self.W.data.T", "return grad_out @ self._x.T",
           diagnosis="input instead|x instead|instead of w|the weights"),
]

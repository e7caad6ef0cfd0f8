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
           "return x @ self.W.data + self.b.data", "return x @ self.W.data",
           diagnosis="without the bias"),
    Mutant("zero_grad_rebinds", "replaces p.grad by a new array instead of clearing it in place",
           "p.grad[...] = 0", "p.grad = np.zeros_like(p.grad)",
           diagnosis="in place"),
    Mutant("shared_parameters_listed_twice", "lists the parameters of a shared layer twice",
           "if isinstance(child, Parameter) and id(child) not in seen:", "if isinstance(child, Parameter):",
           diagnosis="listed twice"),
    Mutant("parameters_of_a_shared_layer_twice",
           "parameters() collects the sub-layers' parameters itself and lists a shared layer's twice",
           "return [p for _, p in self.named_parameters()]",
           "return [p for _, child in self._children()\n"
           "                for p in ([child] if isinstance(child, Parameter) else child.parameters())]",
           diagnosis="listed twice"),
    Mutant("eval_not_recursive", "switches only the outer layer to eval mode",
           "self._set_mode(False)", "self.training = False",
           diagnosis="every sub-layer"),
    Mutant("linear_ignores_dtype", "creates W and b in float64 whatever dtype Linear is given",
           "self.W = Parameter(np.asarray(initializer(in_features, out_features, rng), dtype=dtype))\n"
           "        self.b = Parameter(np.zeros(out_features, dtype=dtype))",
           "self.W = Parameter(np.asarray(initializer(in_features, out_features, rng)))\n"
           "        self.b = Parameter(np.zeros(out_features))",
           diagnosis="with the dtype argument"),
    Mutant("parameter_keeps_integers", "keeps integer data as it is",
           "        if not np.issubdtype(data.dtype, np.floating):\n"
           "            data = data.astype(np.float64)\n", "",
           diagnosis="must not keep integer data"),
    Mutant("parameter_always_float64", "converts every Parameter to float64, float32 included",
           "data = np.asarray(data)\n", "data = np.asarray(data, dtype=np.float64)\n",
           diagnosis="float32 data must stay float32"),
]

# Issue 19: a raw NumPy (or Python) error raised in the learner's code gets a sentence naming the mistake.
MUTANTS += [
    Mutant("forward_saves_nothing", "forward never stores its input for backward",
           "        self._x = x\n", "", diagnosis="did forward save what backward needs"),
]

# Issue 19, round three: behaviours the docstring states that no test held, and slips named by their numbers.
MUTANTS += [
    Mutant("parameter_keeps_booleans", "converts only integer data, so boolean data stays bool",
           "if not np.issubdtype(data.dtype, np.floating):", "if np.issubdtype(data.dtype, np.integer):",
           diagnosis="boolean data must become float64"),
    Mutant("init_string_ignored", "draws He weights whatever init string it is given",
           "initializer = INITIALIZERS[init] if isinstance(init, str) else init",
           "initializer = INITIALIZERS[\"he\"] if isinstance(init, str) else init",
           diagnosis="the init argument is ignored"),
    Mutant("input_gradient_inverted", "returns None when input_gradient is True and dL/dx when it is False",
           "        if not self.input_gradient:\n            return None\n",
           "        if self.input_gradient:\n            return None\n",
           diagnosis="the flag is inverted"),
    Mutant("zero_grad_stops_after_the_first", "zero_grad resets the first parameter's gradient only",
           "        for p in self.parameters():\n            p.grad[...] = 0\n",
           "        for p in self.parameters():\n            p.grad[...] = 0\n            break\n",
           diagnosis="reset EVERY parameter's gradient"),
]
MUTANTS += [
    Mutant("train_returns_nothing", "train() switches the mode but does not return the layer",
           "        self._set_mode(True)\n        return self", "        self._set_mode(True)",
           diagnosis="return self"),
    Mutant("names_without_the_outer_prefix", "names a nested layer's parameters without the outer prefix",
           "visit(child, prefix + name + \".\")", "visit(child, name + \".\")",
           diagnosis="the outer prefix is lost"),
    Mutant("own_parameters_last", "lists the sub-layers' parameters before the layer's own",
           "            for name, child in children:\n"
           "                if isinstance(child, Parameter) and id(child) not in seen:\n"
           "                    seen.add(id(child))\n                    found.append((prefix + name, child))\n"
           "            for name, child in children:\n                if isinstance(child, Layer):\n"
           "                    visit(child, prefix + name + \".\")",
           "            for name, child in children:\n                if isinstance(child, Layer):\n"
           "                    visit(child, prefix + name + \".\")\n"
           "            for name, child in children:\n"
           "                if isinstance(child, Parameter) and id(child) not in seen:\n"
           "                    seen.add(id(child))\n                    found.append((prefix + name, child))",
           diagnosis="own parameters come first"),
]
MUTANTS += [
    Mutant("children_in_lists_only", "finds the layers held in lists but not in tuples",
           "elif isinstance(value, (list, tuple)):", "elif isinstance(value, list):",
           diagnosis="a tuple of layers counts as a list"),
]

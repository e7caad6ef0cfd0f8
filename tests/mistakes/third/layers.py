"""Third fresh bank for layers, written blind (see tests/mistakes/measure.py): no diagnosis code or grader
message was read while writing it."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("bias_added_as_a_column", "adds the bias as a column b[:, None]",
           "return x @ self.W.data + self.b.data", "return x @ self.W.data + self.b.data[:, None]",
           diagnosis="shape|broadcast"),
    Mutant("parameter_integers_to_float32", "converts non-float data to float32",
           "data = data.astype(np.float64)", "data = data.astype(np.float32)",
           diagnosis="float32|float64|dtype"),
    Mutant("grad_starts_at_ones", "creates the gradient with np.ones_like",
           "self.grad = np.zeros_like(data)", "self.grad = np.ones_like(data)",
           diagnosis="zero|initial|ones"),
    Mutant("forward_keeps_the_output", "keeps the output instead of the input for backward",
           "        self._x = x\n        return x @ self.W.data + self.b.data",
           "        self._x = x @ self.W.data + self.b.data\n        return self._x",
           diagnosis="instead of the input|the output instead|stored|saved"),
    Mutant("bias_grad_first_row", "takes the first row of grad_out as the bias gradient",
           "self.b.grad += grad_out.sum(axis=0)", "self.b.grad += grad_out[0]",
           diagnosis="first row|sum over the batch|first sample|only one sample|one row"),
    Mutant("zero_grad_own_parameters_only", "zero_grad clears only the layer's own parameters, not its sub-layers'",
           "        for p in self.parameters():\n            p.grad[...] = 0",
           "        for _, p in self._children():\n            if isinstance(p, Parameter):\n"
           "                p.grad[...] = 0",
           diagnosis="sub-layer|nested|recursive|stale|not cleared|accumulat"),
    Mutant("sub_layer_parameters_first", "lists the sub-layers' parameters before the layer's own",
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
           diagnosis="order"),
    Mutant("train_returns_none", "train() does not return the layer",
           "        self._set_mode(True)\n        return self", "        self._set_mode(True)",
           diagnosis="returns none|returned none|return self|not return|chain"),
    Mutant("eval_sets_training", "eval() switches to training mode (copy-paste of train)",
           "        self._set_mode(False)\n        return self", "        self._set_mode(True)\n        return self",
           diagnosis="training mode|eval mode|mode"),
    Mutant("names_lose_the_outer_prefix", "names a nested layer's parameters without the outer prefix",
           "visit(child, prefix + name + \".\")", "visit(child, name + \".\")",
           diagnosis="prefix|nested|outer"),
    Mutant("call_returns_nothing", "layer(x) calls forward but does not return its result",
           "        return self.forward(x)", "        self.forward(x)",
           diagnosis="returns none|returned none|returns nothing|not return|is none"),
    Mutant("bias_starts_at_ones", "initialises the bias with ones",
           "self.b = Parameter(np.zeros(out_features, dtype=dtype))",
           "self.b = Parameter(np.ones(out_features, dtype=dtype))",
           diagnosis="zero|initial|ones|offset"),
]

"""Tenth fresh bank for layers, written blind on 2026-12-08 in round nine (second freeze) AFTER round nine (second freeze)'s
diagnosis changes were merged (commit ab255a4); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("param_grad_zeros_float32", "creates the gradient buffer as float32 whatever the data's dtype",
           "self.grad = np.zeros_like(data)", "self.grad = np.zeros(data.shape, dtype=np.float32)",
           diagnosis="dtype|float32|precision|single|float64"),
    Mutant("param_converts_floats_keeps_ints", "inverts the float test: converts float arrays and keeps integer ones",
           "if not np.issubdtype(data.dtype, np.floating):", "if np.issubdtype(data.dtype, np.floating):",
           diagnosis="dtype|integer|float32|convert|astype"),
    Mutant("named_parameters_seen_never_filled", "checks the seen set but never adds to it",
           "                    seen.add(id(child))\n", "",
           diagnosis="twice|duplicate|shared|tied|seen"),
    Mutant("parameters_returns_names", "returns the names instead of the parameters",
           "return [p for _, p in self.named_parameters()]", "return [name for name, _ in self.named_parameters()]",
           diagnosis="names|strings|pairs|instead of|wrong element"),
    Mutant("parameters_returns_pairs", "returns the (name, parameter) pairs unchanged",
           "return [p for _, p in self.named_parameters()]", "return self.named_parameters()",
           diagnosis="pairs|tuples|names|unpack|wrong element"),
    Mutant("zero_grad_multiplies_by_zero", "zeroes gradients by multiplying, which keeps nan and inf",
           "for p in self.parameters():\n            p.grad[...] = 0", "for p in self.parameters():\n            p.grad *= 0",
           diagnosis="nan|infinit|multipl|times zero|not finite"),
    Mutant("param_grad_before_cast", "creates the gradient before converting integer data, so it stays integer",
           "        data = np.asarray(data)\n        if not np.issubdtype(data.dtype, np.floating):\n            data = data.astype(np.float64)\n        self.data = data\n        self.grad = np.zeros_like(data)\n",
           "        data = np.asarray(data)\n        self.grad = np.zeros_like(data)\n        if not np.issubdtype(data.dtype, np.floating):\n            data = data.astype(np.float64)\n        self.data = data\n",
           diagnosis="dtype|integer|before the cast|float"),
    Mutant("named_parameters_children_generator", "keeps the children as a generator, used up by the first loop",
           "children = list(layer._children())", "children = layer._children()",
           diagnosis="nested|sub-layer|generator|consumed|second loop"),
    Mutant("param_always_float64", "converts every array to float64, float32 included",
           "        if not np.issubdtype(data.dtype, np.floating):\n            data = data.astype(np.float64)\n", "        data = data.astype(np.float64)\n",
           diagnosis="float32|float64|dtype|precision|astype"),
]

"""Eighth fresh bank for layers, written blind on 2026-12-07 in round eight AFTER round eight's diagnosis
changes were merged (commit 3a1f4a2); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("param_int_data_kept", "keeps integer data as it is instead of converting it to float",
           "data = data.astype(np.float64)", "data = data",
           diagnosis="integer|dtype|float|convert"),
    Mutant("linear_input_grad_untransposed_order", "computes the input gradient as W @ grad_out.T, transposed",
           "return grad_out @ self.W.data.T", "return self.W.data @ grad_out.T",
           diagnosis="transpos|order|w.t"),
    Mutant("zero_grad_rebinds_local", "rebinds a local name instead of zeroing the gradient in place",
           "p.grad[...] = 0", "grad = p.grad; grad = np.zeros_like(grad)",
           diagnosis="zeroed|in place|not reset|accumulat|stale|previous"),
    Mutant("named_parameters_no_prefix", "forgets the prefix of the child's parameter names",
           "found.append((prefix + name, child))", "found.append((name, child))",
           diagnosis="prefix|name|dotted|path|child"),
    Mutant("named_parameters_no_dedup", "lists a shared parameter twice: never records it as seen",
           "seen.add(id(child))\n", "pass\n",
           diagnosis="shared|twice|duplicate|once|seen"),
    Mutant("linear_weight_grad_outer_wrong_order", "computes grad_out.T @ x and transposes the result back wrongly",
           "self.W.grad += self._x.T @ grad_out", "self.W.grad += (grad_out.T @ self._x).reshape(self.W.grad.shape)",
           diagnosis="transpos|order|reshape|layout"),
    Mutant("linear_bias_random_init", "initialises the bias with the weight initializer's scale",
           "self.b = Parameter(np.zeros(out_features, dtype=dtype))",
           "self.b = Parameter(np.asarray(rng.normal(0.0, 1.0, out_features), dtype=dtype))",
           diagnosis="bias|zero|initial|random"),
    Mutant("linear_dtype_ignored_for_weights", "ignores dtype for the weights",
           "self.W = Parameter(np.asarray(initializer(in_features, out_features, rng), dtype=dtype))",
           "self.W = Parameter(np.asarray(initializer(in_features, out_features, rng)))",
           diagnosis="dtype|float32|float64|precision"),
    Mutant("named_parameters_depth_one", "does not recurse into the children's children",
           "                    visit(child, prefix + name + \".\")",
           "                    for sub_name, sub in child._children():\n                        if isinstance(sub, Parameter):\n                            found.append((prefix + name + \".\" + sub_name, sub))",
           diagnosis="recurs|nested|depth|grandchild|deeper"),
]

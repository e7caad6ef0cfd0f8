"""Seventh fresh bank for layers, written blind on 2026-12-07 in round seven AFTER round seven's diagnosis
changes were merged (commit a774e56); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("zero_grad_first_row_only", "writes p.grad[0] = 0, clearing only the first row of each gradient",
           "            p.grad[...] = 0\n", "            p.grad[0] = 0\n",
           diagnosis="first row|only the first|row 0|accumulat|not cleared|other rows"),
    Mutant("bias_starts_random", "initialises the bias with small random values instead of zeros",
           "self.b = Parameter(np.zeros(out_features, dtype=dtype))",
           "self.b = Parameter((0.01 * rng.standard_normal(out_features)).astype(dtype))",
           diagnosis="zeros|not zero|nonzero|random bias|start at zero|initialised"),
    Mutant("forward_adds_the_first_bias_only", "adds b[0] to every output unit instead of the vector b",
           "return x @ self.W.data + self.b.data", "return x @ self.W.data + self.b.data[0]",
           diagnosis="b[0]|first entry|one bias|same bias|scalar|first bias"),
    Mutant("parameters_returns_arrays", "returns the arrays p.data instead of the Parameter objects",
           "return [p for _, p in self.named_parameters()]", "return [p.data for _, p in self.named_parameters()]",
           diagnosis="parameter objects|arrays instead|ndarray|.data|not parameters"),
    Mutant("parameters_sorted_by_name", "sorts the parameters by name, so '10.W' comes before '2.W'",
           "return [p for _, p in self.named_parameters()]", "return [p for _, p in sorted(self.named_parameters())]",
           diagnosis="sorted|alphabetical|in the order"),
    Mutant("features_stored_swapped", "stores in_features and out_features swapped",
           "        self.in_features = in_features\n        self.out_features = out_features\n",
           "        self.in_features = out_features\n        self.out_features = in_features\n",
           diagnosis="swapped|reversed|the other way|exchanged"),
    Mutant("bias_grad_divided_by_outputs", "divides the bias gradient by the number of output units",
           "self.b.grad += grad_out.sum(axis=0)", "self.b.grad += grad_out.sum(axis=0) / grad_out.shape[1]",
           diagnosis="number of outputs|output units|out_features|1/|factor|divided"),
    Mutant("names_start_with_a_dot", "starts the walk with the prefix '.', so names read '.W', '0..W'",
           "visit(self, \"\")", "visit(self, \".\")",
           diagnosis="leading dot|starts with a dot|prefix|'.w'|extra dot"),
]

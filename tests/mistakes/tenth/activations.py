"""Tenth fresh bank for activations, written blind on 2026-12-08 in round nine (second freeze) AFTER round nine (second freeze)'s
diagnosis changes were merged (commit ab255a4); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("relu_backward_clamps_upstream", "applies ReLU to the upstream gradient instead of masking by the input",
           "return grad_out * self._mask", "return np.maximum(grad_out, 0)",
           diagnosis="mask|saved input|upstream|negative gradient|input"),
    Mutant("sigmoid_derivative_of_output", "applies the derivative formula in terms of x to the saved output",
           "return grad_out * self._s * (1.0 - self._s)",
           "s = self._s\n        return grad_out * np.exp(-s) / (1.0 + np.exp(-s)) ** 2",
           diagnosis="output|input|saved|applied to|recomput"),
    Mutant("relu_backward_mask_without_upstream", "returns the mask without the upstream gradient",
           "return grad_out * self._mask", "return self._mask",
           diagnosis="upstream|chain|grad_out|multipl|without the upstream"),
    Mutant("relu_backward_overwrites_upstream", "multiplies the upstream gradient in place and returns it",
           "return grad_out * self._mask", "grad_out *= self._mask\n        return grad_out",
           diagnosis="in place|caller|modif|overwr|upstream array"),
    Mutant("sigmoid_saves_exponential", "saves exp(-|x|) instead of the output",
           "self._s = s", "self._s = e",
           diagnosis="saved|output|stored|exponential|wrong array"),
    Mutant("relu_backward_upcasts", "multiplies by a float64 copy of the mask, turning float32 gradients into float64",
           "return grad_out * self._mask", "return grad_out * self._mask.astype(np.float64)",
           diagnosis="float64|float32|dtype|upcast|precision"),
    Mutant("tanh_via_naive_sigmoid", "computes tanh as 2 sigmoid(2x) - 1 with the naive sigmoid",
           "y = np.tanh(x)", "y = 2.0 / (1.0 + np.exp(-2.0 * x)) - 1.0",
           diagnosis="overflow|warning|exponential|large|stable"),
    Mutant("tanh_caches_float64", "saves the output as float64",
           "self._y = y", "self._y = y.astype(np.float64)",
           diagnosis="float64|float32|dtype|upcast|precision"),
]

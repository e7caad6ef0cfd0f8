"""Fourth fresh bank for activations, written after round five's diagnosis changes (see tests/mistakes/README.md)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("relu_forward_returns_the_mask", "returns the boolean mask from forward",
           "        return np.maximum(x, 0)", "        return self._mask",
           diagnosis="mask|boolean|0 or 1|0/1|bool"),
    Mutant("sigmoid_positive_branch_is_e_over", "takes positive = e / (1 + e), sigmoid(-|x|)",
           "positive = 1.0 / (1.0 + e)", "positive = e / (1.0 + e)",
           diagnosis="branch|complement|1 - s|swapped|1 minus"),
    Mutant("sigmoid_caches_the_input", "stores x instead of s for backward",
           "        self._s = s\n", "        self._s = x\n",
           diagnosis="input instead|instead of the output|x instead|cached the input|forward's input"),
    Mutant("tanh_from_exponentials", "computes tanh as (e^x - e^-x) / (e^x + e^-x), which overflows",
           "y = np.tanh(x)", "y = (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))",
           diagnosis="overflow|nan|inf|large"),
    Mutant("tanh_backward_without_upstream", "returns 1 - y^2 without grad_out",
           "return grad_out * (1.0 - self._y ** 2)", "return 1.0 - self._y ** 2",
           diagnosis="upstream|grad_out|chain rule|divided by g"),
    Mutant("tanh_in_float32", "returns tanh in float32 whatever the input's dtype",
           "y = np.tanh(x)", "y = np.tanh(x).astype(np.float32)",
           diagnosis="float32|float64|dtype"),
    Mutant("sigmoid_exp_of_plus_abs", "takes e = exp(|x|) instead of exp(-|x|)",
           "e = np.exp(-np.abs(x))", "e = np.exp(np.abs(x))",
           diagnosis="exp(-|sign|overflow|minus"),
    Mutant("relu_mask_nonzero", "builds the mask with x != 0, so negative inputs pass the gradient",
           "self._mask = x > 0", "self._mask = x != 0",
           diagnosis="negative|x < 0|x <= 0|some entries|only some"),
]

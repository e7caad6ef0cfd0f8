"""Seventh fresh bank for activations, written blind on 2026-12-07 in round seven AFTER round seven's diagnosis
changes were merged (commit a774e56); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("relu_forward_minimum", "writes np.minimum(x, 0), keeping the negative part instead of the positive",
           "return np.maximum(x, 0)", "return np.minimum(x, 0)",
           diagnosis="minimum|negative part|min(x, 0)|keeps the negative|negated"),
    Mutant("relu_mask_is_the_input", "remembers x itself instead of the mask x > 0, so backward multiplies by x",
           "self._mask = x > 0", "self._mask = x",
           diagnosis="times x|times the input|multiplied by the input|input itself|instead of the mask|not a mask"),
    Mutant("relu_backward_adds_the_mask", "adds the mask to the upstream gradient instead of multiplying",
           "return grad_out * self._mask", "return grad_out + self._mask",
           diagnosis="adds|added|plus|sum instead of|instead of multiplying|+ 1"),
    Mutant("relu_forward_relu6", "clips the output at 6 (ReLU6) while backward keeps the plain mask",
           "return np.maximum(x, 0)", "return np.clip(x, 0, 6)",
           diagnosis="clip|capped|saturat|upper bound|above 6|relu6"),
    Mutant("sigmoid_backward_one_minus_s_squared", "writes (1 - s)(1 - s) for s(1 - s)",
           "return grad_out * self._s * (1.0 - self._s)", "return grad_out * (1.0 - self._s) * (1.0 - self._s)",
           diagnosis="(1 - s)^2|(1 - s)**2|1 - s squared|s (1 - s)|s(1 - s)|(1 - s) twice"),
    Mutant("sigmoid_negative_branch_divides", "writes e / s for the negative branch instead of e * s = e / (1 + e)",
           "s = np.where(x >= 0, positive, e * positive)", "s = np.where(x >= 0, positive, e / positive)",
           diagnosis="negative inputs|x < 0|negative branch|negative entries|e / (1 + e)|above 1|greater than 1"),
    Mutant("sigmoid_caches_float64", "stores s as float64 for backward, so float32 inputs get float64 gradients",
           "        self._s = s\n", "        self._s = s.astype(np.float64)\n",
           diagnosis="float64|dtype|upcast|float32"),
    Mutant("tanh_backward_abs", "writes 1 - |y| for the derivative 1 - y^2",
           "return grad_out * (1.0 - self._y ** 2)", "return grad_out * (1.0 - np.abs(self._y))",
           diagnosis="1 - |y||abs|absolute|squared|square"),
]

"""Eighth fresh bank for activations, written blind on 2026-12-07 in round eight AFTER round eight's diagnosis
changes were merged (commit 3a1f4a2); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("relu_backward_returns_mask", "returns the mask without multiplying by the upstream gradient",
           "return grad_out * self._mask", "return self._mask.astype(grad_out.dtype)",
           diagnosis="upstream|grad_out|chain|multipl"),
    Mutant("tanh_backward_sech_wrong", "takes the square root of 1 - y**2 (sech instead of sech squared)",
           "return grad_out * (1.0 - self._y ** 2)", "return grad_out * np.sqrt(1.0 - self._y ** 2)",
           diagnosis="square|sqrt|sech|derivative|power"),
    Mutant("relu_forward_leaky", "writes a leaky ReLU with slope 0.01 on the negative side",
           "return np.maximum(x, 0)", "return np.where(x > 0, x, 0.01 * x)",
           diagnosis="leaky|negative|slope|0.01|zero"),
    Mutant("relu_backward_one_where_inactive", "passes 1 where the unit is inactive",
           "return grad_out * self._mask", "return np.where(self._mask, grad_out, 1.0)",
           diagnosis="inactive|negative|1 where|zero|mask"),
    Mutant("sigmoid_negative_branch_complement", "returns 1 - e/(1+e) on the negative side",
           "s = np.where(x >= 0, positive, e * positive)", "s = np.where(x >= 0, positive, 1.0 - e * positive)",
           diagnosis="negative|complement|1 -|symmetr|branch"),
    Mutant("relu_in_place_on_input", "applies the ReLU in place on the caller's array and masks afterwards",
           "return np.maximum(x, 0)",
           "np.maximum(x, 0, out=x)\n        return x",
           diagnosis="in place|caller|input array|modif|overwr|copy"),
    Mutant("relu_backward_inverted_mask", "lets the gradient through where the input was negative",
           "return grad_out * self._mask", "return grad_out * ~self._mask",
           diagnosis="inverted|negative|opposite|mask"),
    Mutant("sigmoid_float32_exp", "computes the exponential in float32",
           "e = np.exp(-np.abs(x))", "e = np.exp(-np.abs(x)).astype(np.float32)",
           diagnosis="float32|dtype|precision|rounding"),
    Mutant("sigmoid_exp_over_one_plus_exp", "writes exp(x) / (1 + exp(x)), nan for large x",
           "e = np.exp(-np.abs(x))\n        positive = 1.0 / (1.0 + e)  # sigmoid(|x|)\n        s = np.where(x >= 0, positive, e * positive)",
           "s = np.exp(x) / (1.0 + np.exp(x))",
           diagnosis="overflow|nan|inf|large|stable"),
    Mutant("sigmoid_backward_confuses_grad_out", "writes grad_out in place of s in the (1 - s) factor",
           "return grad_out * self._s * (1.0 - self._s)", "return grad_out * self._s * (1.0 - grad_out)",
           diagnosis="1 - s|grad_out|variable|derivative|factor"),
]

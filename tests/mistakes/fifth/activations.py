"""Fifth fresh bank for activations, written blind in round six (see tests/mistakes/README.md)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("relu_np_max_not_maximum", "writes np.max(x, 0), a reduction over axis 0, for the element-wise np.maximum(x, 0)",
           "return np.maximum(x, 0)", "return np.max(x, 0)",
           diagnosis="np.max(|np.maximum|reduc|element-wise|elementwise"),
    Mutant("relu_mask_of_the_output_nonnegative", "builds the mask from the output with >= 0, which is true everywhere",
           "        self._mask = x > 0\n"
           "        # np.maximum writes a new array: setting x[x < 0] = 0 would change the caller's array.\n"
           "        return np.maximum(x, 0)\n",
           "        out = np.maximum(x, 0)\n        self._mask = out >= 0\n        return out\n",
           diagnosis=("every entry|all ones|always true|negative inputs|passes the gradient|>= 0 on the output|"
                      "output >= 0")),
    Mutant("sigmoid_backward_sign_flipped", "writes s (s - 1) for the sigmoid's derivative",
           "return grad_out * self._s * (1.0 - self._s)", "return grad_out * self._s * (self._s - 1.0)",
           diagnosis="sign|s - 1|s(s - 1)|opposite|flipped|negated"),
    Mutant("sigmoid_backward_tanh_formula", "copies tanh's 1 - s^2 as the sigmoid's derivative",
           "return grad_out * self._s * (1.0 - self._s)", "return grad_out * (1.0 - self._s ** 2)",
           diagnosis="tanh|1 - s^2|1 - s**2|1 - s ** 2|copy"),
    Mutant("sigmoid_caches_the_derivative", "stores s(1 - s) in forward and applies s(1 - s) to it again in backward",
           "        self._s = s\n        return s\n", "        self._s = s * (1.0 - s)\n        return s\n",
           diagnosis="stores the derivative|caches the derivative|applied twice|twice|derivative instead"),
    Mutant("tanh_backward_sigmoid_formula", "copies the sigmoid's y(1 - y) as tanh's derivative",
           "return grad_out * (1.0 - self._y ** 2)", "return grad_out * self._y * (1.0 - self._y)",
           diagnosis="sigmoid|y(1 - y)|y * (1 - y)|copy"),
    Mutant("tanh_backward_divides", "divides grad_out by 1 - y^2 instead of multiplying",
           "return grad_out * (1.0 - self._y ** 2)", "return grad_out / (1.0 - self._y ** 2)",
           diagnosis="divides instead|instead of multiplying|inverse|reciprocal|divides grad_out|divided by 1 - y"),
    Mutant("tanh_backward_sech_of_the_output", "applies sech^2 = 1 / cosh^2 to the saved output y instead of the input",
           "return grad_out * (1.0 - self._y ** 2)", "return grad_out / np.cosh(self._y) ** 2",
           diagnosis="cosh|sech|of the output|output instead|applied to y|applies the derivative"),
]

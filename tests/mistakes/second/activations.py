"""Second fresh bank for activations, written after the diagnosis changes."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("relu_mask_from_upstream", "masks with grad_out > 0 instead of x > 0",
           "return grad_out * self._mask", "return grad_out * (grad_out > 0)", diagnosis="mask|where"),
    Mutant("relu_leaky", "lets 1% of negative inputs through",
           "return np.maximum(x, 0)", "return np.maximum(x, 0.01 * x)", diagnosis="negative|x < 0|exactly 0"),
    Mutant("sigmoid_returns_complement", "returns 1 - s from forward",
           "        self._s = s\n        return s", "        self._s = s\n        return 1.0 - s",
           diagnosis="minus the expected|complement|1 - "),
    Mutant("sigmoid_backward_without_1_minus_s", "multiplies by s only",
           "return grad_out * self._s * (1.0 - self._s)", "return grad_out * self._s", diagnosis="1 - s|factor"),
    Mutant("tanh_backward_sign", "uses y^2 - 1",
           "return grad_out * (1.0 - self._y ** 2)", "return grad_out * (self._y ** 2 - 1.0)",
           diagnosis="sign"),
    Mutant("tanh_as_sigmoid_formula", "computes 2 sigmoid(x) - 1, which is tanh(x / 2)",
           "y = np.tanh(x)", "y = 2.0 / (1.0 + np.exp(-x)) - 1.0", diagnosis="x / 2|x/2|2x"),
    Mutant("tanh_backward_squares_upstream", "squares grad_out",
           "return grad_out * (1.0 - self._y ** 2)", "return grad_out ** 2 * (1.0 - self._y ** 2)",
           diagnosis="grad_out|upstream"),
    Mutant("relu_mask_inverted", "keeps the mask x < 0",
           "self._mask = x > 0", "self._mask = x < 0", diagnosis="mask|inverted|where"),
    Mutant("sigmoid_derivative_of_the_output", "applies the derivative formula to s instead of x",
           "return grad_out * self._s * (1.0 - self._s)",
           "return grad_out * np.exp(-self._s) / (1.0 + np.exp(-self._s)) ** 2", diagnosis="output|input"),
    Mutant("tanh_backward_without_one", "multiplies by y^2",
           "return grad_out * (1.0 - self._y ** 2)", "return grad_out * self._y ** 2",
           diagnosis="1 - y|1 minus|complement"),
]

"""Known-wrong variants of solutions/activations.py (spoilers: each quotes a line of the reference)."""

from grader.maintainer.mutation import Mutant

STABLE_SIGMOID = """        e = np.exp(-np.abs(x))
        positive = 1.0 / (1.0 + e)  # sigmoid(|x|)
        s = np.where(x >= 0, positive, e * positive)
"""

MUTANTS = [
    Mutant("relu_mask_greater_or_equal", "builds the ReLU mask with x >= 0, passing the gradient at x == 0",
           "self._mask = x > 0", "self._mask = x >= 0",
           diagnosis="x == 0"),
    Mutant("relu_forward_in_place", "zeroes the negative entries of the caller's array in place",
           "return np.maximum(x, 0)", "x[x < 0] = 0\n        return x",
           diagnosis="in place"),
    Mutant("relu_backward_in_place", "zeroes the upstream gradient in place instead of multiplying",
           "return grad_out * self._mask", "grad_out[~self._mask] = 0\n        return grad_out",
           diagnosis="in place"),
    Mutant("sigmoid_naive", "the textbook 1 / (1 + exp(-x)), which overflows for very negative x",
           STABLE_SIGMOID, "        s = 1.0 / (1.0 + np.exp(-x))\n",
           diagnosis="overflow"),
    Mutant("sigmoid_where_evaluates_both_branches",
           "np.where over two textbook formulas: the value is right but both branches are computed (and overflow)",
           STABLE_SIGMOID,
           "        s = np.where(x >= 0, 1.0 / (1.0 + np.exp(-x)), np.exp(x) / (1.0 + np.exp(x)))\n",
           diagnosis="overflow"),
    Mutant("sigmoid_derivative_s", "uses s instead of s(1 - s) as the sigmoid's derivative",
           "return grad_out * self._s * (1.0 - self._s)", "return grad_out * self._s",
           diagnosis="s(1 - s)"),
    Mutant("tanh_derivative_from_input", "keeps the input instead of the output, so backward computes 1 - x^2",
           "self._y = y", "self._y = x",
           diagnosis="from the input"),
    Mutant("tanh_derivative_not_squared", "uses 1 - y instead of 1 - y^2",
           "return grad_out * (1.0 - self._y ** 2)", "return grad_out * (1.0 - self._y)",
           diagnosis="squared"),
    Mutant("tanh_backward_upcasts_float32", "builds 1 - y^2 with a float64 array of ones, so float32 becomes float64",
           "return grad_out * (1.0 - self._y ** 2)", "return grad_out * (np.ones(self._y.shape) - self._y ** 2)",
           diagnosis="silently upcasts"),
    Mutant("tanh_backward_without_grad_out", "returns 1 - y^2, leaving out the upstream gradient (issue 19: general)",
           "return grad_out * (1.0 - self._y ** 2)", "return 1.0 - self._y ** 2",
           diagnosis="divided by y, with y the input grad_out (the upstream gradient)"),
]

"""First fresh bank for activations, written before any diagnosis change.

Found when measured: sigmoid_caches_sigmoid_of_abs is not a mistake (sigmoid(|x|) (1 - sigmoid(|x|))
equals s (1 - s) by symmetry), so no test can catch it; it stays here as written, counted as unnamed.
"""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("relu_backward_forgets_upstream", "returns the mask itself, not grad_out times it",
           "return grad_out * self._mask", "return self._mask * 1.0",
           diagnosis="upstream|grad_out"),
    Mutant("relu_forward_abs", "returns |x| instead of max(x, 0)",
           "return np.maximum(x, 0)", "return np.abs(x)", diagnosis="negative|x < 0|x <= 0"),
    Mutant("sigmoid_backward_forgets_upstream", "returns s(1 - s) without grad_out",
           "return grad_out * self._s * (1.0 - self._s)", "return self._s * (1.0 - self._s)",
           diagnosis="upstream|grad_out"),
    Mutant("sigmoid_branches_swapped", "swaps the two branches of the stable sigmoid",
           "s = np.where(x >= 0, positive, e * positive)", "s = np.where(x >= 0, e * positive, positive)",
           diagnosis="1 - |sigmoid(-x)|swapped"),
    Mutant("sigmoid_backward_plus", "uses s(1 + s) as the derivative",
           "return grad_out * self._s * (1.0 - self._s)", "return grad_out * self._s * (1.0 + self._s)",
           diagnosis="sign|1 - s"),
    Mutant("tanh_backward_square_of_difference", "computes (1 - y)^2 instead of 1 - y^2",
           "return grad_out * (1.0 - self._y ** 2)", "return grad_out * (1.0 - self._y) ** 2",
           diagnosis="square|parenthes"),
    Mutant("tanh_caches_the_input", "stores x instead of tanh(x) for backward",
           "self._y = y", "self._y = x", diagnosis="input|from x"),
    Mutant("relu_mask_is_the_output", "stores relu(x) as the mask",
           "self._mask = x > 0", "self._mask = np.maximum(x, 0)", diagnosis="mask|0 or 1|boolean"),
    Mutant("sigmoid_caches_sigmoid_of_abs", "stores sigmoid(|x|) for backward",
           "self._s = s", "self._s = positive", diagnosis="x < 0|negative|where"),
    Mutant("tanh_backward_applies_tanh_again", "applies tanh to the cached output in backward",
           "return grad_out * (1.0 - self._y ** 2)", "return grad_out * (1.0 - np.tanh(self._y) ** 2)",
           diagnosis="twice|tanh of"),
]

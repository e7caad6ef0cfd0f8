"""Ninth fresh bank for activations, written blind on 2026-12-07 in round nine AFTER round nine's diagnosis changes
were merged (commit eeff076); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("relu_mask_from_np_sign", "keeps np.sign(x) as the mask, so negative inputs send back minus the gradient",
           "self._mask = x > 0", "self._mask = np.sign(x)",
           diagnosis="negative|minus|-1|mask|opposite"),
    Mutant("relu_backward_clips_the_gradient_too", "applies ReLU to the upstream gradient as well as masking it",
           "return grad_out * self._mask", "return np.maximum(grad_out, 0) * self._mask",
           diagnosis="negative|upstream|clip|grad_out|zeroed"),
    Mutant("sigmoid_eps_in_denominator", "adds a small epsilon to the denominator 'for safety'",
           "positive = 1.0 / (1.0 + e)", "positive = 1.0 / (1.0 + e + 1e-7)",
           diagnosis="epsilon|1e-7|small constant|rounding|added constant"),
    Mutant("sigmoid_positive_from_signed_x", "computes the positive branch with exp(-x) instead of e = exp(-|x|), so the negative branch multiplies the wrong value",
           "positive = 1.0 / (1.0 + e)", "positive = 1.0 / (1.0 + np.exp(-x))",
           diagnosis="negative|abs|x < 0|branch|overflow"),
    Mutant("sigmoid_output_kept_from_the_first_call", "remembers only the first forward's output (stale cache)",
           "self._s = s", "if self._s is None:\n            self._s = s",
           diagnosis="stale|first call|previous|cache|not updated"),
    Mutant("tanh_sinh_over_cosh", "computes tanh as sinh/cosh, which overflows to nan for large |x|",
           "y = np.tanh(x)", "y = np.sinh(x) / np.cosh(x)",
           diagnosis="overflow|nan|infinit|large inputs|stable"),
    Mutant("tanh_uses_arctanh", "calls np.arctanh instead of np.tanh",
           "y = np.tanh(x)", "y = np.arctanh(x)",
           diagnosis="arctanh|inverse|wrong function|nan|outside"),
    Mutant("relu_forward_float64_output", "casts the output to Python float (float64), so float32 activations are upcast",
           "return np.maximum(x, 0)", "return np.maximum(x, 0).astype(float)",
           diagnosis="float64|dtype|float32|upcast|precision"),
    Mutant("tanh_backward_uses_the_upstream_as_output", "writes the derivative with y and grad_out swapped in the square",
           "return grad_out * (1.0 - self._y ** 2)", "return self._y * (1.0 - grad_out ** 2)",
           diagnosis="swapped|upstream|grad_out|saved output|wrong operand"),
]

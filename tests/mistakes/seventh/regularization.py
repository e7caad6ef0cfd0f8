"""Seventh fresh bank for regularization, written blind on 2026-12-07 in round seven AFTER round seven's diagnosis
changes were merged (commit a774e56); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("dropout_draws_from_a_normal", "draws the mask from a standard normal instead of a uniform",
           "keep = self.rng.random(x.shape) >= self.p", "keep = self.rng.standard_normal(x.shape) >= self.p",
           diagnosis="normal|gaussian|uniform|fraction|probability"),
    Mutant("dropout_mask_always_float32", "stores the mask in float32, so float64 inputs come out float32",
           "self._mask = (keep / (1.0 - self.p)).astype(x.dtype)",
           "self._mask = (keep / (1.0 - self.p)).astype(np.float32)",
           diagnosis="float32|dtype|precision|rounding"),
    Mutant("dropout_scale_precedence", "writes keep / 1.0 - p, so kept entries are 1 - p and dropped ones -p",
           "self._mask = (keep / (1.0 - self.p)).astype(x.dtype)",
           "self._mask = (keep / 1.0 - self.p).astype(x.dtype)",
           diagnosis="precedence|parenthes|1 - p|subtract|negative"),
    Mutant("dropout_eval_backward_zero", "returns zeros in backward after an eval-mode forward",
           "        if self._mask is None:\n            return grad_out\n",
           "        if self._mask is None:\n            return np.zeros_like(grad_out)\n",
           diagnosis="zero|eval mode|identity|no gradient|blocks"),
    Mutant("dropout_backward_divides_by_the_mask", "divides by the mask in backward instead of multiplying",
           "        return grad_out * self._mask\n", "        return grad_out / self._mask\n",
           diagnosis="divid|inverse|reciprocal|infinit|instead of multiplying"),
    Mutant("penalty_lambda_squared", "squares lambda in the penalty",
           "return 0.5 * lam * total", "return 0.5 * lam ** 2 * total",
           diagnosis="lambda squared|lam ** 2|lam^2|lam squared|factor lam"),
    Mutant("penalty_times_two_not_squared", "types p.data * 2 for p.data ** 2",
           "total += float(np.sum(p.data ** 2))", "total += float(np.sum(p.data * 2))",
           diagnosis="typo|* 2|2w|instead of squared|square|** 2"),
    Mutant("penalty_backward_abs", "adds lam * |w| to the gradient, the wrong sign for negative weights",
           "p.grad += lam * p.data", "p.grad += lam * np.abs(p.data)",
           diagnosis="abs|absolute|negative weights|negative entries|sign of"),
]

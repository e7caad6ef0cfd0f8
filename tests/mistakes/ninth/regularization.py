"""Ninth fresh bank for regularization, written blind on 2026-12-07 in round nine AFTER round nine's diagnosis changes
were merged (commit eeff076); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("dropout_binomial_with_p", "draws the mask as binomial(1, p), i.e. keeps each entry with probability p",
           "keep = self.rng.random(x.shape) >= self.p", "keep = self.rng.binomial(1, self.p, x.shape).astype(bool)",
           diagnosis="keep probability|1 - p|drop probability|kept fraction|probability p"),
    Mutant("dropout_scale_in_output_not_mask", "stores the unscaled mask but scales the output, so backward misses 1/(1 - p)",
           "self._mask = (keep / (1.0 - self.p)).astype(x.dtype)\n        return x * self._mask",
           "self._mask = keep.astype(x.dtype)\n        return x * self._mask / (1.0 - self.p)",
           diagnosis="1/(1 - p)|scale|backward|1 - p|factor"),
    Mutant("dropout_eval_backward_returns_none", "returns None from backward in eval mode",
           "if self._mask is None:\n            return grad_out", "if self._mask is None:\n            return None",
           diagnosis="none|in eval|evaluation mode|identity|pass through"),
    Mutant("penalty_summed_over_axis_0", "sums the squares over axis 0 only, so the penalty becomes an array",
           "total += float(np.sum(p.data ** 2))", "total += np.sum(p.data ** 2, axis=0)",
           diagnosis="one axis|scalar|every entry|an array|axis 0"),
    Mutant("dropout_output_float64", "casts the output to float64",
           "return x * self._mask\n", "return (x * self._mask).astype(np.float64)\n",
           diagnosis="float64|dtype|float32|upcast|precision"),
    Mutant("dropout_checks_the_train_method", "tests `not self.train` (the method, always truthy) instead of self.training",
           "if not self.training:", "if not self.train:",
           diagnosis="eval mode|evaluation|training flag|self.training|eval()"),
    Mutant("penalty_returned_in_float32", "returns the penalty as np.float32",
           "return 0.5 * lam * total", "return np.float32(0.5 * lam * total)",
           diagnosis="float32|rounding|precision|dtype|float64"),
    Mutant("dropout_mask_cast_to_integers", "casts the scaled mask with astype(int), truncating 1/(1 - p) to 1",
           "self._mask = (keep / (1.0 - self.p)).astype(x.dtype)", "self._mask = (keep / (1.0 - self.p)).astype(int)",
           diagnosis="integer|truncat|1/(1 - p)|scale|dtype"),
]

"""Tenth fresh bank for gradcheck, written blind on 2026-12-08 in round nine (second freeze) AFTER round nine (second freeze)'s
diagnosis changes were merged (commit ab255a4); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("numerical_one_sided_difference", "uses the forward difference (f(x+eps) - f(x)) / eps",
           "        x[index] = original - eps\n        f_minus = f()\n        # Restore the saved value rather than adding eps back: (v - eps) + eps != v in floating point.\n        x[index] = original\n        grad[index] = (f_plus - f_minus) / (2.0 * eps)\n",
           "        x[index] = original\n        f_zero = f()\n        grad[index] = (f_plus - f_zero) / eps\n",
           diagnosis="one-sided|forward difference|central|truncation|second order"),
    Mutant("relative_error_input_precision", "computes the norms in the inputs' own dtype",
           "    a = np.asarray(a, dtype=np.float64)\n    b = np.asarray(b, dtype=np.float64)\n",
           "    a = np.asarray(a)\n    b = np.asarray(b)\n",
           diagnosis="float64|precision|float32|dtype|cast"),
]

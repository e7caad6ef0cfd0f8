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
           diagnosis="float64|precision|float32|dtype|astype"),
    Mutant("numerical_perturbs_raveled_copy", "perturbs x.ravel(), which is a copy for a non-contiguous x",
           "    for index in np.ndindex(x.shape):\n        original = x[index]\n        x[index] = original + eps\n        f_plus = f()\n        x[index] = original - eps\n        f_minus = f()\n        # Restore the saved value rather than adding eps back: (v - eps) + eps != v in floating point.\n        x[index] = original\n        grad[index] = (f_plus - f_minus) / (2.0 * eps)\n",
           "    flat = x.ravel()\n    for i in range(x.size):\n        original = flat[i]\n        flat[i] = original + eps\n        f_plus = f()\n        flat[i] = original - eps\n        f_minus = f()\n        flat[i] = original\n        grad.flat[i] = (f_plus - f_minus) / (2.0 * eps)\n",
           diagnosis="copy|ravel|non-contiguous|view|transposed"),
    Mutant("check_layer_no_input_error", "never records the input gradient's error",
           "errors = {\"x\": relative_error(grad_x, numerical_gradient(loss, x))}", "errors = {}",
           diagnosis="input|missing key|input gradient|x error|dl/dx"),
    Mutant("check_layer_param_grad_over_batch", "divides the analytic parameter gradient by the batch size",
           "analytic = p.grad.copy()", "analytic = p.grad.copy() / len(x)",
           diagnosis="batch size|divide|mean|scale|1/n"),
    Mutant("check_layer_upstream_float32", "casts the random upstream gradient to float32",
           "upstream = rng.standard_normal(layer.forward(x).shape)", "upstream = rng.standard_normal(layer.forward(x).shape).astype(np.float32)",
           diagnosis="float32|precision|dtype|rounding|single"),
    Mutant("numerical_minus_value_copied", "reuses f_plus as the minus value, copying the line without calling f again",
           "        f_minus = f()\n", "        f_minus = f_plus\n",
           diagnosis="copied|not called|f_minus|zero gradient|second evaluation"),
    Mutant("relative_error_scale_without_b", "takes the larger of |a| and 1 as the scale",
           "scale = max(np.linalg.norm(a), np.linalg.norm(b))", "scale = max(np.linalg.norm(a), 1.0)",
           diagnosis="scale|scale of b|absolute|small gradients|both"),
]

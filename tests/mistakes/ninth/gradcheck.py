"""Ninth fresh bank for gradcheck, written blind on 2026-12-07 in round nine AFTER round nine's diagnosis changes
were merged (commit eeff076); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("numgrad_over_nonzero_entries_only", "loops over np.nonzero(x), so entries equal to 0 keep a zero gradient",
           "for index in np.ndindex(x.shape):", "for index in zip(*np.nonzero(x)):",
           diagnosis="zero entries|skipped|some entries|nonzero|missing"),
    Mutant("numgrad_hard_coded_step", "perturbs by a hard-coded 1e-5 but divides by 2 * eps",
           "x[index] = original + eps\n        f_plus = f()\n        x[index] = original - eps",
           "x[index] = original + 1e-5\n        f_plus = f()\n        x[index] = original - 1e-5",
           diagnosis="step size|hard-coded|factor|1e-5|epsilon"),
    Mutant("relative_error_spectral_norm", "writes norm(a - b, ord=2), the spectral norm for a matrix, over Frobenius norms",
           "return float(np.linalg.norm(a - b) / scale)", "return float(np.linalg.norm(a - b, ord=2) / scale)",
           diagnosis="ord=2|spectral|frobenius|matrix norm|largest singular"),
    Mutant("check_layer_zero_grad_in_parameter_loop", "calls zero_grad inside the loop, before reading each analytic gradient",
           "analytic = p.grad.copy()", "layer.zero_grad()\n        analytic = p.grad.copy()",
           diagnosis="zero_grad|zeroed|cleared|reset|before reading"),
    Mutant("check_layer_input_grad_over_batch", "divides the analytic input gradient by the batch size",
           "grad_x = layer.backward(upstream)", "grad_x = layer.backward(upstream) / len(x)",
           diagnosis="batch size|1/n|divided|factor|averaged"),
    Mutant("check_layer_loss_matrix_product", "builds the scalar loss with a matrix product output @ upstream.T summed, not the elementwise product",
           "return float(np.sum(layer.forward(x) * upstream))", "return float(np.sum(layer.forward(x) @ upstream.T))",
           diagnosis="elementwise|matrix product|cross terms|dot product|inner product"),
    Mutant("check_layer_rejects_float64", "tests the dtype against float32 instead of float64",
           "if np.asarray(x).dtype != np.float64:", "if np.asarray(x).dtype != np.float32:",
           diagnosis="float64|float32|dtype|reject|wrong type"),
    Mutant("numgrad_divides_by_four_eps", "writes the central difference over 2 eps with the 2 twice: / eps / 2 / 2",
           "grad[index] = (f_plus - f_minus) / (2.0 * eps)", "grad[index] = (f_plus - f_minus) / eps / 2.0 / 2.0",
           diagnosis="factor|1/2|half|divid|2 eps"),
]

"""Eighth fresh bank for gradcheck, written blind on 2026-12-07 in round eight AFTER round eight's diagnosis
changes were merged (commit 3a1f4a2); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("relerr_no_scale", "returns the absolute error, never divided by the scale",
           "return float(np.linalg.norm(a - b) / scale)", "return float(np.linalg.norm(a - b))",
           diagnosis="scale|relative|absolute|divid|norm"),
    Mutant("numgrad_shifted_from_shifted", "steps -eps from the already shifted value, landing on the original",
           "x[index] = original - eps", "x[index] = x[index] - eps",
           diagnosis="original|shifted|already|forward difference|half"),
    Mutant("numgrad_returns_last_only", "keeps one scalar instead of filling the gradient array",
           "grad[index] = (f_plus - f_minus) / (2.0 * eps)", "grad[...] = (f_plus - f_minus) / (2.0 * eps)",
           diagnosis="every entry|index|overwr|all entries|same value|each"),
    Mutant("relerr_scale_by_first", "divides by the norm of a only",
           "scale = max(np.linalg.norm(a), np.linalg.norm(b))", "scale = np.linalg.norm(a)",
           diagnosis="max|only|first|symmetr|both|larger"),
    Mutant("relerr_elementwise_max", "returns the largest entry-wise relative error",
           "return float(np.linalg.norm(a - b) / scale)",
           "return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b) + 1e-12)))",
           diagnosis="entry|elementwise|element-wise|norm|max"),
    Mutant("check_layer_x_error_swapped_args", "compares the input gradient with a parameter's numerical one",
           "errors = {\"x\": relative_error(grad_x, numerical_gradient(loss, x))}",
           "errors = {\"x\": relative_error(grad_x, numerical_gradient(loss, layer.parameters()[0].data))}",
           diagnosis="input|wrong array|parameter"),
    Mutant("numgrad_loops_first_axis_only", "loops over the first axis only, nudging a whole row at a time",
           "for index in np.ndindex(x.shape):", "for index in range(len(x)):",
           diagnosis="every entry|each entry|row|ndindex|first axis|whole row"),
    Mutant("check_layer_backward_with_ones", "backpropagates ones though the loss weights the output by upstream",
           "grad_x = layer.backward(upstream)", "grad_x = layer.backward(np.ones_like(upstream))",
           diagnosis="upstream|ones|same loss|mismatch|weight"),
]

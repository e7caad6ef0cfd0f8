"""Seventh fresh bank for gradcheck, written blind on 2026-12-07 in round seven AFTER round seven's diagnosis
changes were merged (commit a774e56); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("numerical_gradient_loops_over_trailing_axes", "loops over np.ndindex(x.shape[1:]), perturbing whole "
           "columns (slices along the first axis) at once",
           "for index in np.ndindex(x.shape):", "for index in np.ndindex(x.shape[1:]):",
           diagnosis="whole column|several entries at once|slice|every row|first axis|loop over|not every entry"),
    Mutant("numerical_gradient_divided_by_size", "returns the gradient divided by the number of entries",
           "    return grad\n", "    return grad / x.size\n",
           diagnosis="number of entries|size|1/n|mean|averaged|divided by"),
    Mutant("relative_error_compares_a_with_itself", "copy-paste: converts a twice, so b is a and the error is 0",
           "b = np.asarray(b, dtype=np.float64)", "b = np.asarray(a, dtype=np.float64)",
           diagnosis="always zero|always 0|itself|b = a|ignores b|copy|never compares"),
    Mutant("relative_error_numerator_squared", "squares the norm of the difference",
           "return float(np.linalg.norm(a - b) / scale)", "return float(np.linalg.norm(a - b) ** 2 / scale)",
           diagnosis="squared|square|** 2|norm^2"),
    Mutant("relative_error_scale_at_least_one", "floors the scale at 1, an absolute error for small gradients",
           "scale = max(np.linalg.norm(a), np.linalg.norm(b))",
           "scale = max(np.linalg.norm(a), np.linalg.norm(b), 1.0)",
           diagnosis="absolute|at least 1|1.0|floor|small gradients|small norms"),
    Mutant("loss_divided_by_the_batch", "divides the checked scalar by the batch size, while backward gets G",
           "return float(np.sum(layer.forward(x) * upstream))",
           "return float(np.sum(layer.forward(x) * upstream) / x.shape[0])",
           diagnosis="batch size|1/n|1 / n|divided by|per example|mean over the batch"),
    Mutant("parameters_perturbed_on_a_copy", "perturbs a copy of each parameter, so the loss never changes",
           "numerical_gradient(loss, p.data))", "numerical_gradient(loss, p.data.copy()))",
           diagnosis="copy|never changes|in place|all zero|zero numerical|not perturbed|perturbs a copy"),
    Mutant("input_differentiated_against_the_upstream", "takes the numerical gradient with respect to G instead of x",
           "errors = {\"x\": relative_error(grad_x, numerical_gradient(loss, x))}",
           "errors = {\"x\": relative_error(grad_x, numerical_gradient(loss, upstream))}",
           diagnosis="upstream|with respect to g|instead of x|the output|forward(x)"),
]

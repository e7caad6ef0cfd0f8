"""Second fresh bank for gradcheck, written after the diagnosis changes."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("eps_too_large", "a default step of 1e-2",
           "def numerical_gradient(f, x, eps=1e-6):", "def numerical_gradient(f, x, eps=1e-2):",
           diagnosis="eps|step"),
    Mutant("gradient_in_float32", "collects the numerical gradient in float32",
           "grad = np.zeros(x.shape, dtype=np.float64)", "grad = np.zeros(x.shape, dtype=np.float32)",
           diagnosis="float32"),
    Mutant("writes_the_transposed_index", "stores each entry at the reversed index",
           "grad[index] = (f_plus - f_minus) / (2.0 * eps)", "grad[index[::-1]] = (f_plus - f_minus) / (2.0 * eps)",
           diagnosis="transpose|index"),
    Mutant("relative_error_l1", "sums absolute differences",
           "return float(np.linalg.norm(a - b) / scale)", "return float(np.sum(np.abs(a - b)) / scale)",
           diagnosis="norm"),
    Mutant("relative_error_over_the_smaller", "divides by the smaller norm",
           "scale = max(np.linalg.norm(a), np.linalg.norm(b))", "scale = min(np.linalg.norm(a), np.linalg.norm(b))",
           diagnosis="larger|max"),
    Mutant("relative_error_zero_over_zero", "divides 0 by 0 for two zero arrays",
           "    if scale == 0.0:\n        return 0.0\n", "", diagnosis="0 / 0|zero"),
    Mutant("seed_ignored", "always seeds the upstream gradient with 0",
           "rng = np.random.default_rng(seed)", "rng = np.random.default_rng(0)", diagnosis="seed"),
    Mutant("input_key_renamed", "names the input's error 'input'",
           'errors = {"x": ', 'errors = {"input": ', diagnosis="'x'|key"),
    Mutant("perturbs_a_copy_of_x", "differentiates numerically with respect to a copy of x",
           "numerical_gradient(loss, x))}", "numerical_gradient(loss, x.copy()))}", diagnosis="copy|in place|zeros"),
    Mutant("plus_two_eps", "evaluates f at x + 2 eps and x - eps",
           "x[index] = original + eps", "x[index] = original + 2 * eps", diagnosis="eps|step|3/2"),
]

"""Known-wrong variants of solutions/gradcheck.py (spoilers: each quotes a line of the reference)."""

from grader.maintainer.mutation import Mutant

CENTRAL_LOOP = """    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        f_plus = f()
        x[index] = original - eps
        f_minus = f()
        # Restore the saved value rather than adding eps back: (v - eps) + eps != v in floating point.
        x[index] = original
        grad[index] = (f_plus - f_minus) / (2.0 * eps)
"""

MUTANTS = [
    Mutant("forward_difference_from_one_f_of_x", "evaluates f(x) once, then (f(x + eps) - f(x)) / eps per entry",
           CENTRAL_LOOP, """    f_x = f()
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        f_plus = f()
        x[index] = original
        grad[index] = (f_plus - f_x) / eps
""", diagnosis="forward difference", misdiagnosis="off-by-one"),
    Mutant("backward_difference", "uses the backward difference (f(x) - f(x - eps)) / eps",
           CENTRAL_LOOP, """    f_x = f()
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original - eps
        f_minus = f()
        x[index] = original
        grad[index] = (f_x - f_minus) / eps
""", diagnosis="backward difference", misdiagnosis="off-by-one"),
    Mutant("forward_difference", "uses the forward difference (f(x + eps) - f(x)) / eps",
           "x[index] = original - eps\n        f_minus = f()\n"
           "        # Restore the saved value rather than adding eps back: (v - eps) + eps != v in floating point.\n"
           "        x[index] = original\n"
           "        grad[index] = (f_plus - f_minus) / (2.0 * eps)",
           "x[index] = original\n        f_minus = f()\n"
           "        grad[index] = (f_plus - f_minus) / eps",
           diagnosis="forward difference", misdiagnosis="off-by-one"),
    Mutant("no_restore", "never puts the perturbed entry back",
           "        x[index] = original\n", "",
           diagnosis="put the saved value back"),
    Mutant("restore_by_adding_eps", "restores x[i] by adding eps back instead of writing the saved value",
           "        x[index] = original\n", "        x[index] += eps\n",
           diagnosis="rounding"),
    Mutant("divide_by_eps", "divides the central difference by eps instead of 2 eps",
           "(f_plus - f_minus) / (2.0 * eps)", "(f_plus - f_minus) / eps",
           diagnosis="divide the central difference by 2 eps"),
    Mutant("relative_error_over_b", "divides by ||b|| only, so relative_error is not symmetric",
           "scale = max(np.linalg.norm(a), np.linalg.norm(b))", "scale = np.linalg.norm(b)",
           diagnosis="norm of b only"),
    Mutant("ones_upstream", "checks with an all-ones upstream gradient",
           "upstream = rng.standard_normal(layer.forward(x).shape)",
           "upstream = np.ones(layer.forward(x).shape)",
           diagnosis="all ones"),
    Mutant("upstream_not_from_the_seed", "draws the upstream gradient from a fresh, unseeded generator",
           "rng = np.random.default_rng(seed)", "rng = np.random.default_rng()",
           diagnosis="default_rng(seed)"),
    Mutant("no_zero_grad", "does not zero the parameter gradients before backward",
           "    layer.zero_grad()\n", "",
           diagnosis="zero_grad"),
    Mutant("loss_without_upstream", "differentiates sum(forward(x)) numerically while backward gets G",
           "return float(np.sum(layer.forward(x) * upstream))", "return float(np.sum(layer.forward(x)))",
           diagnosis="same G passed to backward"),
    Mutant("float32_accepted", "checks float32 input, where eps = 1e-6 is lost in rounding",
           "if np.asarray(x).dtype != np.float64:", "if False:",
           diagnosis="float32"),
]

# Issue 19: a step so small that rounding dominates was called "the backward difference".
MUTANTS += [
    Mutant("eps_far_too_small", "a default step of 1e-12, lost in rounding",
           "def numerical_gradient(f, x, eps=1e-6):", "def numerical_gradient(f, x, eps=1e-12):",
           diagnosis="step too small", misdiagnosis="backward difference"),
]

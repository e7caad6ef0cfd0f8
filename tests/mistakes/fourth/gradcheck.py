"""Fourth fresh bank for gradcheck, written after round five's diagnosis changes (see tests/mistakes/README.md)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("restores_before_f_minus", "puts x[i] back before evaluating f_minus, so f_minus = f(x)",
           "        x[index] = original - eps\n        f_minus = f()\n",
           "        x[index] = original\n        f_minus = f()\n",
           diagnosis="f(x)|half|1/2|forward difference|restor"),
    Mutant("relative_error_over_the_mean_norm", "divides by the mean of the two norms",
           "scale = max(np.linalg.norm(a), np.linalg.norm(b))",
           "scale = (np.linalg.norm(a) + np.linalg.norm(b)) / 2",
           diagnosis="mean of|average|larger norm|max"),
    Mutant("f_not_called", "takes f_plus = f, the function, instead of f()",
           "        f_plus = f()\n", "        f_plus = f\n",
           diagnosis="call|f()|function"),
    Mutant("upstream_uniform", "draws the upstream gradient with rng.random (uniform in [0, 1))",
           "upstream = rng.standard_normal(layer.forward(x).shape)", "upstream = rng.random(layer.forward(x).shape)",
           diagnosis="standard_normal|standard normal|uniform|distribution"),
    Mutant("relative_error_zero_is_one", "returns 1.0 for two zero arrays",
           "    if scale == 0.0:\n        return 0.0", "    if scale == 0.0:\n        return 1.0",
           diagnosis="both zero|two zero|zero arrays|0 for"),
    Mutant("keys_lose_the_prefix", "keys each parameter by the last part of its name",
           "        errors[name] = relative_error(analytic, numerical_gradient(loss, p.data))",
           "        errors[name.split('.')[-1]] = relative_error(analytic, numerical_gradient(loss, p.data))",
           diagnosis="name|prefix|key"),
    Mutant("relative_step", "perturbs by a relative step x (1 +- eps) but divides by 2 eps",
           "        x[index] = original + eps\n        f_plus = f()\n        x[index] = original - eps\n",
           "        x[index] = original * (1 + eps)\n        f_plus = f()\n        x[index] = original * (1 - eps)\n",
           diagnosis="relative step|times x|proportional to x|original"),
    Mutant("difference_precedence", "writes f_plus - f_minus / (2 eps) (missing parentheses)",
           "grad[index] = (f_plus - f_minus) / (2.0 * eps)", "grad[index] = f_plus - f_minus / (2.0 * eps)",
           diagnosis="parenthes|precedence"),
]

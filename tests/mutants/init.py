"""Known-wrong variants of solutions/init.py (spoilers: each quotes a line of the reference)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("he_uses_fan_out", "divides by fan_out in He's variance",
           "std = np.sqrt(2.0 / fan_in)", "std = np.sqrt(2.0 / fan_out)",
           diagnosis="He uses fan_in"),
    Mutant("he_without_the_2", "uses Var = 1 / fan_in (LeCun) for He",
           "limit = np.sqrt(6.0 / fan_in)", "limit = np.sqrt(3.0 / fan_in)",
           diagnosis="He doubles it"),
    Mutant("xavier_without_the_2", "uses Var = 1 / (fan_in + fan_out) for Xavier",
           "std = np.sqrt(2.0 / (fan_in + fan_out))", "std = np.sqrt(1.0 / (fan_in + fan_out))",
           diagnosis="Xavier has a 2 on top"),
    Mutant("uniform_limit_sqrt_var", "takes the uniform limit a = sqrt(Var) instead of sqrt(3 Var)",
           "limit = np.sqrt(6.0 / fan_in)", "limit = np.sqrt(2.0 / fan_in)",
           diagnosis="use a = sqrt(3 Var)"),
    Mutant("normal_given_the_variance", "passes the variance to rng.normal, whose scale is the std",
           "std = np.sqrt(2.0 / fan_in)", "std = 2.0 / fan_in",
           diagnosis="scale is the standard deviation", misdiagnosis="Var(W) = 1 / fan_in: He doubles it"),
    Mutant("swapped_shape", "returns (fan_out, fan_in) weights from the uniform initialisers",
           "return rng.uniform(-limit, limit, size=(fan_in, fan_out))",
           "return rng.uniform(-limit, limit, size=(fan_out, fan_in))",
           diagnosis="swapped", count=2),
    Mutant("xavier_uniform_draws_normal", "draws xavier_uniform from a normal distribution",
           "limit = np.sqrt(6.0 / (fan_in + fan_out))\n"
           "    return rng.uniform(-limit, limit, size=(fan_in, fan_out))",
           "limit = np.sqrt(6.0 / (fan_in + fan_out))\n"
           "    return rng.normal(0.0, limit / np.sqrt(3.0), size=(fan_in, fan_out))",
           diagnosis="must draw from a uniform distribution"),
    Mutant("global_random_state", "draws from np.random instead of the rng argument",
           "return rng.normal(0.0, std, size=(fan_in, fan_out))",
           "return np.random.normal(0.0, std, size=(fan_in, fan_out))",
           diagnosis="rng argument", count=2),
]

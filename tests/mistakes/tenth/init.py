"""Tenth fresh bank for init, written blind on 2026-12-08 in round nine (second freeze) AFTER round nine (second freeze)'s
diagnosis changes were merged (commit ab255a4); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("he_normal_std_squared", "passes std ** 2 (the variance) to rng.normal",
           "std = np.sqrt(2.0 / fan_in)\n    return rng.normal(0.0, std, size=(fan_in, fan_out))",
           "std = np.sqrt(2.0 / fan_in)\n    return rng.normal(0.0, std ** 2, size=(fan_in, fan_out))",
           diagnosis="variance|square|too small|std"),
    Mutant("glorot_uniform_precedence", "writes sqrt(6 / fan_in + fan_out), missing the parentheses",
           "limit = np.sqrt(6.0 / (fan_in + fan_out))", "limit = np.sqrt(6.0 / fan_in + fan_out)",
           diagnosis="parenthes|precedence|too large|sum|fan_out"),
    Mutant("he_normal_unscaled", "draws standard normal weights and forgets to scale them",
           "std = np.sqrt(2.0 / fan_in)\n    return rng.normal(0.0, std, size=(fan_in, fan_out))",
           "std = np.sqrt(2.0 / fan_in)\n    return rng.standard_normal((fan_in, fan_out))",
           diagnosis="scale|unscaled|too large|std|unit variance"),
    Mutant("glorot_uniform_global_random", "draws from np.random instead of the given generator",
           "limit = np.sqrt(6.0 / (fan_in + fan_out))\n    return rng.uniform(-limit, limit, size=(fan_in, fan_out))",
           "limit = np.sqrt(6.0 / (fan_in + fan_out))\n    return np.random.uniform(-limit, limit, size=(fan_in, fan_out))",
           diagnosis="rng|seed|global|reproduc|generator"),
]

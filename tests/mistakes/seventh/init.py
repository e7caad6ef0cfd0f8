"""Seventh fresh bank for init, written blind on 2026-12-07 in round seven AFTER round seven's diagnosis
changes were merged (commit a774e56); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("xavier_uniform_product_of_fans", "divides by fan_in * fan_out instead of fan_in + fan_out",
           "limit = np.sqrt(6.0 / (fan_in + fan_out))", "limit = np.sqrt(6.0 / (fan_in * fan_out))",
           diagnosis="product|fan_in * fan_out|multiplied|instead of the sum|fan_in + fan_out"),
    Mutant("xavier_uniform_limit_without_sqrt", "uses the variance 6 / (fan_in + fan_out) as the limit, no square root",
           "limit = np.sqrt(6.0 / (fan_in + fan_out))", "limit = 6.0 / (fan_in + fan_out)",
           diagnosis="sqrt|square root|variance as|without the root"),
    Mutant("xavier_normal_larger_fan_only", "divides by the larger fan instead of the sum of both",
           "std = np.sqrt(2.0 / (fan_in + fan_out))", "std = np.sqrt(2.0 / max(fan_in, fan_out))",
           diagnosis="max|larger fan|largest|fan_in + fan_out|sum of the fans"),
    Mutant("xavier_normal_draws_uniform", "draws uniform on [-std, std] instead of a normal with that std",
           "std = np.sqrt(2.0 / (fan_in + fan_out))\n    return rng.normal(0.0, std, size=(fan_in, fan_out))",
           "std = np.sqrt(2.0 / (fan_in + fan_out))\n    return rng.uniform(-std, std, size=(fan_in, fan_out))",
           diagnosis="uniform|not normal|gaussian|1/3|a^2 / 3|kurtosis|distribution"),
    Mutant("he_uniform_precedence", "writes np.sqrt(6.0) / fan_in: the root of the numerator only",
           "limit = np.sqrt(6.0 / fan_in)", "limit = np.sqrt(6.0) / fan_in",
           diagnosis="precedence|parenthes|sqrt(6) / fan_in|sqrt(6)/fan_in|root of the numerator|1/fan_in|1 / fan_in"),
    Mutant("he_uniform_not_centred", "draws on [0, 2a] instead of [-a, a]",
           "limit = np.sqrt(6.0 / fan_in)\n    return rng.uniform(-limit, limit, size=(fan_in, fan_out))",
           "limit = np.sqrt(6.0 / fan_in)\n    return rng.uniform(0.0, 2 * limit, size=(fan_in, fan_out))",
           diagnosis="mean|centred|centered|shifted|zero-mean|positive|offset"),
    Mutant("he_normal_std_applied_twice", "passes std to rng.normal and multiplies by std again",
           "std = np.sqrt(2.0 / fan_in)\n    return rng.normal(0.0, std, size=(fan_in, fan_out))",
           "std = np.sqrt(2.0 / fan_in)\n    return rng.normal(0.0, std, size=(fan_in, fan_out)) * std",
           diagnosis="twice|std^2|std squared|std ** 2|scaled twice|variance as"),
    Mutant("he_normal_integer_division", "writes 2 // fan_in, which is 0 for any fan_in above 2",
           "std = np.sqrt(2.0 / fan_in)", "std = np.sqrt(2 // fan_in)",
           diagnosis="integer division|//|floor|all zero|zero"),
]

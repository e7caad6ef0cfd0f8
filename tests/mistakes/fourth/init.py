"""Fourth fresh bank for init, written after round five's diagnosis changes (see tests/mistakes/README.md)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("xavier_uniform_limit_of_the_normal", "uses the normal's std sqrt(2 / (fan_in + fan_out)) as the uniform limit",
           "limit = np.sqrt(6.0 / (fan_in + fan_out))", "limit = np.sqrt(2.0 / (fan_in + fan_out))",
           diagnosis="sqrt(3|3 var|factor 3|1/3|std as the limit|the limit"),
    Mutant("he_normal_square_shape", "draws shape (fan_in, fan_in)",
           "std = np.sqrt(2.0 / fan_in)\n    return rng.normal(0.0, std, size=(fan_in, fan_out))",
           "std = np.sqrt(2.0 / fan_in)\n    return rng.normal(0.0, std, size=(fan_in, fan_in))",
           diagnosis="shape|fan_out"),
    Mutant("xavier_normal_from_random", "draws rng.random() * std, uniform on [0, std)",
           "std = np.sqrt(2.0 / (fan_in + fan_out))\n    return rng.normal(0.0, std, size=(fan_in, fan_out))",
           "std = np.sqrt(2.0 / (fan_in + fan_out))\n    return rng.random((fan_in, fan_out)) * std",
           diagnosis="mean|centred|centered|uniform|not normal|kurtosis"),
    Mutant("he_uniform_float32", "returns float32 weights",
           "limit = np.sqrt(6.0 / fan_in)\n    return rng.uniform(-limit, limit, size=(fan_in, fan_out))",
           "limit = np.sqrt(6.0 / fan_in)\n    return rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(np.float32)",
           diagnosis="float32|dtype"),
    Mutant("xavier_uniform_precedence", "writes sqrt(6) / sqrt(fan_in) + sqrt(fan_out)",
           "limit = np.sqrt(6.0 / (fan_in + fan_out))", "limit = np.sqrt(6.0) / np.sqrt(fan_in) + np.sqrt(fan_out)",
           diagnosis="parenthes|precedence"),
    Mutant("xavier_normal_precedence", "writes sqrt(2 / fan_in + fan_out)",
           "std = np.sqrt(2.0 / (fan_in + fan_out))", "std = np.sqrt(2.0 / fan_in + fan_out)",
           diagnosis="parenthes|precedence"),
    Mutant("he_normal_fixed_seed", "draws from np.random.default_rng(0) instead of rng",
           "std = np.sqrt(2.0 / fan_in)\n    return rng.normal(0.0, std, size=(fan_in, fan_out))",
           "std = np.sqrt(2.0 / fan_in)\n    return np.random.default_rng(0).normal(0.0, std, size=(fan_in, fan_out))",
           diagnosis="rng|seed|generator|identical"),
    Mutant("he_uniform_limit_without_sqrt", "takes the limit 6 / fan_in (no square root)",
           "limit = np.sqrt(6.0 / fan_in)", "limit = 6.0 / fan_in",
           diagnosis="sqrt|square root"),
]

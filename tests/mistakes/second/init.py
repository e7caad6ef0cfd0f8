"""Second fresh bank for init, written after the diagnosis changes."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("he_normal_as_xavier", "divides by fan_in + fan_out in He normal",
           "std = np.sqrt(2.0 / fan_in)", "std = np.sqrt(2.0 / (fan_in + fan_out))", diagnosis="fan_in|xavier"),
    Mutant("he_uniform_limit_3", "uses sqrt(3 / fan_in)",
           "limit = np.sqrt(6.0 / fan_in)", "limit = np.sqrt(3.0 / fan_in)", diagnosis="1/2|half|sqrt(2)"),
    Mutant("xavier_normal_variance_as_std", "passes the variance as the standard deviation",
           "std = np.sqrt(2.0 / (fan_in + fan_out))", "std = 2.0 / (fan_in + fan_out)",
           diagnosis="standard deviation|variance"),
    Mutant("xavier_uniform_sqrt_of_6_only", "takes sqrt(6) / (fan_in + fan_out)",
           "np.sqrt(6.0 / (fan_in + fan_out))", "np.sqrt(6.0) / (fan_in + fan_out)", diagnosis="sqrt|square root"),
    Mutant("he_uniform_draws_normal", "draws He uniform from N(0, limit)",
           "limit = np.sqrt(6.0 / fan_in)\n    return rng.uniform(-limit, limit",
           "limit = np.sqrt(6.0 / fan_in)\n    return rng.normal(0.0, limit", diagnosis="uniform|normal"),
    Mutant("he_normal_flat", "returns a flat array",
           "std = np.sqrt(2.0 / fan_in)\n    return rng.normal(0.0, std, size=(fan_in, fan_out))",
           "std = np.sqrt(2.0 / fan_in)\n    return rng.normal(0.0, std, size=fan_in * fan_out)", diagnosis="shape"),
    Mutant("xavier_normal_float32", "returns float32",
           "std = np.sqrt(2.0 / (fan_in + fan_out))\n    return rng.normal(0.0, std, size=(fan_in, fan_out))",
           "std = np.sqrt(2.0 / (fan_in + fan_out))\n    return rng.normal(0.0, std, size=(fan_in, fan_out)).astype(np.float32)",
           diagnosis="float64|dtype|float32"),
    Mutant("xavier_normal_global_random", "draws from np.random",
           "std = np.sqrt(2.0 / (fan_in + fan_out))\n    return rng.normal(",
           "std = np.sqrt(2.0 / (fan_in + fan_out))\n    return np.random.normal(", diagnosis="rng|generator|seed"),
    Mutant("he_uniform_both_fans", "uses fan_in + fan_out in He uniform",
           "limit = np.sqrt(6.0 / fan_in)", "limit = np.sqrt(6.0 / (fan_in + fan_out))", diagnosis="fan_out|fan_in"),
    Mutant("xavier_uniform_half_limit", "draws from [-limit/2, limit/2]",
           "limit = np.sqrt(6.0 / (fan_in + fan_out))\n    return rng.uniform(-limit, limit",
           "limit = np.sqrt(6.0 / (fan_in + fan_out))\n    return rng.uniform(-limit / 2, limit / 2",
           diagnosis="1/2|half|1/4"),
]

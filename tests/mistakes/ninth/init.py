"""Ninth fresh bank for init, written blind on 2026-12-07 in round nine AFTER round nine's diagnosis changes
were merged (commit eeff076); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("he_normal_counts_the_bias", "counts the bias as one more input: std = sqrt(2 / (fan_in + 1))",
           "std = np.sqrt(2.0 / fan_in)", "std = np.sqrt(2.0 / (fan_in + 1))",
           diagnosis="fan_in + 1|bias|fan_in|off by one|slightly"),
    Mutant("xavier_normal_two_over_the_average_fan", "mixes conventions: 2 over the average fan, i.e. 4 / (fan_in + fan_out)",
           "std = np.sqrt(2.0 / (fan_in + fan_out))", "std = np.sqrt(2.0 / np.mean([fan_in, fan_out]))",
           diagnosis="sqrt(2)|factor|average|variance|too large"),
    Mutant("xavier_uniform_average_precedence", "writes 3 over the average fan without parentheses around the sum",
           "limit = np.sqrt(6.0 / (fan_in + fan_out))", "limit = np.sqrt(3.0 / (fan_in + fan_out / 2))",
           diagnosis="parenthes|precedence|average|fan_out|limit"),
    Mutant("xavier_uniform_with_relu_gain", "multiplies the Glorot draw by the ReLU gain sqrt(2)",
           "limit = np.sqrt(6.0 / (fan_in + fan_out))\n    return rng.uniform(-limit, limit, size=(fan_in, fan_out))",
           "limit = np.sqrt(6.0 / (fan_in + fan_out))\n    return rng.uniform(-limit, limit, size=(fan_in, fan_out)) * np.sqrt(2.0)",
           diagnosis="gain|sqrt(2)|factor|he init|too large"),
    Mutant("he_normal_divided_by_sqrt_fan_in", "scales the draw by 1/sqrt(fan_in) on top of the He std",
           "std = np.sqrt(2.0 / fan_in)\n    return rng.normal(0.0, std, size=(fan_in, fan_out))",
           "std = np.sqrt(2.0 / fan_in)\n    return rng.normal(0.0, std, size=(fan_in, fan_out)) / np.sqrt(fan_in)",
           diagnosis="fan_in|twice|too small|sqrt|factor"),
    Mutant("xavier_uniform_limit_over_sqrt3", "converts the limit with a division by sqrt(3), as if it were a std",
           "limit = np.sqrt(6.0 / (fan_in + fan_out))", "limit = np.sqrt(6.0 / (fan_in + fan_out)) / np.sqrt(3.0)",
           diagnosis="sqrt(3)|std|limit|factor|too small"),
    Mutant("he_uniform_limit_times_sqrt3", "multiplies the uniform limit by sqrt(3) again, as if it were a std",
           "limit = np.sqrt(6.0 / fan_in)", "limit = np.sqrt(6.0 / fan_in) * np.sqrt(3.0)",
           diagnosis="sqrt(3)|std|limit|factor|too large"),
    Mutant("he_uniform_larger_fan", "uses the larger of the two fans for He",
           "limit = np.sqrt(6.0 / fan_in)", "limit = np.sqrt(6.0 / max(fan_in, fan_out))",
           diagnosis="fan_in|fan_out|larger|max(fan|wrong fan"),
]

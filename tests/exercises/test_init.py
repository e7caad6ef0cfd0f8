"""Exercise 6 (init): Xavier and He initialisation.

The draws are random, so each statistical check has a tolerance computed from the sample size (five
standard errors), and the samples are large enough that every common mistake lands far outside it.
The last tests build deep networks from reference layers (pkg.layers, pkg.activations) initialised with
the functions under test and measure whether the signal survives.
"""

import numpy as np
import pytest

FAN_IN, FAN_OUT = 400, 600  # 240,000 draws; unequal fans so that fan_in and fan_out cannot be confused
NAMES = ["xavier_uniform", "xavier_normal", "he_uniform", "he_normal"]
KURTOSIS = {"uniform": 1.8, "normal": 3.0}  # E[w^4] / E[w^2]^2


def family(name):
    return name.split("_")[1]


def target_variance(name, fan_in=FAN_IN, fan_out=FAN_OUT):
    return 2.0 / (fan_in + fan_out) if name.startswith("xavier") else 2.0 / fan_in


def wrong_variances(name, fan_in=FAN_IN, fan_out=FAN_OUT):
    """(variance, explanation) of the usual mistakes, for naming the one a sample matches."""
    var = target_variance(name, fan_in, fan_out)
    if name.startswith("xavier"):
        formulas = [
            (1.0 / (fan_in + fan_out), "Var = 1 / (fan_in + fan_out): Xavier has a 2 on top, "
                                       "Var = 2 / (fan_in + fan_out)."),
            (2.0 / fan_in, "Var = 2 / fan_in, which is He's: Xavier averages both fans, "
                           "Var = 2 / (fan_in + fan_out)."),
            (2.0 / fan_out, "Var = 2 / fan_out: Xavier averages both fans, Var = 2 / (fan_in + fan_out)."),
            (1.0 / fan_in, "Var = 1 / fan_in: Xavier averages both fans, Var = 2 / (fan_in + fan_out)."),
        ]
    else:
        formulas = [
            (2.0 / fan_out, "Var = 2 / fan_out: He uses fan_in, the number of inputs summed into each output."),
            (1.0 / fan_in, "Var = 1 / fan_in: He doubles it, Var = 2 / fan_in, because ReLU zeroes half of "
                           "its inputs and so halves the second moment."),
            (2.0 / (fan_in + fan_out), "the Xavier variance 2 / (fan_in + fan_out): He is Var = 2 / fan_in."),
        ]
    if family(name) == "uniform":
        formulas += [
            (var / 3.0, "Var / 3: the limit was a = sqrt(Var), but a uniform on [-a, a] has variance a^2 / 3, "
                        "so use a = sqrt(3 Var)."),
            (var ** 2 / 3.0, "the variance used as the limit a: use a = sqrt(3 Var)."),
        ]
    else:
        formulas += [
            (var ** 2, "Var^2: rng.normal's scale is the standard deviation and you passed the variance; "
                       "pass np.sqrt(Var)."),
            (3.0 * var, "3 Var: the uniform limit sqrt(3 Var) was used as the standard deviation; "
                        "the normal's standard deviation is sqrt(Var)."),
        ]
    return formulas


def draw(ex, name, fan_in=FAN_IN, fan_out=FAN_OUT, seed=0):
    w = getattr(ex, name)(fan_in, fan_out, np.random.default_rng(seed))
    assert isinstance(w, np.ndarray) and w.shape == (fan_in, fan_out), (
        f"{name}({fan_in}, {fan_out}, rng) returned shape {getattr(w, 'shape', type(w).__name__)}; expected "
        f"(fan_in, fan_out) = ({fan_in}, {fan_out})."
    )
    return w


# ----------------------------------------------------------------------------------------------------
# Shape and randomness


@pytest.mark.parametrize("name", NAMES)
def test_initializer_returns_a_fan_in_by_fan_out_float64_array(ex, name):
    w = getattr(ex, name)(3, 5, np.random.default_rng(0))
    shape = getattr(w, "shape", None)
    assert shape != (5, 3), (
        f"{name}(3, 5, rng) returned shape (5, 3): fan_in and fan_out are swapped. Linear computes x @ W "
        "with x of shape (N, fan_in), so W is (fan_in, fan_out)."
    )
    assert isinstance(w, np.ndarray) and shape == (3, 5), (
        f"{name}(3, 5, rng) returned {type(w).__name__} of shape {shape}; expected an array of shape "
        "(fan_in, fan_out) = (3, 5)."
    )
    assert w.dtype == np.float64, f"{name} returned dtype {w.dtype}; expected float64."


@pytest.mark.parametrize("name", NAMES)
def test_initializer_draws_from_the_rng_it_is_given(ex, name):
    init = getattr(ex, name)
    first = init(20, 30, np.random.default_rng(7))
    again = init(20, 30, np.random.default_rng(7))
    assert np.array_equal(first, again), (
        f"{name} gave different weights for two generators with the same seed: draw from the rng argument "
        "(rng.normal, rng.uniform), not from np.random's global state, so that runs are reproducible."
    )
    rng = np.random.default_rng(7)
    one, two = init(20, 30, rng), init(20, 30, rng)
    assert not np.array_equal(one, two), (
        f"Two calls of {name} with the same generator gave identical weights: draw from rng itself (do "
        "not make a new generator from a fixed seed inside the function)."
    )
    assert np.unique(first).size == first.size, f"{name} returned repeated values: draw every entry."


# ----------------------------------------------------------------------------------------------------
# Statistics of the draws


@pytest.mark.parametrize("name", NAMES)
def test_initializer_has_mean_zero_and_the_variance_of_the_formula(ex, name):
    w = draw(ex, name)
    n, var = w.size, target_variance(name)
    # Standard errors of the sample mean and of the sample second moment (the true mean is 0):
    # sd(mean) = sqrt(Var / n), sd(mean of w^2) = Var sqrt((kurtosis - 1) / n).
    mean_tolerance = 5.0 * np.sqrt(var / n)
    relative_tolerance = 5.0 * np.sqrt((KURTOSIS[family(name)] - 1.0) / n)
    var_tolerance = relative_tolerance * var
    mean, second = float(np.mean(w)), float(np.mean(w ** 2))
    assert abs(mean) < mean_tolerance, (
        f"{name}({FAN_IN}, {FAN_OUT}): the mean of the weights is {mean:.3g}, too far from 0 (5 standard "
        f"errors: {mean_tolerance:.2g}). The distribution must be centred: uniform on [-a, a], normal with "
        "mean 0."
    )
    if abs(second - var) > var_tolerance:
        matches = [text for value, text in wrong_variances(name)
                   if abs(second - value) < relative_tolerance * value]
        guess = f" Your variance matches {matches[0]}" if matches else ""
        raise AssertionError(
            f"{name}({FAN_IN}, {FAN_OUT}): the variance of the weights is {second:.4g}, expected {var:.4g} "
            f"(ratio {second / var:.3g}; tolerance {var_tolerance:.2g}, 5 standard errors).{guess}"
        )


@pytest.mark.parametrize("name", ["xavier_uniform", "he_uniform"])
def test_uniform_initializer_stays_within_its_limit_and_reaches_it(ex, name):
    w = draw(ex, name)
    limit = np.sqrt(3.0 * target_variance(name))
    largest = float(np.max(np.abs(w)))
    assert largest <= limit, (
        f"{name}({FAN_IN}, {FAN_OUT}) has an entry of size {largest:.4g}, beyond the limit a = sqrt(3 Var) = "
        f"{limit:.4g}: draw rng.uniform(-a, a)."
    )
    # Among 240,000 uniform draws the largest is within a / 1000 of a with probability 1 - e^-240.
    if largest < 0.999 * limit:
        ratio = largest / limit
        guess = (" That is 1 / sqrt(3): the limit was sqrt(Var), but a uniform on [-a, a] has variance a^2 / 3, "
                 "so use a = sqrt(3 Var)." if abs(ratio - 1 / np.sqrt(3.0)) < 0.01 else "")
        raise AssertionError(f"{name}({FAN_IN}, {FAN_OUT}): the largest |w| is {largest:.4g}, only {ratio:.3g} "
                             f"of the limit a = sqrt(3 Var) = {limit:.4g}.{guess}")


@pytest.mark.parametrize("name", NAMES)
def test_initializer_draws_from_the_right_distribution_family(ex, name):
    w = draw(ex, name)
    kurtosis = float(np.mean(w ** 4) / np.mean(w ** 2) ** 2)  # about 0.01 standard error here
    expected = KURTOSIS[family(name)]
    other = "normal" if family(name) == "uniform" else "uniform"
    if abs(kurtosis - expected) > 0.15:
        near_other = abs(kurtosis - KURTOSIS[other]) < 0.15
        raise AssertionError(
            f"{name}: the kurtosis E[w^4] / E[w^2]^2 of the weights is {kurtosis:.3f}; a {family(name)} "
            f"distribution has {expected}, a {other} one {KURTOSIS[other]}."
            + (f" The weights look {other}: {name} must draw from a {family(name)} distribution "
               f"(rng.{'uniform' if family(name) == 'uniform' else 'normal'})." if near_other else "")
        )


# ----------------------------------------------------------------------------------------------------
# Deep networks: does the signal survive ten layers?


def signal_power(pkg, rng, init, activation, *, input_std=1.0, depth=10, width=128, nets=32, batch=32):
    """Mean square of each layer's output over `nets` independently initialised networks, over the input's.

    One network's signal wanders by a random factor (about e^(+-0.3) after ten ReLU layers of width 256,
    because its samples become correlated); the average over many networks measures the expected gain
    per layer, which is what the initialisation sets.
    """
    x = input_std * rng.standard_normal((nets, batch, width))
    power = np.zeros(depth)
    for k in range(nets):
        h = x[k]
        for layer in range(depth):
            linear = pkg.layers.Linear(width, width, rng=rng, init=init)
            h = activation.forward(linear.forward(h))
            power[layer] += np.mean(h ** 2)
    return power / nets / np.mean(x ** 2)


def describe(power):
    return "[" + ", ".join(f"{p:.3g}" for p in power) + "]"


@pytest.mark.parametrize("name", ["he_normal", "he_uniform"])
def test_he_keeps_the_signal_of_a_deep_relu_network(ex, pkg, rng, name):
    power = signal_power(pkg, rng, getattr(ex, name), pkg.activations.ReLU())
    assert np.all((power > 0.5) & (power < 2.0)), (
        f"Ten Linear + ReLU layers initialised with {name}: the mean square of the activations, relative to "
        f"the input's, is {describe(power)} after layers 1 to 10; He initialisation keeps it within a factor "
        "2 of 1. A factor 1/2 per layer means Var(W) = 1 / fan_in: He doubles it, because ReLU zeroes half of "
        "its inputs."
    )


@pytest.mark.parametrize("name", ["xavier_normal", "xavier_uniform"])
def test_xavier_keeps_the_signal_of_a_deep_tanh_network(ex, pkg, rng, name):
    # A small input keeps tanh in its linear regime near 0, the regime Xavier's derivation assumes.
    power = signal_power(pkg, rng, getattr(ex, name), pkg.activations.Tanh(), input_std=0.1)
    assert np.all((power > 0.5) & (power < 2.0)), (
        f"Ten Linear + Tanh layers initialised with {name}, input standard deviation 0.1: the mean square of "
        f"the activations, relative to the input's, is {describe(power)} after layers 1 to 10; Xavier keeps "
        "it within a factor 2 of 1 (Var(W) = 2 / (fan_in + fan_out), here 1 / width)."
    )


def test_xavier_lets_a_deep_relu_network_fade(ex, pkg, rng):
    # Var(W) = 1 / width ignores the half that ReLU zeroes: the signal halves at every layer.
    power = signal_power(pkg, rng, ex.xavier_normal, pkg.activations.ReLU())
    assert power[-1] < 0.5, (
        f"Ten Linear + ReLU layers initialised with xavier_normal keep the mean square of the signal at "
        f"{describe(power)} of the input's; with Var(W) = 2 / (fan_in + fan_out) = 1 / width each ReLU layer "
        "should halve it (about 0.001 after ten layers). Is xavier_normal's variance too large?"
    )


def test_he_saturates_a_deep_tanh_network(ex, pkg, rng):
    # Var(W) = 2 / width doubles a small signal at each tanh layer until tanh saturates near +-1.
    power = signal_power(pkg, rng, ex.he_normal, pkg.activations.Tanh(), input_std=0.1)
    assert power[-1] > 2.0, (
        f"Ten Linear + Tanh layers initialised with he_normal, input standard deviation 0.1: the mean square "
        f"of the signal is {describe(power)} of the input's; with Var(W) = 2 / fan_in it should double at each "
        "layer until tanh saturates (about 30 times the input's). Is he_normal's variance too small?"
    )

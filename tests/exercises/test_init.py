"""Exercise 6 (init): Xavier and He initialisation.

The draws are random by design, so the learner's code only reports its raw draws and the judge computes
every statistic from them. The generators handed to the initialisers are seeded from the test's seed,
so every grading run draws afresh. Each band is wide enough that correct code passes for any seed (ten
standard errors or more; see each test), while every common mistake lands far outside it: the nearest
one, Var = 1 / fan_in for Xavier, is 25% off, more than 80 standard errors.

The last tests feed a batch through deep networks whose weights the initialisers drew and measure, in the
judge, whether the signal survives.
"""

import numpy as np
import pytest

from grader.feedback.checks import check_that
from helpers import own_rng

FAN_IN, FAN_OUT = 400, 600  # 240,000 draws; unequal fans so that fan_in and fan_out cannot be confused
NAMES = ["xavier_uniform", "xavier_normal", "he_uniform", "he_normal"]
KURTOSIS = {"uniform": 1.8, "normal": 3.0}  # E[w^4] / E[w^2]^2
STANDARD_ERRORS = 10.0  # width of the mean and variance bands: a correct draw falls outside with p < 1e-20


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
    if name.startswith("xavier"):  # the parentheses around fan_in + fan_out left out (precedence)
        top = 6.0 if family(name) == "uniform" else 2.0
        spread = [np.sqrt(top / fan_in + fan_out), np.sqrt(top) / np.sqrt(fan_in) + np.sqrt(fan_out)]
        formulas += [(value ** 2 / (3.0 if family(name) == "uniform" else 1.0), f"{how}: parentheses missing "
                      f"(precedence), the fans must be summed first, sqrt({top:g} / (fan_in + fan_out)).")
                     for value, how in zip(spread, (f"sqrt({top:g} / fan_in + fan_out)",
                                                    f"sqrt({top:g}) / sqrt(fan_in) + sqrt(fan_out)"))]
    for fan, text in ((fan_in, "fan_in"), (fan_out, "fan_out"), (fan_in + fan_out, "fan_in + fan_out")):
        formulas += [(var / fan, f"Var / ({text}): a square root left out, the standard deviation divided by {text} "
                                 f"where sqrt(...) of it belongs."),
                     (var * fan ** 2, f"Var times ({text})^2: multiplied by {text} where dividing by it belongs.")]
    return formulas + [(2.0 * var, "2 Var: a factor 2 too many (the fans averaged, (fan_in + fan_out) / 2, where "
                                   "their sum belongs, or a gain applied twice)."),
                       (var / 2.0, "Var / 2: a factor 2 missing (the 2 on top, or the fans summed where one belongs)."),
                       (var / 4.0, "Var / 4: the 2 in the denominator where it belongs on top (1 / (2 fan) for "
                                   "2 / fan, upside down)."),
                       (4.0 * var, "4 Var: the standard deviation twice too large (a factor 2 on it, or a gain of 2)."),
                       (1.0, "Var = 1, the standard normal's: the draws are not scaled by the standard deviation.")]


def generator(rng):
    """A generator for the initialiser, seeded from the test's generator: the same seed in the learner's run
    and in the reference's, a different one in every grading run."""
    return own_rng(int(rng.integers(2 ** 32)))


def check_property(what, value, problem):
    """The judge computes problem(value) from the raw value: None when it is right, else the sentence saying
    what is wrong. `problem` must accept anything (a list, None, a wrong shape)."""
    check_that(what, value, lambda v: problem(v) is None, problem)


def shape_problem(name, w, fan_in=FAN_IN, fan_out=FAN_OUT):
    shape = getattr(w, "shape", None)
    if shape == (fan_out, fan_in) and fan_in != fan_out:
        return (f"{name}({fan_in}, {fan_out}, rng) returned shape {shape}: fan_in and fan_out are swapped. "
                "Linear computes x @ W with x of shape (N, fan_in), so W is (fan_in, fan_out).")
    if not isinstance(w, np.ndarray) or shape != (fan_in, fan_out):
        return (f"{name}({fan_in}, {fan_out}, rng) returned {type(w).__name__} of shape {shape}; expected an "
                f"array of shape (fan_in, fan_out) = ({fan_in}, {fan_out})." + (
                    " A single number: the rng draws one value unless given size=(fan_in, fan_out)."
                    if np.ndim(w) == 0 and isinstance(w, (float, np.floating)) else ""))
    if not np.all(np.isfinite(w)):
        return f"{name}({fan_in}, {fan_out}, rng) returned NaN or inf."
    return None


def draw(ex, name, rng):
    return getattr(ex, name)(FAN_IN, FAN_OUT, generator(rng))


# ----------------------------------------------------------------------------------------------------
# Shape and randomness


@pytest.mark.fact  # a shape and a dtype, which zeros have: the statistics below are the judged quantities
@pytest.mark.parametrize("name", NAMES)
def test_initializer_returns_a_fan_in_by_fan_out_float64_array(ex, name):
    def problem(w):
        wrong_shape = shape_problem(name, w, 3, 5)
        if wrong_shape is not None:
            return wrong_shape
        return None if w.dtype == np.float64 else f"{name} returned dtype {w.dtype}; expected float64." + (
            " Its values are whole numbers (rng.integers?): draw real numbers with rng.uniform or rng.normal."
            if w.dtype.kind in "iub" else "")

    check_property(f"{name}(3, 5, rng)", getattr(ex, name)(3, 5, own_rng()), problem)


@pytest.mark.parametrize("name", NAMES)
def test_initializer_draws_from_the_rng_it_is_given(ex, rng, name):
    init = getattr(ex, name)
    seed = int(rng.integers(2 ** 32))
    first = init(20, 30, np.random.default_rng(seed))
    again = init(20, 30, np.random.default_rng(seed))
    shared = np.random.default_rng(seed)
    one, two = init(20, 30, shared), init(20, 30, shared)

    def problem(draws):  # one observation: each property must hold of the same four draws
        first, again, one, two = (np.asarray(draw) for draw in draws)
        if not np.array_equal(first, again):
            return (f"{name} gave different weights for two generators with the same seed: draw from the rng "
                    "argument (rng.normal, rng.uniform), not from np.random's global state, so that runs are "
                    "reproducible.")
        if not np.any(first):
            return (f"{name} returned zeros only: a limit or standard deviation of 0 (an integer division such as "
                    "6 // fan_in, or a factor that is 0).")
        if np.array_equal(one, two):
            return (f"Two calls of {name} with the same generator gave identical weights: draw from rng itself (do "
                    "not make a new generator from a fixed seed inside the function).")
        if not np.unique(first).size == first.size == 600:
            largest = np.abs(first).max()
            return f"{name} returned repeated values: draw every entry." + (
                f" The repeated ones are the extremes +-{largest:.3g}: the draws were clipped (truncated tails)?"
                if np.sum(np.abs(first) == largest) > 1 else "")
        return None

    check_property(f"{name}(20, 30, rng) for two generators of the same seed, then twice with one generator",
                   [first, again, one, two], problem)


# ----------------------------------------------------------------------------------------------------
# Statistics of the draws


def moments_problem(name, w):
    """The mean must be 0 and the second moment Var, each within STANDARD_ERRORS standard errors."""
    wrong_shape = shape_problem(name, w)
    if wrong_shape is not None:
        return wrong_shape
    n, var = w.size, target_variance(name)
    # Standard errors of the sample mean and of the sample second moment (the true mean is 0):
    # sd(mean) = sqrt(Var / n), sd(mean of w^2) = Var sqrt((kurtosis - 1) / n).
    mean, second = float(np.mean(w)), float(np.mean(w ** 2))
    mean_tolerance = STANDARD_ERRORS * np.sqrt(max(var, second) / n)  # a wrong variance is said below, not as a mean
    relative_tolerance = STANDARD_ERRORS * np.sqrt((KURTOSIS[family(name)] - 1.0) / n)
    var_tolerance = relative_tolerance * var
    if abs(mean) >= mean_tolerance:
        return (f"{name}({FAN_IN}, {FAN_OUT}): the mean of the weights is {mean:.3g}, too far from 0 "
                f"({STANDARD_ERRORS:.0f} standard errors: {mean_tolerance:.2g}). The distribution must be "
                "centred: uniform on [-a, a], normal with mean 0." + (
                    " Every weight is positive: a distribution on positive numbers (lognormal, exponential, "
                    "uniform on [0, a))?" if np.all(w > 0) else ""))
    if abs(second - var) > var_tolerance:
        matches = [text for value, text in wrong_variances(name) if abs(second - value) < relative_tolerance * value]
        guess = f" Your variance matches {'; or '.join(matches)}" if matches else ""
        return (f"{name}({FAN_IN}, {FAN_OUT}): the variance of the weights is {second:.4g}, expected {var:.4g} "
                f"(ratio {second / var:.3g}; tolerance {var_tolerance:.2g}, {STANDARD_ERRORS:.0f} standard "
                f"errors).{guess}")
    return None


@pytest.mark.parametrize("name", NAMES)
def test_initializer_has_mean_zero_and_the_variance_of_the_formula(ex, rng, name):
    check_property(f"{name}({FAN_IN}, {FAN_OUT}, rng)", draw(ex, name, rng), lambda w: moments_problem(name, w))


def limit_problem(name, w):
    wrong_shape = shape_problem(name, w)
    if wrong_shape is not None:
        return wrong_shape
    limit = np.sqrt(3.0 * target_variance(name))
    largest = float(np.max(np.abs(w)))
    # 1e-9 of slack: the learner's a may differ from this one in its last bit (sqrt(6 / n) vs sqrt(3 * 2 / n)).
    if largest > limit * (1 + 1e-9):
        return (f"{name}({FAN_IN}, {FAN_OUT}) has an entry of size {largest:.4g}, beyond the limit a = "
                f"sqrt(3 Var) = {limit:.4g}: draw rng.uniform(-a, a).")
    # Among 240,000 uniform draws the largest is within a / 1000 of a with probability 1 - e^-240.
    if largest < 0.999 * limit:
        ratio = largest / limit
        guess = (" That is 1 / sqrt(3): the limit was sqrt(Var), but a uniform on [-a, a] has variance a^2 / 3, "
                 "so use a = sqrt(3 Var)." if abs(ratio - 1 / np.sqrt(3.0)) < 0.01 else "")
        return (f"{name}({FAN_IN}, {FAN_OUT}): the largest |w| is {largest:.4g}, only {ratio:.3g} of the limit "
                f"a = sqrt(3 Var) = {limit:.4g}.{guess}")
    return None


@pytest.mark.parametrize("name", ["xavier_uniform", "he_uniform"])
def test_uniform_initializer_stays_within_its_limit_and_reaches_it(ex, rng, name):
    check_property(f"{name}({FAN_IN}, {FAN_OUT}, rng)", draw(ex, name, rng), lambda w: limit_problem(name, w))


def family_problem(name, w):
    wrong_shape = shape_problem(name, w)
    if wrong_shape is not None:
        return wrong_shape
    # The sample kurtosis has a standard error of about 0.01 here (sqrt(24 / n) for a normal, less for a
    # uniform): the band of 0.3 is 30 of them, and a quarter of the way to the other family.
    if not np.any(w):
        return f"{name}: every weight is 0, so nothing can tell which distribution they come from"
    kurtosis = float(np.mean(w ** 4) / np.mean(w ** 2) ** 2)
    expected = KURTOSIS[family(name)]
    other = "normal" if family(name) == "uniform" else "uniform"
    if abs(kurtosis - expected) <= 0.3:
        return None
    near_other = abs(kurtosis - KURTOSIS[other]) <= 0.3
    return (f"{name}: the kurtosis E[w^4] / E[w^2]^2 of the weights is {kurtosis:.3f}; a {family(name)} "
            f"distribution has {expected}, a {other} one {KURTOSIS[other]}."
            + (f" The weights look {other}: {name} must draw from a {family(name)} distribution "
               f"(rng.{'uniform' if family(name) == 'uniform' else 'normal'})." if near_other else ""))


@pytest.mark.parametrize("name", NAMES)
def test_initializer_draws_from_the_right_distribution_family(ex, rng, name):
    check_property(f"{name}({FAN_IN}, {FAN_OUT}, rng)", draw(ex, name, rng), lambda w: family_problem(name, w))


# ----------------------------------------------------------------------------------------------------
# Deep networks: does the signal survive ten layers?
#
# The learner's initialiser draws the weights of `nets` networks of ten square layers y = f(x W) (zero
# bias); the judge feeds a batch through them. One network's signal wanders by a random factor (its
# samples become correlated), so the judge averages the mean square over the networks: that measures the
# expected gain per layer, which is what the initialisation sets. Measured over 5,000 seeds, the average
# over 64 networks of width 32 stays within a factor 2.1 of 1 at every layer for He on ReLU (standard
# deviation of its logarithm after ten layers 0.16), so the band of a factor 4 is nine standard
# deviations wide; a variance off by a factor 2 moves the signal by 1000 after ten layers.

WIDTH, DEPTH, BATCH = 32, 10, 16
ACTIVATIONS = {"ReLU": lambda z: np.maximum(z, 0.0), "Tanh": np.tanh}


def deep_weights(init, rng, nets):
    """Weights of `nets` networks of DEPTH layers of shape (WIDTH, WIDTH), drawn by `init` (the learner's):
    one array of shape (nets, DEPTH, WIDTH, WIDTH) when the shapes agree (one block of bytes to send),
    else the nested list as it came."""
    shared = generator(rng)
    weights = [[init(WIDTH, WIDTH, shared) for _ in range(DEPTH)] for _ in range(nets)]
    try:
        return np.array(weights)
    except ValueError:
        return weights


def signal_power(weights, activation, x):
    """Judge: the mean square of each layer's output over all networks, over the input's (None if the
    weights do not have the expected shapes)."""
    try:
        W = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if W.shape != (x.shape[0], DEPTH, WIDTH, WIDTH):
        return None
    h, power = x, np.zeros(DEPTH)
    for layer in range(DEPTH):
        h = ACTIVATIONS[activation](h @ W[:, layer])
        power[layer] = np.mean(h ** 2)
    return power / np.mean(x ** 2)


def describe(power):
    return "[" + ", ".join(f"{p:.3g}" for p in power) + "]"


def check_signal(what, weights, activation, x, accept, explain):
    """The judge computes the signal power from the learner's weights; `accept(power)` decides and
    `explain(power)` says what is wrong."""
    def problem(weights):
        power = signal_power(weights, activation, x)
        if power is None:
            return (f"{what}: the initialiser did not return arrays of shape ({WIDTH}, {WIDTH}) for "
                    f"fan_in = fan_out = {WIDTH}.")
        if not np.all(np.isfinite(power)):
            return f"{what}: the signal became NaN or inf ({describe(power)})."
        return None if accept(power) else explain(power)

    check_property(what, weights, problem)


def inputs(rng, nets, input_std):
    return input_std * rng.standard_normal((nets, BATCH, WIDTH))


@pytest.mark.parametrize("name", ["he_normal", "he_uniform"])
def test_he_keeps_the_signal_of_a_deep_relu_network(ex, rng, name):
    nets = 64
    x = inputs(rng, nets, 1.0)
    check_signal(f"ten ReLU layers initialised with {name}", deep_weights(getattr(ex, name), rng, nets), "ReLU",
                 x, lambda power: np.all((power > 0.25) & (power < 4.0)), lambda power: (
                     f"Ten layers y = relu(x W) initialised with {name}: the mean square of the activations, "
                     f"relative to the input's, is {describe(power)} after layers 1 to 10; He initialisation "
                     "keeps it within a factor 4 of 1 (averaged over 64 networks). " + he_gain(power)))


def he_gain(power):
    """What the signal's average factor per layer says about Var(W): each ReLU layer multiplies the mean
    square by Var(W) * fan_in / 2, so a factor g per layer means Var(W) = g * 2 / fan_in."""
    gain = float(power[-1]) ** (1.0 / DEPTH) if power[-1] > 0 else 0.0
    known = {0.5: "Var(W) = 1 / fan_in: He doubles it, because ReLU zeroes half of its inputs.",
             1.0 / 3.0: "a uniform limit of sqrt(2 / fan_in): U(-a, a) has variance a^2 / 3, so He's limit is "
                        "sqrt(6 / fan_in).",
             2.0 / WIDTH: f"the variance 2 / fan_in used as the standard deviation (fan_in = {WIDTH}): "
                          "rng.normal's scale is the standard deviation, sqrt(2 / fan_in)."}
    text = f"The signal changes by a factor {gain:.3g} per layer, so Var(W) is about {gain:.3g} times He's 2 / fan_in"
    for value, meaning in known.items():
        if abs(np.log(gain / value)) < 0.15 if gain > 0 else False:
            return f"{text}: {meaning}"
    return text + "."


@pytest.mark.parametrize("name", ["xavier_normal", "xavier_uniform"])
def test_xavier_keeps_the_signal_of_a_deep_tanh_network(ex, rng, name):
    # A small input keeps tanh in its linear regime near 0, the regime Xavier's derivation assumes.
    nets = 16
    x = inputs(rng, nets, 0.1)
    check_signal(f"ten Tanh layers initialised with {name}", deep_weights(getattr(ex, name), rng, nets), "Tanh",
                 x, lambda power: np.all((power > 0.25) & (power < 4.0)), lambda power: (
                     f"Ten layers y = tanh(x W) initialised with {name}, input standard deviation 0.1: the mean "
                     f"square of the activations, relative to the input's, is {describe(power)} after layers 1 "
                     "to 10; Xavier keeps it within a factor 4 of 1 (Var(W) = 2 / (fan_in + fan_out), here "
                     "1 / width)."))


def test_xavier_lets_a_deep_relu_network_fade(ex, rng):
    # Var(W) = 1 / width ignores the half that ReLU zeroes: the signal halves at every layer (to about 1e-3,
    # never near 1e-6, the floor that weights of zero would fall through).
    nets = 8
    x = inputs(rng, nets, 1.0)
    check_signal("ten ReLU layers initialised with xavier_normal", deep_weights(ex.xavier_normal, rng, nets),
                 "ReLU", x, lambda power: 1e-6 < power[-1] < 0.5, lambda power: (
                     "Ten layers y = relu(x W) initialised with xavier_normal keep the mean square of the signal "
                     f"at {describe(power)} of the input's; with Var(W) = 2 / (fan_in + fan_out) = 1 / width each "
                     "ReLU layer should halve it (about 0.001 after ten layers). " + (
                         "Is xavier_normal's variance too large?" if power[-1] >= 0.5 else
                         "Nothing is left of it: is xavier_normal's variance far too small, or zero?")))


def test_he_saturates_a_deep_tanh_network(ex, rng):
    # Var(W) = 2 / width doubles a small signal at each tanh layer until tanh saturates near +-1: 24 to 32 times
    # the input's after ten layers over 2,000 seeds; weights of variance 1 saturate fully, at 80 to 92.
    nets = 8
    x = inputs(rng, nets, 0.1)
    check_signal("ten Tanh layers initialised with he_normal", deep_weights(ex.he_normal, rng, nets), "Tanh", x,
                 lambda power: 2.0 < power[-1] < 50.0, lambda power: (
                     "Ten layers y = tanh(x W) initialised with he_normal, input standard deviation 0.1: the mean "
                     f"square of the signal is {describe(power)} of the input's; with Var(W) = 2 / fan_in it "
                     "should double at each layer until tanh saturates (about 30 times the input's). Is "
                     f"he_normal's variance too {'small' if power[-1] <= 2.0 else 'large'}?"))

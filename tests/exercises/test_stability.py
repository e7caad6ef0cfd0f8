"""Stretch exercise (stability): naive textbook formulas next to stable ones, float32 and float64.

Expected values come from the exact reference of grader/milestones/stability.py (Python's decimal module at
50 digits: no overflow, no underflow, independent of NumPy) and from the reference, which `make test` checks
against PyTorch in float64 (grader/feedback/oracle.py), computed by the judge. The stable versions must
match the exact values over the whole range (|logits| up to 1e4) without NaN, inf or NumPy warnings
(underflow to 0 excepted: where the exact value is below the smallest float, 0 is the right answer). The
naive versions (test_stability_naive.py) are the learner's too: they must match for moderate inputs and break
exactly where the textbook formula breaks, which the stability milestone then measures.

How close is close enough: a result computed from inputs of size |z| carries rounding of about eps |z| (the
inputs themselves are only known to eps |z|), so every tolerance below grows with the magnitudes involved
(`tolerance`). A correct formula that subtracts two large numbers, like z - logsumexp(z), stays inside it;
only a tiny result computed as the difference of large numbers (the loss of a confident right answer) is
held to its own size, and a failure there names the cancellation.
"""

import numpy as np
import pytest

from grader.feedback import diagnose
from grader.feedback.checks import check_equal, check_that, check_unchanged
from helpers import log_softmax_slips, once, softmax_slips
from grader.feedback import oracle
from grader.feedback.oracle import check_close_ref
from grader.milestones.stability import (call_recording_warnings, exact_bce_with_logits,
                                         exact_cross_entropy, exact_log_softmax, exact_sigmoid,
                                         exact_softmax)

DTYPES = [np.float32, np.float64]
IDS = ["float32", "float64"]
MAGNITUDES = [1.0, 10.0, 100.0, 1e3, 1e4]
ROUNDING = 8  # units of eps * magnitude a correct formula may be off by (measured: at most 2)



def row_scale(z):
    """The magnitude each entry of a row-wise result is computed from: max(1, max_j |z_j|) of its row."""
    z = np.asarray(z, dtype=np.float64)
    return np.broadcast_to(np.maximum(1.0, np.max(np.abs(z), axis=-1, keepdims=True)), z.shape)


def entry_scale(x):
    """The magnitude an elementwise result is computed from: max(1, |x|)."""
    return np.maximum(1.0, np.abs(np.asarray(x, dtype=np.float64)))


def tolerance(exact, dtype, kind, scale):
    """The absolute tolerance, entry by entry, for a result in dtype next to its exact value.

    A base relative tolerance (a few hundred units of the last place), plus the rounding of a computation
    on inputs of size `scale`: ROUNDING * eps * scale. For a probability p = exp(a) that rounding is
    relative (an error in the exponent a moves p by a factor), for a log-probability or a loss absolute.
    Probabilities below the smallest normal number have few significant bits: tiny absolute.
    """
    finfo = np.finfo(dtype)
    exact = np.abs(np.asarray(exact, dtype=np.float64))
    base = 3e-5 if dtype == np.float32 else 1e-12
    rounding = ROUNDING * float(finfo.eps) * np.asarray(scale, dtype=np.float64)
    if kind == "probability":
        return np.maximum(exact * np.maximum(base, rounding), float(finfo.tiny))
    return base * exact + rounding


def check_accurate(what, got, exact, dtype, kind, scale, *, batch_size=None, alternatives=(), regions=()):
    """`got` must equal `exact()` (the judge's) within `tolerance(exact, dtype, kind, scale)`; a failure
    is described as check_close describes one (alternatives, regions, the first difference)."""
    __tracebackhide__ = True

    def comparison(value):
        expected = exact()
        return diagnose.compare(value, expected, rtol=0.0, atol=tolerance(expected, dtype, kind, scale),
                                batch_size=batch_size, alternatives=alternatives() if callable(alternatives)
                                else alternatives, regions=regions)

    check_that(what, got, lambda value: comparison(value).ok,
               lambda value: diagnose.describe(what, comparison(value)))


def call(f, *args):
    """(result of f(*args), [NumPy warnings]): warnings are recorded, never raised, so that a naive
    function can be measured; the stable tests then check that there were none (`check_quiet`)."""
    return call_recording_warnings(f, *args)


def check_quiet(name, caught):
    check_equal(f"NumPy's warnings during {name}", list(caught), [], lambda caught: (
        f"{name} made NumPy warn: {caught[0]}. A stable formula never overflows, divides by zero or forms "
        "inf / inf for finite inputs. Note that np.where(c, a, b) computes a and b everywhere: both branches "
        "must be safe for every input, not just where they are chosen."))


def check_finite_where_exact_is(name, got, exact, advice):
    __tracebackhide__ = True

    def bad_entries(value):
        value = np.asarray(value, dtype=np.float64)
        expected = np.asarray(exact(), dtype=np.float64)
        if value.shape != expected.shape:
            return []  # the comparison that follows says what is wrong with the shape
        return np.argwhere(~np.isfinite(value) & np.isfinite(expected))

    def message(value):
        bad = tuple(int(i) for i in bad_entries(value)[0])
        got = np.asarray(value, dtype=np.float64)[bad]
        return (f"{name} gave {got} at index {bad} where the exact value is {np.asarray(exact())[bad]:.6g}: {advice}"
                + " NaN (not inf) comes from the log of a negative number (a sum without exp, e.g. log(sum(z - m))?), "
                "inf - inf or 0 * inf." * bool(np.isnan(got)))

    check_that(f"{name} is finite where the exact value is", got, lambda value: len(bad_entries(value)) == 0,
               message)


def check_dtype(name, got, dtype):
    check_that(f"the dtype of {name}'s result", got, lambda value: np.asarray(value).dtype == dtype, lambda value: (
        f"{name} returned {np.asarray(value).dtype} for {np.dtype(dtype).name} input: keep the input's dtype (no "
        "astype, no float64 constants arrays) so float32's limits are the ones measured."))


def check_stable(ex, name, args, exact, dtype, kind, scale, advice, **check):
    """What every stable_ function promises on `args`: a finite result wherever the exact value is finite
    (else `advice`), within tolerance(exact, dtype, kind, scale) of `exact()` (`check`: further
    check_accurate arguments), no NumPy warning, and the input's dtype kept."""
    __tracebackhide__ = True
    got, caught = call(getattr(ex, name), *args)
    check_finite_where_exact_is(name, got, exact, advice)
    check_accurate(f"{name} ({np.dtype(dtype).name})", got, exact, dtype, kind, scale, **check)
    check_quiet(name, caught)
    check_dtype(name, got, dtype)


def softmax_logits(dtype):
    """Rows spread over +-M and rows of large negative logits only, for every magnitude M."""
    rows = [m * np.array([1.0, 0.5, 0.0, -0.5, -1.0]) for m in MAGNITUDES]
    rows += [-m * np.array([1.0, 1.25, 1.5, 1.75, 2.0]) for m in MAGNITUDES]
    rows.append(np.array([0.3, -1.2, 2.2, 0.0, 0.7]))
    return np.array(rows).astype(dtype)


def sigmoid_inputs(dtype):
    magnitudes = [0.0, 0.5, 1.0, 10.0, 20.0, 40.0, 80.0, 100.0, 500.0, 700.0, 720.0, 1e3, 1e4]
    return np.array(sorted({s * m for m in magnitudes for s in (-1.0, 1.0)})).astype(dtype)


# --- stable versions -------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_stable_softmax_is_exact_over_the_whole_range_without_warnings(ex, dtype):
    z = softmax_logits(dtype)
    check_stable(ex, "stable_softmax", (z,), once(lambda: exact_softmax(z)), dtype, "probability", row_scale(z),
                 "subtract each row's max before exp, so no exponent is positive and the largest term is "
                 "exactly 1 (never inf / inf or 0 / 0).", alternatives=lambda: softmax_slips(z))


def test_stable_softmax_normalises_each_row_with_its_own_max(ex):
    z = np.array([[700.0, 699.0, 698.0], [0.0, -60.0, -1.0]])
    got, _ = call(ex.stable_softmax, z)
    advice = ("subtract each row's own max (np.max(z, axis=-1, keepdims=True)), not the max of the whole batch, "
              "which underflows the other rows.")

    def shifted_by_the_batch_max():
        e = np.exp(z - z.max())
        return e / e.sum(axis=1)[:, None]

    check_accurate("stable_softmax of a batch whose rows have very different scales", got,
                   once(lambda: exact_softmax(z)), np.float64, "probability", row_scale(z),
                   alternatives=lambda: [(shifted_by_the_batch_max(), "the softmax shifted by the batch's max: "
                                          + advice), *softmax_slips(z)],
                   regions=[(np.array([[False] * 3, [True] * 3]), "the row whose max (0) is far below the batch's "
                             "max (700)", advice)])


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_stable_log_softmax_is_exact_over_the_whole_range_without_warnings(ex, dtype):
    z = softmax_logits(dtype)
    check_stable(ex, "stable_log_softmax", (z,), once(lambda: exact_log_softmax(z)), dtype, "log", row_scale(z),
                 "a probability underflowed to 0 and its log is -inf (or exp overflowed). Do not take the log "
                 "of softmax: compute (z - m) - log(sum(exp(z - m))).", alternatives=lambda: log_softmax_slips(z))


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_stable_cross_entropy_is_exact_over_the_whole_range_without_warnings(ex, dtype):
    logits = np.array([m * np.array([1.0, 0.0, -1.0, 0.5]) for m in MAGNITUDES]
                      + [[0.2, -0.3, 1.1, 0.4]]).astype(dtype)
    labels = np.array([2, 2, 1, 3, 2, 0])
    check_stable(ex, "stable_cross_entropy", (logits, labels), once(lambda: exact_cross_entropy(logits, labels)),
                 dtype, "log", np.mean(row_scale(logits)[:, 0]),
                 "the probability of a true class underflowed to 0 (log 0 = -inf), or exp overflowed: take the entries "
                 "of stable_log_softmax, never the log of softmax nor the naive version (naive_log_softmax).",
                 batch_size=len(labels))


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_stable_sigmoid_is_exact_over_the_whole_range_without_warnings(ex, dtype):
    x = sigmoid_inputs(dtype)
    check_stable(ex, "stable_sigmoid", (x,), once(lambda: exact_sigmoid(x)), dtype, "probability", entry_scale(x),
                 "exp of a large number overflowed: only ever compute exp(-|x|).",
                 alternatives=lambda: [(exact_sigmoid(-np.asarray(x, dtype=np.float64)),
                                        "sigmoid(-x): the two branches are swapped (1 / (1 + e) is for x >= 0).")],
                 regions=[(x < 0, "the input is negative", "the branch for x < 0 is wrong: there sigmoid(x) = e / "
                           "(1 + e), e = exp(x)."), (x >= 0, "the input is >= 0", "the branch for x >= 0 is wrong: "
                           "there sigmoid(x) = 1 / (1 + e), e = exp(-x).")])


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_stable_bce_with_logits_is_exact_over_the_whole_range_without_warnings(ex, dtype):
    magnitudes = np.array([0.5, 1.0, 10.0, 40.0, 100.0, 1e3, 1e4])
    z = np.concatenate([magnitudes, -magnitudes, magnitudes, -magnitudes, [0.0, 2.0, -3.0]]).astype(dtype)
    k = len(magnitudes)
    t = np.concatenate([np.zeros(2 * k), np.ones(2 * k), [0.25, 0.5, 0.9]]).astype(dtype)
    check_stable(ex, "stable_bce_with_logits", (z, t), once(lambda: exact_bce_with_logits(z, t)), dtype, "log",
                 np.mean(entry_scale(z)),
                 "sigmoid(z) rounded to 0 or 1 and its log is -inf (or 0 * inf = NaN). Work with the logits: "
                 "max(z, 0) - z t + log1p(exp(-|z|)).", batch_size=len(z),
                 alternatives=lambda: [*bce_slips(z, t), (exact_bce_with_logits(z, 1.0 - t.astype(np.float64)),
                                        "the loss for targets 1 - t: the linear term is - z * t."),
                                       (exact_bce_with_logits(z, t) - np.mean(np.abs(z.astype(np.float64))),
                                        "min(z, 0) where max(z, 0) belongs (np.minimum for np.maximum): the "
                                        "loss is max(z, 0) - z t + log1p(exp(-|z|)).")])


def bce_slips(z, t):
    """Known-wrong binary cross-entropies with logits z and targets t (judge only): a term's sign flipped or left out."""
    z, t = (np.asarray(v, dtype=np.float64) for v in (z, t))
    first, second = t * np.logaddexp(0, -z), (1 - t) * np.logaddexp(0, z)  # -t log p and -(1 - t) log(1 - p)
    return [(np.mean(first - second), "the (1 - t) log(1 - p) term subtracted: a sign flipped inside the sum (the two "
             "log terms are added, then the sum negated)."),
            (np.mean(second - first), "the t log p term with the wrong sign: the two log terms are added, then the sum "
             "negated."),
            (np.mean(np.maximum(z, 0) - z * t), "max(z, 0) - z t without the softplus term log1p(exp(-|z|)): a term "
             "left out."),
            (np.mean(np.maximum(z, 0) + z * t + np.logaddexp(0, -np.abs(z))), "max(z, 0) + z t + ...: the linear term's "
             "sign is flipped; it is - z t.")]


# Logits of confident right answers (target 1): the loss is log(1 + exp(-z)), about exp(-z), far below eps.
CONFIDENT = np.array([20.0, 22.0, 25.0, 28.0, 30.0, 33.0, 36.0, 40.0, 60.0])

LOG1P = ("log(1 + exp(-|z|)) computed as log(1 + tiny) loses the digits: 1 + exp(-z) keeps only the digits of "
         "exp(-z) above eps = 2.2e-16, and 1 + exp(-40) rounds to exactly 1, a loss of 0. Use np.log1p(u), "
         "which computes log(1 + u) without forming 1 + u.")
CANCELLATION = ("the tiny loss was formed next to numbers of size z that cancel afterwards, e.g. np.logaddexp(0, z) - "
                "z * t, or log1p(exp(-|z|)) added to max(z, 0) before z * t is subtracted: a number of size z keeps "
                "the loss only to about eps * z = 1e-14 (cancellation), and at z = 40 nothing is left. Compute "
                "max(z, 0) - z * t first (exactly 0 here), then add log1p(exp(-|z|)), which carries the tiny part "
                "with full precision.")


def tiny_loss_diagnosis(got, exact):
    """The cancellation that loses a tiny loss, named from the size of the errors: at most about eps
    (rounding next to 1: the log of 1 + tiny) or about eps * z (rounding next to z: a difference of numbers
    of size z). None when the errors are larger than either explains."""
    eps = float(np.finfo(np.float64).eps)
    errors = np.abs(got - exact)
    if got.shape != exact.shape or not np.all(np.isfinite(got)):
        return None
    if np.all(errors <= 2 * eps):
        return LOG1P
    if np.all(errors <= ROUNDING * eps * CONFIDENT):
        return CANCELLATION
    return None


def test_stable_bce_with_logits_keeps_the_tiny_loss_of_confident_right_answers(ex):
    z, t = CONFIDENT, np.ones(len(CONFIDENT))
    got = [ex.stable_bce_with_logits(z[i:i + 1], t[i:i + 1]) for i in range(len(z))]
    exact = once(lambda: np.array([exact_bce_with_logits(z[i:i + 1], t[i:i + 1]) for i in range(len(z))]))
    what = "stable_bce_with_logits for z = 20 ... 60 with target 1 (exact: about exp(-z))"

    def values(value):
        return np.asarray(value, dtype=np.float64).reshape(-1)

    def comparison(value):
        return diagnose.compare(values(value), exact(), rtol=1e-10, atol=0.0)

    def message(value):
        result = comparison(value)
        cause = tiny_loss_diagnosis(values(value), exact())
        if cause is None or result.first_index is None:
            return diagnose.describe(what, result)
        i = result.first_index[0]
        got_i, exact_i = float(values(value)[i]), float(exact()[i])
        return (f"{what} is wrong (relative error {result.relative_error:.3g}).\n{cause}\n"
                f"At z = {z[i]:g}: got {got_i!r}, exact {exact_i!r} (relative error "
                f"{abs(got_i - exact_i) / exact_i:.2g}; {result.n_wrong} of {result.size} entries differ).")

    check_that(what, got, lambda value: comparison(value).ok, message)


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_stable_functions_do_not_modify_their_inputs(ex, rng, dtype):
    z = (100.0 * rng.standard_normal((3, 4))).astype(dtype)
    labels = np.array([0, 3, 1])
    x = (100.0 * rng.standard_normal(5)).astype(dtype)
    t = np.array([0, 1, 1, 0, 1], dtype=dtype)
    for name, args in [("stable_softmax", (z,)), ("stable_log_softmax", (z,)),
                       ("stable_cross_entropy", (z, labels)), ("stable_sigmoid", (x,)),
                       ("stable_bce_with_logits", (x, t))]:
        before = [np.array(a, copy=True) for a in args]
        result, _ = call(getattr(ex, name), *args)
        for old, new in zip(before, args):
            check_unchanged(name, old, new)
        if name == "stable_log_softmax":  # and a value that only computing it gives
            check_close_ref(f"stable_log_softmax of 100 N(0, 1) logits in {np.dtype(dtype).name}", result,
                            lambda z=before[0]: oracle.torch.log_softmax(oracle.torch.tensor(z.astype(np.float64)),
                                                                         -1).numpy(), rtol=1e-4, atol=1e-3)


def test_stable_functions_agree_with_pytorch_in_float64(ex, rng):
    z = 40.0 * rng.standard_normal((6, 5))
    labels = rng.integers(0, 5, size=6)
    x = 40.0 * rng.standard_normal(9)
    t = rng.uniform(0, 1, size=9)

    torch = oracle.torch  # lazy: PyTorch is imported only where an oracle below is evaluated

    def tensors():
        return torch.tensor(z), torch.tensor(x), torch.tensor(t)

    check_close_ref("stable_softmax vs torch.softmax", ex.stable_softmax(z),
                    lambda: torch.softmax(tensors()[0], -1).numpy(), rtol=1e-10, atol=1e-300)
    check_close_ref("stable_log_softmax vs torch.log_softmax", ex.stable_log_softmax(z),
                    lambda: torch.log_softmax(tensors()[0], -1).numpy(), rtol=1e-10, atol=1e-14)
    check_close_ref("stable_cross_entropy vs torch.nn.functional.cross_entropy", ex.stable_cross_entropy(z, labels),
                    lambda: torch.nn.functional.cross_entropy(tensors()[0], torch.tensor(labels)).item(), rtol=1e-10,
                    batch_size=6)
    check_close_ref("stable_sigmoid vs torch.sigmoid", ex.stable_sigmoid(x),
                    lambda: torch.sigmoid(tensors()[1]).numpy(), rtol=1e-10, atol=1e-300)
    check_close_ref("stable_bce_with_logits vs torch.nn.functional.binary_cross_entropy_with_logits",
                    ex.stable_bce_with_logits(x, t),
                    lambda: torch.nn.functional.binary_cross_entropy_with_logits(*tensors()[1:]).item(), rtol=1e-10,
                    batch_size=9)

"""Exercise 3 (losses): logsumexp, softmax, log_softmax and the softmax cross-entropy loss (what it refuses:
test_losses_inputs.py).

Expected values come from the reference and from finite differences, computed by the judge at test time;
`make test` checks the reference's against PyTorch (float64) (grader/feedback/oracle.py). The learner's
run of each test only reports what the learner's code returned, raised or warned.
"""

import warnings

import numpy as np
import pytest

from grader.feedback.checks import check_close, check_equal, check_that, check_unchanged
from grader.feedback.diagnose import relative_error
from grader.feedback import oracle
from grader.feedback.oracle import check_close_ref
from helpers import log_softmax_slips, numerical_gradient, softmax_slips

DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])


def T(array):
    """A float64 tensor holding a copy of array (whatever its dtype); judge only."""
    return oracle.torch.tensor(np.asarray(array, dtype=np.float64))


def huge_logits(rng, dtype):
    """(5, 6) logits of magnitude 1e4: rows near +1e4, near -1e4, spread over ±1e4, and mixed."""
    z = np.empty((5, 6))
    z[0] = 1e4 + 3 * rng.standard_normal(6)        # exp overflows: every entry is huge
    z[1] = -1e4 + 3 * rng.standard_normal(6)       # exp underflows: every entry is 0, the sum 0/0
    z[2] = 1e4 * rng.standard_normal(6)            # one entry dominates
    z[3] = [1e4, -1e4, 0.0, 1e4 - 1.0, -5.0, 2.0]  # two entries near the top
    z[4] = rng.standard_normal(6)                  # an ordinary row next to the others
    return z.astype(dtype)


def tolerances(z, scale=1.0):
    """rtol/atol for results computed from logits z in z's dtype.

    A stable method is exact for logits moved by an ulp or so of max|z| (z - m is exact, but
    log_softmax = z - logsumexp(z) first rounds logsumexp to the spacing of numbers near max|z|), so
    absolute errors of about eps * max|z| are fair: 2e-3 at 1e4 in float32, 2e-12 in float64.
    NaN, inf, 0/0 and warnings are checked separately.
    """
    eps = np.finfo(z.dtype).eps
    return {"rtol": 1e-5 if z.dtype == np.float32 else 1e-7,
            "atol": max(2 * eps * float(np.max(np.abs(z))), 1e-12) * scale}


def wrong_axis_note(name):
    return (f"{name} over axis 0 (down each column, across the batch) instead of over the last axis (the "
            "classes of one sample): pass axis=axis to max, sum, etc., with keepdims=True.")


def call_recording_warnings(call):
    """(call(), [NumPy's warnings, as text]). Overflow, invalid values and division by zero are recorded,
    not raised; underflow is allowed: exp(-1000) = 0 is the correctly rounded answer, and a stable softmax
    underflows on purpose."""
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn", under="ignore"):
        warnings.simplefilter("always")
        value = call()
    return value, [str(warning.message) for warning in caught[:3]]


def warned_message(label, advice):
    """The failure message of a NumPy warning inside `label`, from the warnings the learner's run reported."""
    return lambda caught: (f"{label} raised a warning: {caught[0] if caught else '?'}. A stable formula never "
                           f"overflows or divides by zero for finite inputs. {advice}")


def all_finite(value):
    return bool(np.all(np.isfinite(np.asarray(value, dtype=np.float64))))


def dtype_name(value):
    return np.asarray(value).dtype.name if isinstance(value, (np.ndarray, np.generic)) else type(value).__name__



# ----------------------------------------------------------------------------------------- functions

@pytest.mark.parametrize("axis", [-1, 0, 1])
@pytest.mark.parametrize("keepdims", [False, True], ids=["drop_axis", "keepdims"])
def test_logsumexp_matches_pytorch_on_every_axis(ex, rng, axis, keepdims):
    z = 3 * rng.standard_normal((3, 4, 5))
    check_close_ref(f"logsumexp(z, axis={axis}, keepdims={keepdims}) for z of shape {z.shape}",
                    ex.logsumexp(z, axis=axis, keepdims=keepdims),
                    lambda: oracle.torch.logsumexp(T(z), dim=axis, keepdim=keepdims).numpy(),
                    alternatives=lambda: [(oracle.torch.max(T(z), dim=axis, keepdim=keepdims).values.numpy(),
                                           "the maximum alone: add log(sum(exp(z - max))).")])


def test_logsumexp_drops_only_the_axis_it_reduces(ex, rng):
    z = rng.standard_normal((3, 1, 5))
    check_close_ref("logsumexp(z, axis=-1) for z of shape (3, 1, 5)", ex.logsumexp(z, axis=-1),
                    lambda: oracle.torch.logsumexp(T(z), dim=-1).numpy())


def test_logsumexp_by_default_reduces_the_last_axis(ex, rng):
    z = rng.standard_normal((6, 4))
    check_close_ref("logsumexp(z) for z of shape (6, 4)", ex.logsumexp(z),
                    lambda: oracle.torch.logsumexp(T(z), dim=-1).numpy(), batch_size=6)


def test_softmax_matches_pytorch_over_the_last_axis_by_default(ex, rng):
    z = 2 * rng.standard_normal((6, 4))
    check_close_ref("softmax(z) for logits of shape (6, 4)", ex.softmax(z),
                    lambda: oracle.torch.softmax(T(z), dim=-1).numpy(), batch_size=6,
                    alternatives=lambda: [(oracle.torch.softmax(T(z), dim=0).numpy(), wrong_axis_note("softmax")),
                                          *softmax_slips(z)])


def test_log_softmax_matches_pytorch_over_the_last_axis_by_default(ex, rng):
    z = 2 * rng.standard_normal((6, 4))
    check_close_ref("log_softmax(z) for logits of shape (6, 4)", ex.log_softmax(z),
                    lambda: oracle.torch.log_softmax(T(z), dim=-1).numpy(), batch_size=6,
                    alternatives=lambda: [(oracle.torch.log_softmax(T(z), dim=0).numpy(),
                                           wrong_axis_note("log_softmax")), *log_softmax_slips(z)])


@pytest.mark.parametrize("axis", [0, 1])
def test_softmax_and_log_softmax_normalise_along_the_axis_they_are_given(ex, rng, axis):
    z = 2 * rng.standard_normal((3, 4, 5))
    check_close_ref(f"softmax(z, axis={axis}) for z of shape {z.shape}", ex.softmax(z, axis=axis),
                    lambda: oracle.torch.softmax(T(z), dim=axis).numpy(),
                    alternatives=lambda: [(oracle.torch.softmax(T(z), dim=-1).numpy(), "softmax over the last "
                                           "axis: use the axis argument instead of -1."), *softmax_slips(z, axis)])
    check_close_ref(f"log_softmax(z, axis={axis}) for z of shape {z.shape}", ex.log_softmax(z, axis=axis),
                    lambda: oracle.torch.log_softmax(T(z), dim=axis).numpy(),
                    alternatives=lambda: [(oracle.torch.log_softmax(T(z), dim=-1).numpy(), "log_softmax over the "
                                           "last axis: use the axis argument instead of -1.")])


def test_functions_do_not_modify_their_input(ex, rng):
    z = rng.standard_normal((4, 5))
    before = z.copy()
    for name in ("logsumexp", "softmax", "log_softmax"):
        value = getattr(ex, name)(z)
        check_unchanged(name, before, z)
    check_close_ref("log_softmax", value, lambda: oracle.F.log_softmax(T(before), dim=-1).numpy())  # ran, left z


STABLE_ADVICE = ("Subtract the maximum along the axis before exp (every exponent is then <= 0), and take logs of "
                 "sums that are >= 1, never of probabilities that may round to 0.")


def check_stable(ex, name, z, expected, dtype, **options):
    """Run ex.<name>(z); then no NumPy warning, z unchanged, a finite result of z's dtype, and the value
    `expected` (a callable, evaluated by the judge)."""
    __tracebackhide__ = True
    label = f"{name} on {np.dtype(dtype).name} logits of size 1e4"
    before = z.copy()
    got, caught = call_recording_warnings(lambda: getattr(ex, name)(z))
    check_equal(f"NumPy warnings during {label}", caught, [], warned_message(label, STABLE_ADVICE))
    check_unchanged(name, before, z)
    check_that(f"{label} is finite", got, all_finite, (
        f"{label} returned NaN or inf: exp overflowed (or every exp underflowed to 0 and you divided 0 by 0 "
        "or took log 0). Subtract the maximum along the axis before exponentiating."))
    check_that(f"the dtype of {label}", got, lambda value: dtype_name(value) == np.dtype(dtype).name,
               lambda value: f"{label} returned dtype {dtype_name(value)}: keep the input's dtype (float32 is "
               "twice as fast for MNIST; a float64 constant array silently upcasts).")
    check_close_ref(label, got, expected, **tolerances(z), **options)


@DTYPES
def test_logsumexp_is_exact_for_logits_of_size_1e4(ex, rng, dtype):
    z = huge_logits(rng, dtype)
    check_stable(ex, "logsumexp", z, lambda: oracle.torch.logsumexp(T(z), dim=-1).numpy(), dtype)


@DTYPES
def test_softmax_is_exact_for_logits_of_size_1e4(ex, rng, dtype):
    z = huge_logits(rng, dtype)
    check_stable(ex, "softmax", z, lambda: oracle.torch.softmax(T(z), dim=-1).numpy(), dtype)


@DTYPES
def test_log_softmax_is_exact_for_logits_of_size_1e4(ex, rng, dtype):
    z = huge_logits(rng, dtype)
    check_stable(ex, "log_softmax", z, lambda: oracle.torch.log_softmax(T(z), dim=-1).numpy(), dtype)


# ------------------------------------------------------------------------------------ cross-entropy

def batch(rng, n=6, c=4, scale=2.0):
    """Random logits (n, c) and labels (n,); n != c so that a transposed computation cannot pass."""
    return scale * rng.standard_normal((n, c)), rng.integers(0, c, size=n)


def torch_cross_entropy(logits, labels):
    """(loss, dL/dlogits) from PyTorch in float64; judge only."""
    torch, F = oracle.torch, oracle.F
    t = T(logits).requires_grad_(True)
    loss = F.cross_entropy(t, torch.tensor(np.asarray(labels), dtype=torch.long))
    loss.backward()
    return loss.item(), t.grad.numpy()


def forward(loss, logits, labels):
    value = loss.forward(logits, labels)
    assert value is not None, "SoftmaxCrossEntropy.forward returned None: return the loss."
    return value


def forward_slips(log_probs, labels):
    """Known-wrong cross-entropies from the log-probabilities (judge only): the wrong entries picked, or divided."""
    n, c = log_probs.shape
    return [(-np.mean(np.take(log_probs, labels)), "the mean of np.take(log_probs, labels), which indexes the "
             "flattened array (the first row's entries): pick each row's own entry, log_probs[np.arange(N), labels] "
             "(or np.take_along_axis)."),
            (-np.mean(log_probs[np.arange(n), labels - 1]), "the log-probabilities at labels - 1: an off-by-one, each "
             "row picks its neighbour class; labels are 0-based class indices."),
            (-np.mean(log_probs.max(axis=1)), "the largest log-probability of each row, the predicted class's: take "
             "the label's entry, log_probs[np.arange(N), labels], whatever the prediction."),
            (-np.sum(log_probs[np.arange(n), labels]) / c, "divided by C, the number of classes, where the mean over "
             "the N examples belongs.")]


def test_cross_entropy_forward_matches_pytorch(ex, rng):
    n = 6
    logits, labels = batch(rng, n)
    value = forward(ex.SoftmaxCrossEntropy(), logits, labels)
    check_close_ref("SoftmaxCrossEntropy.forward", value, lambda: torch_cross_entropy(logits, labels)[0],
                    batch_size=n, factors={"C, the number of classes": logits.shape[1]}, alternatives=lambda: [
                        (oracle.F.cross_entropy(T(logits), oracle.torch.tensor(labels), reduction="none").numpy().sum(),
                         "the sum over the batch instead of the mean: divide by N, the batch size."),
                        *forward_slips(oracle.torch.log_softmax(T(logits), dim=-1).numpy(), labels),
                    ])
    check_that("the shape of SoftmaxCrossEntropy.forward's value", value, lambda v: np.ndim(v) == 0,
               lambda v: f"SoftmaxCrossEntropy.forward returned shape {np.shape(v)}: return one float.")


def backward_alternatives(logits, labels, n, c):
    """Known-wrong gradients of the cross-entropy, each with its explanation; judge only."""
    torch = oracle.torch
    p = torch.softmax(T(logits), dim=-1).numpy()
    onehot = np.eye(c)[labels]
    return [
        (p - onehot, "softmax - onehot without dividing by N, the batch size: the loss is the mean over "
                     "the batch, so each row's gradient carries a factor 1/N."),
        ((torch.softmax(T(logits), dim=0).numpy() - onehot) / n, wrong_axis_note("softmax")),
        (p / n, "softmax / N without subtracting the one-hot labels: subtract 1 at [n, labels[n]]."),
        ((np.exp(np.minimum(logits, 700)) - onehot) / n, "(exp(logits) - onehot) / N: exp of the raw logits, not "
         "normalised (its rows do not sum to 1), where softmax belongs: keep the log-probabilities from forward."),
        ((onehot - p) / n, "(onehot - softmax) / N: the opposite sign; dL/dz = (softmax - onehot) / N."),
        ((p - np.eye(c)[labels - 1]) / n, "the one-hot of labels - 1 subtracted: an off-by-one, each row's 1 is at "
                                          "its neighbour class; labels are 0-based class indices."),
        ((p - onehot) / c, "(softmax - onehot) / C: divided by the number of classes where the batch size N belongs."),
    ]


def test_cross_entropy_backward_matches_pytorch(ex, rng):
    n, c = 6, 4
    logits, labels = batch(rng, n, c)
    loss = ex.SoftmaxCrossEntropy()
    forward(loss, logits, labels)
    check_close_ref("SoftmaxCrossEntropy.backward: dL/dlogits", loss.backward(),
                    lambda: torch_cross_entropy(logits, labels)[1], batch_size=n, factors={"C, the number of classes": c},
                    alternatives=lambda: backward_alternatives(logits, labels, n, c))


def test_cross_entropy_backward_matches_finite_differences(ex, ref, rng):
    n = 5
    logits, labels = batch(rng, n, 3)
    loss = ex.SoftmaxCrossEntropy()
    check_close_ref("SoftmaxCrossEntropy.forward", forward(loss, logits, labels),
                    lambda: torch_cross_entropy(logits, labels)[0], batch_size=n)
    grad = loss.backward()
    # The judge differentiates its own (the reference's) forward: the learner's backward must match the
    # derivative of the true loss.
    check_close("SoftmaxCrossEntropy.backward compared with finite differences of forward", grad,
                lambda: numerical_gradient(ref, lambda: float(loss.forward(logits, labels)), logits),
                batch_size=n, rtol=1e-5, atol=1e-8, alternatives=lambda: backward_alternatives(logits, labels, n, 3))


def test_cross_entropy_backward_called_twice_returns_the_same_gradient(ex, rng):
    n, c = 6, 4
    logits, labels = batch(rng, n, c)
    loss = ex.SoftmaxCrossEntropy()
    forward(loss, logits, labels)
    first = loss.backward()
    first = first.copy() if isinstance(first, np.ndarray) else first  # a second call may change it in place
    second = loss.backward()
    # The judge's `first` is the reference's gradient: the expected value of both calls, with no PyTorch.
    expected = oracle.expected(lambda: first, lambda: torch_cross_entropy(logits, labels)[1])
    check_close("SoftmaxCrossEntropy.backward: dL/dlogits", first, expected, batch_size=n,
                alternatives=lambda: backward_alternatives(logits, labels, n, c))

    def same_as_expected(value):
        value = np.asarray(value, dtype=np.float64)
        reference = expected()
        return value.shape == reference.shape and np.allclose(value, reference, rtol=1e-5, atol=1e-7)

    def differs(value):
        try:
            error = f" (relative error {relative_error(value, expected()):.3g})"
        except (TypeError, ValueError):
            error = ""
        return ("SoftmaxCrossEntropy.backward returned a different gradient on its second call without a new "
                f"forward{error}: backward must leave what forward saved unchanged, so that calling it again "
                "gives the same dL/dlogits. Build the gradient in a new array (np.exp(saved_log_probs) makes "
                "one), not in place in an array forward saved.")

    check_that("SoftmaxCrossEntropy.backward, second call without a new forward", second, same_as_expected, differs)


@DTYPES
def test_cross_entropy_is_exact_for_logits_of_size_1e4(ex, rng, dtype):
    logits = huge_logits(rng, dtype)
    n, c = logits.shape
    # Labels away from each row's maximum, so the loss is large and exp(z_label - max) underflows.
    labels = (np.argmax(logits, axis=1) + 1) % c
    before = logits.copy()
    loss = ex.SoftmaxCrossEntropy()
    label = f"SoftmaxCrossEntropy on {np.dtype(dtype).name} logits of size 1e4"
    (value, grad), caught = call_recording_warnings(lambda: (forward(loss, logits, labels), loss.backward()))
    check_equal(f"NumPy warnings during {label}", caught, [], warned_message(label, (
        "Compute the loss from log_softmax (shift by the row maximum), never log(softmax), and the gradient "
        "from the same shifted logits.")))
    check_unchanged("SoftmaxCrossEntropy.forward", before, logits)
    check_that(f"{label}: the loss and its gradient are finite", (value, grad),
               lambda pair: all_finite(pair[0]) and all_finite(pair[1]), lambda pair: (
                   f"SoftmaxCrossEntropy gave a loss of {pair[0]} (gradient finite: {all_finite(pair[1])}) for "
                   "logits of size 1e4: compute the loss from log_softmax, never log(softmax), whose entries "
                   "underflow to 0 and give log 0 = -inf."))
    check_that(f"the dtype of SoftmaxCrossEntropy.backward on {np.dtype(dtype).name} logits", grad,
               lambda g: dtype_name(g) == np.dtype(dtype).name, lambda g: (
                   f"SoftmaxCrossEntropy.backward returned {dtype_name(g)} for {np.dtype(dtype).name} logits: "
                   "keep the dtype of the logits."))
    check_close_ref(f"SoftmaxCrossEntropy.forward on {np.dtype(dtype).name} logits of size 1e4", value,
                    lambda: torch_cross_entropy(logits, labels)[0], batch_size=n, **tolerances(logits))
    check_close_ref(f"SoftmaxCrossEntropy.backward on {np.dtype(dtype).name} logits of size 1e4", grad,
                    lambda: torch_cross_entropy(logits, labels)[1], batch_size=n, **tolerances(logits, scale=1.0 / n),
                    alternatives=lambda: backward_alternatives(logits, labels, n, c))


def test_cross_entropy_does_not_modify_logits_or_labels(ex, rng):
    logits, labels = batch(rng)
    logits_before, labels_before = logits.copy(), labels.copy()
    loss = ex.SoftmaxCrossEntropy()
    forward(loss, logits, labels)
    gradient = loss.backward()
    check_unchanged("SoftmaxCrossEntropy (forward and backward)", logits_before, logits)
    check_unchanged("SoftmaxCrossEntropy (forward and backward)", labels_before, labels)
    check_close_ref("SoftmaxCrossEntropy.backward", gradient,
                    lambda: torch_cross_entropy(logits_before, labels_before)[1], batch_size=len(labels))


def test_cross_entropy_backward_uses_the_latest_forward(ex, rng):
    loss = ex.SoftmaxCrossEntropy()
    forward(loss, *batch(rng, 7, 4))
    logits, labels = batch(rng, 3, 4)
    forward(loss, logits, labels)
    check_close_ref("SoftmaxCrossEntropy.backward after two forward calls", loss.backward(),
                    lambda: torch_cross_entropy(logits, labels)[1], batch_size=3,
                    alternatives=lambda: backward_alternatives(logits, labels, 3, 4))

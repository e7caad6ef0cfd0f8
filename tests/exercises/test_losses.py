"""Exercise 3 (losses): logsumexp, softmax, log_softmax and the softmax cross-entropy loss.

Expected values come from PyTorch (float64) and from finite differences, computed here at test time.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from grader.feedback.diagnose import check_close
from helpers import assert_unchanged, no_warnings

DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])


def T(array):
    """A float64 tensor holding a copy of array (whatever its dtype)."""
    return torch.tensor(np.asarray(array, dtype=np.float64))


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
    NaN, inf, 0/0 and warnings are caught separately.
    """
    eps = np.finfo(z.dtype).eps
    return {"rtol": 1e-5 if z.dtype == np.float32 else 1e-7,
            "atol": max(2 * eps * float(np.max(np.abs(z))), 1e-12) * scale}


def wrong_axis_note(name):
    return (f"{name} over axis 0 (down each column, across the batch) instead of over the last axis (the "
            "classes of one sample): pass axis=axis to max, sum, etc., with keepdims=True.")


# ----------------------------------------------------------------------------------------- functions

@pytest.mark.parametrize("axis", [-1, 0, 1])
@pytest.mark.parametrize("keepdims", [False, True], ids=["drop_axis", "keepdims"])
def test_logsumexp_matches_pytorch_on_every_axis(ex, rng, axis, keepdims):
    z = 3 * rng.standard_normal((3, 4, 5))
    expected = torch.logsumexp(T(z), dim=axis, keepdim=keepdims).numpy()
    check_close(f"logsumexp(z, axis={axis}, keepdims={keepdims}) for z of shape {z.shape}",
                ex.logsumexp(z, axis=axis, keepdims=keepdims), expected,
                alternatives=[(torch.max(T(z), dim=axis, keepdim=keepdims).values.numpy(),
                               "the maximum alone: add log(sum(exp(z - max))).")])


def test_logsumexp_by_default_reduces_the_last_axis(ex, rng):
    z = rng.standard_normal((6, 4))
    check_close("logsumexp(z) for z of shape (6, 4)", ex.logsumexp(z), torch.logsumexp(T(z), dim=-1).numpy(),
                batch_size=6)


def test_softmax_matches_pytorch_over_the_last_axis_by_default(ex, rng):
    z = 2 * rng.standard_normal((6, 4))
    expected = torch.softmax(T(z), dim=-1).numpy()
    check_close("softmax(z) for logits of shape (6, 4)", ex.softmax(z), expected, batch_size=6,
                alternatives=[(torch.softmax(T(z), dim=0).numpy(), wrong_axis_note("softmax")),
                              (np.exp(z), "exp(z) without dividing by the sum along the axis.")])


def test_log_softmax_matches_pytorch_over_the_last_axis_by_default(ex, rng):
    z = 2 * rng.standard_normal((6, 4))
    expected = torch.log_softmax(T(z), dim=-1).numpy()
    check_close("log_softmax(z) for logits of shape (6, 4)", ex.log_softmax(z), expected, batch_size=6,
                alternatives=[(torch.log_softmax(T(z), dim=0).numpy(), wrong_axis_note("log_softmax")),
                              (z - z.max(axis=-1, keepdims=True), "z - max(z) without subtracting "
                               "log(sum(exp(z - max(z)))).")])


@pytest.mark.parametrize("axis", [0, 1])
def test_softmax_and_log_softmax_normalise_along_the_axis_they_are_given(ex, rng, axis):
    z = 2 * rng.standard_normal((3, 4, 5))
    check_close(f"softmax(z, axis={axis}) for z of shape {z.shape}", ex.softmax(z, axis=axis),
                torch.softmax(T(z), dim=axis).numpy(),
                alternatives=[(torch.softmax(T(z), dim=-1).numpy(), "softmax over the last axis: use the "
                               "axis argument instead of -1.")])
    check_close(f"log_softmax(z, axis={axis}) for z of shape {z.shape}", ex.log_softmax(z, axis=axis),
                torch.log_softmax(T(z), dim=axis).numpy(),
                alternatives=[(torch.log_softmax(T(z), dim=-1).numpy(), "log_softmax over the last axis: use "
                               "the axis argument instead of -1.")])


def test_functions_do_not_modify_their_input(ex, rng):
    z = rng.standard_normal((4, 5))
    before = z.copy()
    for name in ("logsumexp", "softmax", "log_softmax"):
        getattr(ex, name)(z)
        assert_unchanged(name, before, z)


def check_stable(ex, name, z, expected, dtype, **options):
    """Run ex.<name>(z) with no overflow warning, then check finiteness, dtype and value."""
    __tracebackhide__ = True
    label = f"{name} on {np.dtype(dtype).name} logits of size 1e4"
    before = z.copy()
    try:
        with no_warnings(label):
            got = getattr(ex, name)(z)
    except AssertionError as error:
        raise AssertionError(f"{error} Subtract the maximum along the axis before exp (every exponent is then "
                             "<= 0), and take logs of sums that are >= 1, never of probabilities that may "
                             "round to 0.") from None
    assert_unchanged(name, before, z)
    got = np.asarray(got)
    assert np.all(np.isfinite(got)), (
        f"{label} returned NaN or inf: exp overflowed (or every exp underflowed to 0 and you divided 0 by 0 "
        "or took log 0). Subtract the maximum along the axis before exponentiating."
    )
    assert got.dtype == dtype, (
        f"{label} returned dtype {got.dtype}: keep the input's dtype (float32 is twice as fast for MNIST; "
        "a float64 constant array silently upcasts)."
    )
    check_close(label, got, expected, **tolerances(z), **options)


@DTYPES
def test_logsumexp_is_exact_for_logits_of_size_1e4(ex, rng, dtype):
    z = huge_logits(rng, dtype)
    check_stable(ex, "logsumexp", z, torch.logsumexp(T(z), dim=-1).numpy(), dtype)


@DTYPES
def test_softmax_is_exact_for_logits_of_size_1e4(ex, rng, dtype):
    z = huge_logits(rng, dtype)
    check_stable(ex, "softmax", z, torch.softmax(T(z), dim=-1).numpy(), dtype)


@DTYPES
def test_log_softmax_is_exact_for_logits_of_size_1e4(ex, rng, dtype):
    z = huge_logits(rng, dtype)
    check_stable(ex, "log_softmax", z, torch.log_softmax(T(z), dim=-1).numpy(), dtype)


# ------------------------------------------------------------------------------------ cross-entropy

def batch(rng, n=6, c=4, scale=2.0):
    """Random logits (n, c) and labels (n,); n != c so that a transposed computation cannot pass."""
    return scale * rng.standard_normal((n, c)), rng.integers(0, c, size=n)


def torch_cross_entropy(logits, labels):
    """(loss, dL/dlogits) from PyTorch in float64."""
    t = T(logits).requires_grad_(True)
    loss = F.cross_entropy(t, torch.tensor(np.asarray(labels), dtype=torch.long))
    loss.backward()
    return loss.item(), t.grad.numpy()


def forward(loss, logits, labels):
    value = loss.forward(logits, labels)
    assert value is not None, "SoftmaxCrossEntropy.forward returned None: return the loss."
    return value


def test_cross_entropy_forward_matches_pytorch(ex, rng):
    n = 6
    logits, labels = batch(rng, n)
    value = forward(ex.SoftmaxCrossEntropy(), logits, labels)
    expected, _ = torch_cross_entropy(logits, labels)
    per_sample = F.cross_entropy(T(logits), torch.tensor(labels), reduction="none").numpy()
    check_close("SoftmaxCrossEntropy.forward", value, expected, batch_size=n, alternatives=[
        (per_sample.sum(), "the sum over the batch instead of the mean: divide by N, the batch size."),
    ])
    assert np.ndim(value) == 0, f"SoftmaxCrossEntropy.forward returned shape {np.shape(value)}: return one float."


def test_cross_entropy_backward_matches_pytorch(ex, rng):
    n, c = 6, 4
    logits, labels = batch(rng, n, c)
    loss = ex.SoftmaxCrossEntropy()
    forward(loss, logits, labels)
    grad = loss.backward()
    _, expected = torch_cross_entropy(logits, labels)
    p = torch.softmax(T(logits), dim=-1).numpy()
    onehot = np.eye(c)[labels]
    check_close("SoftmaxCrossEntropy.backward: dL/dlogits", grad, expected, batch_size=n, alternatives=[
        (p - onehot, "softmax - onehot without dividing by N, the batch size: the loss is the mean over "
                     "the batch, so each row's gradient carries a factor 1/N."),
        ((torch.softmax(T(logits), dim=0).numpy() - onehot) / n, wrong_axis_note("softmax")),
        (p / n, "softmax / N without subtracting the one-hot labels: subtract 1 at [n, labels[n]]."),
        ((onehot - p) / n, "(onehot - softmax) / N: the opposite sign; dL/dz = (softmax - onehot) / N."),
    ])


def test_cross_entropy_backward_matches_finite_differences(ex, ref, rng):
    n = 5
    logits, labels = batch(rng, n, 3)
    loss = ex.SoftmaxCrossEntropy()
    expected_value, _ = torch_cross_entropy(logits, labels)
    check_close("SoftmaxCrossEntropy.forward", forward(loss, logits, labels), expected_value, batch_size=n)
    numerical = ref.gradcheck.numerical_gradient(lambda: float(loss.forward(logits, labels)), logits)
    forward(loss, logits, labels)
    check_close("SoftmaxCrossEntropy.backward compared with finite differences of forward", loss.backward(),
                numerical, batch_size=n, rtol=1e-5, atol=1e-8)


@DTYPES
def test_cross_entropy_is_exact_for_logits_of_size_1e4(ex, rng, dtype):
    logits = huge_logits(rng, dtype)
    n, c = logits.shape
    # Labels away from each row's maximum, so the loss is large and exp(z_label - max) underflows.
    labels = (np.argmax(logits, axis=1) + 1) % c
    before = logits.copy()
    loss = ex.SoftmaxCrossEntropy()
    try:
        with no_warnings(f"SoftmaxCrossEntropy on {np.dtype(dtype).name} logits of size 1e4"):
            value = forward(loss, logits, labels)
            grad = loss.backward()
    except AssertionError as error:
        raise AssertionError(f"{error} Compute the loss from log_softmax (shift by the row maximum), never "
                             "log(softmax), and the gradient from the same shifted logits.") from None
    assert_unchanged("SoftmaxCrossEntropy.forward", before, logits)
    expected_value, expected_grad = torch_cross_entropy(logits, labels)
    assert np.isfinite(value) and np.all(np.isfinite(grad)), (
        f"SoftmaxCrossEntropy gave a loss of {value} (gradient finite: {np.all(np.isfinite(grad))}) for "
        "logits of size 1e4: compute the loss from log_softmax, never log(softmax), whose entries underflow "
        "to 0 and give log 0 = -inf."
    )
    assert np.asarray(grad).dtype == dtype, (
        f"SoftmaxCrossEntropy.backward returned {np.asarray(grad).dtype} for {np.dtype(dtype).name} logits: "
        "keep the dtype of the logits."
    )
    check_close(f"SoftmaxCrossEntropy.forward on {np.dtype(dtype).name} logits of size 1e4", value,
                expected_value, batch_size=n, **tolerances(logits))
    check_close(f"SoftmaxCrossEntropy.backward on {np.dtype(dtype).name} logits of size 1e4", grad,
                expected_grad, batch_size=n, **tolerances(logits, scale=1.0 / n))


def test_cross_entropy_does_not_modify_logits_or_labels(ex, rng):
    logits, labels = batch(rng)
    logits_before, labels_before = logits.copy(), labels.copy()
    loss = ex.SoftmaxCrossEntropy()
    forward(loss, logits, labels)
    loss.backward()
    assert_unchanged("SoftmaxCrossEntropy (forward and backward)", logits_before, logits)
    assert_unchanged("SoftmaxCrossEntropy (forward and backward)", labels_before, labels)


def test_cross_entropy_backward_uses_the_latest_forward(ex, rng):
    loss = ex.SoftmaxCrossEntropy()
    forward(loss, *batch(rng, 7, 4))
    logits, labels = batch(rng, 3, 4)
    forward(loss, logits, labels)
    _, expected = torch_cross_entropy(logits, labels)
    check_close("SoftmaxCrossEntropy.backward after two forward calls", loss.backward(), expected, batch_size=3)


def test_cross_entropy_backward_before_forward_says_so(ex):
    loss = ex.SoftmaxCrossEntropy()
    try:
        loss.backward()
    except NotImplementedError:
        raise
    except Exception as error:  # any exception type, as long as it explains itself
        assert "forward" in str(error).lower(), (
            f"SoftmaxCrossEntropy.backward() before forward raised {type(error).__name__}: {error}. Say that "
            "forward must be called first (e.g. raise RuntimeError('... called before forward ...'))."
        )
    else:
        raise AssertionError("SoftmaxCrossEntropy.backward() before any forward returned a value; it should "
                             "raise an error saying that forward must be called first.")


N, C = 4, 7
GOOD_LOGITS = np.linspace(-1.0, 1.0, N * C).reshape(N, C)

# (case id, logits, labels, what is wrong, groups of words: the message must contain one word of each
#  group, advice)
BAD_INPUTS = [
    ("label_too_large", GOOD_LOGITS, np.array([0, 3, 9, 1]), "label 9 with 7 classes (valid: 0 to 6)",
     [["9"], ["6", "7"]], "labels index the classes, so each must be in [0, C)."),
    ("label_equal_to_c", GOOD_LOGITS, np.array([0, 7, 2, 1]), "label 7 with 7 classes (valid: 0 to 6)",
     [["7"], ["6"]], "labels index the classes, so each must be in [0, C): C itself is one too many."),
    ("negative_label", GOOD_LOGITS, np.array([0, -2, 2, 1]), "the negative label -2",
     [["-2", "negative"]], "NumPy reads a negative index from the end, so label -2 silently picks class "
                           "C - 2: reject negative labels explicitly."),
    ("labels_too_long", GOOD_LOGITS, np.array([0, 1, 2, 3, 4]), "5 labels for 4 rows of logits",
     [["shape", "length", "size", "(4,)", "5"]], "there must be exactly one label per row of logits."),
    ("labels_as_a_column", GOOD_LOGITS, np.array([[0], [1], [2], [3]]), "labels of shape (4, 1)",
     [["shape", "(4, 1)", "1-d", "(n,)"]], "labels must have shape (N,); a column (N, 1) broadcasts "
                                           "against arange(N) into an (N, N) table."),
    ("float_labels", GOOD_LOGITS, np.array([0.0, 1.0, 2.0, 3.0]), "float labels [0., 1., 2., 3.]",
     [["int", "float", "dtype", "type"]], "labels must be integers: a float label like 2.5 names no class."),
    ("logits_1d", GOOD_LOGITS[0], np.array([1]), "1-D logits of shape (7,)",
     [["2-d", "2d", "ndim", "dimension", "(n, c)", "shape"]], "logits must be (N, C), one row per sample."),
    ("logits_3d", GOOD_LOGITS.reshape(2, 2, C), np.array([1, 2]), "3-D logits of shape (2, 2, 7)",
     [["2-d", "2d", "ndim", "dimension", "(n, c)", "shape"]], "logits must be (N, C), one row per sample."),
]


@pytest.mark.parametrize("case", BAD_INPUTS, ids=[case[0] for case in BAD_INPUTS])
def test_cross_entropy_rejects_bad_inputs_with_a_value_error_saying_what_is_wrong(ex, case):
    _, logits, labels, problem, word_groups, advice = case
    loss = ex.SoftmaxCrossEntropy()
    try:
        value = loss.forward(logits.copy(), labels.copy())
    except ValueError as error:
        message = str(error).lower()
        missing = [group for group in word_groups if not any(word in message for word in group)]
        assert not missing, (
            f"SoftmaxCrossEntropy.forward with {problem} raised ValueError({str(error)!r}), which does not say "
            f"what is wrong: mention {' and '.join(' or '.join(repr(w) for w in g) for g in missing)}."
        )
    except NotImplementedError:
        raise
    except Exception as error:
        raise AssertionError(
            f"SoftmaxCrossEntropy.forward with {problem} raised {type(error).__name__} ({error}) instead of a "
            f"ValueError that says what is wrong: validate the inputs before using them. {advice}"
        ) from None
    else:
        raise AssertionError(
            f"SoftmaxCrossEntropy.forward with {problem} returned {value} instead of raising a ValueError "
            f"that says what is wrong. {advice}"
        )

"""Stretch exercise (regularization): inverted dropout (the L2 weight penalty: test_regularization_penalty.py).

Dropout is random, so a layer draws its masks from a generator of its own and the judge decides from the
raw outputs: statistics with tolerances derived from the sample size (five standard errors: a correct
layer fails about once in a million runs), and the exact facts that hold for every draw, checked against
the learner's own mask (survivors are x / (1 - p); backward is dL/dy * m / (1 - p) with the forward's m).
Another dropout (the reference's, which `make test` checks against PyTorch's) draws other random numbers,
so it is compared by statistics, not values. The L2 penalty is checked against the reference (which
`make test` checks against PyTorch's autograd) and finite differences. No closed form is written here as an
oracle: the learner's process could evaluate it.
"""

import numpy as np
import pytest

from grader.feedback import diagnose
from grader.feedback.checks import check_equal, check_raises, check_that, check_unchanged
from grader.feedback import oracle
from grader.feedback.oracle import check_close_ref
from helpers import own_rng, random_upstream

P = 0.3  # not 0.5, so "keeps with probability p" and "keeps with probability 1 - p" differ


def pytorch_dropout(x, p, training, grad_out=None):
    """PyTorch's F.dropout of x, or its dL/dx for grad_out (judge only; deterministic where these tests call it:
    eval mode, or p = 0)."""
    tx = oracle.torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    y = oracle.F.dropout(tx, p=p, training=training)
    if grad_out is None:
        return y.detach().numpy()
    y.backward(oracle.torch.tensor(np.asarray(grad_out, dtype=np.float64)))
    return tx.grad.numpy()


def five_standard_errors(p, n):
    """Tolerance for a fraction estimated from n Bernoulli(p) draws."""
    return 5.0 * np.sqrt(p * (1.0 - p) / n)


def check_close_given(what, observed, quantity, expected, *, alternatives=lambda observed: (), explain=None,
                      **options):
    """check_close for a quantity whose expected value depends on the learner's own random draw (a dropout
    mask): the judge computes quantity(observed), expected(observed) and alternatives(observed) from the
    raw observation, and compares them as check_close would. explain(observed) returns a sentence for a failure
    the comparison cannot see or describes less well (a missing return value, another mask, nothing kept: then
    the comparison of no entries would pass), else None."""
    __tracebackhide__ = True

    def comparison(value):
        return diagnose.compare(quantity(value), expected(value), alternatives=alternatives(value), **options)

    def message(value):
        try:
            return (explain(value) if explain is not None else None) or diagnose.describe(what, comparison(value))
        except Exception:  # noqa: BLE001 - a value of the wrong shape or type: say so plainly
            return f"{what}: your values have another shape or type than the input (got {value!r:.200})."

    check_that(what, observed, lambda value: comparison(value).ok and (explain is None or explain(value) is None),
               message)


def shape_of(value):
    return getattr(value, "shape", None)


@pytest.mark.fact
def test_dropout_rejects_drop_probabilities_outside_zero_to_one(ex):
    def built():
        try:
            ex.Dropout(0.0)
        except NotImplementedError:
            raise  # the stub: say so, not "raised NotImplementedError instead of ValueError"
        except Exception as error:  # noqa: BLE001 - the exception is what the check reports
            return f"{type(error).__name__}: {error}"[:300]
        return None

    check_equal("what Dropout(0.0) raised", built(), None,
                lambda error: f"Dropout(0.0) raised {error}: p = 0 is allowed (the identity).")
    for bad in (1.0, 1.5, -0.1):
        extra = (" With p = 1 every entry is dropped and the survivors would be divided by 1 - p = 0."
                 if bad == 1.0 else "")

        def message(outcome, bad=bad, extra=extra):
            raised = outcome.get("raised") if isinstance(outcome, dict) else None
            if raised:
                return (f"Dropout({bad}) raised {raised[0]} ({str(outcome.get('message', ''))[:200]}); expected "
                        f"ValueError: p must satisfy 0 <= p < 1.{extra}")
            return f"Dropout({bad}) did not raise ValueError: p must satisfy 0 <= p < 1.{extra}"

        check_raises(f"Dropout({bad})", ValueError, lambda bad=bad: ex.Dropout(bad), message=message)


def test_dropout_keeps_each_entry_with_probability_one_minus_p(ex):
    layer = ex.Dropout(P, rng=own_rng(1))
    x = np.ones((200, 500))
    tolerance = five_standard_errors(P, x.size)

    def kept(y):
        return float(np.mean(y != 0))

    def message(y):
        if shape_of(y) != x.shape:
            return f"Dropout.forward returned shape {shape_of(y)} for an input of shape {x.shape}: keep x's shape."
        if abs(kept(y) - P) <= tolerance:
            return (f"Dropout(p={P}) kept {kept(y):.3f} of the entries, which is p: it keeps each entry with "
                    "probability p. p is the probability of DROPPING an entry; keep where rng.random(shape) >= p.")
        kept_rows = np.asarray(y) != 0
        half = (" That is 1/2 whatever p: is the threshold hard-coded (0.5 instead of p)?"
                if abs(kept(y) - 0.5) <= five_standard_errors(0.5, x.size) else
                " Whole rows (samples) are kept or dropped together: draw one number per ENTRY, "
                "rng.random(x.shape), so that each entry is independent." if np.all(kept_rows == kept_rows[:, :1])
                else " Whole columns are kept or dropped together, the same mask for every sample: draw one number "
                "per ENTRY, rng.random(x.shape)." if np.all(kept_rows == kept_rows[:1]) else "")
        return (f"Dropout(p={P}) kept a fraction {kept(y):.4f} of {x.size} entries; expected 1 - p = {1 - P} "
                f"(+- {tolerance:.4f}, five standard errors). Draw one uniform number per entry and keep it when "
                f"the number is >= p.{half}")

    check_that(f"the fraction of entries Dropout(p={P}) keeps", layer.forward(x),
               lambda y: shape_of(y) == x.shape and abs(kept(y) - (1 - P)) <= tolerance, message)


def test_dropout_scales_the_survivors_by_one_over_one_minus_p(ex, rng):
    layer = ex.Dropout(P, rng=own_rng(2))
    x = rng.standard_normal((50, 40)) + 3.0  # no zeros, so a zero in y means "dropped"

    def explain(y):
        if shape_of(y) != x.shape:
            return f"Dropout.forward returned shape {shape_of(y)} for an input of shape {x.shape}: keep x's shape."
        if not np.any(y != 0):
            return f"Dropout(p={P}) dropped every entry of a 50 x 40 input."
        return None

    check_close_given("Dropout.forward on the kept entries", layer.forward(x), lambda y: y[y != 0],
                      lambda y: x[y != 0] / (1 - P), explain=explain, alternatives=lambda y: [
                          (x[y != 0], "x itself: the survivors are not scaled. Inverted dropout divides them by "
                                      "1 - p so that E[y] = x and eval mode needs no rescaling."),
                          (x[y != 0] / P, "x / p: divide the survivors by the keep probability 1 - p, not by p."),
                          (x[y != 0] * (1 - P), "x * (1 - p): that is the eval-time scaling of non-inverted "
                                                "dropout; inverted dropout divides the survivors by 1 - p in "
                                                "training mode."),
                          (x[y != 0] / np.mean(y != 0), "x divided by the observed fraction of kept entries: divide "
                                                        "by 1 - p, the keep probability, not by the empirical "
                                                        "fraction of this draw."),
                      ])


def test_dropout_preserves_the_expected_value(ex, rng):
    rows = 4000
    x0 = rng.uniform(0.5, 2.0, size=30) * rng.choice([-1.0, 1.0], size=30)
    layer = ex.Dropout(P, rng=own_rng(3))
    # y_i is x_i / (1 - p) with probability 1 - p, else 0: its standard deviation is |x_i| sqrt(p / (1 - p)).
    standard_error = np.abs(x0) * np.sqrt(P / (1 - P)) / np.sqrt(rows)

    def deviations(y):
        return np.abs(y.mean(axis=0) - x0) / standard_error

    def message(y):
        if shape_of(y) != (rows, x0.size):
            return f"Dropout.forward returned shape {shape_of(y)} for an input of shape {(rows, x0.size)}."
        mean = y.mean(axis=0)
        k = float(np.sum(mean * x0) / np.sum(x0 * x0))
        return (f"Dropout(p={P}): the average of y over {rows} draws is about {k:.3f} * x, expected x "
                f"(E[y] = x is what inverted dropout guarantees; largest deviation {deviations(y).max():.1f} "
                f"standard errors). {k:.2f} ~ 1 - p means the survivors are not divided by 1 - p; ~ p means the "
                "keep probability is p instead of 1 - p.")

    check_that(f"the average of Dropout(p={P}) over {rows} draws", layer.forward(np.tile(x0, (rows, 1))),
               lambda y: shape_of(y) == (rows, x0.size) and deviations(y).max() <= 5.0, message)


def test_dropout_in_eval_mode_is_the_identity(ex, rng):
    layer = ex.Dropout(P, rng=own_rng(4))
    layer.eval()
    x = rng.standard_normal((20, 30))
    grad_out = random_upstream(rng, x.shape)
    y = layer.forward(x)
    check_that("Dropout.forward in eval mode keeps every entry", y, lambda y: not np.any(y == 0),
               "Dropout.forward dropped entries after eval(): in eval mode (self.training is False) it must "
               "return x unchanged; dropping is for training only.")
    check_close_ref("Dropout.forward in eval mode", y, lambda: pytorch_dropout(x, P, False), alternatives=[
        (x * (1 - P), "x * (1 - p): with inverted dropout eval mode returns x unchanged."),
        (x / (1 - P), "x / (1 - p): with inverted dropout eval mode returns x unchanged (the identity); the "
                      "survivors are rescaled in training mode only.")])
    check_close_ref("Dropout.backward in eval mode", layer.backward(grad_out),
                    lambda: pytorch_dropout(x, P, False, grad_out), alternatives=[
                        (grad_out / (1 - P), "dL/dy / (1 - p): in eval mode dropout is the identity, so its "
                                             "gradient is dL/dy unchanged (no rescaling).")])
    layer.train()
    check_that("Dropout.forward after train()", layer.forward(x), lambda y: np.any(y == 0),
               "after train(), Dropout.forward dropped nothing: check self.training in forward.")


def test_dropout_with_p_zero_is_the_identity_in_training_mode(ex, rng):
    layer = ex.Dropout(0.0, rng=own_rng(5))
    x = rng.standard_normal((10, 10))
    grad_out = random_upstream(rng, x.shape)
    check_close_ref("Dropout(p=0).forward", layer.forward(x), lambda: pytorch_dropout(x, 0.0, True))
    check_close_ref("Dropout(p=0).backward", layer.backward(grad_out), lambda: pytorch_dropout(x, 0.0, True, grad_out))


def test_dropout_backward_uses_the_mask_of_the_forward_pass(ex, rng):
    layer = ex.Dropout(P, rng=own_rng(6))
    x = rng.standard_normal((40, 25)) + 4.0  # no zeros: y / x is the learner's own scaled mask
    grad_out = random_upstream(rng, x.shape)
    y = layer.forward(x)
    grad_x = layer.backward(grad_out)

    def explain(pair):
        y, grad_x = pair
        if grad_x is None:
            return "Dropout.backward returned None: return dL/dx = grad_out * mask."
        if shape_of(y) == x.shape and not np.any(y != 0):
            return f"Dropout(p={P}).forward dropped every entry of a 40 x 25 input."
        if shape_of(y) == x.shape and shape_of(grad_x) == x.shape and np.mean((grad_x == 0) != (y == 0)) > 0.05:
            return ("Dropout.backward zeroes other entries than forward dropped: backward must use the same mask "
                    "as the last forward (store it in forward), not draw a new one. A different mask "
                    "differentiates a different function from the one that produced the loss.")
        return None

    # The judge takes the mask from the learner's own forward output: dL/dx = dL/dy * (y / x).
    check_close_given("Dropout.backward (dL/dx, given the mask of your forward)", (y, grad_x), lambda pair: pair[1],
                      lambda pair: grad_out * (pair[0] / x), explain=explain, alternatives=lambda pair: [
                          (grad_out * (pair[0] != 0), "grad_out times the 0/1 mask: the gradient needs the same "
                                                      "1 / (1 - p) scale as the forward pass (dy/dx = m / (1 - p))."),
                          (grad_out * pair[0], "grad_out * y: multiply by the (scaled) mask, not by the output."),
                      ])


def test_dropout_is_reproducible_from_its_rng(ex, rng):
    x = rng.standard_normal((30, 30))
    outputs = [ex.Dropout(P, rng=np.random.default_rng(seed)).forward(x) for seed in (7, 7, 8)]
    check_that("Dropout outputs from generators of seeds 7, 7 and 8", outputs,
               lambda o: np.array_equal(o[0], o[1]) and not np.array_equal(o[0], o[2]),
               lambda o: ("Layers built with generators of seeds 7 and 8 dropped the same entries: the mask ignores "
                          "the layer's rng; a generator seeded anew with a fixed seed draws the same mask on every "
                          "call. " if np.array_equal(o[0], o[2]) else
                          "Two Dropout layers built with rng=np.random.default_rng(7) gave different masks: ")
               + "Draw the mask from the rng the layer was given (self.rng.random(x.shape)), not from np.random or "
                 "a new Generator.")
    layer = ex.Dropout(P, rng=own_rng(9))
    check_that("two forward calls of one Dropout layer", [layer.forward(x), layer.forward(x)],
               lambda pair: not np.array_equal(pair[0], pair[1]),
               "Two forward calls of one Dropout layer dropped the same entries: draw a new mask on every call.")


def test_dropout_draws_nothing_in_eval_mode_and_makes_its_own_generator(ex, rng):
    x = rng.standard_normal((20, 30)) + 4.0
    interrupted, plain = ex.Dropout(P, rng=np.random.default_rng(12)), ex.Dropout(P, rng=np.random.default_rng(12))
    interrupted.forward(x)
    plain.forward(x)
    interrupted.eval()
    interrupted.forward(x)  # an evaluation between two training steps, as fit makes after every epoch
    interrupted.train()
    check_that("the masks of the second training call, with and without an eval-mode call in between",
               [interrupted.forward(x) != 0, plain.forward(x) != 0], lambda pair: np.array_equal(pair[0], pair[1]),
               "an eval-mode forward between two training calls changed the next training mask: eval mode must "
               "return x without drawing from the generator (a draw made before checking self.training consumes "
               "it), so that evaluating does not change the training run.")

    def made(call):
        try:
            return float(np.mean(call() != 0))
        except Exception as error:  # noqa: BLE001 - the exception is what the check reports
            return f"{type(error).__name__}: {error}"[:300]

    kept = made(lambda: ex.Dropout(P).forward(np.ones((100, 100))))
    check_that(f"the fraction Dropout(p={P}) without rng keeps of 10000 entries", kept,
               lambda k: isinstance(k, float) and abs(k - (1 - P)) <= five_standard_errors(P, 10_000),
               lambda k: (f"Dropout(p={P}) made without rng raised {k}: when rng is None, make a fresh generator "
                          "(np.random.default_rng()), as the docstring says." if isinstance(k, str) else
                          f"Dropout(p={P}) made without rng kept {k:.3f} of the entries; expected 1 - p."))
    if isinstance(kept, float):
        check_that("the masks of two Dropout layers made without rng", [ex.Dropout(P).forward(x) != 0
                                                                         for _ in range(2)],
                   lambda pair: not np.array_equal(pair[0], pair[1]),
                   "two Dropout layers made without rng dropped the same entries: a fresh generator has no fixed "
                   "seed (np.random.default_rng(), not default_rng(0)), or every model would drop alike.")


def test_dropout_keeps_the_dtype_and_does_not_modify_its_arguments(ex, rng):
    layer = ex.Dropout(P, rng=own_rng(10))
    x = rng.standard_normal((16, 12)).astype(np.float32)
    grad_out = random_upstream(rng, x.shape).astype(np.float32)
    x_before, grad_before = x.copy(), grad_out.copy()
    y = layer.forward(x)
    grad_x = layer.backward(grad_out)
    check_unchanged("Dropout.forward", x_before, x)
    check_unchanged("Dropout.backward", grad_before, grad_out)

    def dtype(value):
        return getattr(value, "dtype", type(value).__name__)

    check_that("the dtypes of Dropout's output and input gradient for float32 input", (y, grad_x),
               lambda pair: dtype(pair[0]) == np.float32 and dtype(pair[1]) == np.float32,
               lambda pair: f"Dropout turned float32 into {dtype(pair[0])} (forward) / {dtype(pair[1])} (backward): "
                            "build the mask in x's dtype (mask.astype(x.dtype)), or float32 training silently "
                            "becomes float64.")
    check_close_given("Dropout.forward on the kept entries of a float32 input", y, lambda y: y[y != 0],
                      lambda y: x[y != 0] / np.float32(1 - P), explain=lambda y: None if shape_of(y) == x.shape and
                      np.any(y != 0) else f"Dropout.forward returned {shape_of(y)} for {x.shape}, or dropped all.")


_TORCH_DRAWS = {}


def torch_dropout(n):
    """PyTorch's dropout of n entries equal to 2, drawn once (judge only)."""
    torch = oracle.torch
    if n not in _TORCH_DRAWS:
        torch.manual_seed(11)
        _TORCH_DRAWS[n] = torch.nn.functional.dropout(torch.tensor(np.full(n, 2.0)), p=P, training=True).numpy()
    return _TORCH_DRAWS[n]


def test_dropout_statistics_match_pytorch(ex):
    n = 200_000
    ours = ex.Dropout(P, rng=own_rng(11)).forward(np.full(n, 2.0))
    tolerance = 5.0 * np.sqrt(2.0 * P * (1.0 - P) / n)

    # The judge's `ours` is the reference's draw: a sample as independent of the learner's as PyTorch's, whose
    # statistics `make test` checks it against, within the same tolerance.
    theirs_kept = oracle.expected(lambda: float(np.mean(ours != 0)), lambda: float(np.mean(torch_dropout(n) != 0)),
                                  atol=tolerance)
    survivors = oracle.expected(lambda: np.unique(ours[ours != 0]),
                                lambda: np.unique(torch_dropout(n)[torch_dropout(n) != 0]))

    check_that(f"the fraction of entries Dropout(p={P}) keeps, next to torch.nn.functional.dropout's", ours,
               lambda y: shape_of(y) == (n,) and abs(float(np.mean(y != 0)) - theirs_kept()) <= tolerance,
               lambda y: f"Dropout(p={P}) kept {float(np.mean(np.asarray(y) != 0)):.4f} of the entries, "
                         f"a correct one (like torch.nn.functional.dropout) {theirs_kept():.4f} (difference allowed "
                         f"{tolerance:.4f}): "
                         "p is the probability of dropping an entry.")
    check_close_given("the values Dropout gives the survivors of x = 2", ours, lambda y: np.unique(y[y != 0]),
                      lambda y: survivors())


def test_dropout_in_eval_mode_after_training_returns_x_unchanged(ex, rng):
    layer = ex.Dropout(P, rng=own_rng(6))
    x = rng.standard_normal((20, 30))
    grad_out = random_upstream(rng, x.shape)
    trained = layer.forward(x)  # a training call leaves a mask behind
    layer.eval()
    y = layer.forward(x)
    check_close_given("Dropout.backward in eval mode after a training call", (trained, layer.backward(grad_out)),
                      lambda pair: pair[1], lambda pair: grad_out, alternatives=lambda pair: [
                          (grad_out * (pair[0] / x), "dL/dy times the mask of the last training call: in eval mode "
                                                     "backward is the identity; forget the stale mask when forward "
                                                     "runs in eval mode.")])
    check_that("Dropout.forward in eval mode after a training call keeps every entry", y,
               lambda y: not np.any(y == 0),
               "Dropout.forward in eval mode dropped entries after a training call: in eval mode it must return x "
               "unchanged; the mask of the last training call is stale and must not be applied.")
    check_close_ref("Dropout.forward in eval mode after a training call", y, lambda: pytorch_dropout(x, P, False))

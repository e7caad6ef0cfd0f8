"""Exercise 8 (training), gradient norms and their health (the shared models and data are in test_training.py,
whose docstring says how these tests are judged).
"""

import numpy as np
import pytest

from grader.feedback.checks import check_equal, check_that
from grader.feedback.oracle import check_close_ref, torch
from test_training import blobs, mlp


# ----------------------------------------------------------------------------------------------------
# gradient norms and their health

def test_gradient_norms_are_the_frobenius_norm_of_each_gradient(ex, pkg, rng):
    model = mlp(pkg, rng)
    for p in model.parameters():
        p.grad[...] = rng.standard_normal(p.grad.shape)
    got = ex.gradient_norms(model)
    names = [name for name, _ in model.named_parameters()]
    keys = list(got) if isinstance(got, dict) else type(got).__name__
    check_equal("the keys of gradient_norms(model)", keys, names, lambda keys: (
        f"gradient_norms returned keys {keys}; expected a dict with the names of model.named_parameters(): "
        f"{names}."))
    for name, p in model.named_parameters():
        g = p.grad.copy()
        check_that(f"the type of gradient_norms()[{name!r}]", got[name], is_a_float,
                   lambda value: f"gradient_norms()[{name!r}] is {kind_of(value)}, not a float: convert it with "
                                 "float(...).")
        check_close_ref(f"gradient_norms()[{name!r}]", got[name], lambda g=g: torch.linalg.norm(torch.tensor(g)).item(),
                        alternatives=lambda g=g, p=p: [
                            (np.sum(g ** 2), "the squared norm: take the square root."),
                            (np.sqrt(np.mean(g ** 2)), "the root of the MEAN of the squares (the RMS): the norm is "
                                                       "the square root of the SUM of the squares of all entries."),
                            (np.mean(g ** 2), "the mean of the squares: the norm is the square root of the SUM of "
                                              "the squares of all entries."),
                            (np.linalg.norm(p.data), "the norm of the parameter's values p.data, not of its "
                                                     "gradient p.grad."),
                            (np.abs(g).sum(), "the sum of the absolute values (the L1 norm): the norm here is the "
                                              "Euclidean (L2, Frobenius) one, the square root of the sum of squares."),
                            (np.abs(g).max(), "the largest absolute value (the max norm): the norm here is the "
                                              "Euclidean (L2, Frobenius) one, the square root of the sum of squares.")]
                        + ([(np.linalg.norm(g, 2), "the spectral norm np.linalg.norm(g, 2), the largest singular value "
                                                   "of the matrix: np.linalg.norm(g) with no ord is the Frobenius "
                                                   "norm of all entries.")] if g.ndim == 2 else []))


def is_a_float(value):
    """A Python float, or a NumPy float64 scalar (a subclass of float; it arrives as a 0-d array)."""
    return isinstance(value, float) or (isinstance(value, np.ndarray) and value.shape == ()
                                        and value.dtype == np.float64)


def kind_of(value):
    if isinstance(value, np.ndarray):
        return f"a NumPy {value.dtype} scalar" if value.shape == () else f"an array of shape {value.shape}"
    return f"a {type(value).__name__}"


def backward_once(pkg, model, X, y):
    model.zero_grad()
    loss = pkg.losses.SoftmaxCrossEntropy()
    loss.forward(model.forward(X), y)
    model.backward(loss.backward())
    return {name: float(np.sqrt(np.sum(p.grad ** 2))) for name, p in model.named_parameters()}


def check_flags(what, warnings, norms, vanishing=1e-6, exploding=1e3):
    """The judged quantity behind the sentences: per name of `norms`, 3 if the warnings call it not finite,
    1 vanishing, 2 exploding, 0 unflagged, against the reference's (make test: against the docstring's rule,
    whose default thresholds are training.VANISHING and EXPLODING, applied by PyTorch in the judge)."""
    codes = np.array([3.0 if name in flagged(warnings, "not finite") else 1.0 if name in flagged(warnings, "vanishing")
                      else 2.0 if name in flagged(warnings, "exploding") else 0.0 for name in norms])

    def rule():
        n = torch.tensor([float(value) for value in norms.values()], dtype=torch.float64)
        flags = torch.where(n < vanishing, 1.0, torch.where(n > exploding, 2.0, 0.0).double())
        return torch.where(torch.isfinite(n), flags.double(), 3.0).numpy()

    check_close_ref(f"{what}: per parameter 3 if not finite, 1 if vanishing, 2 if exploding, else 0", codes, rule)


def misflagged(warnings, norms, vanishing, exploding):
    """Why a norm got a flag its value does not call for (from the norms and thresholds alone), or ''."""
    causes = []
    for name in flagged(warnings, "vanishing"):
        value = norms.get(name)
        if value is not None and np.isfinite(value) and vanishing <= value <= exploding:
            causes.append(f"{name} (norm {value:.3g}) lies between the thresholds yet was called vanishing: is the "
                          "vanishing test comparing with the wrong threshold (norm < exploding)?")
    for name in flagged(warnings, "exploding"):
        value = norms.get(name)
        if value is not None and np.isinf(value):
            causes.append(f"{name} (norm inf) was called exploding: an infinite norm is not finite too; np.isnan "
                          "is False for inf, so test np.isfinite(norm) first.")
        elif value is not None and np.isfinite(value) and value <= exploding:
            causes.append(f"{name} (norm {value:.3g}) is below the exploding threshold yet was called exploding: "
                          "a threshold swapped?")
    return (" " + " ".join(causes)) if causes else ""


def flagged(warnings, word):
    """The names at the start of the warnings that contain `word`."""
    if not isinstance(warnings, (list, tuple)):
        return []
    return [str(w).split(":")[0] for w in warnings if word in str(w)]


def test_gradient_health_flags_vanishing_gradients_in_a_deep_sigmoid_net(ex, pkg, rng):
    model = mlp(pkg, rng, sizes=(16,) + (32,) * 7 + (3,), activation="Sigmoid", std=0.01)
    X, y = blobs(rng, n=32, dim=16)
    norms = backward_once(pkg, model, X, y)
    warnings = ex.check_gradient_health(norms)
    check_that("check_gradient_health's warnings for an 8-layer sigmoid net with weights of std 0.01", warnings,
               lambda warnings: "0.W" in flagged(warnings, "vanishing"),
               lambda warnings: f"in an 8-layer sigmoid net with weights of std 0.01 the first layer's gradient "
                                f"norm is {norms['0.W']:.2g}, yet check_gradient_health flagged "
                                f"{flagged(warnings, 'vanishing') or 'nothing'} as vanishing (warnings: {warnings}).")
    last = list(norms)[-2]
    check_that("check_gradient_health's warnings for the last layer of that net", warnings,
               lambda warnings: last not in flagged(warnings, "vanishing"),
               lambda warnings: f"the last layer's gradient ({norms[last]:.2g}) is healthy but was flagged as "
                                "vanishing." + misflagged(warnings, norms, 1e-6, 1e3))
    check_flags("the warnings for that net", warnings, norms)


def test_gradient_health_flags_exploding_gradients_with_huge_weights_and_unscaled_inputs(ex, pkg, rng):
    model = mlp(pkg, rng, sizes=(16, 64, 64, 64, 3), std=3.0)
    X, y = blobs(rng, n=32, dim=16)
    norms = backward_once(pkg, model, 255.0 * X, y)  # pixels left in 0..255 instead of [0, 1]
    warnings = ex.check_gradient_health(norms)
    check_that("check_gradient_health's warnings for weights of std 3 and inputs times 255", warnings,
               lambda warnings: "0.W" in flagged(warnings, "exploding"),
               lambda warnings: f"with weights of std 3 and inputs times 255 the first layer's gradient norm is "
                                f"{norms['0.W']:.3g}, yet check_gradient_health flagged "
                                f"{flagged(warnings, 'exploding') or 'nothing'} as exploding (warnings: {warnings}).")
    check_flags("the warnings for that net", warnings, norms)


@pytest.mark.fact  # no warnings, which a stub returning [] gives too
def test_gradient_health_accepts_a_healthy_network(ex, pkg, rng):
    model = mlp(pkg, rng, sizes=(16, 64, 64, 3))
    X, y = blobs(rng, n=32, dim=16)
    norms = backward_once(pkg, model, X / np.abs(X).max(), y)
    warnings = ex.check_gradient_health(norms)
    check_that("check_gradient_health's warnings for a healthy network", warnings,
               lambda warnings: isinstance(warnings, list) and warnings == [],
               lambda warnings: f"a He-initialised ReLU net on inputs in [-1, 1] (norms {norms}) was flagged: "
                                f"{warnings}")


def test_gradient_health_uses_the_given_thresholds_and_flags_non_finite_norms(ex):
    norms = {"a": 0.5, "b": 5.0, "c": 50.0, "d": float("nan"), "e": float("inf")}
    warnings = ex.check_gradient_health(norms, vanishing=1.0, exploding=10.0)
    check_that("the type of check_gradient_health's result", warnings,
               lambda warnings: isinstance(warnings, list) and all(isinstance(w, str) for w in warnings),
               "check_gradient_health must return a list of strings.")
    check_that("the warnings that say 'not finite'", warnings,
               lambda warnings: flagged(warnings, "not finite") == ["d", "e"],
               lambda warnings: f"NaN and inf norms must be reported as 'not finite' (got {warnings}); NaN "
                                "compares False with every threshold, so test np.isfinite first."
                                + misflagged(warnings, norms, 1.0, 10.0))
    check_that("the warnings that say 'vanishing'", warnings,
               lambda warnings: flagged(warnings, "vanishing") == ["a"],
               lambda warnings: f"with vanishing=1.0, norms {norms} gave {warnings}."
                                + misflagged(warnings, norms, 1.0, 10.0))
    check_that("the warnings that say 'exploding'", warnings,
               lambda warnings: flagged(warnings, "exploding") == ["c"],
               lambda warnings: f"with exploding=10.0, norms {norms} gave {warnings}."
                                + misflagged(warnings, norms, 1.0, 10.0))
    check_flags("the warnings", warnings, norms, vanishing=1.0, exploding=10.0)


@pytest.mark.fact
def test_gradient_health_flags_an_exactly_zero_norm_as_vanishing(ex):
    warnings = ex.check_gradient_health({"dead": 0.0, "fine": 5.0}, vanishing=1.0, exploding=10.0)
    check_that("the warnings that say 'vanishing' for norms {'dead': 0.0, 'fine': 5.0}", warnings,
               lambda warnings: flagged(warnings, "vanishing") == ["dead"],
               lambda warnings: f"a gradient norm of exactly 0 gave {warnings}: 0 < vanishing, so it is vanishing "
                                "(a parameter that gets no gradient at all has stopped learning completely).")

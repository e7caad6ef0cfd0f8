"""Exercise 7 (optim): SGD (momentum, Nesterov, weight decay), and the machinery Adam's tests share
(test_optim_adam.py).

Expected updates come from the reference, run by the judge on the same float64 parameters and the same
random gradients, step by step; `make test` checks them against torch.optim.SGD and torch.optim.Adam
(grader/feedback/oracle.py). Each test compares the *change* each step
makes to the parameters, so a flipped sign or a missing factor shows up as such. The known-wrong
alternatives are simulated in this file, by the judge, from the textbook formulas with the mistake in
them.
"""

import inspect

import numpy as np
import pytest

from grader.feedback.checks import check_raises, check_that
from helpers import once
from grader.feedback import oracle
from grader.feedback.oracle import check_close_ref


SHAPES = [(3, 4), (5,)]  # two parameters: per-parameter state and a per-parameter step count show up
STEPS = 5


def make_params(pkg, rng, dtype=np.float64):
    return [pkg.layers.Parameter(rng.standard_normal(shape).astype(dtype)) for shape in SHAPES]


def gradient_sequence(rng, steps=STEPS, scale=1.0):
    return [[scale * rng.standard_normal(shape) for shape in SHAPES] for _ in range(steps)]


def torch_updates(torch_name, settings, w0, grads):
    """The change torch.optim.<torch_name> makes to each parameter at each step: [[delta per param]]."""
    torch = oracle.torch
    tensors = [torch.tensor(w.copy(), requires_grad=True) for w in w0]
    optimizer = getattr(torch.optim, torch_name)(tensors, **settings)
    deltas = []
    for step_grads in grads:
        before = [t.detach().clone() for t in tensors]
        for t, g in zip(tensors, step_grads):
            t.grad = torch.tensor(g)
        optimizer.step()
        deltas.append([(t.detach() - b).numpy() for t, b in zip(tensors, before)])
    return deltas


def run_updates(optimizer, params, grads):
    """Yield (step, [delta per param]) from the optimiser under test, setting p.grad in place (as
    zero_grad() followed by backward() does)."""
    for step, step_grads in enumerate(grads, start=1):
        before = [p.data.copy() for p in params]
        for p, g in zip(params, step_grads):
            p.grad[...] = g
        optimizer.step()
        yield step, [p.data - b for p, b in zip(params, before)]


def simulated_alternatives(simulation, mistakes, w0, grads, settings, step, param):
    """(wrong change, explanation) of parameter `param` at `step` for each named mistake in `mistakes` that
    `simulation` (sgd_simulation or adam_simulation) can tell apart from the correct update there: a
    mistake that happens to give the same change cannot be what went wrong, so it is not offered."""
    expected = simulation(w0, grads, **settings)
    alternatives = []
    candidates = [(simulation(w0, grads, mistake=mistake, **settings), explanation, True)
                  for mistake, explanation in mistakes.items()]
    candidates += [(simulation(w0, grads, **changed), explanation, False)
                   for changed, explanation in hyperparameter_slips(simulation, settings)]
    named_values = []
    for wrong, explanation, named in candidates:
        value = wrong[step - 1][param]
        # A slipped number that gives a named mistake's change says nothing more: the named mistake stands.
        if not np.allclose(value, expected[step - 1][param], rtol=1e-4, atol=1e-7) and (named or not any(
                np.allclose(value, known, rtol=1e-6, atol=1e-9) for known in named_values)):
            alternatives.append((value, explanation))
            named_values += [value] if named else []
    return alternatives


def hyperparameter_slips(simulation, settings):
    """(settings with one hyperparameter slipped, what it says): each number of the rule (lr, momentum, weight decay,
    each beta, eps; the defaults too) left out, squared, square-rooted or, for a number in (0, 1), its complement."""
    defaults = {name: p.default for name, p in inspect.signature(simulation).parameters.items()
                if p.default is not inspect.Parameter.empty and name != "mistake"}
    full = {**defaults, **settings}
    numbers = [(name, (name,), value) for name, value in full.items()
               if isinstance(value, float) and not isinstance(value, bool) and value]
    numbers += [(f"b{k + 1} (betas[{k}])", ("betas", k), b) for k, b in enumerate(full.get("betas", ())) if b]
    for name, where, value in numbers:
        for how, new in (("0 (left out)", 0.0), (f"{name}^2", value ** 2), (f"sqrt({name})", value ** 0.5)) + (
                ((f"1 - {name}", 1 - value),) if 0 < value < 1 else ()):
            changed = dict(full)
            if where[0] == "betas":
                betas = list(full["betas"])
                betas[where[1]] = new
                changed["betas"] = tuple(betas)
            else:
                changed[name] = new
            yield changed, (f"the update with {name} replaced by {how} = {new:.4g} where {name} = {value:g} belongs: "
                            f"check each place {name} enters the formula.")


def check_step_for_step(name, optimizer_class, simulation, mistakes, params, grads, settings):
    """Run `optimizer_class(params, **settings)` over `grads` and compare the change it makes to each
    parameter at each step with what torch.optim.<name> makes, offering the simulated mistakes as
    diagnoses (both computed by the judge)."""
    w0 = [p.data.copy() for p in params]
    expected = once(lambda: torch_updates(name, settings, w0, grads))
    optimizer = optimizer_class(params, **settings)
    for step, deltas in run_updates(optimizer, params, grads):
        for i, delta in enumerate(deltas):
            check_close_ref(f"{name}({settings_id(settings)}): the change of parameter {i} at step {step}", delta,
                            lambda step=step, i=i: expected()[step - 1][i],
                            given={"w (before the step)": params[i].data - delta, "the gradient g": grads[step - 1][i]},
                            alternatives=lambda step=step, i=i: simulated_alternatives(
                                simulation, mistakes, w0, grads, settings, step, i))


def check_rejects(name, optimizer_class, params, settings, why):
    """`settings` must make optimizer_class raise ValueError, as they make torch.optim.<name> do."""
    what = f"{name}({settings_id(settings)})"

    def message(outcome):
        raised = outcome.get("raised") if isinstance(outcome, dict) else None
        found = f"it raised {raised[0]} ({str(outcome.get('message', ''))[:200]})" if raised else "it did not"
        return f"{what} must raise ValueError, as torch.optim.{name} does ({why}); {found}."

    check_raises(what, ValueError, lambda: optimizer_class(params, **settings), message=message)


def settings_id(settings):
    return ",".join(f"{k}={v}" if v is not True else k for k, v in settings.items())


def float32_rounded(grads):
    """The gradients as a float32 parameter's p.grad holds them, back in float64 for the simulations."""
    return [[g.astype(np.float32).astype(np.float64) for g in step] for step in grads]


# ----------------------------------------------------------------------------------------------------
# SGD

def sgd_simulation(w0, grads, lr, momentum=0.0, nesterov=False, weight_decay=0.0, mistake=None):
    """Deltas of SGD written from the formulas, optionally with one named mistake."""
    w = [x.copy() for x in w0]
    v = [None] * len(w)
    shares_grad = [False] * len(w)  # "shared_velocity": v is the previous step's p.grad array itself
    deltas = []
    for step_grads in grads:
        step = []
        for i, grad in enumerate(step_grads):
            decay = {"decay_sign": -weight_decay, "decay_after_momentum": 0.0, "no_decay": 0.0,
                     "decay_halved": weight_decay / 2, "decay_times_lr": lr * weight_decay}.get(mistake, weight_decay)
            g = grad + {"decay_of_gradient": lambda: weight_decay * grad,
                        "decay_squared": lambda: weight_decay * w[i] ** 2,
                        "decay_l1": lambda: weight_decay * np.sign(w[i])}.get(mistake, lambda: decay * w[i])()
            if momentum and mistake != "no_momentum":
                if shares_grad[i]:
                    # backward wrote this step's gradient into the array the velocity is.
                    v[i], shares_grad[i] = grad.copy(), False
                if mistake in ("velocity_after_step", "velocity_after_step_from_g"):
                    if v[i] is None:
                        v[i] = np.zeros_like(g) if mistake == "velocity_after_step" else g.copy()
                    used = v[i]
                    v[i] = momentum * v[i] + g
                elif v[i] is None and mistake != "velocity_ones":
                    v[i] = g.copy()
                    shares_grad[i] = mistake == "shared_velocity" and decay == 0.0
                    used = v[i]
                else:
                    previous = np.ones_like(g) if v[i] is None else v[i]
                    v[i] = {"dampened": lambda: momentum * previous + (1 - momentum) * g,
                            "momentum_on_gradient": lambda: previous + momentum * g,
                            "velocity_never_decays": lambda: previous + g}.get(
                        mistake, lambda: momentum * previous + g)()
                    used = v[i]
                update = used
                if nesterov and mistake != "no_nesterov":
                    update = {"nesterov_without_g": momentum * used, "nesterov_without_mu": g + used,
                              "nesterov_g_for_v": g + momentum * g, "nesterov_v_for_g": used + momentum * used
                              }.get(mistake, g + momentum * used)
            else:
                update = g
            if mistake == "decay_after_momentum":
                update = update + weight_decay * w[i]
            delta = (1.0 if mistake == "uphill" else -1.0) * (lr * lr if mistake == "lr_twice" else lr) * update
            w[i] = w[i] + delta
            step.append(delta)
        deltas.append(step)
    return deltas


_VELOCITY_AFTER_STEP = ("the update made with the velocity of the previous step (the momentum buffer updated "
                        "after the step): first v = mu * v + g, then step with the new v (w -= lr * v).")

SGD_MISTAKES = {
    "decay_sign": "the update with the weight decay term subtracted from the gradient (g - wd * w): the "
                  "gradient of (wd / 2) ||w||^2 is + wd * w, which pulls weights towards zero.",
    "decay_after_momentum": "the update with weight decay added after the momentum (w -= lr * (v + wd * w)): "
                            "PyTorch adds wd * w to the gradient first, so it goes into the velocity.",
    "no_decay": "the update without weight decay: weight_decay was ignored here. Add weight_decay * w to the "
                "gradient in every case, plain SGD (momentum = 0) as well as with momentum.",
    "decay_of_gradient": "the update with weight_decay * g added to the gradient: the decay term is "
                         "weight_decay * w, the weights, not the gradient.",
    "decay_halved": "the update with the decay halved, (wd / 2) * w added to the gradient: the decay term is "
                    "weight_decay * w.",
    "decay_times_lr": "the update with lr * wd * w added to the gradient: the decay term is weight_decay * w, "
                      "the rate applies once, to the whole step.",
    "dampened": "the update with v = mu * v + (1 - mu) * g (an exponential moving average): PyTorch's SGD "
                "adds the full gradient, v = mu * v + g.",
    "momentum_on_gradient": "the update with v = v + mu * g: the momentum multiplies the gradient instead of "
                            "the velocity, so the velocity never decays. Write v = mu * v + g.",
    "velocity_never_decays": "the update with v = v + g: the velocity never decays. Write v = mu * v + g.",
    "velocity_ones": "the update with the velocity started at ones (np.ones_like): the first velocity is g "
                     "(or mu * 0 + g from zeros).",
    "no_nesterov": "plain momentum (w -= lr * v) although nesterov=True: Nesterov steps with g + mu * v.",
    "nesterov_without_g": "mu * v alone although nesterov=True: the gradient term g is missing; Nesterov "
                          "steps with g + mu * v.",
    "nesterov_without_mu": "g + v although nesterov=True: the momentum factor is missing; Nesterov steps "
                           "with g + mu * v.",
    "no_momentum": "plain gradient descent (w -= lr * g): the momentum was ignored; keep a velocity "
                   "v = mu * v + g per parameter and step with it.",
    "velocity_after_step": _VELOCITY_AFTER_STEP,
    "velocity_after_step_from_g": _VELOCITY_AFTER_STEP,
    "shared_velocity": "the update whose first velocity is the array p.grad itself (v = g without .copy()): "
                       "the next backward pass writes the new gradient into that array, so the velocity "
                       "forgets the first step. Start with v = g.copy().",
    "uphill": "the update with the opposite sign: the step was added to the weights (w += lr * update), "
              "which goes uphill; gradient descent subtracts it (w -= lr * update).",
    "lr_twice": "the update multiplied by lr twice (lr^2): the rate applies once, w -= lr * update.",
    "nesterov_g_for_v": "g + mu * g although nesterov=True: the look-ahead term is the velocity, g + mu * v.",
    "nesterov_v_for_g": "v + mu * v although nesterov=True: the first term is this step's gradient, g + mu * v.",
    "decay_squared": "the update with weight_decay * w^2 added to the gradient: the gradient of (wd / 2) w^2 is "
                     "wd * w, not squared.",
    "decay_l1": "the update with weight_decay * sign(w) added to the gradient: that is L1 decay; L2 adds wd * w.",
}


SGD_SETTINGS = [
    dict(lr=0.1),
    dict(lr=0.05, weight_decay=0.13),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.1, momentum=0.9, weight_decay=0.03),
    dict(lr=0.1, momentum=0.9, nesterov=True),
    dict(lr=0.2, momentum=0.5, nesterov=True, weight_decay=0.07),
]  # no hyperparameter a simple multiple (2x, 1/2, 1 - x) of another: a mistake swapping them cannot pass unseen


@pytest.mark.part("sgd")
@pytest.mark.parametrize("settings", SGD_SETTINGS, ids=settings_id)
def test_sgd_matches_pytorch_step_for_step(ex, pkg, rng, settings):
    params = make_params(pkg, rng)
    grads = gradient_sequence(rng)
    check_step_for_step("SGD", ex.SGD, sgd_simulation, SGD_MISTAKES, params, grads, settings)


@pytest.mark.part("sgd")
def test_sgd_without_momentum_moves_against_the_gradient_by_lr(ex, pkg, rng):
    params = make_params(pkg, rng)
    grads = gradient_sequence(rng, steps=1)
    w0 = [p.data.copy() for p in params]
    optimizer = ex.SGD(params, lr=0.1)
    for _, deltas in run_updates(optimizer, params, grads):
        for i, (delta, g) in enumerate(zip(deltas, grads[0])):
            check_close_ref(f"SGD(lr=0.1): the change of parameter {i}", delta,
                            lambda i=i: torch_updates("SGD", dict(lr=0.1), w0, grads)[0][i],
                            alternatives=lambda g=g: [(-g, "-g: the learning rate was not applied (w -= lr * g).")])


@pytest.mark.part("sgd")
def test_sgd_updates_parameters_in_place_and_keeps_their_dtype(ex, pkg, rng):
    settings = dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)
    params = make_params(pkg, rng, dtype=np.float32)
    w0 = [p.data.astype(np.float64) for p in params]
    held = [p.data for p in params]  # a layer holds exactly these arrays
    grads = gradient_sequence(rng, steps=2)
    optimizer = ex.SGD(params, **settings)
    for _ in run_updates(optimizer, params, grads):
        pass
    after = once(lambda: torch_updates("SGD", settings, w0, float32_rounded(grads)))
    for i, (p, array) in enumerate(zip(params, held)):
        check_close_ref(f"the array that was parameter {i}'s p.data before two SGD steps", array,
                        lambda i=i: w0[i] + after()[0][i] + after()[1][i], rtol=1e-4, atol=1e-5,
                        alternatives=lambda i=i: [(w0[i], (
                            "the values before the steps: SGD.step replaced p.data by a new array. Update it in "
                            "place (p.data -= lr * update): everything holding the original array (a view, a tied "
                            "weight, code that kept w = layer.W.data) would never see the new values."))])
        check_that(f"parameter {i}'s p.data after two SGD steps", p.data,
                   lambda data: data.dtype == np.float32,
                   lambda data: f"after SGD.step a float32 parameter became {getattr(data, 'dtype', data)}: keep "
                                "the parameter's dtype (an in-place update does).")


@pytest.mark.part("sgd")
@pytest.mark.parametrize("settings", [dict(lr=0.1, momentum=0.9),
                                      dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.07)],
                         ids=settings_id)
def test_sgd_never_changes_the_gradients(ex, pkg, rng, settings):
    params = make_params(pkg, rng)
    optimizer = ex.SGD(params, **settings)
    for step, step_grads in enumerate(gradient_sequence(rng, steps=3), start=1):
        for p, g in zip(params, step_grads):
            p.grad[...] = g  # in place, like zero_grad() followed by backward()
        before = [p.grad.copy() for p in params]
        optimizer.step()
        for i, (p, b) in enumerate(zip(params, before)):
            check_that(f"p.grad of parameter {i} after SGD({settings_id(settings)}) step {step}", p.grad,
                       lambda grad, b=b: np.array_equal(grad, b),
                       f"SGD({settings_id(settings)}).step changed p.grad of parameter {i}: p.grad must stay "
                       "dL/dw. Keep the velocity in its own array (v = g.copy() on the first step, else it "
                       "shares memory with p.grad) and add weight decay into a new array (g = g + wd * w).")


@pytest.mark.part("sgd")
def test_sgd_zero_grad_clears_every_gradient_in_place(ex, pkg, rng):
    params = make_params(pkg, rng)
    held = [p.grad for p in params]
    for g in held:
        g[...] = 1.0
    held[1][:2] = np.nan, np.inf  # what a diverged step leaves: zero_grad must clear it too
    optimizer = ex.SGD(params, lr=0.1)
    optimizer.zero_grad()
    for i, (p, g) in enumerate(zip(params, held)):
        def message(grad, i=i):
            kept = "" if not isinstance(grad, np.ndarray) or np.all(np.isfinite(grad)) else (
                " It still holds NaN or inf, as p.grad *= 0 leaves them (nan * 0 = nan): assign the zeros.")
            return (f"after zero_grad() the gradient array of parameter {i} is not all zeros: clear it in place "
                    f"(p.grad[...] = 0), so every reference to that array sees the zeros.{kept}")
        check_that(f"p.grad of parameter {i} after zero_grad()", p.grad, lambda grad: not np.any(grad), message)
        check_that(f"the array that was p.grad of parameter {i} before zero_grad()", g,
                   lambda grad: not np.any(grad), message)
    # Then a backward pass adds into the cleared arrays and a step follows: it moves by -lr times that gradient.
    grads = gradient_sequence(rng, steps=1)[0]
    before = [p.data.copy() for p in params]
    for g, new in zip(held, grads):
        g += new
    optimizer.step()
    check_close_ref("the change of parameter 0 at a step of SGD(lr=0.1) after zero_grad()", params[0].data - before[0],
                    lambda: torch_updates("SGD", dict(lr=0.1), before, [grads])[0][0],
                    alternatives=lambda: [(-0.1 * (grads[0] + 1.0), (
                        "-lr (g + 1): the gradient of 1 from before zero_grad() was still there."))])


@pytest.mark.part("sgd")
def test_sgd_accepts_a_generator_of_parameters(ex, pkg, rng):
    params = make_params(pkg, rng)
    w0 = [p.data.copy() for p in params]
    optimizer = ex.SGD((p for p in params), lr=0.1)
    grads = gradient_sequence(rng, steps=2)
    changes = [deltas[0] for _, deltas in run_updates(optimizer, params, grads)]
    check_close_ref("the change of parameter 0 at the second step of SGD(lr=0.1) built from a generator",
                    changes[1], lambda: torch_updates("SGD", dict(lr=0.1), w0, grads)[1][0],
                    alternatives=lambda: [(np.zeros(SHAPES[0]), (
                        "zero: the second SGD.step moved nothing. Keep list(params); a generator such as "
                        "model.parameters() given as (p for p in ...) is empty after the first pass."))])


@pytest.mark.fact
@pytest.mark.part("sgd")
@pytest.mark.parametrize("settings", [dict(lr=-0.1), dict(lr=0.1, momentum=-0.5),
                                      dict(lr=0.1, weight_decay=-1.0), dict(lr=0.1, nesterov=True)],
                         ids=settings_id)
def test_sgd_rejects_invalid_settings_like_pytorch(ex, pkg, rng, settings):
    check_rejects("SGD", ex.SGD, make_params(pkg, rng), settings,
                  "a negative rate or decay, or Nesterov without momentum, is a mistake to report")


@pytest.mark.fact
@pytest.mark.part("sgd")
def test_sgd_rejects_an_empty_parameter_list(ex):
    check_raises("SGD([], lr=0.1)", ValueError, lambda: ex.SGD([], lr=0.1), message=lambda outcome: (
        "SGD([], lr=0.1) must raise ValueError, as torch.optim.SGD does: the docstring of Optimizer rejects an empty "
        "parameter list (a model without parameters, or a generator already used up, is a mistake to report)."))


def accepted(call) -> str:
    """'accepted', or the ValueError that `call` raised (settings the docstring allows must not raise)."""
    try:
        call()
    except ValueError as error:
        return f"ValueError: {error}"
    return "accepted"


@pytest.mark.fact
@pytest.mark.part("sgd")
def test_sgd_accepts_a_learning_rate_and_momentum_of_zero(ex, pkg, rng):
    from grader.feedback.checks import check_equal

    for settings in (dict(lr=0.0), dict(lr=0.1, momentum=0.0)):
        what = f"SGD({settings_id(settings)})"
        check_equal(what, accepted(lambda: ex.SGD(make_params(pkg, rng), **settings)), "accepted",
                    lambda got, what=what: f"{what} raised {got}: the docstring rejects only lr < 0 and momentum "
                                           "< 0; a rate of 0 (the end of a schedule) or no momentum is valid.")

"""Exercise 7 (optim): SGD (momentum, Nesterov, weight decay) and Adam.

Expected updates come from torch.optim.SGD and torch.optim.Adam, run here on the same float64
parameters and the same random gradients, step by step. Each test compares the *change* each step
makes to the parameters, so a flipped sign or a missing factor shows up as such. The known-wrong
alternatives are simulated in this file from the textbook formulas with the mistake in them.
"""

import numpy as np
import pytest
import torch

from grader.feedback.diagnose import check_close
from helpers import assert_unchanged

SHAPES = [(3, 4), (5,)]
STEPS = 5


def make_params(pkg, rng, dtype=np.float64):
    return [pkg.layers.Parameter(rng.standard_normal(shape).astype(dtype)) for shape in SHAPES]


def gradient_sequence(rng, steps=STEPS, scale=1.0):
    return [[scale * rng.standard_normal(shape) for shape in SHAPES] for _ in range(steps)]


def torch_updates(make_optimizer, params, grads):
    """The change PyTorch's optimiser makes to each parameter at each step: [[delta per param]]."""
    tensors = [torch.tensor(p.data.copy(), requires_grad=True) for p in params]
    optimizer = make_optimizer(tensors)
    deltas = []
    for step_grads in grads:
        before = [t.detach().clone() for t in tensors]
        for t, g in zip(tensors, step_grads):
            t.grad = torch.tensor(g)
        optimizer.step()
        deltas.append([(t.detach() - b).numpy() for t, b in zip(tensors, before)])
    return deltas


def run_updates(optimizer, params, grads):
    """Yield (step, [delta per param]) from the optimiser under test, setting p.grad in place."""
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
    for mistake, explanation in mistakes.items():
        wrong = simulation(w0, grads, mistake=mistake, **settings)
        if not np.allclose(wrong[step - 1][param], expected[step - 1][param], rtol=1e-4, atol=1e-7):
            alternatives.append((wrong[step - 1][param], explanation))
    return alternatives


def check_step_for_step(name, optimizer_class, torch_class, simulation, mistakes, params, grads, settings):
    """Run `optimizer_class(params, **settings)` over `grads` and compare the change it makes to each
    parameter at each step with what `torch_class` makes, offering the simulated mistakes as diagnoses."""
    w0 = [p.data.copy() for p in params]
    expected = torch_updates(lambda ts: torch_class(ts, **settings), params, grads)
    optimizer = optimizer_class(params, **settings)
    for step, deltas in run_updates(optimizer, params, grads):
        for i, delta in enumerate(deltas):
            check_close(f"{name}({settings_id(settings)}): the change of parameter {i} at step {step}", delta,
                        expected[step - 1][i],
                        alternatives=simulated_alternatives(simulation, mistakes, w0, grads, settings, step, i))


def check_rejects_like_pytorch(name, optimizer_class, torch_class, params, settings, why):
    """`settings` must make optimizer_class raise ValueError, as they make torch_class do (checked first,
    so that a setting PyTorch accepts is never demanded to be refused)."""
    with pytest.raises(ValueError):
        torch_class([torch.zeros(2, requires_grad=True)], **settings)
    try:
        optimizer_class(params, **settings)
    except ValueError:
        return
    raise AssertionError(f"{name}({settings_id(settings)}) must raise ValueError, as torch.optim.{name} does "
                         f"({why}).")


def sgd_simulation(w0, grads, lr, momentum=0.0, nesterov=False, weight_decay=0.0, mistake=None):
    """Deltas of SGD written from the formulas, optionally with one named mistake."""
    w = [x.copy() for x in w0]
    v = [None] * len(w)
    deltas = []
    for step_grads in grads:
        step = []
        for i, grad in enumerate(step_grads):
            sign = -1.0 if mistake == "decay_sign" else 1.0
            decay = 0.0 if mistake in ("decay_after_momentum", "no_decay") else weight_decay
            g = grad + sign * decay * w[i]
            if momentum and mistake != "no_momentum":
                if v[i] is None:
                    v[i] = g.copy()
                else:
                    v[i] = momentum * v[i] + ((1 - momentum) * g if mistake == "dampened" else g)
                update = g + momentum * v[i] if nesterov and mistake != "no_nesterov" else v[i]
            else:
                update = g
            if mistake == "decay_after_momentum":
                update = update + weight_decay * w[i]
            delta = -lr * update
            w[i] = w[i] + delta
            step.append(delta)
        deltas.append(step)
    return deltas


SGD_MISTAKES = {
    "decay_sign": "the update with the weight decay term subtracted from the gradient (g - wd * w): the "
                  "gradient of (wd / 2) ||w||^2 is + wd * w, which pulls weights towards zero.",
    "decay_after_momentum": "the update with weight decay added after the momentum (w -= lr * (v + wd * w)): "
                            "PyTorch adds wd * w to the gradient first, so it goes into the velocity.",
    "no_decay": "the update without weight decay: add weight_decay * w to the gradient.",
    "dampened": "the update with v = mu * v + (1 - mu) * g (an exponential moving average): PyTorch's SGD "
                "adds the full gradient, v = mu * v + g.",
    "no_nesterov": "plain momentum (w -= lr * v) although nesterov=True: Nesterov steps with g + mu * v.",
    "no_momentum": "plain gradient descent (w -= lr * g): the momentum was ignored; keep a velocity "
                   "v = mu * v + g per parameter and step with it.",
}


SGD_SETTINGS = [
    dict(lr=0.1),
    dict(lr=0.05, weight_decay=0.1),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.1, momentum=0.9, weight_decay=0.05),
    dict(lr=0.1, momentum=0.9, nesterov=True),
    dict(lr=0.2, momentum=0.5, nesterov=True, weight_decay=0.1),
]


def settings_id(settings):
    return ",".join(f"{k}={v}" if v is not True else k for k, v in settings.items())


@pytest.mark.parametrize("settings", SGD_SETTINGS, ids=settings_id)
def test_sgd_matches_pytorch_step_for_step(ex, pkg, rng, settings):
    params = make_params(pkg, rng)
    grads = gradient_sequence(rng)
    check_step_for_step("SGD", ex.SGD, torch.optim.SGD, sgd_simulation, SGD_MISTAKES, params, grads, settings)


def test_sgd_without_momentum_moves_against_the_gradient_by_lr(ex, pkg, rng):
    params = make_params(pkg, rng)
    grads = gradient_sequence(rng, steps=1)
    optimizer = ex.SGD(params, lr=0.1)
    for _, deltas in run_updates(optimizer, params, grads):
        for i, (delta, g) in enumerate(zip(deltas, grads[0])):
            check_close(f"SGD(lr=0.1): the change of parameter {i}", delta, -0.1 * g,
                        alternatives=[(-g, "-g: the learning rate was not applied (w -= lr * g).")])


def test_sgd_updates_parameters_in_place_and_keeps_their_dtype(ex, pkg, rng):
    params = make_params(pkg, rng, dtype=np.float32)
    held = [p.data for p in params]  # a layer holds exactly these arrays
    optimizer = ex.SGD(params, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)
    for _ in run_updates(optimizer, params, gradient_sequence(rng, steps=2)):
        pass
    for i, (p, array) in enumerate(zip(params, held)):
        assert p.data is array, (
            f"SGD.step replaced parameter {i}'s p.data by a new array: update it in place "
            "(p.data -= lr * update): everything holding the original array (a view, a tied weight, code "
            "that kept w = layer.W.data) would never see the new values."
        )
        assert p.data.dtype == np.float32, (
            f"after SGD.step a float32 parameter became {p.data.dtype}: keep the parameter's dtype (an "
            "in-place update does)."
        )


@pytest.mark.parametrize("settings", [dict(lr=0.1, momentum=0.9),
                                      dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)],
                         ids=settings_id)
def test_sgd_never_changes_the_gradients(ex, pkg, rng, settings):
    params = make_params(pkg, rng)
    optimizer = ex.SGD(params, **settings)
    for step_grads in gradient_sequence(rng, steps=3):
        for p, g in zip(params, step_grads):
            p.grad[...] = g  # in place, like zero_grad() followed by backward()
        before = [p.grad.copy() for p in params]
        optimizer.step()
        for i, (p, b) in enumerate(zip(params, before)):
            if not np.array_equal(p.grad, b):
                raise AssertionError(
                    f"SGD({settings_id(settings)}).step changed p.grad of parameter {i}: p.grad must stay "
                    "dL/dw. Keep the velocity in its own array (v = g.copy() on the first step, else it "
                    "shares memory with p.grad) and add weight decay into a new array (g = g + wd * w)."
                )


def test_sgd_zero_grad_clears_every_gradient_in_place(ex, pkg, rng):
    params = make_params(pkg, rng)
    held = [p.grad for p in params]
    for g in held:
        g[...] = 1.0
    ex.SGD(params, lr=0.1).zero_grad()
    for i, (p, g) in enumerate(zip(params, held)):
        assert not np.any(p.grad) and not np.any(g), (
            f"after zero_grad() the gradient array of parameter {i} is not all zeros: clear it in place "
            "(p.grad[...] = 0), so every reference to that array sees the zeros."
        )


def test_sgd_accepts_a_generator_of_parameters(ex, pkg, rng):
    params = make_params(pkg, rng)
    optimizer = ex.SGD((p for p in params), lr=0.1)
    grads = gradient_sequence(rng, steps=2)
    moved = [sum(np.abs(d).sum() for d in deltas) for _, deltas in run_updates(optimizer, params, grads)]
    assert moved[1] > 0, ("the second SGD.step moved nothing: keep list(params); a generator such as "
                          "model.parameters() given as (p for p in ...) is empty after the first pass.")


def test_sgd_reads_the_learning_rate_from_its_lr_attribute_at_every_step(ex, pkg, rng):
    params = make_params(pkg, rng)
    grads = gradient_sequence(rng, steps=2)
    optimizer = ex.SGD(params, lr=0.1)
    for step, deltas in run_updates(optimizer, params, grads):
        if step == 1:
            optimizer.lr = 0.01  # what a learning-rate schedule does between epochs
            continue
        check_close("the change of parameter 0 at step 2, after setting optimizer.lr = 0.01", deltas[0],
                    -0.01 * grads[1][0],
                    alternatives=[(-0.1 * grads[1][0], "a step with the old rate 0.1: keep the rate in self.lr "
                                                       "and read self.lr in step(), so schedules can change it.")])


@pytest.mark.parametrize("settings", [dict(lr=-0.1), dict(lr=0.1, momentum=-0.5),
                                      dict(lr=0.1, weight_decay=-1.0), dict(lr=0.1, nesterov=True)],
                         ids=settings_id)
def test_sgd_rejects_invalid_settings_like_pytorch(ex, pkg, rng, settings):
    check_rejects_like_pytorch("SGD", ex.SGD, torch.optim.SGD, make_params(pkg, rng), settings,
                               "a negative rate or decay, or Nesterov without momentum, is a mistake to report")


def adam_simulation(w0, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, mistake=None):
    """Deltas of Adam written from the formulas, optionally with one named mistake."""
    b1, b2 = betas
    w = [x.copy() for x in w0]
    m = [np.zeros_like(x) for x in w0]
    v = [np.zeros_like(x) for x in w0]
    deltas = []
    for t, step_grads in enumerate(grads, start=1):
        step = []
        for i, grad in enumerate(step_grads):
            decoupled = mistake == "decoupled"
            g = grad if decoupled else grad + weight_decay * w[i]
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            if mistake == "no_correction":
                m_hat, v_hat = m[i], v[i]
            else:
                m_hat, v_hat = m[i] / (1 - b1 ** t), v[i] / (1 - b2 ** t)
            if mistake == "eps_inside":
                delta = -lr * m_hat / np.sqrt(v_hat + eps)
            elif mistake == "no_sqrt":
                delta = -lr * m_hat / (v_hat + eps)
            else:
                delta = -lr * m_hat / (np.sqrt(v_hat) + eps)
            if decoupled:
                delta = delta - lr * weight_decay * w[i]
            w[i] = w[i] + delta
            step.append(delta)
        deltas.append(step)
    return deltas


ADAM_MISTAKES = {
    "no_correction": "the update without bias correction: divide m by (1 - b1^t) and v by (1 - b2^t); "
                     "both start at zero, so early averages are too small.",
    "eps_inside": "lr * m_hat / sqrt(v_hat + eps): eps goes outside the square root, "
                  "lr * m_hat / (sqrt(v_hat) + eps).",
    "no_sqrt": "lr * m_hat / (v_hat + eps), without the square root of v_hat.",
    "decoupled": "AdamW's decoupled weight decay (w -= lr * wd * w apart from the moments): Adam's "
                 "weight_decay adds wd * w to the gradient before the moments are updated.",
}


ADAM_SETTINGS = [
    dict(lr=0.01),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.05, eps=0.1),
    dict(lr=0.02, betas=(0.8, 0.99), weight_decay=0.01),
]


@pytest.mark.parametrize("settings", ADAM_SETTINGS, ids=settings_id)
def test_adam_matches_pytorch_step_for_step(ex, pkg, rng, settings):
    params = make_params(pkg, rng)
    # Small gradients so that eps matters where the settings make it large.
    grads = gradient_sequence(rng, scale=0.1)
    check_step_for_step("Adam", ex.Adam, torch.optim.Adam, adam_simulation, ADAM_MISTAKES, params, grads,
                        settings)


def test_adam_first_step_moves_every_weight_by_about_lr(ex, pkg, rng):
    # At t = 1, m_hat = g and v_hat = g^2 exactly, so the step is -lr * g / (|g| + eps): about -lr sign(g).
    params = make_params(pkg, rng)
    grads = gradient_sequence(rng, steps=1)
    w0 = [p.data.copy() for p in params]
    optimizer = ex.Adam(params, lr=0.01)
    for _, deltas in run_updates(optimizer, params, grads):
        for i, (delta, g) in enumerate(zip(deltas, grads[0])):
            check_close(f"Adam(lr=0.01): the change of parameter {i} at the first step", delta,
                        -0.01 * g / (np.abs(g) + 1e-8),
                        alternatives=simulated_alternatives(adam_simulation, ADAM_MISTAKES, w0, grads,
                                                            dict(lr=0.01), 1, i))


def test_adam_updates_in_place_and_never_changes_the_gradients(ex, pkg, rng):
    params = make_params(pkg, rng, dtype=np.float32)
    held = [p.data for p in params]
    optimizer = ex.Adam(params, lr=0.01, weight_decay=0.1)
    for step_grads in gradient_sequence(rng, steps=3):
        for p, g in zip(params, step_grads):
            p.grad[...] = g
        before = [p.grad.copy() for p in params]
        optimizer.step()
        for i, (p, b) in enumerate(zip(params, before)):
            assert_unchanged(f"Adam.step (p.grad of parameter {i})", b, p.grad)
    for i, (p, array) in enumerate(zip(params, held)):
        assert p.data is array, (f"Adam.step replaced parameter {i}'s p.data by a new array: update it in "
                                 "place (p.data -= ...), so every reference to the array sees the new values.")
        assert p.data.dtype == np.float32, f"Adam.step turned a float32 parameter into {p.data.dtype}."


@pytest.mark.parametrize("settings", [dict(lr=-0.1), dict(lr=0.1, eps=-1e-8), dict(lr=0.1, betas=(1.0, 0.999)),
                                      dict(lr=0.1, betas=(0.9, -0.1)), dict(lr=0.1, weight_decay=-1.0)],
                         ids=settings_id)
def test_adam_rejects_invalid_settings_like_pytorch(ex, pkg, rng, settings):
    check_rejects_like_pytorch("Adam", ex.Adam, torch.optim.Adam, make_params(pkg, rng), settings,
                               "betas must lie in [0, 1); lr, eps and weight decay must not be negative")

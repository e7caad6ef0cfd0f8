"""Exercise 7 (optim), Adam: step for step against torch.optim.Adam, with its known mistakes simulated by the
judge (the shared machinery, and SGD, are in test_optim.py).
"""

import numpy as np
import pytest

from grader.feedback.checks import check_that, check_unchanged
from grader.feedback.oracle import check_close_ref
from helpers import once
from test_optim import (check_rejects, check_step_for_step, float32_rounded, gradient_sequence, make_params,
                        run_updates, settings_id, simulated_alternatives, torch_updates)


# ----------------------------------------------------------------------------------------------------
# Adam

def adam_simulation(w0, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, mistake=None):
    """Deltas of Adam written from the formulas, optionally with one named mistake (a slip of one term: a
    factor or a beta swapped, a state started at ones, a correction or a decay written another way)."""
    b1, b2 = betas[::-1] if mistake == "betas_swapped" else betas
    w = [x.copy() for x in w0]
    m = [np.full_like(x, mistake == "m_ones") for x in w0]
    v = [np.full_like(x, mistake == "v_ones") for x in w0]
    deltas = []
    for step_count, step_grads in enumerate(grads, start=1):
        step = []
        for i, grad in enumerate(step_grads):
            # "counter_per_param": t += 1 inside the loop over parameters, so it counts parameters.
            t = (step_count - 1) * len(w0) + i + 1 if mistake == "counter_per_param" else 1 if mistake == "t_stuck" \
                else step_count + 1 if mistake == "t_plus_one" else step_count
            decay = {"decoupled": 0.0, "decay_halved": weight_decay / 2, "decay_times_lr": lr * weight_decay,
                     "decay_sign": -weight_decay}.get(mistake, weight_decay)
            g = grad + decay * w[i]
            m[i] = (0.0 if mistake == "m_forgets" else b1) * m[i] + (1 - (b2 if mistake == "m_weight_b2" else b1)) * g
            g2 = {"v_from_m": m[i] * m[i], "v_without_decay": grad * grad, "v_of_abs": np.abs(g)}.get(mistake, g * g)
            v[i] = (0.0 if mistake == "v_forgets" else b2) * v[i] + (1.0 if mistake == "v_no_weight" else 1 - b2) * g2
            c1, c2 = {"no_correction": (1.0, 1.0), "correction_precedence": ((1 - b1) ** t, (1 - b2) ** t),
                      "m_correction_precedence": ((1 - b1) ** t, 1 - b2 ** t),
                      "only_m_corrected": (1 - b1 ** t, 1.0), "corrections_swapped": (1 - b2 ** t, 1 - b1 ** t)
                      }.get(mistake, (1 - b1 ** t, 1 - b2 ** t))
            m_hat, v_hat = m[i] / c1, v[i] / c2
            if mistake == "corrected_m_stored":
                m[i] = m_hat
            denominator = {"eps_inside": lambda: np.sqrt(v_hat + eps), "no_sqrt": lambda: v_hat + eps,
                           "sqrt_before_correction": lambda: np.sqrt(v[i]) / c2 + eps,
                           "eps_precedence": lambda: np.sqrt(v_hat)}.get(mistake, lambda: np.sqrt(v_hat) + eps)()
            delta = -lr * m_hat / denominator - (eps if mistake == "eps_precedence" else 0.0)
            if mistake == "decoupled":
                delta = delta - lr * weight_decay * w[i]
            delta = -delta if mistake == "uphill" else delta
            w[i] = w[i] + delta
            step.append(delta)
        deltas.append(step)
    return deltas


_CORRECTION_PRECEDENCE = ("the update with the bias correction written (1 - b)^t, where 1 - b^t belongs: ** binds "
                          "before -, so write 1 - b1 ** t (parentheses around 1 - b1 raise the difference instead).")
ADAM_MISTAKES = {
    "no_correction": "the update without bias correction: divide m by (1 - b1^t) and v by (1 - b2^t); "
                     "both start at zero, so early averages are too small.",
    "eps_inside": "lr * m_hat / sqrt(v_hat + eps): eps goes outside the square root, "
                  "lr * m_hat / (sqrt(v_hat) + eps).",
    "eps_precedence": "lr * m_hat / sqrt(v_hat) + eps, eps added to the step (missing parentheses): the "
                      "denominator is (sqrt(v_hat) + eps).",
    "no_sqrt": "lr * m_hat / (v_hat + eps), without the square root of v_hat.",
    "sqrt_before_correction": "lr * m_hat / (sqrt(v) / (1 - b2^t) + eps): the bias correction of v goes under "
                              "the square root, sqrt(v / (1 - b2^t)).",
    "decoupled": "AdamW's decoupled weight decay (w -= lr * wd * w apart from the moments): Adam's "
                 "weight_decay adds wd * w to the gradient before the moments are updated.",
    "decay_halved": "the update with the decay halved, (wd / 2) * w added to the gradient: the decay term is "
                    "weight_decay * w.",
    "decay_times_lr": "the update with lr * wd * w added to the gradient: the decay term is weight_decay * w, "
                      "the rate applies once, to the whole step.",
    "decay_sign": "the update with the weight decay term subtracted from the gradient (g - wd * w).",
    "v_without_decay": "the update whose second moment squares p.grad without the weight decay term: both "
                       "moments take g = dL/dw + weight_decay * w.",
    "counter_per_param": "the update with a step counter t that grows once per parameter (t += 1 inside the "
                         "loop over parameters): t counts steps, so increment it once per call of step(), "
                         "before the loop.",
    "correction_precedence": _CORRECTION_PRECEDENCE,
    "m_correction_precedence": _CORRECTION_PRECEDENCE,
    "only_m_corrected": "the update with m bias-corrected but v not: divide v by (1 - b2^t) too.",
    "betas_swapped": "the update with b1 and b2 swapped (b2, b1 = betas): m averages with b1 = betas[0], v "
                     "with b2 = betas[1].",
    "m_weight_b2": "the update with m = b1 * m + (1 - b2) * g: the first moment's weight is 1 - b1.",
    "m_forgets": "the update with m = (1 - b1) * g, the previous m forgotten: m is a running average, "
                 "b1 * m + (1 - b1) * g.",
    "v_forgets": "the update with v = (1 - b2) * g^2, the previous v forgotten: v is a running average, "
                 "b2 * v + (1 - b2) * g^2.",
    "v_no_weight": "the update with v = b2 * v + g^2: the new square is weighted by (1 - b2).",
    "v_from_m": "the update whose second moment averages m * m (the first moment squared) instead of g * g.",
    "m_ones": "the update with m started at ones (np.ones_like): both moments start at zeros.",
    "v_ones": "the update with v started at ones (np.ones_like): both moments start at zeros, which the bias "
              "correction assumes.",
    "corrected_m_stored": "the update that stores the bias-corrected m_hat back into m (self.m[i] = m / (1 - "
                          "b1^t)): keep m as the running average and compute m_hat apart.",
    "uphill": "the update with the opposite sign: the step was added to the weights (w += ...), which goes "
              "uphill; gradient descent subtracts it (w -= lr * m_hat / ...).",
    "t_plus_one": "the update with the bias correction one step ahead (1 - b^(t + 1)): t counts the steps made, "
                  "1 at the first step (an off-by-one of the step counter).",
    "t_stuck": "the update with t = 1 at every step (the step counter never incremented, or reset): t counts the "
               "calls of step(), so the bias correction 1 - b^t fades away.",
    "v_of_abs": "the update whose second moment averages |g| instead of g^2 (the square of the gradient).",
    "corrections_swapped": "the update with m divided by 1 - b2^t and v by 1 - b1^t: each moment is corrected with "
                           "its own beta, m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t).",
}


ADAM_SETTINGS = [
    dict(lr=0.01),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.03, eps=0.1),
    dict(lr=0.02, betas=(0.8, 0.99), weight_decay=0.01),
]


@pytest.mark.part("adam")
@pytest.mark.parametrize("settings", ADAM_SETTINGS, ids=settings_id)
def test_adam_matches_pytorch_step_for_step(ex, pkg, rng, settings):
    params = make_params(pkg, rng)
    # Small gradients so that eps matters where the settings make it large.
    grads = gradient_sequence(rng, scale=0.1)
    check_step_for_step("Adam", ex.Adam, adam_simulation, ADAM_MISTAKES, params, grads, settings)


@pytest.mark.part("adam")
def test_adam_first_step_moves_every_weight_by_about_lr(ex, pkg, rng):
    # At t = 1, m_hat = g and v_hat = g^2 exactly, so the step is -lr * g / (|g| + eps): about -lr sign(g).
    params = make_params(pkg, rng)
    grads = gradient_sequence(rng, steps=1)
    w0 = [p.data.copy() for p in params]
    optimizer = ex.Adam(params, lr=0.01)
    for _, deltas in run_updates(optimizer, params, grads):
        for i, (delta, g) in enumerate(zip(deltas, grads[0])):
            check_close_ref(f"Adam(lr=0.01): the change of parameter {i} at the first step", delta,
                            lambda i=i: torch_updates("Adam", dict(lr=0.01), w0, grads)[0][i],
                            alternatives=lambda i=i: simulated_alternatives(adam_simulation, ADAM_MISTAKES, w0, grads,
                                                                            dict(lr=0.01), 1, i))


@pytest.mark.part("adam")
def test_adam_updates_in_place_and_never_changes_the_gradients(ex, pkg, rng):
    settings = dict(lr=0.01, weight_decay=0.1)
    params = make_params(pkg, rng, dtype=np.float32)
    w0 = [p.data.astype(np.float64) for p in params]
    held = [p.data for p in params]
    grads = gradient_sequence(rng, steps=3)
    optimizer = ex.Adam(params, **settings)
    for step, step_grads in enumerate(grads, start=1):
        for p, g in zip(params, step_grads):
            p.grad[...] = g
        before = [p.grad.copy() for p in params]
        optimizer.step()
        for i, (p, b) in enumerate(zip(params, before)):
            check_unchanged(f"Adam.step (p.grad of parameter {i} at step {step})", b, p.grad)
    after = once(lambda: torch_updates("Adam", settings, w0, float32_rounded(grads)))
    for i, (p, array) in enumerate(zip(params, held)):
        check_close_ref(f"the array that was parameter {i}'s p.data before three Adam steps", array,
                        lambda i=i: w0[i] + sum(step[i] for step in after()), rtol=1e-4, atol=1e-5,
                        alternatives=lambda i=i: [(w0[i], (
                            "the values before the steps: Adam.step replaced p.data by a new array. Update it in "
                            "place (p.data -= ...), so every reference to the array sees the new values."))])
        check_that(f"parameter {i}'s p.data after three Adam steps", p.data, lambda data: data.dtype == np.float32,
                   lambda data: f"Adam.step turned a float32 parameter into {getattr(data, 'dtype', data)}.")


@pytest.mark.fact
@pytest.mark.part("adam")
@pytest.mark.parametrize("settings", [dict(lr=-0.1), dict(lr=0.1, eps=-1e-8), dict(lr=0.1, betas=(1.0, 0.999)),
                                      dict(lr=0.1, betas=(0.9, -0.1)), dict(lr=0.1, weight_decay=-1.0)],
                         ids=settings_id)
def test_adam_rejects_invalid_settings_like_pytorch(ex, pkg, rng, settings):
    check_rejects("Adam", ex.Adam, make_params(pkg, rng), settings,
                  "betas must lie in [0, 1); lr, eps and weight decay must not be negative")


@pytest.mark.fact
@pytest.mark.part("adam")
def test_adam_accepts_betas_of_zero_and_a_learning_rate_of_zero(ex, pkg, rng):
    from grader.feedback.checks import check_equal
    from test_optim import accepted, settings_id

    for settings in (dict(lr=0.1, betas=(0.0, 0.0)), dict(lr=0.0)):
        what = f"Adam({settings_id(settings)})"
        check_equal(what, accepted(lambda: ex.Adam(make_params(pkg, rng), **settings)), "accepted",
                    lambda got, what=what: f"{what} raised {got}: the docstring rejects only a beta outside [0, 1) "
                                           "and lr < 0; beta = 0 (no averaging) and lr = 0 are valid.")

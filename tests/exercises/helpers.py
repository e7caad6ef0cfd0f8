"""Scenarios and checks shared by the exercise tests. No expected value lives here: every one is computed
by the judge at test time, by finite differences (the reference `numerical_gradient`, itself tested
against PyTorch in test_gradcheck.py), by PyTorch, or by the reference implementation.

Two rules make a test judgeable (see grader/feedback/checks.py): expected values that need `ref` or
PyTorch are callables, and learner objects draw from generators of their own (`own_rng()`), never from
the test's `rng`, so the learner's run and the reference's run see the same inputs.
"""

from __future__ import annotations

import re

import numpy as np

from grader.feedback.checks import check_close


def own_rng(seed=0):
    """A generator for a learner object's own random draws (initialisation, dropout masks), separate from
    the test's inputs: the learner may draw differently from the reference without shifting the inputs."""
    return np.random.default_rng(seed)


def numerical_gradient(ref, f, x, eps=1e-6):
    """Central differences of the scalar f() with respect to x (float64), by the reference checker. In a
    student release, which has no reference, a five-point stencil of the kata's own serves instead: it is
    not the gradcheck exercise's formula (at a large eps the two differ), so it answers nothing there."""
    from grader.feedback import judge_plugin

    if judge_plugin.kata_mode() == judge_plugin.ADVISORY:
        with judge_plugin.learner_code_allowed():
            return _five_point_stencil(f, x, min(eps, 1e-3))
    return ref.gradcheck.numerical_gradient(f, x, eps=eps)


def _five_point_stencil(f, x, h):
    """(-f(x+2h) + 8 f(x+h) - 8 f(x-h) + f(x-2h)) / 12h per entry of x (error O(h^4)); x restored after."""
    flat = x.reshape(-1)  # a view: writing it perturbs x, which f reads
    gradient = np.zeros(flat.shape, dtype=np.float64)
    for i in range(flat.size):
        kept = flat[i]
        values = []
        for step in (2, 1, -1, -2):
            flat[i] = kept + step * h
            values.append(f())
        flat[i] = kept
        gradient[i] = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * h)
    return gradient.reshape(x.shape)


def random_upstream(rng, shape):
    """A random dL/dY. Ones would hide bugs (a wrong sum axis, a missing term) in many layers."""
    return rng.standard_normal(shape)


def shape_errors_explained(layer_name, advice=None):
    """Turn NumPy's 'shapes do not match' errors inside a forward/backward into a sentence: `advice`
    when the caller knows the likely cause, else a general one about the shapes of a product."""
    return _ShapeErrors(layer_name, advice)


class _ShapeErrors:
    def __init__(self, layer_name, advice=None):
        self.layer_name = layer_name
        self.advice = advice

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        __tracebackhide__ = True
        text = str(error) if error is not None else ""
        if kind is ValueError and any(word in text for word in ("mismatch", "shape", "broadcast", "align")):
            if self.advice is not None:
                raise AssertionError(f"{self.layer_name} raised ValueError: {text}\n{self.advice}") from error
            shapes = {tuple(int(n) for n in found.split(",") if n.strip())
                      for found in re.findall(r"\((\d+(?:,\s*\d+)+)\)", text)}
            transposed = [s for s in shapes if len(s) == 2 and s[::-1] in shapes and s[0] != s[1]]
            advice = (f" Shapes {transposed[0]} and {transposed[0][::-1]} are transposes of each other: a "
                      "product is in the wrong order or misses a .T." if transposed else "")
            raise AssertionError(
                f"{self.layer_name} raised ValueError: {text}\nThe shapes in a product or sum do not fit."
                f"{advice} Write each factor's shape next to the formula in the docstring, e.g. "
                "dL/dX = dL/dY W^T is (N, out) @ (out, in) -> (N, in)."
            ) from error
        return False


def backward_gradients(layer, x, grad_out, layer_name="the layer"):
    """Run forward and backward once from zeroed gradients; return (dL/dx, {param name: dL/dparam})."""
    layer.zero_grad()
    with shape_errors_explained(f"{layer_name}.forward"):
        layer.forward(x)
    with shape_errors_explained(f"{layer_name}.backward"):
        grad_x = layer.backward(grad_out)
    params = {name: p.grad.copy() for name, p in layer.named_parameters()}
    return grad_x, params


def finite_difference_gradients(ref, layer, x, grad_out):
    """Finite-difference gradients of L = sum(layer(x) * grad_out) for x and every parameter."""

    def loss():
        return float(np.sum(layer.forward(x) * grad_out))

    expected = {"x": numerical_gradient(ref, loss, x)}
    for name, p in layer.named_parameters():
        expected[name] = numerical_gradient(ref, loss, p.data)
    return expected


def once(compute):
    """A callable that computes its value on first use and keeps it (the judge calls it per check)."""
    kept = []
    return lambda: kept[0] if kept else (kept.append(compute()) or kept[0])


def check_layer_backward(ref, layer, x, grad_out, *, layer_name, batch_size=None, alternatives=None,
                         regions=None, rtol=1e-5, atol=1e-7):
    """Compare a layer's backward (input and parameter gradients) with finite differences.

    The judge computes the finite differences of its own (reference) layer on the same inputs.
    alternatives / regions: {gradient name: [...] or a callable returning it} for that gradient.
    """
    __tracebackhide__ = True
    grad_x, grads = backward_gradients(layer, x, grad_out, layer_name)
    expected = once(lambda: finite_difference_gradients(ref, layer, x, grad_out))
    alternatives = alternatives or {}
    regions = regions or {}
    given = {"grad_out (the upstream gradient)": grad_out, "x (forward's input)": x}
    check_close(f"{layer_name}.backward: dL/dx (the returned gradient)", grad_x, lambda: expected()["x"],
                batch_size=batch_size, alternatives=alternatives.get("x", ()), regions=regions.get("x", ()),
                rtol=rtol, atol=atol, given=given)
    for index, (name, grad) in enumerate(grads.items()):
        check_close(f"{layer_name}.backward: dL/d{name} (in {name}.grad)", grad,
                    lambda name=name: expected()[name], batch_size=batch_size,
                    alternatives=alternatives.get(name, ()), regions=regions.get(name, ()), rtol=rtol, atol=atol,
                    given=given)


def torch_float64(array, requires_grad=False):
    """A float64 PyTorch tensor with a copy of `array` (PyTorch is a second, independent oracle; judge only)."""
    from grader.feedback.oracle import torch

    return torch.tensor(np.array(array, dtype=np.float64), requires_grad=requires_grad)


def softmax_slips(z, axis=-1):
    """Known-wrong softmax values of logits z along `axis`, each with the slip it shows (judge only)."""
    z = np.asarray(z, dtype=np.float64)
    shifted = z - z.max(axis=axis, keepdims=True)
    exps = np.exp(shifted)
    with np.errstate(all="ignore"):
        return [(np.exp(-shifted) / np.exp(-shifted).sum(axis=axis, keepdims=True), "exp(max(z) - z): the shift is "
                 "reversed (the sign flipped), which is the softmax of -z; subtract the max: exp(z - max(z))."),
                (exps / shifted.sum(axis=axis, keepdims=True), "exp(z - max) divided by the sum of the shifted "
                 "logits z - max, not by the sum of the exponentials exp(z - max)."),
                (np.exp(z), "exp(z) without dividing by the sum along the axis.")]


def log_softmax_slips(z, axis=-1):
    """Known-wrong log-softmax values of logits z along `axis`, each with the slip it shows (judge only)."""
    z = np.asarray(z, dtype=np.float64)
    m = z.max(axis=axis, keepdims=True)
    log_sum = np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))
    return [(z - m, "z - max(z) without subtracting log(sum(exp(z - max(z)))): the log of the normaliser is missing."),
            (z - log_sum, "z - log(sum(exp(z - m))): the max m is subtracted inside the sum but not from z; "
                          "log_softmax = (z - m) - log(sum(exp(z - m)))."),
            (z - m + log_sum, "(z - m) + log(sum(exp(z - m))): the log of the normaliser is added, not subtracted.")]

"""Benchmark `reverse_mode`: why backpropagation, measured. One backward pass against the alternatives.

For an MLP of growing width w (w inputs, Linear(w, w), ReLU, Linear(w, w), ReLU, Linear(w, 10), softmax
cross-entropy, a batch of BATCH, float64), with n parameters (about 2 w^2), the gradient of the loss
with respect to all n parameters, three ways:
    reverse mode   one forward pass and one backward pass of the reference layers (backpropagation);
    numerical      central differences, the reference gradcheck.numerical_gradient over every
                   parameter array: 2n forward passes;
    forward mode   n Jacobian-vector products, one per parameter: each pushes a tangent (the derivative
                   of every activation along one parameter) forward beside the values, about the cost of
                   two forward passes.
A forward pass costs O(n) (its products touch every weight once), so numerical and forward mode cost
O(n) passes of O(n): O(n^2); reverse mode costs a few passes: O(n). Each time is the median of a few
repeats of CPU time; the growth is the slope of log(time) against log(n), fitted by least squares.
The exercise `performance` quotes this table (measured on the machine the kata was built on).
"""

from __future__ import annotations

import functools
import statistics
import time
import timeit

import numpy as np

from grader.core.manifest import SOLUTIONS_DIR
from grader.milestones.skeleton import SEED, learner_modules
from grader.milestones.steps import relus_between

WIDTHS = (8, 16, 32, 64)
QUICK_WIDTHS = (4, 8, 16)
BATCH = 16
CLASSES = 10


def _network(ref, width, rng):
    sizes = (width, width, width, CLASSES)
    linears = [ref.layers.Linear(n_in, n_out, rng=rng) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    model = ref.network.Sequential(*relus_between(linears, ref.activations.ReLU))
    for p in model.parameters():
        p.data[...] = rng.standard_normal(p.data.shape) / np.sqrt(max(p.data.shape[0], 1))
    return model


def _jvp_all(model, x, labels) -> np.ndarray:
    """dL/dp_i for every parameter entry i, by n forward-mode passes (one unit tangent each)."""
    linears = [layer for layer in model.layers if hasattr(layer, "W")]
    params = [(layer, name) for layer in linears for name in ("W", "b")]
    grads = []
    for layer, name in params:
        target = getattr(layer, name).data
        for flat in range(target.size):
            index = np.unravel_index(flat, target.shape)
            h, dh = x, np.zeros_like(x)
            for position, linear in enumerate(linears):
                if position:
                    mask = h > 0
                    h, dh = h * mask, dh * mask
                z = h @ linear.W.data + linear.b.data
                dz = dh @ linear.W.data
                if linear is layer:
                    if name == "W":  # tangent of z along W[i, j]: h[:, i] in column j
                        dz[:, index[1]] += h[:, index[0]]
                    else:
                        dz[:, index[0]] += 1.0
                h, dh = z, dz
            shifted = h - h.max(axis=1, keepdims=True)
            probabilities = np.exp(shifted)
            probabilities /= probabilities.sum(axis=1, keepdims=True)
            probabilities[np.arange(len(labels)), labels] -= 1.0
            grads.append(float(np.sum(probabilities * dh)) / len(labels))
    return np.array(grads)


def _median_seconds(function, repeats: int) -> float:
    """The median CPU time of single calls ("gc.enable()": timeit would time them without the garbage collector)."""
    return statistics.median(timeit.repeat(function, "gc.enable()", time.thread_time, repeat=repeats, number=1))


def _growth(counts, seconds) -> float:
    """k in seconds ~ counts^k: the least-squares slope of log(seconds) against log(counts)."""
    return float(np.polyfit(np.log(counts), np.log(seconds), 1)[0])


def measure(widths=WIDTHS, repeats: int = 3) -> list[dict]:
    ref = learner_modules(SOLUTIONS_DIR)
    rows = []
    for width in widths:
        rng = np.random.default_rng(SEED + width)
        model = _network(ref, width, rng)
        x = rng.standard_normal((BATCH, width))
        labels = rng.integers(0, CLASSES, BATCH)
        loss_fn = ref.losses.SoftmaxCrossEntropy()
        params = model.parameters()
        n = sum(p.data.size for p in params)

        def reverse():
            model.zero_grad()
            loss_fn.forward(model.forward(x), labels)
            model.backward(loss_fn.backward())
            return np.concatenate([p.grad.ravel() for p in params])

        def loss():
            return loss_fn.forward(model.forward(x), labels)

        def numerical():
            return np.concatenate([ref.gradcheck.numerical_gradient(loss, p.data).ravel() for p in params])

        forward_mode = functools.partial(_jvp_all, model, x, labels)
        exact = reverse()
        for name, function in (("numerical", numerical), ("forward mode", forward_mode)):
            error = ref.gradcheck.relative_error(function(), exact)
            if error > 1e-5:
                raise RuntimeError(f"the {name} gradient disagrees with backpropagation at width {width} "
                                   f"(relative error {error:.2g})")
        rows.append({"width": width, "parameters": n,
                     "reverse_s": _median_seconds(reverse, 5 * repeats),
                     "numerical_s": _median_seconds(numerical, repeats),
                     "forward_mode_s": _median_seconds(forward_mode, repeats)})
    return rows


def run(quick: bool = False) -> dict:
    from tabulate import tabulate

    rows = measure(QUICK_WIDTHS if quick else WIDTHS, repeats=1 if quick else 2)
    table = [[str(r["width"]), str(r["parameters"]), f"{1e3 * r['reverse_s']:.3f}", f"{1e3 * r['numerical_s']:.1f}",
              f"{1e3 * r['forward_mode_s']:.1f}", f"{r['numerical_s'] / r['reverse_s']:.0f}x"] for r in rows]
    print(f"The gradient of an MLP's loss (batch {BATCH}, float64) w.r.t. all n parameters; CPU milliseconds, "
          "median of a few repeats:")
    print(tabulate(table, headers=["width", "n", "reverse mode (1 backward)", "numerical (2n forwards)",
                                   "forward mode (n JVPs)", "numerical / reverse"],
                   tablefmt="simple", disable_numparse=True))
    counts = [r["parameters"] for r in rows]
    growth = {name: _growth(counts, [r[key] for r in rows]) for name, key in
              (("reverse", "reverse_s"), ("numerical", "numerical_s"), ("forward_mode", "forward_mode_s"))}
    growth["numerical_over_reverse"] = _growth(counts, [r["numerical_s"] / r["reverse_s"] for r in rows])
    print(f"fitted growth, time ~ n^k: reverse mode k = {growth['reverse']:.2f}, numerical k = "
          f"{growth['numerical']:.2f}, forward mode k = {growth['forward_mode']:.2f}; numerical / reverse k = "
          f"{growth['numerical_over_reverse']:.2f}.")
    print("A pass of a network this small costs mostly NumPy's fixed cost per call, not its O(n) arithmetic, so "
          "every k here is about one below its large-network value (reverse O(n), the others O(n^2)); what does "
          "not depend on the size is the ratio: numerical (and forward mode) need about n passes where "
          "backpropagation needs about three, so their cost over reverse mode's grows like n (k about 1).")
    return {"rows": rows, "growth": growth}


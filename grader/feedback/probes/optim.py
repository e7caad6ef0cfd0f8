"""Probe for `make compare EX=optim`: the change each optimiser makes in its first steps.

The same parameters and gradients go to every optimiser setting; the change made at each step is
returned, so a wrong sign or factor shows up in the step where it first matters (momentum and Nesterov
differ from plain SGD only from the second step, Adam's bias correction mostly in the first).
"""

import numpy as np

STEPS = 3
SETTINGS = {
    # label: (class, settings); labels stay short for the comparison table.
    "SGD": ("SGD", dict(lr=0.1)),
    "SGD decay 0.1": ("SGD", dict(lr=0.1, weight_decay=0.1)),
    "SGD momentum 0.9": ("SGD", dict(lr=0.1, momentum=0.9)),
    "SGD Nesterov 0.9": ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    "Adam": ("Adam", dict(lr=0.01)),
    "Adam eps 0.1 decay 0.1": ("Adam", dict(lr=0.01, eps=0.1, weight_decay=0.1)),
}


def probe(m, rng):
    w0 = rng.standard_normal((4, 3))
    grads = [0.1 * rng.standard_normal((4, 3)) for _ in range(STEPS)]
    results = {}
    for label, (kind, settings) in SETTINGS.items():
        p = m.layers.Parameter(w0.copy())
        optimizer = getattr(m.optim, kind)([p], **settings)
        for step, g in enumerate(grads, start=1):
            before = p.data.copy()
            optimizer.zero_grad()
            p.grad += g
            optimizer.step()
            results[f"{label}, step {step}"] = p.data - before
    return results

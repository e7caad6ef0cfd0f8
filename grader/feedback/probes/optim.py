"""Probe for `make compare EX=optim`: the change each optimiser makes in its first steps.

The same parameters (a weight matrix W and a bias b) and gradients go to every optimiser setting; the
change made to each at each step is returned, so a wrong sign or factor shows up in the step where it
first matters (momentum and Nesterov differ from plain SGD only from the second step, Adam's bias
correction mostly in the first; a state or step count kept per parameter instead of per step shows in b).
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
    w0 = {"W": rng.standard_normal((4, 3)), "b": rng.standard_normal(3)}
    grads = [{name: 0.1 * rng.standard_normal(w.shape) for name, w in w0.items()} for _ in range(STEPS)]
    results = {}
    for label, (kind, settings) in SETTINGS.items():
        params = {name: m.layers.Parameter(w.copy()) for name, w in w0.items()}
        optimizer = getattr(m.optim, kind)(list(params.values()), **settings)
        for step, step_grads in enumerate(grads, start=1):
            before = {name: p.data.copy() for name, p in params.items()}
            optimizer.zero_grad()
            for name, p in params.items():
                p.grad += step_grads[name]
            optimizer.step()
            for name, p in params.items():
                results[f"{label}, step {step}, {name}"] = p.data - before[name]
    return results

"""`make compare EX=network`: outputs and gradients of small networks, learner's versus reference."""

import numpy as np

BATCH_SIZE = 4


def _linear(m, rng, n_in, n_out):
    layer = m.layers.Linear(n_in, n_out, rng=rng)
    layer.b.data[...] = rng.standard_normal(n_out)
    return layer


def _run(net, x, grad_out, prefix):
    net.zero_grad()
    out = {f"{prefix}: forward": net.forward(x)}
    out[f"{prefix}: dL/dx"] = net.backward(grad_out)
    for name, p in net.named_parameters():
        out[f"{prefix}: dL/d{name}"] = p.grad.copy()
    return out


def probe(m, rng):
    # mlp: Linear-ReLU-Linear-Tanh; residual: Linear-ReLU-Residual(Sequential(Linear, Tanh));
    # shared: Sequential(lin, Tanh(), lin), one Linear used twice.
    n = BATCH_SIZE
    Sequential, Residual = m.network.Sequential, m.network.Residual
    mlp = Sequential(_linear(m, rng, 5, 4), m.activations.ReLU(), _linear(m, rng, 4, 3), m.activations.Tanh())
    residual = Sequential(_linear(m, rng, 3, 4), m.activations.ReLU(),
                          Residual(Sequential(_linear(m, rng, 4, 4), m.activations.Tanh())))
    shared = _linear(m, rng, 4, 4)
    twice = Sequential(shared, m.activations.Tanh(), shared)
    results = {}
    results.update(_run(mlp, rng.standard_normal((n, 5)), rng.standard_normal((n, 3)), "mlp"))
    results.update(_run(residual, rng.standard_normal((n, 3)), rng.standard_normal((n, 4)),
                        "residual"))
    results.update(_run(twice, rng.standard_normal((n, 4)), rng.standard_normal((n, 4)),
                        "shared"))
    return results

"""`make compare EX=network`: outputs and gradients of small networks, learner's versus reference.

Each quantity goes into `out` as soon as it is computed, so when the learner's backward raises, the
forward passes before it are still compared.
"""

import numpy as np

BATCH_SIZE = 4


def _linear(m, values, n_in, n_out):
    # Weights set from values drawn beforehand, so the learner's and the reference's runs hold the same ones.
    layer = m.layers.Linear(n_in, n_out, rng=np.random.default_rng(0))
    layer.W.data[...] = values["W"]
    layer.b.data[...] = values["b"]
    return layer


def _draw_linear(rng, n_in, n_out):
    return {"W": rng.standard_normal((n_in, n_out)) / np.sqrt(n_in), "b": rng.standard_normal(n_out)}


def _run(net, x, grad_out, prefix, out):
    net.zero_grad()
    out[f"{prefix}: forward"] = net.forward(x)
    out[f"{prefix}: dL/dx"] = net.backward(grad_out)
    for name, p in net.named_parameters():
        out[f"{prefix}: dL/d{name}"] = p.grad.copy()


def probe(m, rng, out=None):
    # mlp: Linear-ReLU-Linear-Tanh; residual: Linear-ReLU-Residual(Sequential(Linear, Tanh));
    # shared: Sequential(lin, Tanh(), lin), one Linear used twice in one container;
    # nested: Sequential(l1, Tanh(), Residual(Sequential(l1, Tanh())), l2), l1 used in two containers,
    #         then a second backward call without zero_grad (the same dL/dx, twice the parameter gradients);
    # shared block: Sequential(r, r, l2) with r = Residual(Sequential(l1, Tanh())), a container used twice.
    out = {} if out is None else out
    n = BATCH_SIZE
    shapes = {"mlp": [(5, 4), (4, 3)], "residual": [(3, 4), (4, 4)], "shared": [(4, 4)],
              "nested": [(4, 4), (4, 3)], "block": [(4, 4), (4, 3)]}
    values = {key: [_draw_linear(rng, *shape) for shape in shape_list] for key, shape_list in shapes.items()}
    inputs = {"mlp": (5, 3), "residual": (3, 4), "shared": (4, 4), "nested": (4, 3), "block": (4, 3)}
    data = {key: (rng.standard_normal((n, a)), rng.standard_normal((n, b))) for key, (a, b) in inputs.items()}

    Sequential, Residual, Tanh = m.network.Sequential, m.network.Residual, m.activations.Tanh
    first, second = (_linear(m, v, *s) for v, s in zip(values["mlp"], shapes["mlp"]))
    _run(Sequential(first, m.activations.ReLU(), second, Tanh()), *data["mlp"], "mlp", out)
    first, second = (_linear(m, v, *s) for v, s in zip(values["residual"], shapes["residual"]))
    _run(Sequential(first, m.activations.ReLU(), Residual(Sequential(second, Tanh()))), *data["residual"],
         "residual", out)
    shared = _linear(m, values["shared"][0], 4, 4)
    _run(Sequential(shared, Tanh(), shared), *data["shared"], "shared", out)
    l1, l2 = (_linear(m, v, *s) for v, s in zip(values["nested"], shapes["nested"]))
    nested = Sequential(l1, Tanh(), Residual(Sequential(l1, Tanh())), l2)
    _run(nested, *data["nested"], "nested", out)
    out["nested: dL/dx of a second backward call"] = nested.backward(data["nested"][1])
    out["nested: dL/dW of l1 after two backward calls"] = l1.W.grad.copy()
    l1, l2 = (_linear(m, v, *s) for v, s in zip(values["block"], shapes["block"]))
    block = Residual(Sequential(l1, Tanh()))
    _run(Sequential(block, block, l2), *data["block"], "shared block", out)
    return out

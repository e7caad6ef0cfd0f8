"""Probe for `make compare EX=autograd`: each operation's forward value and input gradients.

Every operation is run on its own small float64 inputs with a random upstream gradient G
(out.backward(G)), so the first DIFFERENT line names the operation at fault. An operation you have not
written yet (NotImplementedError) is left out and shows as "missing"; the others are still compared.
The last entries exercise the engine as a whole: a tensor used twice, a shared intermediate (the
topological order), a broadcast bias, and the fused cross-entropy of a small MLP.
"""

import numpy as np

BATCH_SIZE = 6


def _cases(m, rng):
    ag = m.autograd
    labels = rng.integers(0, 4, size=BATCH_SIZE)
    index = np.array([0, 2, 0])
    positive = lambda shape: rng.uniform(0.5, 2.0, size=shape)  # noqa: E731
    signed = lambda shape: rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)  # noqa: E731

    def shared(x):
        p = x * 3.0
        return p * p.tanh()

    def mlp(x, w1, b1, w2):
        return ag.cross_entropy((x @ w1 + b1).relu() @ w2, labels)

    # name: (function of Tensors, input arrays); inputs are drawn in this order for every target.
    return {
        "a + b": (lambda a, b: a + b, [signed((3, 4)), signed((3, 4))]),
        "a - b": (lambda a, b: a - b, [signed((3, 4)), signed((3, 4))]),
        "a * b": (lambda a, b: a * b, [signed((3, 4)), signed((3, 4))]),
        "a / b": (lambda a, b: a / b, [signed((3, 4)), positive((3, 4))]),
        "a ** 3": (lambda a: a ** 3, [signed((3, 4))]),
        "a @ b": (lambda a, b: a @ b, [signed((3, 4)), signed((4, 2))]),
        "(3,1) + (1,4)": (lambda a, b: a + b, [signed((3, 1)), signed((1, 4))]),
        "(6,4) * (4,)": (lambda a, b: a * b, [signed((BATCH_SIZE, 4)), signed((4,))]),
        "sum(axis=1)": (lambda a: a.sum(axis=1), [signed((3, 4))]),
        "mean(axis=0)": (lambda a: a.mean(axis=0), [signed((BATCH_SIZE, 4))]),
        "exp": (lambda a: a.exp(), [signed((3, 4))]),
        "log": (lambda a: a.log(), [positive((3, 4))]),
        "tanh": (lambda a: a.tanh(), [signed((3, 4))]),
        "sigmoid": (lambda a: a.sigmoid(), [signed((3, 4))]),
        "relu": (lambda a: a.relu(), [signed((3, 4))]),
        "reshape + .T": (lambda a: a.reshape(4, 3).T, [signed((3, 4))]),
        "a[[0, 2, 0]]": (lambda a: a[index], [signed((3, 4))]),
        "x * x": (lambda a: a * a, [signed((3, 4))]),
        "shared p * tanh(p)": (shared, [signed((3, 4)) * 0.3]),
        "cross_entropy": (lambda z: ag.cross_entropy(z, labels), [signed((BATCH_SIZE, 4)) * 3]),
        "mlp loss": (mlp, [signed((BATCH_SIZE, 5)), signed((5, 8)) * 0.5, signed((8,)) * 0.1,
                           signed((8, 4)) * 0.5]),
    }


def probe(m, rng):
    ag = m.autograd
    results = {}
    for name, (fn, arrays) in _cases(m, rng).items():
        # One seed per case, drawn before running it: every target sees the same upstream gradient G,
        # even one whose output has a wrong shape.
        case_rng = np.random.default_rng(int(rng.integers(2**32)))
        try:
            leaves = [ag.Tensor(a.copy(), requires_grad=True) for a in arrays]
            out = fn(*leaves)
            out.backward(case_rng.standard_normal(np.shape(out.data)))
        except NotImplementedError:
            continue
        results[f"{name}: forward"] = out.data
        for i, leaf in enumerate(leaves):
            results[f"{name}: dL/d(input {i})"] = leaf.grad
    return results

"""`make compare EX=gradcheck`: the checker's outputs on fixed inputs, learner's versus reference."""

import numpy as np


def probe(m, rng):
    # numerical_gradient of f(x) = sum(c x^2 + sin x); check_layer_gradients on a Linear whose dL/db is
    # averaged over the batch (a known bug: the error on "b" is 1 - 1/N, the error on "W" is tiny).
    c = rng.uniform(0.5, 2.0, size=(3, 4))
    x = rng.standard_normal((3, 4))

    def f():
        return float(np.sum(c * x ** 2 + np.sin(x)))

    a = rng.standard_normal(6)
    b = a + 0.1 * rng.standard_normal(6)

    class AveragedBias(m.layers.Linear):
        """A Linear with a known bug: dL/db averaged over the batch instead of summed."""

        def backward(self, grad_out):
            self.W.grad += self._x.T @ grad_out
            self.b.grad += grad_out.mean(axis=0)
            return grad_out @ self.W.data.T

    layer = AveragedBias(4, 3, rng=rng)
    layer.b.data[...] = rng.standard_normal(3)
    errors = m.gradcheck.check_layer_gradients(layer, rng.standard_normal((5, 4)), seed=0)
    return {
        "numerical_gradient, eps=1e-6": m.gradcheck.numerical_gradient(f, x),
        "numerical_gradient, eps=0.1": m.gradcheck.numerical_gradient(f, x, eps=0.1),
        "relative_error(a, b)": float(m.gradcheck.relative_error(a, b)),
        "relative_error(b, a)": float(m.gradcheck.relative_error(b, a)),
        "check: error on b (b is buggy)": float(errors["b"]),
        "check: error on W (W is right)": float(errors["W"]),
    }

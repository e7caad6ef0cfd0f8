import numpy as np


class Parameter:
    def __init__(self, data):
        values = np.asarray(data)
        if not np.issubdtype(values.dtype, np.floating):
            values = values.astype(np.float64)
        self.data = values
        self.grad = np.zeros_like(values)


class Layer:
    def __init__(self):
        self.training = True

    def __call__(self, x):
        return self.forward(x)

    def named_parameters(self):
        result, seen = [], set()

        def collect(layer, prefix):
            for name, child in layer._children():
                full = prefix + name
                if isinstance(child, Parameter):
                    if id(child) not in seen:
                        seen.add(id(child))
                        result.append((full, child))
                else:
                    collect(child, full + ".")

        own = [(n, c) for n, c in self._children() if isinstance(c, Parameter)]
        for name, p in own:
            if id(p) not in seen:
                seen.add(id(p))
                result.append((name, p))
        for name, child in self._children():
            if isinstance(child, Layer):
                collect(child, name + ".")
        return result

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.grad[...] = 0

    def train(self):
        self._set_mode(True)
        return self

    def eval(self):
        self._set_mode(False)
        return self


class Linear:
    def __init__(self, in_features, out_features, *, rng=None, init="he", dtype=np.float64):
        super().__init__()
        if rng is None:
            rng = np.random.default_rng()
        draw = INITIALIZERS[init] if isinstance(init, str) else init
        self.W = Parameter(np.asarray(draw(in_features, out_features, rng), dtype=dtype))
        self.b = Parameter(np.zeros(out_features, dtype=dtype))
        self._x = None

    def forward(self, x):
        self._x = x
        return x @ self.W.data + self.b.data

    def backward(self, grad_out):
        self.W.grad += self._x.T @ grad_out
        self.b.grad += grad_out.sum(axis=0)
        if not self.input_gradient:
            return None
        return grad_out @ self.W.data.T

import numpy as np


class Parameter:
    def __init__(self, data):
        array = np.array(data, copy=False) if isinstance(data, np.ndarray) else np.array(data)
        self.data = array if array.dtype.kind == "f" else array.astype(float)
        self.grad = np.zeros(self.data.shape, dtype=self.data.dtype)


class Layer:
    def __init__(self):
        self.training = True

    def __call__(self, x):
        output = self.forward(x)
        return output

    def named_parameters(self):
        found = {}
        own, layers = [], []
        for key, item in self._children():
            (own if isinstance(item, Parameter) else layers).append((key, item))
        pending = own + layers
        while pending:
            key, item = pending.pop(0)
            if isinstance(item, Parameter):
                if id(item) not in found:
                    found[id(item)] = (key, item)
            else:
                children = list(item._children())
                mine = [(f"{key}.{k}", v) for k, v in children if isinstance(v, Parameter)]
                deeper = [(f"{key}.{k}", v) for k, v in children if isinstance(v, Layer)]
                pending = mine + deeper + pending
        return list(found.values())

    def parameters(self):
        params = []
        for _, param in self.named_parameters():
            params.append(param)
        return params

    def zero_grad(self):
        for param in self.parameters():
            param.grad.fill(0.0)

    def train(self):
        self._set_mode(training=True)
        return self

    def eval(self):
        self._set_mode(training=False)
        return self


class Linear:
    def __init__(self, in_features, out_features, *, rng=None, init="he", dtype=np.float64):
        super().__init__()
        generator = np.random.default_rng() if rng is None else rng
        if callable(init):
            weights = init(in_features, out_features, generator)
        elif init in INITIALIZERS:
            weights = INITIALIZERS[init](in_features, out_features, generator)
        else:
            raise ValueError(f"unknown init {init!r}; use one of {sorted(INITIALIZERS)} or a function")
        self.W = Parameter(np.asarray(weights).astype(dtype))
        self.b = Parameter(np.zeros((out_features,), dtype))
        self.saved_input = None

    def forward(self, x):
        self.saved_input = x
        out = np.matmul(x, self.W.data)
        out += self.b.data
        return out

    def backward(self, grad_out):
        x = self.saved_input
        np.add(self.W.grad, np.matmul(x.T, grad_out), out=self.W.grad)
        np.add(self.b.grad, np.sum(grad_out, axis=0), out=self.b.grad)
        return np.matmul(grad_out, self.W.data.T) if self.input_gradient else None

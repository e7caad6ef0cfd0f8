"""Exercise 5, written independently (the given layers_within is kept as the stub gives it)."""

from .layers import Layer


def layers_within(layer):
    found = {}
    stack = [layer]
    while stack:
        current = stack.pop()
        if id(current) not in found:
            found[id(current)] = current
            stack.extend(child for _, child in current._children() if isinstance(child, Layer))
    return list(found.values())


def remember(layer):
    return [(inner, vars(inner).copy()) for inner in layers_within(layer)]


def recall(state):
    for inner, attributes in state:
        inner.__dict__.update(attributes)


class Sequential(Layer):
    def __init__(self, *layers):
        super().__init__()
        self.layers = list(layers)
        self._states = []

    def forward(self, x):
        states = []
        for layer in self.layers:
            x = layer.forward(x)
            states.append(remember(layer))
        self._states = states
        return x

    def backward(self, grad_out):
        for layer, state in reversed(list(zip(self.layers, self._states))):
            recall(state)
            grad_out = layer.backward(grad_out)
        return grad_out


class Residual(Layer):
    def __init__(self, block):
        super().__init__()
        self.block = block

    def forward(self, x):
        out = self.block.forward(x)
        if out.shape != x.shape:
            raise ValueError(f"the block maps shape {x.shape} to {out.shape}; a residual needs the same shape")
        return out + x

    def backward(self, grad_out):
        return self.block.backward(grad_out) + grad_out

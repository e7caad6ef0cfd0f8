# Your exercise file: replace each `raise NotImplementedError(...)` with your code.
# Generated from solutions/network.py by `make stubs`; `make reset EX=network` restores it.
"""Exercise 5: networks built from layers, Sequential and Residual.

A Sequential network is a composition y = f_K(...f_2(f_1(x))). With h_0 = x and h_k = f_k(h_{k-1}),
the chain rule says
    dL/dh_{k-1} = (dh_k/dh_{k-1})^T dL/dh_k,
which is exactly what f_k.backward computes from dL/dh_k. So backpropagation is: run forward through
the layers in order, then call their backward in *reverse* order, each one receiving the gradient the
next layer returned. Each layer adds its parameter gradients into p.grad on the way.

A residual block computes y = x + F(x). Both paths carry the gradient back:
    dL/dx = dL/dy (identity path) + F.backward(dL/dy) (block path).

A layer may appear several times in one network (weight sharing). Its parameter gradient is then the
sum of one contribution per use, since the chain rule sums over every path from a parameter to the
loss; layers *add* into p.grad, so calling backward once per use produces the sum. The catch is the
cache: a layer remembers only its most recent forward, so the second use overwrites what the first use's
backward needs. Sequential therefore re-runs forward on the remembered input of a repeated layer just
before that use's backward. A repeated layer must give the same result when called again on the same
input (no Dropout), and a layer shared across nesting levels (inside a Residual and directly in the
Sequential) is not supported.
"""

from .layers import Layer


class Sequential(Layer):
    """Layers applied one after the other: Sequential(Linear(784, 128), ReLU(), Linear(128, 10)).

    The layers are kept, in order, in the list attribute self.layers; the base class then names their
    parameters by position: "0.W", "0.b", "2.W", ... (a layer used twice is listed once).
    Input and output shapes are those of the first and the last layer; an empty Sequential is the
    identity.
    """

    def __init__(self, *layers):
        """Call Layer.__init__ (training mode), then keep the layers in order in the list self.layers."""
        raise NotImplementedError('network: Sequential.__init__ is not implemented yet. Run `make check EX=network`.')

    def forward(self, x):
        """h_0 = x, h_k = layers[k-1].forward(h_{k-1}); returns h_K.

        Remembers each layer's input h_{k-1} (backward needs it only for a repeated layer).
        """
        raise NotImplementedError('network: Sequential.forward is not implemented yet. Run `make check EX=network`.')

    def backward(self, grad_out):
        """Backpropagate through every layer, last to first.

        grad_out: dL/dh_K, the shape of the output. Returns dL/dx, the shape of the input.

            g = grad_out
            for k = K, K-1, ..., 1:   g = layers[k-1].backward(g)     (dL/dh_{k-1})
            return g

        A layer that occurs more than once in self.layers only remembers its last forward, so before
        each of its backward calls run layer.forward(input of that use) again to restore its cache.
        """
        raise NotImplementedError('network: Sequential.backward is not implemented yet. Run `make check EX=network`.')


class Residual(Layer):
    """y = x + block(x): a skip connection around a block whose output has the input's shape.

    The block is kept in the attribute self.block, so its parameters are named "block.W", ...
    """

    def __init__(self, block):
        """Call Layer.__init__ (training mode), then keep the block in self.block."""
        raise NotImplementedError('network: Residual.__init__ is not implemented yet. Run `make check EX=network`.')

    def forward(self, x):
        """y = x + block.forward(x), same shape as x."""
        raise NotImplementedError('network: Residual.forward is not implemented yet. Run `make check EX=network`.')

    def backward(self, grad_out):
        """dL/dx = grad_out + block.backward(grad_out): the identity path plus the block path."""
        raise NotImplementedError('network: Residual.backward is not implemented yet. Run `make check EX=network`.')

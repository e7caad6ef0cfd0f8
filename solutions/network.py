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
        # <exercise>
        super().__init__()
        self.layers = list(layers)
        self._inputs = []
        # </exercise>

    def forward(self, x):
        """h_0 = x, h_k = layers[k-1].forward(h_{k-1}); returns h_K.

        Remembers each layer's input h_{k-1} (backward needs it only for a repeated layer).
        """
        # <exercise>
        self._inputs = []
        for layer in self.layers:
            self._inputs.append(x)
            x = layer.forward(x)
        return x
        # </exercise>

    def backward(self, grad_out):
        """Backpropagate through every layer, last to first.

        grad_out: dL/dh_K, the shape of the output. Returns dL/dx, the shape of the input.

            g = grad_out
            for k = K, K-1, ..., 1:   g = layers[k-1].backward(g)     (dL/dh_{k-1})
            return g

        A layer that occurs more than once in self.layers only remembers its last forward, so before
        each of its backward calls run layer.forward(input of that use) again to restore its cache.
        """
        # <exercise>
        uses = {}
        for layer in self.layers:
            uses[id(layer)] = uses.get(id(layer), 0) + 1
        for index in reversed(range(len(self.layers))):
            layer = self.layers[index]
            if uses[id(layer)] > 1:
                # Its cache belongs to its last use, not necessarily to this one: rebuild it.
                layer.forward(self._inputs[index])
            grad_out = layer.backward(grad_out)
        return grad_out
        # </exercise>


class Residual(Layer):
    """y = x + block(x): a skip connection around a block whose output has the input's shape.

    The block is kept in the attribute self.block, so its parameters are named "block.W", ...
    """

    def __init__(self, block):
        """Call Layer.__init__ (training mode), then keep the block in self.block."""
        # <exercise>
        super().__init__()
        self.block = block
        # </exercise>

    def forward(self, x):
        """y = x + block.forward(x), same shape as x."""
        # <exercise>
        out = self.block.forward(x)
        if out.shape != x.shape:
            raise ValueError(f"Residual: the block maps shape {x.shape} to {out.shape}; x + block(x) "
                             "needs the same shape")
        return x + out
        # </exercise>

    def backward(self, grad_out):
        """dL/dx = grad_out + block.backward(grad_out): the identity path plus the block path."""
        # <exercise>
        return grad_out + self.block.backward(grad_out)
        # </exercise>

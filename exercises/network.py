# Your exercise file: replace each `raise NotImplementedError(...)` with your code.
# `make check EX=network` runs its tests; `make reset EX=network` puts this original stub back.
"""Exercise 5: networks built from layers, Sequential and Residual.

A Sequential network is a composition y = f_K(...f_2(f_1(x))). With h_0 = x and h_k = f_k(h_{k-1}),
the chain rule says
    dL/dh_{k-1} = (dh_k/dh_{k-1})^T dL/dh_k,
which is exactly what f_k.backward computes from dL/dh_k. So backpropagation is: run forward through
the layers in order, then call their backward in *reverse* order, each one receiving the gradient the
next layer returned. Each layer adds its parameter gradients into p.grad on the way.

A residual block computes y = x + F(x). Both paths carry the gradient back:
    dL/dx = dL/dy (identity path) + F.backward(dL/dy) (block path).

A layer may appear several times in one network (weight sharing), in one container or in several,
nested ones: Sequential(l1, Tanh(), Residual(Sequential(l1, Tanh())), l2) uses l1 twice. Its parameter
gradient is the sum of one contribution per use (the chain rule sums over every path from a parameter to
the loss), and layers *add* into p.grad, so one backward call per use produces that sum. Each of those
calls needs the memory of *its own* use:
    the backward of use k needs what the forward of use k left in the layer (l1's input, a ReLU's mask);
    the layer keeps only its latest forward, so a later use overwrites it;
    so the memory belongs to the use: copy it right after that use's forward, put it back right before
    that use's backward.
A layer's memory is its attributes (and those of the layers inside it), so `remember(layer)` copies them
and `recall(state)` puts them back. PyTorch does the same in spirit: what a call saves for backward lives
in that call's node of the graph, not in the module. Running forward again on the use's input would
rebuild the memory too, but a random layer (dropout) would draw a new mask and batch norm would update its
running averages twice. Nothing is consumed: calling backward again gives the same result and adds the
same parameter gradients again.
"""

from .layers import Layer


def layers_within(layer):
    """`layer` and every layer inside it (attributes, lists and tuples of layers, at any depth), each once."""
    found = {}
    stack = [layer]
    while stack:
        current = stack.pop()
        if id(current) not in found:
            found[id(current)] = current
            stack.extend(child for _, child in current._children() if isinstance(child, Layer))
    return list(found.values())


def remember(layer):
    """What `layer` and every layer inside it hold now: a list of (layer, a copy of its attributes).

    Copy each attribute dictionary, dict(vars(sub)) for sub in layers_within(layer): a *new* dictionary
    that refers to the same arrays (no array is copied, so this is cheap). It stays valid because forward
    stores new arrays in its attributes (self._x = x) instead of writing into the old ones. Every layer
    inside counts: a Residual used twice keeps its memory in its block's layers. (The training flag is
    an attribute too, so call train() or eval() before a forward, not between a forward and its backward.)
    """
    raise NotImplementedError('network: remember is not implemented yet. Run `make check EX=network`.')


def recall(state):
    """Put back what `remember` copied: for each (sub, attributes) pair, vars(sub).update(attributes), so
    that each layer's attributes are again what they were when the state was remembered."""
    raise NotImplementedError('network: recall is not implemented yet. Run `make check EX=network`.')


class Sequential(Layer):
    """Layers applied one after the other: Sequential(Linear(784, 128), ReLU(), Linear(128, 10)).

    The layers are kept, in order, in the list attribute self.layers; the base class then names their
    parameters by position: "0.W", "0.b", "2.W", ... (a layer used twice is listed once).
    Input and output shapes are those of the first and the last layer; an empty Sequential is the
    identity.
    """

    def __init__(self, *layers):
        """Call Layer.__init__ (training mode), then keep the layers in order in the list self.layers,
        and start an empty list self._states (one remembered state per use, filled by forward)."""
        raise NotImplementedError('network: Sequential.__init__ is not implemented yet. Run `make check EX=network`.')

    def forward(self, x):
        """h_0 = x, h_k = layers[k-1].forward(h_{k-1}); returns h_K.

        Right after each layer's forward, append remember(layer) to self._states, a *new* list on every
        call (an enclosing container may still hold the previous call's list, when this Sequential is
        itself used twice).
        """
        raise NotImplementedError('network: Sequential.forward is not implemented yet. Run `make check EX=network`.')

    def backward(self, grad_out):
        """Backpropagate through every layer, last to first.

        grad_out: dL/dh_K, the shape of the output. Returns dL/dx, the shape of the input.

            g = grad_out
            for k = K, K-1, ..., 1:   recall(state of use k);  g = layers[k-1].backward(g)   (dL/dh_{k-1})
            return g

        recall puts back what layer k held right after its own forward, whatever later uses of the same
        layer (here or in any other container) did since. Keep self._states as it is (do not pop): a
        second backward call must find the same states.
        """
        raise NotImplementedError('network: Sequential.backward is not implemented yet. Run `make check EX=network`.')


class Residual(Layer):
    """y = x + block(x): a skip connection around a block whose output has the input's shape.

    The block is kept in the attribute self.block, so its parameters are named "block.W", ...
    A Residual uses its block once per forward; when the Residual itself (or its block) is used again
    elsewhere, the Sequential around it remembers and recalls the block's state with its own.
    """

    def __init__(self, block):
        """Call Layer.__init__ (training mode), then keep the block in self.block."""
        raise NotImplementedError('network: Residual.__init__ is not implemented yet. Run `make check EX=network`.')

    def forward(self, x):
        """y = x + block.forward(x), same shape as x (a ValueError naming both shapes if the block
        changes the shape: NumPy would otherwise broadcast the sum silently)."""
        raise NotImplementedError('network: Residual.forward is not implemented yet. Run `make check EX=network`.')

    def backward(self, grad_out):
        """dL/dx = grad_out + block.backward(grad_out): the identity path plus the block path."""
        raise NotImplementedError('network: Residual.backward is not implemented yet. Run `make check EX=network`.')

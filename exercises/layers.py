# Your exercise file: replace each `raise NotImplementedError(...)` with your code.
# `make check EX=layers` runs its tests; `make reset EX=layers` puts this original stub back.
"""Exercise 1: parameters, the Layer base class, and the fully connected (Linear) layer.

Every layer of this kata follows one contract:

    y = layer.forward(x)            # remembers whatever backward will need
    grad_x = layer.backward(grad_y) # grad_y = dL/dy, same shape as y; returns dL/dx, same shape as x

and *adds* dL/dp into p.grad for each of its parameters p. Adding (never assigning) is what makes a
layer that is used twice in one network receive both contributions, exactly as the chain rule sums
over every path from a parameter to the loss. Call zero_grad() before each backward pass.
"""

import numpy as np

from . import init as initializers


class Parameter:
    """A trainable array and the gradient of the loss with respect to it.

    data: the values, any shape. A floating-point array keeps its dtype (float32 stays float32);
        anything else (integers, booleans, a list of ints) becomes float64: gradients and updates are
        fractions, and NumPy refuses to add them in place into an integer array (`p.data -= lr * p.grad`).
    grad: dL/d(data), same shape and dtype as data, starting at zeros.
    """

    def __init__(self, data):
        raise NotImplementedError('layers: Parameter.__init__ is not implemented yet. Run `make check EX=layers`.')

    @property
    def shape(self):
        return self.data.shape

    def __repr__(self):
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


class Layer:
    """Base class of every layer: parameter bookkeeping, train/eval mode, and calling.

    A subclass stores its Parameters and sub-layers as attributes (a list or tuple of layers counts
    too) and implements forward and backward. `training` is True until eval() is called.
    """

    def __init__(self):
        raise NotImplementedError('layers: Layer.__init__ is not implemented yet. Run `make check EX=layers`.')

    def forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} must implement forward(x)")

    def backward(self, grad_out):
        raise NotImplementedError(f"{type(self).__name__} must implement backward(grad_out)")

    def __call__(self, x):
        """layer(x) is layer.forward(x)."""
        raise NotImplementedError('layers: Layer.__call__ is not implemented yet. Run `make check EX=layers`.')

    def _children(self):
        """(name, Parameter or Layer) pairs stored directly on this layer, in attribute order."""
        for attribute, value in vars(self).items():
            if isinstance(value, (Parameter, Layer)):
                yield attribute, value
            elif isinstance(value, (list, tuple)):
                for index, item in enumerate(value):
                    if isinstance(item, (Parameter, Layer)):
                        yield str(index), item

    def named_parameters(self):
        """[(name, Parameter)] for this layer's parameters and, recursively, its sub-layers'.

        Names join attribute names with dots; layers held in a list are named by their index, so the
        weight of the first layer of a Sequential is "0.W". A layer's own parameters come first, then
        each sub-layer's, in attribute order. A parameter reachable twice (a layer used twice) is listed
        once, under the first name found.
        """
        raise NotImplementedError('layers: Layer.named_parameters is not implemented yet. Run `make check EX=layers`.')

    def parameters(self):
        """[Parameter] of this layer and its sub-layers, each once."""
        raise NotImplementedError('layers: Layer.parameters is not implemented yet. Run `make check EX=layers`.')

    def zero_grad(self):
        """Set every parameter's gradient to zero, in place (an optimiser may hold a reference to it)."""
        raise NotImplementedError('layers: Layer.zero_grad is not implemented yet. Run `make check EX=layers`.')

    def _set_mode(self, training):
        self.training = training
        for _, child in self._children():
            if isinstance(child, Layer):
                child._set_mode(training)

    def train(self):
        """Training mode for this layer and all sub-layers (dropout drops, batch norm uses the batch)."""
        raise NotImplementedError('layers: Layer.train is not implemented yet. Run `make check EX=layers`.')

    def eval(self):
        """Evaluation mode for this layer and all sub-layers."""
        raise NotImplementedError('layers: Layer.eval is not implemented yet. Run `make check EX=layers`.')


def _from_init(name):
    """init.<name>, looked up when it is called. Until exercise 6 (init.py) is written, its functions raise
    NotImplementedError; then the weights come from uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's
    default for Linear, so that this exercise, and the networks built on it, work before exercise 6."""

    def draw(fan_in, fan_out, rng):
        try:
            return getattr(initializers, name)(fan_in, fan_out, rng)
        except NotImplementedError:
            bound = 1.0 / np.sqrt(fan_in)
            return rng.uniform(-bound, bound, size=(fan_in, fan_out))

    draw.__name__ = draw.__qualname__ = name
    return draw


INITIALIZERS = {
    "he": _from_init("he_normal"),
    "he_uniform": _from_init("he_uniform"),
    "xavier": _from_init("xavier_normal"),
    "xavier_uniform": _from_init("xavier_uniform"),
}


class Linear(Layer):
    """A fully connected layer: Y = X W + b.

    X: (N, in_features)   Y: (N, out_features)
    self.W: Parameter of shape (in_features, out_features), drawn by `init`
    self.b: Parameter of shape (out_features,), zeros

    init: "he" (for ReLU networks, the default), "xavier" (for tanh/sigmoid), "he_uniform",
    "xavier_uniform" (the functions of init.py, looked up in INITIALIZERS), or a function
    (fan_in, fan_out, rng) -> array. rng: a numpy Generator (a fresh one when None).
    dtype: the dtype of W and b, so also of Y and of every gradient for inputs of that dtype: float64
    for gradient checks; float32 trains twice as fast with the same accuracy.

    input_gradient: when False, backward still fills W.grad and b.grad but returns None instead of
    dL/dX. Set it on a network's first layer: nothing uses the gradient with respect to the images, and
    computing it is a third of that layer's backward. PyTorch skips it the same way.
    """

    input_gradient = True

    def __init__(self, in_features, out_features, *, rng=None, init="he", dtype=np.float64):
        raise NotImplementedError('layers: Linear.__init__ is not implemented yet. Run `make check EX=layers`.')

    def forward(self, x):
        """Y = X W + b for a batch X of shape (N, in_features); returns (N, out_features).

        Keep X: backward needs it for dL/dW.
        """
        # Given: a wrong input shape gets a sentence naming this layer instead of NumPy's matmul error.
        if x.ndim != 2 or x.shape[1] != self.W.data.shape[0]:
            raise ValueError(f"Linear expects input of shape (N, {self.W.data.shape[0]}), got {x.shape}")
        raise NotImplementedError('layers: Linear.forward is not implemented yet. Run `make check EX=layers`.')

    def backward(self, grad_out):
        """Backpropagate through Y = X W + b.

        grad_out: dL/dY, shape (N, out_features).
        Returns dL/dX, shape (N, in_features).

        Chain rule, one row of the batch at a time, then summed over the batch:
            dL/dW = X^T · dL/dY          (in, N) @ (N, out) -> (in, out)
            dL/db = sum over rows of dL/dY                     -> (out,)
            dL/dX = dL/dY · W^T          (N, out) @ (out, in) -> (N, in)
        The parameter gradients are added into W.grad and b.grad, never assigned. Returns None when
        self.input_gradient is False.
        """
        raise NotImplementedError('layers: Linear.backward is not implemented yet. Run `make check EX=layers`.')

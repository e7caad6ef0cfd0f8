# Your exercise file: replace each `raise NotImplementedError(...)` with your code.
# `make check EX=autograd` runs its tests; `make reset EX=autograd` puts this original stub back.
"""Stretch exercise: a reverse-mode automatic differentiation engine.

Until now every layer carried its own hand-written backward. An autograd engine writes them for you:
each operation on a `Tensor` computes its result *and* remembers how to send a gradient back to its
inputs. Calling `loss.backward()` then applies the chain rule over the whole computation graph.

The graph. Every Tensor made by an operation keeps its inputs (`_parents`) and a function
`_backward(g)` that, given g = dL/d(out) (same shape as out), returns one gradient per parent:
dL/d(parent) = g · d(out)/d(parent), each of its parent's shape (None for a parent that needs none).
Tensors you create yourself are *leaves*; a leaf with requires_grad=True keeps its gradient in `.grad`.

Reverse mode. Sort the graph topologically (every node after all of its inputs), then visit the nodes
from the output back to the leaves. When a node is visited, every path through it has already delivered
its contribution, so its gradient is complete: the chain rule *sums over paths*,
    dL/dx = sum over the uses u of x of dL/du · du/dx,
which is why contributions are added, never assigned (x * x has gradient 2x, not x).

Broadcasting. When a (4,) bias is added to a (5, 4) batch, NumPy silently copies it five times. Each copy
receives a gradient, and the bias's gradient is their sum: undo broadcasting by summing the gradient over
the axes NumPy added or stretched (`unbroadcast`).

Precision. The engine keeps the dtype it is given: float32 data gives float32 results and gradients (a
Python number takes the dtype of the tensor it meets), so a model trains in float32 as the layers of the
earlier exercises do.

Training. A leaf Tensor has .data and .grad like a layers.Parameter, so optim.SGD updates Tensors
unchanged once each parameter's .grad is an array (set `p.grad = np.zeros_like(p.data)` before the first
optimizer.zero_grad()); grader/milestones/autograd_mnist.py trains an MLP this way.
"""

import numpy as np


# Reading order: the Tensor class with its common operations and backward() first; after it the other
# operations, cross_entropy, no_grad, and the helpers the operations call (_as_tensor, unbroadcast).

# Module-level switch read by every operation; `no_grad` flips it. A plain global (not a thread-local)
# keeps the engine simple: this kata runs one training loop at a time.
_grad_enabled = True


def _result(data, parents, backward):
    """The Tensor returned by an operation: data, and the graph only when a gradient can flow.

    data: the result (an ndarray or a NumPy scalar). parents: tuple of input Tensors.
    backward: function g -> tuple of one gradient (or None) per parent.
    Recording is skipped inside no_grad() and when no input requires a gradient, so evaluation and
    constant arithmetic build no graph and keep nothing alive.
    """
    recording = _grad_enabled and any(p.requires_grad for p in parents)
    out = Tensor(data, requires_grad=recording)
    if recording:
        out._parents = parents
        out._backward = backward
    return out


class Tensor:
    """An array that records the operations applied to it, for reverse-mode differentiation.

    data: ndarray (a float array is kept as given, anything else becomes float64).
    requires_grad: when True, backward() leaves dL/d(data) in .grad (same shape as data).
    grad: None until a backward pass reaches this tensor; then an ndarray to which every further
        backward pass *adds* (call zero_grad() between steps). Only leaves (tensors you created, not
        results of operations) keep a gradient, like PyTorch: intermediate gradients are freed as soon
        as they have been used.

    Operators: + - * / @ ** (Tensor, NumPy array or number on either side), unary -, t[index], and the
    methods below. Shapes follow NumPy broadcasting.
    """

    # Makes `ndarray + Tensor` call Tensor.__radd__ instead of NumPy treating the Tensor as an object.
    __array_ufunc__ = None

    def __init__(self, data, requires_grad=False):
        if isinstance(data, Tensor):
            data = data.data
        data = np.asarray(data)
        if not np.issubdtype(data.dtype, np.floating):
            data = data.astype(np.float64)
        self.data = data
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._parents = ()
        self._backward = None

    # ----- the common operations: each returns its result and remembers backward(g) for its inputs -----
    def __add__(self, other):
        """out = a + b (broadcast). dL/da = unbroadcast(g, a.shape), dL/db = unbroadcast(g, b.shape)."""
        raise NotImplementedError('autograd: Tensor.__add__ is not implemented yet. Run `make check EX=autograd`.')

    def __mul__(self, other):
        """out = a * b (element-wise, broadcast). dL/da = g * b, dL/db = g * a (unbroadcast)."""
        raise NotImplementedError('autograd: Tensor.__mul__ is not implemented yet. Run `make check EX=autograd`.')

    def __matmul__(self, other):
        """out = a @ b, NumPy's matmul (2-D matrices, stacks of them, and 1-D vectors).

        For matrices A (n, k) and B (k, m) with G = dL/dOut (n, m):
            dL/dA = G B^T   (n, m) @ (m, k) -> (n, k)
            dL/dB = A^T G   (k, n) @ (n, m) -> (k, m)
        A 1-D a is treated as the row (1, k) and a 1-D b as the column (k, 1); stacked (batched)
        operands use the same formulas on their last two axes, then unbroadcast the stack axes.
        """
        raise NotImplementedError('autograd: Tensor.__matmul__ is not implemented yet. Run `make check EX=autograd`.')

    def sum(self, axis=None, keepdims=False):
        """Sum over `axis` (None: all). Every summed entry gets the gradient of its sum:
        dL/da = g broadcast back to a's shape (re-inserting the summed axes first when keepdims=False).
        """
        raise NotImplementedError('autograd: Tensor.sum is not implemented yet. Run `make check EX=autograd`.')

    def exp(self):
        """out = e^a. dL/da = g * out."""
        raise NotImplementedError('autograd: Tensor.exp is not implemented yet. Run `make check EX=autograd`.')

    def log(self):
        """out = ln a (a > 0). dL/da = g / a."""
        raise NotImplementedError('autograd: Tensor.log is not implemented yet. Run `make check EX=autograd`.')

    def tanh(self):
        """out = tanh a. dL/da = g * (1 - out^2)."""
        raise NotImplementedError('autograd: Tensor.tanh is not implemented yet. Run `make check EX=autograd`.')

    def relu(self):
        """out = max(a, 0). dL/da = g where a > 0, else 0 (0 at a == 0 exactly, like PyTorch)."""
        raise NotImplementedError('autograd: Tensor.relu is not implemented yet. Run `make check EX=autograd`.')

    # ----- the backward pass -----
    def _topological_order(self):
        """Every tensor that requires a gradient and leads to self, each after all of its parents.

        Iterative depth-first search with an explicit stack of (node, parents_done) pairs, because a
        recursive one hits Python's recursion limit (1000) on a 10,000-operation chain. A node is
        appended to the order when it is popped the second time (parents_done True): by then every
        parent has been appended. Mark a node visited when it is *expanded*, not when it is pushed:
        otherwise a node reached again through another path may be placed after its children.
        """
        raise NotImplementedError('autograd: Tensor._topological_order is not implemented yet. Run `make check EX=autograd`.')

    def backward(self, grad=None):
        """Compute dL/d(leaf) for every leaf with requires_grad that self depends on; add it into .grad.

        grad: dL/d(self), same shape as self; may be omitted when self has one element (then 1).
        Visit the nodes of _topological_order() in reverse (the output first). Keep the gradients
        flowing through the graph in a dict {node: dL/dnode}: when a node is visited its entry is
        complete; call node._backward(g) and *add* each returned gradient into its parent's entry
        (a tensor used twice receives both contributions). A leaf (no _backward) adds its gradient into
        .grad: the first time a private copy (g may be the caller's array, or shared by two leaves of
        a + b), afterwards in place, so gradients accumulate across backward calls until zero_grad().
        Raises ValueError when grad is omitted for a several-element self or has the wrong shape, and
        RuntimeError when self does not require a gradient.
        """
        raise NotImplementedError('autograd: Tensor.backward is not implemented yet. Run `make check EX=autograd`.')

    # ----- the other operators, built the same way -----
    def __radd__(self, other):
        return _as_tensor(other, self) + self

    def __sub__(self, other):
        """out = a - b. dL/da = g, dL/db = -g (each unbroadcast to its operand's shape)."""
        raise NotImplementedError('autograd: Tensor.__sub__ is not implemented yet. Run `make check EX=autograd`.')

    def __rsub__(self, other):
        return _as_tensor(other, self) - self

    def __neg__(self):
        """out = -a. dL/da = -g."""
        raise NotImplementedError('autograd: Tensor.__neg__ is not implemented yet. Run `make check EX=autograd`.')

    def __rmul__(self, other):
        return _as_tensor(other, self) * self

    def __truediv__(self, other):
        """out = a / b. dL/da = g / b, dL/db = -g * a / b^2 (unbroadcast)."""
        raise NotImplementedError('autograd: Tensor.__truediv__ is not implemented yet. Run `make check EX=autograd`.')

    def __rtruediv__(self, other):
        return _as_tensor(other, self) / self

    def __pow__(self, other):
        """out = a ** b. dL/da = g * b * a^(b-1); dL/db = g * out * log(a) (only when b needs it)."""
        raise NotImplementedError('autograd: Tensor.__pow__ is not implemented yet. Run `make check EX=autograd`.')

    def __rpow__(self, other):
        return _as_tensor(other, self) ** self

    def __rmatmul__(self, other):
        return _as_tensor(other, self) @ self

    # ----- the other reductions, shapes and functions -----
    def mean(self, axis=None, keepdims=False):
        """Mean over `axis` (None: all): like sum, with the gradient divided by the count averaged."""
        raise NotImplementedError('autograd: Tensor.mean is not implemented yet. Run `make check EX=autograd`.')

    def reshape(self, *shape):
        """Same entries, another shape (reshape(2, 3) or reshape((2, 3))). dL/da = g.reshape(a.shape)."""
        raise NotImplementedError('autograd: Tensor.reshape is not implemented yet. Run `make check EX=autograd`.')

    def transpose(self, *axes):
        """Permute the axes (no axes: reverse them). dL/da = g transposed by the inverse permutation."""
        raise NotImplementedError('autograd: Tensor.transpose is not implemented yet. Run `make check EX=autograd`.')

    @property
    def T(self):
        return self.transpose()

    def __getitem__(self, index):
        """t[index] with basic (slices, ints) or integer-array indexing.

        dL/da is zero except at the selected entries, which receive g. An entry selected twice (t[[0, 0]])
        must receive both contributions: np.add.at(grad, index, g) adds, while grad[index] = g would keep
        only the last.
        """
        raise NotImplementedError('autograd: Tensor.__getitem__ is not implemented yet. Run `make check EX=autograd`.')

    def sigmoid(self):
        """out = 1 / (1 + e^-a), computed without overflow. dL/da = g * out * (1 - out).

        exp is only ever taken of -|a| <= 0: for a >= 0, 1 / (1 + e^-a); for a < 0, e^a / (1 + e^a).
        """
        raise NotImplementedError('autograd: Tensor.sigmoid is not implemented yet. Run `make check EX=autograd`.')

    # ----- plain properties (given) -----
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    @property
    def dtype(self):
        return self.data.dtype

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        flag = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor(shape={self.data.shape}, dtype={self.data.dtype}{flag})"

    def item(self):
        """The value of a one-element tensor as a Python float."""
        return self.data.item()

    def numpy(self):
        """The data array (not a copy)."""
        return self.data

    def detach(self):
        """A new leaf with the same data (not copied) and no history: gradients stop here."""
        return Tensor(self.data)

    def zero_grad(self):
        """Set .grad to zero in place (kept as an array, so the next backward adds without allocating)."""
        if self.grad is not None:
            self.grad[...] = 0


def cross_entropy(logits, labels):
    """Mean softmax cross-entropy as ONE graph node, stable for any finite logits.

    logits: Tensor (N, C). labels: integer array (N,) (or a Tensor of them) with values in 0..C-1.
    Returns a 0-d Tensor: L = (1/N) sum_i [logsumexp(z_i) - z_i[y_i]].

    With m_i = max_j z_ij, logsumexp(z_i) = m_i + log sum_j exp(z_ij - m_i): exp never overflows.
    One fused node instead of exp, sum, log and indexing: a single backward with the simple gradient
        dL/dz = g * (softmax(z) - onehot(y)) / N,
    where g = dL/dL (1 unless the loss is scaled), and no huge intermediate gradients.
    """
    raise NotImplementedError('autograd: cross_entropy is not implemented yet. Run `make check EX=autograd`.')


class no_grad:
    """Context manager: operations inside `with no_grad():` record no graph (evaluation, SGD updates).

    Their results have requires_grad False, no parents and no backward function, so nothing is kept
    alive and a later backward() cannot reach through them.
    """

    def __enter__(self):
        global _grad_enabled
        self._previous = _grad_enabled
        _grad_enabled = False
        return self

    def __exit__(self, *exc_info):
        global _grad_enabled
        _grad_enabled = self._previous
        return False


def _as_tensor(value, like):
    """`value` as a Tensor; a Python number takes the dtype of the Tensor `like`.

    np.asarray(0.5) would be a float64 array, and float32 * float64 array is float64 in NumPy 2: one
    stray constant would silently turn everything after it into float64.
    """
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (int, float)):
        return Tensor(np.asarray(value, dtype=like.data.dtype))
    return Tensor(value)


def unbroadcast(grad, shape):
    """Sum `grad` over the axes that broadcasting added or stretched, so that it has `shape` again.

    grad: dL/d(out), shape of the broadcast result, e.g. (5, 4).
    shape: the operand's shape, e.g. (4,) or (5, 1) or () for a scalar.
    Returns an array of `shape`.

    If x of shape (4,) was broadcast to (5, 4), out[i, j] uses x[j] for every row i, so
        dL/dx[j] = sum_i dL/dout[i, j]:
    sum over the leading axes NumPy prepended, then (keeping the axis) over every axis where the
    operand had length 1 but the result does not.
    """
    raise NotImplementedError('autograd: unbroadcast is not implemented yet. Run `make check EX=autograd`.')

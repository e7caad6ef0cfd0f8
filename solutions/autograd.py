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
        # <exercise>
        a, b = self, _as_tensor(other, self)

        def backward(g):
            return (unbroadcast(g, a.data.shape) if a.requires_grad else None,
                    unbroadcast(g, b.data.shape) if b.requires_grad else None)

        return _result(a.data + b.data, (a, b), backward)
        # </exercise>

    def __mul__(self, other):
        """out = a * b (element-wise, broadcast). dL/da = g * b, dL/db = g * a (unbroadcast)."""
        # <exercise>
        a, b = self, _as_tensor(other, self)

        def backward(g):
            return (unbroadcast(g * b.data, a.data.shape) if a.requires_grad else None,
                    unbroadcast(g * a.data, b.data.shape) if b.requires_grad else None)

        return _result(a.data * b.data, (a, b), backward)
        # </exercise>

    def __matmul__(self, other):
        """out = a @ b, NumPy's matmul (2-D matrices, stacks of them, and 1-D vectors).

        For matrices A (n, k) and B (k, m) with G = dL/dOut (n, m):
            dL/dA = G B^T   (n, m) @ (m, k) -> (n, k)
            dL/dB = A^T G   (k, n) @ (n, m) -> (k, m)
        A 1-D a is treated as the row (1, k) and a 1-D b as the column (k, 1); stacked (batched)
        operands use the same formulas on their last two axes, then unbroadcast the stack axes.
        """
        # <exercise>
        a, b = self, _as_tensor(other, self)

        def backward(g):
            # Promote vectors to matrices so one pair of formulas covers every case; g then regains
            # the axes matmul dropped for them (b's first, so a 0-d g becomes (1, 1) correctly).
            a2 = a.data if a.data.ndim > 1 else a.data[np.newaxis, :]
            b2 = b.data if b.data.ndim > 1 else b.data[:, np.newaxis]
            if b.data.ndim == 1:
                g = np.expand_dims(g, -1)
            if a.data.ndim == 1:
                g = np.expand_dims(g, -2)
            grad_a = grad_b = None
            if a.requires_grad:
                grad_a = unbroadcast(g @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.data.shape)
            if b.requires_grad:
                grad_b = unbroadcast(np.swapaxes(a2, -1, -2) @ g, b2.shape).reshape(b.data.shape)
            return grad_a, grad_b

        return _result(a.data @ b.data, (a, b), backward)
        # </exercise>

    def sum(self, axis=None, keepdims=False):
        """Sum over `axis` (None: all). Every summed entry gets the gradient of its sum:
        dL/da = g broadcast back to a's shape (re-inserting the summed axes first when keepdims=False).
        """
        # <exercise>
        a = self

        def backward(g):
            if axis is not None and not keepdims:
                g = np.expand_dims(g, axis)
            return (np.broadcast_to(g, a.data.shape),)

        return _result(a.data.sum(axis=axis, keepdims=keepdims), (a,), backward)
        # </exercise>

    def exp(self):
        """out = e^a. dL/da = g * out."""
        # <exercise>
        a = self
        out = np.exp(a.data)

        def backward(g):
            return (g * out,)

        return _result(out, (a,), backward)
        # </exercise>

    def log(self):
        """out = ln a (a > 0). dL/da = g / a."""
        # <exercise>
        a = self

        def backward(g):
            return (g / a.data,)

        return _result(np.log(a.data), (a,), backward)
        # </exercise>

    def tanh(self):
        """out = tanh a. dL/da = g * (1 - out^2)."""
        # <exercise>
        a = self
        out = np.tanh(a.data)

        def backward(g):
            return (g * (1 - out * out),)

        return _result(out, (a,), backward)
        # </exercise>

    def relu(self):
        """out = max(a, 0). dL/da = g where a > 0, else 0 (0 at a == 0 exactly, like PyTorch)."""
        # <exercise>
        a = self

        def backward(g):
            return (g * (a.data > 0),)

        return _result(np.maximum(a.data, 0), (a,), backward)
        # </exercise>

    # ----- the backward pass -----
    def _topological_order(self):
        """Every tensor that requires a gradient and leads to self, each after all of its parents.

        Iterative depth-first search with an explicit stack of (node, parents_done) pairs, because a
        recursive one hits Python's recursion limit (1000) on a 10,000-operation chain. A node is
        appended to the order when it is popped the second time (parents_done True): by then every
        parent has been appended. Mark a node visited when it is *expanded*, not when it is pushed:
        otherwise a node reached again through another path may be placed after its children.
        """
        # <exercise>
        order = []
        visited = set()
        stack = [(self, False)]
        while stack:
            node, parents_done = stack.pop()
            if parents_done:
                order.append(node)
                continue
            if node in visited:
                continue
            visited.add(node)
            stack.append((node, True))
            for parent in node._parents:
                if parent.requires_grad and parent not in visited:
                    stack.append((parent, False))
        return order
        # </exercise>

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
        # <exercise>
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require a gradient: no input of "
                               "it was created with requires_grad=True (or it was made inside no_grad).")
        if grad is None:
            if self.data.size != 1:
                raise ValueError(f"backward() without a gradient needs a one-element output, not shape "
                                 f"{self.data.shape}: pass grad=dL/d(this tensor).")
            grad = np.ones_like(self.data)
        else:
            grad = np.asarray(grad, dtype=self.data.dtype)
            if grad.shape != self.data.shape:
                raise ValueError(f"backward(grad) needs grad of shape {self.data.shape}, got {grad.shape}.")
        grads = {self: grad}
        for node in reversed(self._topological_order()):
            # pop: an intermediate gradient is freed as soon as it has been passed on.
            g = grads.pop(node, None)
            if g is None:
                continue
            if node._backward is None:
                if node.grad is None:
                    # A private copy: g may be the caller's array or shared with another node.
                    node.grad = np.array(g, dtype=node.data.dtype)
                else:
                    # .grad was copied when first set, so it is ours to add into.
                    node.grad += g
                continue
            for parent, parent_grad in zip(node._parents, node._backward(g)):
                if parent_grad is None:
                    continue
                if parent in grads:
                    # Not `+=`: the stored array may alias g of another node or the caller's array.
                    grads[parent] = grads[parent] + parent_grad
                else:
                    grads[parent] = parent_grad
        # </exercise>

    # ----- the other operators, built the same way -----
    def __radd__(self, other):
        return _as_tensor(other, self) + self

    def __sub__(self, other):
        """out = a - b. dL/da = g, dL/db = -g (each unbroadcast to its operand's shape)."""
        # <exercise>
        a, b = self, _as_tensor(other, self)

        def backward(g):
            return (unbroadcast(g, a.data.shape) if a.requires_grad else None,
                    unbroadcast(-g, b.data.shape) if b.requires_grad else None)

        return _result(a.data - b.data, (a, b), backward)
        # </exercise>

    def __rsub__(self, other):
        return _as_tensor(other, self) - self

    def __neg__(self):
        """out = -a. dL/da = -g."""
        # <exercise>
        a = self

        def backward(g):
            return (-g,)

        return _result(-a.data, (a,), backward)
        # </exercise>

    def __rmul__(self, other):
        return _as_tensor(other, self) * self

    def __truediv__(self, other):
        """out = a / b. dL/da = g / b, dL/db = -g * a / b^2 (unbroadcast)."""
        # <exercise>
        a, b = self, _as_tensor(other, self)

        def backward(g):
            return (unbroadcast(g / b.data, a.data.shape) if a.requires_grad else None,
                    unbroadcast(-g * a.data / (b.data * b.data), b.data.shape) if b.requires_grad else None)

        return _result(a.data / b.data, (a, b), backward)
        # </exercise>

    def __rtruediv__(self, other):
        return _as_tensor(other, self) / self

    def __pow__(self, other):
        """out = a ** b. dL/da = g * b * a^(b-1); dL/db = g * out * log(a) (only when b needs it)."""
        # <exercise>
        a, b = self, _as_tensor(other, self)
        out = a.data ** b.data

        def backward(g):
            return (unbroadcast(g * b.data * a.data ** (b.data - 1), a.data.shape) if a.requires_grad else None,
                    unbroadcast(g * out * np.log(a.data), b.data.shape) if b.requires_grad else None)

        return _result(out, (a, b), backward)
        # </exercise>

    def __rpow__(self, other):
        return _as_tensor(other, self) ** self

    def __rmatmul__(self, other):
        return _as_tensor(other, self) @ self

    # ----- the other reductions, shapes and functions -----
    def mean(self, axis=None, keepdims=False):
        """Mean over `axis` (None: all): like sum, with the gradient divided by the count averaged."""
        # <exercise>
        a = self
        out = a.data.mean(axis=axis, keepdims=keepdims)
        count = a.data.size // max(np.size(out), 1)

        def backward(g):
            if axis is not None and not keepdims:
                g = np.expand_dims(g, axis)
            return (np.broadcast_to(g / count, a.data.shape),)

        return _result(out, (a,), backward)
        # </exercise>

    def reshape(self, *shape):
        """Same entries, another shape (reshape(2, 3) or reshape((2, 3))). dL/da = g.reshape(a.shape)."""
        # <exercise>
        a = self
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])

        def backward(g):
            return (g.reshape(a.data.shape),)

        return _result(a.data.reshape(shape), (a,), backward)
        # </exercise>

    def transpose(self, *axes):
        """Permute the axes (no axes: reverse them). dL/da = g transposed by the inverse permutation."""
        # <exercise>
        a = self
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        if not axes:
            axes = tuple(reversed(range(a.data.ndim)))
        inverse = tuple(np.argsort(axes))

        def backward(g):
            return (g.transpose(inverse),)

        return _result(a.data.transpose(axes), (a,), backward)
        # </exercise>

    @property
    def T(self):
        return self.transpose()

    def __getitem__(self, index):
        """t[index] with basic (slices, ints) or integer-array indexing.

        dL/da is zero except at the selected entries, which receive g. An entry selected twice (t[[0, 0]])
        must receive both contributions: np.add.at(grad, index, g) adds, while grad[index] = g would keep
        only the last.
        """
        # <exercise>
        a = self
        if isinstance(index, Tensor):
            index = index.data.astype(np.int64)

        def backward(g):
            grad = np.zeros_like(a.data)
            np.add.at(grad, index, g)
            return (grad,)

        return _result(a.data[index], (a,), backward)
        # </exercise>

    def sigmoid(self):
        """out = 1 / (1 + e^-a), computed without overflow. dL/da = g * out * (1 - out).

        exp is only ever taken of -|a| <= 0: for a >= 0, 1 / (1 + e^-a); for a < 0, e^a / (1 + e^a).
        """
        # <exercise>
        a = self
        e = np.exp(-np.abs(a.data))
        out = np.where(a.data >= 0, 1 / (1 + e), e / (1 + e))

        def backward(g):
            return (g * out * (1 - out),)

        return _result(out, (a,), backward)
        # </exercise>

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
    # <exercise>
    z = logits.data
    labels = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
    if labels.shape != (z.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers of shape ({z.shape[0]},), got {labels.dtype} {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= z.shape[1]):
        raise ValueError(f"labels must lie in 0..{z.shape[1] - 1}")
    n = z.shape[0]
    rows = np.arange(n)
    shifted = z - z.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    sum_exp = exp.sum(axis=1, keepdims=True)
    loss = np.mean(np.log(sum_exp[:, 0]) - shifted[rows, labels])

    def backward(g):
        # exp and sum_exp are reused from the forward pass; `probs` is a fresh array, so the in-place
        # updates below touch nothing anyone else holds.
        probs = exp / sum_exp
        probs[rows, labels] -= 1
        probs *= g / n
        return (probs,)

    return _result(np.asarray(loss, dtype=z.dtype), (logits,), backward)
    # </exercise>


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
    # <exercise>
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(axis for axis, n in enumerate(shape) if n == 1 and grad.shape[axis] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return np.asarray(grad).reshape(shape)
    # </exercise>

"""Stretch exercise: a fast training step, measured before and after, against PyTorch.

Your textbook code (layers, activations, losses, network, optim, conv) is correct and reads like its
formulas. Here you write the same training step again, for the MNIST MLP (784-256-128-10, ReLU, softmax
cross-entropy, SGD with momentum, batch 128) and for the CNN of the `cnn` milestone, so that it computes
the same numbers (the tests check every parameter after several steps against the textbook) in much
less time. The milestones `fast_mlp` and `fast_cnn` time it against your textbook step and PyTorch's.

Measure first. A Profiler (below) laps the parts of a step so that they add up to the whole step:
Python's own work between NumPy calls, allocations and page faults land in the part where they happen.
Then change one thing at a time and measure again.

Every number below was measured on the 2-core machine this kata was built on, one thread for NumPy and
for PyTorch, CPU time per step (time.thread_time), medians, while other jobs kept both cores busy
(load average about 10).

The lessons, with what each one saved here
  1. float32 end to end. Half the bytes of float64 through every product and copy, and BLAS does twice
     as many float32 operations per instruction. Textbook MLP step: 5.69 ms in float64, 2.63 in float32.
     Convert the parameters once, in __init__; never let a float64 array (np.ones(n), a Python list)
     into a product, or NumPy silently computes in float64.
  2. No gradient nobody uses. The images need no dL/dx, so the first layer skips G W1^T: 0.63 ms of
     the 2.63 ms textbook step (1.90 without it). PyTorch skips it the same way.
  3. Allocate once, then overwrite. Every buffer the step needs is made in __init__ for batch_size
     rows; a shorter batch uses views buf[:n]. Products go straight into them (np.matmul(a, b, out=buf)),
     element-wise work in place (+=, *=, np.maximum(a, 0, out=a)). A fresh 40 MB array costs page faults
     (the kernel hands over zeroed pages on first touch): filling a fresh one took 6.2 ms, a reused one
     1.9 ms. The textbook CNN step takes 700 to 2,000 minor page faults per step, the fast one none.
  4. The fused softmax cross-entropy gradient. (softmax(z) - onehot(y)) / n, computed in the logits'
     own buffer; the loss from log-sum-exp, never log(exp(...)). Forward and backward of the loss: 0.04
     ms fused in place, 0.055 ms textbook, 0.11 ms through softmax's (C, C) Jacobian. Small here (10
     classes), but the scale of the gradient is free to choose: multiply the (n, 10) gradient by lr/n
     and keep the velocity as lr * v, and no update ever multiplies 235,146 weights by lr.
  5. Layouts chosen so that every pass reads contiguous memory. NumPy's element-wise loops run fast
     over long contiguous rows and pay per row otherwise. The second convolution is channels-last,
     (n, h, w, c): a window's rows are then runs of k*c adjacent values, and the product's (n*h*w, c_out)
     output is already the next layer's input. im2col of its input: 10.8 ms with columns (c, i, j) from
     channels-first data, 7.4 ms for the textbook im2col, 2.5 ms channels-last. The Linear layer then
     reads (h, w, c) features: permute W3's rows once, in __init__ (and back in parameters()).
     For the first convolution (one input channel) the trick is in its output: group the output pixels
     by their offset in the 2 x 2 pooling window, (c, offset, n, h/2, w/2), and max-pooling becomes a
     maximum of four contiguous blocks. Pool and ReLU forward and backward: 37.1 ms textbook, 7.7 ms
     fused but on strided channels-last windows, 2.1 ms on blocks.
  6. col2im one kernel offset at a time into ONE buffer. dL/dx of the second convolution: the block of
     offset (i, j) is G @ W[:, i, j, :], contiguous, added into the shifted window of one padded buffer
     that is cleared first. 36.9 ms as the textbook col2im(G Wm), 12.9 ms per offset, 11.1 ms per offset
     and per chunk of 8 images.
  7. Max-pool backward without copying windows. Compare each window offset with the pooled maximum and
     give the gradient to the first equal offset, subtracting what was routed so that a tie gets nothing
     (MNIST's flat background makes ties common): no argmax over a copied (.., 4) axis, no mask the size
     of the input per window. Pool and ReLU fused: max(0, max of the window), and the ReLU's mask is
     pooled > 0. (Numbers in lesson 5.)
  8. Work in chunks that fit in the cache. The second convolution's columns for the whole batch are 40
     MB; built and multiplied 8 images (2.5 MB) at a time they stay in the cache between the copy and
     the product, and backward builds each chunk again rather than keeping 40 MB: the CNN step went from
     58 to 48 ms, and its peak memory down by 40 MB.
  9. Peak memory and page faults, against PyTorch's. Extra resident memory while training (VmHWM above
     the level before the first step, each in a fresh process): MLP 1.2 MiB fast, 1.8 textbook, 76.8
     PyTorch; CNN 37 MiB fast, 123 textbook, 131 PyTorch. Page faults per step: fast 0, textbook CNN
     about 1,000, PyTorch CNN about 900.
 10. A different algorithm, where it wins. The MLP's input pixels that are zero in every image of the
     batch (about a third of MNIST's, the borders) add nothing to x W1 and get a zero gradient: leave
     their rows of W1 out of both first-layer products (1.58 ms instead of 1.82 per step). FFT
     convolution does NOT win here: the second convolution's forward took 19.8 ms through numpy.fft
     (5,000 small 18 x 18 transforms, slow per transform) against 15.6 ms for im2col and one product.

Where it ends up (make bench, 469 MLP steps and 200 CNN steps each, ratio = step / PyTorch's step):
    MLP  textbook 2.98 ms (1.18), fast 1.52 ms (0.60), PyTorch 2.53 ms;  test accuracy 96.4, 96.7, 96.7%
    CNN  textbook 132 ms (4.19),  fast 46.4 ms (1.47), PyTorch 31.6 ms;  test accuracy 97.3, 97.3, 97.3%

The milestones' thresholds, beside the honest implementations they were set from (CPU-time medians of
the per-round ratios, each decided by its 90% interval: grader/milestones/stopwatch.py)
    fast_mlp  speed-up over your textbook step >= 1.4, your fast step / PyTorch's <= 0.9. This file's
              FastMLP, six runs: 1.53, 1.54, 1.55, 1.55, 1.58, and 1.56 beside three NumPy and one
              PyTorch matrix-product loop (ratio 0.71-0.75). A minimal honest one (float32, out= buffers,
              the fused loss, no first-layer dL/dx, nothing else) quiet, under that load, quiet: 1.44
              (interval 1.41-1.49), 1.43 (1.41-1.48, 22 rounds), 1.50 (1.44-1.62): passed three times. The
              bar sits just under that minimal step; the textbook step itself scores 1.0.
    fast_cnn  speed-up >= 2.0, ratio <= 2.2. This file's FastCNN, three runs: 2.70, 2.36, 2.56 (ratio
              1.53-1.62); one honest code measured 2.18-2.82 under the former five-block decision.

Why PyTorch is still faster on the CNN (and why the fast MLP beats it)
  - oneDNN's direct convolution. PyTorch never writes im2col's columns: its JIT-compiled kernels walk
    the windows in registers. The second convolution's forward: 6.1 ms in PyTorch against 15.6 ms for
    im2col and one OpenBLAS product, because a product with 32 output columns runs at 54 GFLOP/s here,
    where the MLP's (128 x 784) @ (784 x 256) runs at 92. All three products of that convolution
    (forward, dL/dW, dL/dx) have that shape: they are most of the fast step.
  - Fused kernels: bias and ReLU inside the convolution, log-softmax with the loss, one SGD update over
    all parameters at once. NumPy makes one pass over memory per expression.
  - Threads: PyTorch parallelises every operation, NumPy only its matrix products. With two threads
    each, an epoch of the CNN took 26.0 s for the (older) reference and 7.1 s for PyTorch, against
    30.6 s and 12.8 s with one (measured when the kata was built).
  - No Python per operation: its autograd runs backward in C++. The fixed cost of a step (batch of 1):
    0.48 ms for PyTorch's MLP step, 0.30 ms for the fast one, which makes about 40 NumPy calls. That
    fixed cost is why the fast MLP step beats PyTorch's: at this size the arithmetic is about 1 ms.
  - And on a GPU a framework spreads each operation over thousands of cores; NumPy cannot.

Why reverse mode (make bench, section reverse_mode): the gradient of a loss with respect to all n
parameters of an MLP (widths 8 to 64, batch 16, float64), CPU milliseconds:
        n      backpropagation   numerical (2n forward passes)   forward mode (n JVPs)   numerical / backprop
      234      0.087             15.0                            7.4                      173x
      714      0.085             47.1                            23.5                     555x
    2,442      0.088             170                             96                       1,924x
    8,970      0.108             702                             404                      6,514x
A forward pass costs O(n), so the alternatives cost n passes, O(n^2), while backpropagation costs about
three passes, O(n). At these small sizes a pass is mostly NumPy's fixed cost per call, so the fitted
growth is n^0.06 for backpropagation and n^1.05 (numerical), n^1.10 (forward mode); the ratio grows
exactly like n (n^1.00): for the MNIST MLP (n = 235,146) it would be about 170,000x.
"""

import resource
import time

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _minor_faults():
    """Minor page faults of this process so far: each is the kernel handing over one fresh page (4 KiB,
    or 2 MiB with transparent huge pages) the first time the program touches it."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


class Profiler:
    """Where the time of a training step goes, in parts that add up to the whole step.

    Usage, around each step:

        profiler.start()
        ...forward of the first layer...
        profiler.lap("layer 1 forward")      # the time since the previous mark goes to this part
        ...
        profiler.lap("update")
        profiler.stop()                      # the time since the last lap goes to "rest"

    A lap charges everything since the previous mark (start() or the previous lap) to its part and moves
    the mark to now, so the parts tile the step: Python's own work between NumPy calls, allocations, page
    faults and garbage collection all land in some part, and nothing is timed twice. Timing each part on
    its own (a stopwatch around each layer) misses whatever runs between the stopwatches, which is how a
    profile can add up to a third of the step it claims to explain.

    After each stop():
        records[-1]  {part: seconds} of that step, parts in the order first lapped; a part lapped twice in
                     one step (a loop over layers) gets the sum of its laps; the last entry is "rest".
        totals[-1]   the whole step, stop() minus start(), in seconds (equal to the sum of the parts).
        faults[-1]   minor page faults during the step (_minor_faults() at stop() minus at start()).
    Times are CPU seconds of the calling thread (time.thread_time), not wall-clock seconds: on a machine
    shared with other jobs, the wall clock also counts the time other processes ran while this one
    waited, and puts it in whichever part was running. (The process's CPU clock, time.process_time, is
    no better: under a CPU-time limit, as in the grader's sandbox, Linux updates it only at each
    scheduler tick, every few milliseconds.) One lap costs about half a microsecond.
    """

    def __init__(self):
        self.records = []
        self.totals = []
        self.faults = []
        self._mark = None
        self._started = None
        self._faults_at_start = 0
        self._parts = None

    def start(self):
        """Begin a step: the mark and the step's start are now."""
        # <exercise>
        self._parts = {}
        self._faults_at_start = _minor_faults()
        self._started = self._mark = time.thread_time()
        # </exercise>

    def lap(self, name):
        """Charge the time since the previous mark to part `name` (added to what it has), move the mark."""
        # <exercise>
        now = time.thread_time()
        self._parts[name] = self._parts.get(name, 0.0) + (now - self._mark)
        self._mark = now
        # </exercise>

    def stop(self):
        """End the step: the time since the last mark goes to "rest"; keep the step's record, total, faults."""
        # <exercise>
        now = time.thread_time()
        self._parts["rest"] = self._parts.get("rest", 0.0) + (now - self._mark)
        self.records.append(self._parts)
        self.totals.append(now - self._started)
        self.faults.append(_minor_faults() - self._faults_at_start)
        self._parts = None
        # </exercise>

    def summary(self):
        """The typical step: {"parts": {part: ms}, "total_ms", "faults", "steps"}.

        Averaged over the middle half of the recorded steps, sorted by their totals: a step interrupted by
        another process is dropped whole (with all its parts), so the parts still add up to the total.
        """
        if not self.records:
            return {"parts": {}, "total_ms": 0.0, "faults": 0.0, "steps": 0}
        order = np.argsort(self.totals)
        quarter = len(order) // 4
        middle = order[quarter:len(order) - quarter] if len(order) >= 4 else order
        parts = {}
        for index in middle:
            for name, seconds in self.records[index].items():
                parts[name] = parts.get(name, 0.0) + seconds
        count = len(middle)
        return {"parts": {name: 1e3 * seconds / count for name, seconds in parts.items()},
                "total_ms": 1e3 * sum(self.totals[i] for i in middle) / count,
                "faults": sum(self.faults[i] for i in middle) / count, "steps": count}

    def report(self, title="Profile of one training step"):
        """The summary as a table, one line per part with its share, then the total and the page faults."""
        summary = self.summary()
        total = summary["total_ms"] or 1.0
        lines = [f"{title} (mean of the middle {summary['steps']} of {len(self.records)} steps, ms):"]
        width = max([len(name) for name in summary["parts"]] + [10])
        for name, ms in summary["parts"].items():
            lines.append(f"  {name:<{width}} {ms:8.3f}  {100 * ms / total:5.1f}%")
        lines.append(f"  {'sum of parts':<{width}} {sum(summary['parts'].values()):8.3f}  = the whole step "
                     f"{summary['total_ms']:.3f} ms; {summary['faults']:.0f} minor page faults per step")
        return "\n".join(lines)


class _NoProfiler:
    """Stands in for a Profiler when a step is not profiled: every lap costs one empty method call."""

    def lap(self, name):
        pass


_NO_PROFILER = _NoProfiler()

# Images per chunk in the second convolution of FastCNN (see its step).
CHUNK = 8


# <exercise>
def _softmax_cross_entropy_step(z, labels, scale):
    """Loss of logits z (n, C) and, IN z, the gradient of the mean loss times `scale`.

    Fused: (softmax(z) - onehot(labels)) / n, never the (C, C) Jacobian of softmax and no second array.
    """
    n = len(z)
    rows = np.arange(n)
    z -= z.max(axis=1, keepdims=True)
    picked = z[rows, labels]  # log softmax at the labels is picked - log(sums): no log of an exp
    np.exp(z, out=z)
    sums = z.sum(axis=1, keepdims=True)
    loss = float(np.mean(np.log(sums[:, 0]) - picked))
    z *= scale / sums
    z[rows, labels] -= scale
    return loss


def _flat_view(buffer, shape):
    """The first prod(shape) entries of a flat buffer, as a contiguous array of that shape."""
    return buffer[:int(np.prod(shape))].reshape(shape)


def _flat_views(buffers, shape):
    return [_flat_view(buffer, shape) for buffer in buffers]


def _window_offsets(y):
    """The four offsets of every 2 x 2 pooling window of y, as four views: y is either channels-last
    (n, H, W, c), giving strided views, or (c, 4, n, h, w) with the offsets apart, giving blocks."""
    if y.ndim == 5:
        return [y[:, q] for q in range(4)]
    return [y[:, i::2, j::2] for i in (0, 1) for j in (0, 1)]


def _pool_relu(y, out):
    """out = max(0, max of each 2 x 2 window of y): max-pool and ReLU, one pass per window offset."""
    first, *others = _window_offsets(y)
    np.maximum(first, 0.0, out=out)
    for offset in others:
        np.maximum(out, offset, out=out)


def _pool_relu_backward(y, out, grad_out, grad_y, remaining, mask):
    """Fill grad_y: each window's gradient (where out > 0) goes to its first maximum, in place."""
    np.greater(out, 0.0, out=mask)
    np.multiply(grad_out, mask, out=remaining)
    for offset, routed in zip(_window_offsets(y), _window_offsets(grad_y)):
        np.equal(offset, out, out=mask)
        np.multiply(remaining, mask, out=routed)
        remaining -= routed  # a later tie gets nothing: the first maximum took it all
# </exercise>


class FastMLP:
    """The training step of an MLP (Linear, ReLU, Linear, ..., Linear; softmax cross-entropy; SGD with
    momentum), computing what the textbook step computes, fast.

    params: the textbook model's parameters, in its order and layouts: [W1, b1, W2, b2, ..., WL, bL] with
            Wk of shape (in, out) and bk of shape (out,), i.e. [p.data for p in model.parameters()] of
            Sequential(Linear, ReLU, Linear, ReLU, ..., Linear). They are COPIED, as float32: this object
            and the textbook model then train independently.
    lr, momentum: SGD's, with PyTorch's rule (v = momentum * v + g, w -= lr * v, v = g on the first step;
            a velocity starting at zeros gives exactly that). Fixed for the life of the object.
    batch_size: the largest batch step() will be given; every buffer is allocated for it, once, here.
    """

    def __init__(self, params, *, lr, momentum, batch_size):
        # <exercise>
        arrays = [np.array(p, dtype=np.float32) for p in params]  # copies, float32
        self.W, self.b = arrays[0::2], arrays[1::2]
        self.lr, self.momentum = float(lr), float(momentum)
        # lr is folded into the loss gradient (an (n, C) array) instead of into every update of every
        # weight, so the velocities hold lr * v: u = momentum * u + lr * g, w -= u.
        self.velocity = [np.zeros_like(a) for a in arrays]
        self.grads = [np.empty_like(a) for a in arrays]
        # One output buffer per layer, one gradient buffer per hidden layer, one mask per ReLU.
        self.out = [np.empty((batch_size, W.shape[1]), np.float32) for W in self.W]
        self.grad_in = [np.empty((batch_size, W.shape[0]), np.float32) for W in self.W]
        self.ones = np.ones(batch_size, np.float32)
        # </exercise>

    def step(self, x, labels, profiler=None):
        """One training step on a batch; returns the loss before the update, as a float.

        x: (n, in_features) with n <= batch_size; labels: (n,) ints. Convert x to float32 first: the
        results are the same either way (products written into float32 buffers are rounded to float32),
        so the tests cannot tell, but a float64 batch makes NumPy run the first product in float64 and
        costs the speed this exercise is about.
        The same arithmetic, within float32 rounding, as this on the textbook model:
            optimizer.zero_grad(); loss = loss_fn.forward(model.forward(x), labels)
            model.backward(loss_fn.backward()); optimizer.step()
        profiler: a Profiler whose lap() is called after each part of the step (forward and backward of
        each layer, loss, update), or None.
        """
        # <exercise>
        prof = profiler or _NO_PROFILER
        x = np.asarray(x, dtype=np.float32)
        n = len(x)
        last = len(self.W) - 1
        # Pixels that are zero in every image of the batch (about a third of MNIST's, the borders)
        # contribute nothing to x W1 and get a zero gradient: leave their rows of W1 out of both products.
        used = np.flatnonzero(x.any(axis=0))
        x_used = x[:, used]
        prof.lap("select the used input columns")
        h = x_used
        for k, W in enumerate(self.W):
            out = self.out[k][:n]
            np.matmul(h, W[used] if k == 0 else W, out=out)
            out += self.b[k]
            if k < last:
                np.maximum(out, 0.0, out=out)  # ReLU in place; its mask is out > 0, read in backward
            h = out
            prof.lap(f"layer {k + 1} forward")
        g = h
        loss = _softmax_cross_entropy_step(g, labels, self.lr / n)
        prof.lap("loss and its gradient")
        for k in range(last, -1, -1):
            if k == 0:
                grad_W = self.grads[0]
                grad_W[...] = 0.0
                grad_W[used] = x_used.T @ g
            else:
                np.matmul(self.out[k - 1][:n].T, g, out=self.grads[2 * k])
            # dL/db = 1^T G as a matrix-vector product (BLAS) rather than a reduction over axis 0.
            np.matmul(self.ones[:n], g, out=self.grads[2 * k + 1])
            if k > 0:  # the first layer's dL/dx would be for the images: nobody needs it
                grad_in = self.grad_in[k][:n]
                np.matmul(g, self.W[k].T, out=grad_in)
                grad_in *= self.out[k - 1][:n] > 0
                g = grad_in
            prof.lap(f"layer {k + 1} backward")
        for w, b, k in zip(self.W, self.b, range(len(self.W))):
            for p, u, grad in ((w, self.velocity[2 * k], self.grads[2 * k]),
                               (b, self.velocity[2 * k + 1], self.grads[2 * k + 1])):
                u *= self.momentum
                u += grad
                p -= u
        prof.lap("update")
        return loss
        # </exercise>

    def parameters(self):
        """The current parameters as new float32 arrays (copies, which later steps leave alone) in the textbook
        order and layouts [W1, b1, ...]."""
        # <exercise>
        return [a.copy() for pair in zip(self.W, self.b) for a in pair]
        # </exercise>


class FastCNN:
    """The training step of the CNN of the `cnn` milestone, computing what the textbook step computes, fast.

        conv k x k, C0 -> C1, padding k // 2 -> max-pool 2 -> ReLU -> conv k x k, C1 -> C2, padding k // 2
        -> max-pool 2 -> ReLU -> Flatten -> Linear(C2 * H/4 * W/4, classes);  softmax cross-entropy; SGD
    (ReLU and max-pooling commute: pooling first, or ReLU first as PyTorch's models do, is one function.)

    params: the textbook model's parameters, in its order and layouts (those of conv.build_mnist_cnn):
            [W1 (C1, C0, k, k), b1 (C1,), W2 (C2, C1, k, k), b2 (C2,), W3 (C2*H/4*W/4, classes), b3], the
            rows of W3 in Flatten's (c, h, w) order. Copied, as float32.
    lr, momentum: SGD's, PyTorch's rule, fixed for the life of the object.
    batch_size: the largest batch step() will be given; buffers are allocated for it here, once.
    image_shape: (C0, H, W) of one image, H and W divisible by 4; k odd.
    """

    def __init__(self, params, *, lr, momentum, batch_size, image_shape=(1, 28, 28)):
        # <exercise>
        W1, b1, W2, b2, W3, b3 = (np.array(p, dtype=np.float32) for p in params)
        c1, c0, k, _ = W1.shape
        c2 = W2.shape[0]
        _, height, width = image_shape
        self.dims = (c0, height, width, c1, c2, k)
        self.lr, self.momentum = float(lr), float(momentum)
        # Weights as the matrices the products need. The first convolution works channels-first, its
        # columns in W1's own (c, i, j) order; the second channels-last, its columns in the (i, j, c)
        # order of a channels-last window; the Linear layer's rows in the (h, w, c) order of
        # channels-last features.
        self.W1 = W1.reshape(c1, -1)
        self.W2 = np.ascontiguousarray(W2.transpose(0, 2, 3, 1).reshape(c2, -1))
        h2, w2, h4, w4 = height // 2, width // 2, height // 4, width // 4
        self.W3 = np.ascontiguousarray(W3.reshape(c2, h4, w4, -1).transpose(1, 2, 0, 3).reshape(h4 * w4 * c2, -1))
        self.params = [self.W1, b1, self.W2, b2, self.W3, b3]
        self.velocity = [np.zeros_like(p) for p in self.params]
        self.grads = [np.empty_like(p) for p in self.params]
        n, pad, f32 = batch_size, k // 2, np.float32
        # Zero borders written once: each step fills only the interiors.
        self.x_padded = np.zeros((n, c0, height + 2 * pad, width + 2 * pad), f32)
        self.a1_padded = np.zeros((n, h2 + 2 * pad, w2 + 2 * pad, c1), f32)
        # The first convolution's columns, outputs and their gradients are channels-first with the
        # output pixels grouped by their offset in the 2 x 2 pooling window, (c, offset, n, h2, w2):
        # pooling is then a maximum of four contiguous blocks. Flat, viewed with each batch's own n.
        self.cols1 = np.empty(c0 * k * k * n * height * width, f32)
        self.y1 = np.empty(c1 * n * height * width, f32)
        self.grad_y1 = np.empty(c1 * n * height * width, f32)
        self.a1 = np.empty(c1 * n * h2 * w2, f32)
        self.grad_a1 = np.empty(c1 * n * h2 * w2, f32)
        # The second convolution is channels-last, (n, h, w, c): its window rows are contiguous runs.
        self.cols2 = np.empty((CHUNK * h2 * w2, k * k * c1), f32)
        self.grad_W2_chunk = np.empty((c2, k * k * c1), f32)
        self.y2 = np.empty((n * h2 * w2, c2), f32)
        self.a2 = np.empty((n, h4, w4, c2), f32)
        self.logits = np.empty((n, W3.shape[1]), f32)
        self.grad_a2 = np.empty((n, h4 * w4 * c2), f32)
        self.grad_y2 = np.empty((n, h2, w2, c2), f32)
        self.grad_a1_padded = np.zeros((n, h2 + 2 * pad, w2 + 2 * pad, c1), f32)
        self.block = np.empty((CHUNK * h2 * w2, c1), f32)
        self.pool_scratch = [(np.empty(c1 * n * h2 * w2, f32), np.empty(c1 * n * h2 * w2, bool)),
                             (np.empty(n * h4 * w4 * c2, f32), np.empty(n * h4 * w4 * c2, bool))]
        self.ones = np.ones(n * h2 * w2, f32)
        # </exercise>

    def step(self, x, labels, profiler=None):
        """One training step on a batch of images; returns the loss before the update, as a float.

        x: (n, C0, H, W) with n <= batch_size (float32; other dtypes are converted); labels: (n,) ints.
        The same arithmetic, within float32 rounding, as zero_grad, forward, loss, backward and the SGD
        step of the textbook model. profiler: a Profiler whose lap() is called after each part, or None.
        """
        # <exercise>
        prof = profiler or _NO_PROFILER
        x = np.asarray(x, dtype=np.float32)
        n = len(x)
        # Forward, layer by layer. Every array below is a view of a buffer made in __init__: backward
        # reads the forward's arrays (as a textbook layer reads what its forward kept), and nothing is
        # allocated during a step.
        cols1 = self._conv1_im2col(x)
        prof.lap("conv 1 im2col")
        y1 = self._conv1_product(cols1, n)
        prof.lap("conv 1 product")
        a1, a1_padded = self._pool1_forward(y1)
        prof.lap("pool 1 and ReLU")
        windows, y2 = self._conv2_forward(a1_padded)
        prof.lap("conv 2 im2col and product")
        a2 = self._pool2_forward(y2)
        features = a2.reshape(n, -1)
        prof.lap("pool 2 and ReLU")
        logits = self._linear_forward(features)
        prof.lap("linear forward")
        # The loss's gradient, scaled by lr (see FastMLP.__init__), overwrites the logits: g is that buffer.
        g = logits
        loss = _softmax_cross_entropy_step(g, labels, self.lr / n)
        prof.lap("loss and its gradient")
        # Backward, in the reverse order; each part writes its parameters' gradients into self.grads.
        grad_a2 = self._linear_backward(features, g)
        prof.lap("linear backward")
        grad_y2 = self._pool2_backward(y2, a2, grad_a2)
        prof.lap("pool 2 and ReLU backward")
        grad_a1_padded = self._conv2_backward(grad_y2, windows)
        prof.lap("conv 2 backward (dW, db, col2im)")
        grad_y1 = self._pool1_backward(grad_a1_padded, y1, a1)
        prof.lap("pool 1 and ReLU backward")
        self._conv1_backward(grad_y1, cols1)
        prof.lap("conv 1 dW, db")
        self._update()
        prof.lap("update")
        return loss
        # </exercise>

    # <exercise>
    # The parts of step(), in the order it calls them. Shapes: n images of (C0, H, W); h2, w2 = H/2, W/2
    # after the first pooling; h4, w4 = H/4, W/4 after the second; pad = k // 2.

    def _conv1_im2col(self, x):
        """The first convolution's columns of the batch x (n, C0, H, W): (C0 k k, 4 n h2 w2), the output
        pixels grouped by their offset in the 2 x 2 pooling window (see __init__)."""
        n = len(x)
        c0, height, width, _, _, k = self.dims
        pad, h2, w2 = k // 2, height // 2, width // 2
        x_padded = self.x_padded[:n]
        x_padded[:, :, pad:pad + height, pad:pad + width] = x
        # cols1[(c, i, j), (di, dj, n, h2, w2)] = x_padded[n, c, 2 h2 + di + i, 2 w2 + dj + j]: one copy
        # from a view of every window (its rows split in two, a view too).
        cols1 = _flat_view(self.cols1, (c0, k, k, 2, 2, n, h2, w2))
        windows = sliding_window_view(x_padded, (k, k), axis=(2, 3)).reshape(n, c0, h2, 2, w2, 2, k, k)
        np.copyto(cols1, windows.transpose(1, 6, 7, 3, 5, 0, 2, 4))
        return cols1.reshape(c0 * k * k, -1)

    def _conv1_product(self, cols1, n):
        """y1 = W1 cols1 + b1, as (C1, 4, n, h2, w2): the four offsets of every pooling window apart."""
        _, height, width, c1, _, _ = self.dims
        W1, b1 = self.params[:2]
        y1 = _flat_view(self.y1, (c1, cols1.shape[1]))
        np.matmul(W1, cols1, out=y1)
        y1 += b1[:, None]
        return y1.reshape(c1, 4, n, height // 2, width // 2)

    def _pool1_forward(self, y1):
        """Max-pool and ReLU of y1 (C1, 4, n, h2, w2): (a1, a1_padded), a1 of shape (C1, n, h2, w2) and
        a1_padded the second convolution's input, a1 channels-last with zero borders (n, h2 + 2 pad,
        w2 + 2 pad, C1)."""
        c1, _, n, h2, w2 = y1.shape
        pad = self.dims[5] // 2
        a1 = _flat_view(self.a1, (c1, n, h2, w2))
        _pool_relu(y1, a1)
        a1_padded = self.a1_padded[:n]
        a1_padded[:, pad:pad + h2, pad:pad + w2, :] = a1.transpose(1, 2, 3, 0)
        return a1, a1_padded

    def _conv2_columns(self, windows, start, rows):
        """The second convolution's columns of images start .. start + rows - 1, (rows h2 w2, k k C1),
        copied from the view of every window into the one chunk-sized buffer."""
        _, h2, w2, k, _, c1 = windows.shape
        cols = self.cols2[:rows * h2 * w2]
        np.copyto(cols.reshape(rows, h2, w2, k, k, c1), windows[start:start + rows])
        return cols

    def _conv2_forward(self, a1_padded):
        """The second convolution of a1_padded (n, h2 + 2 pad, w2 + 2 pad, C1), channels-last: (windows,
        y2), windows a view of every k x k window, (n, h2, w2, k, k, C1), and y2 of shape (n, h2, w2, C2)."""
        n, c2, k = len(a1_padded), self.dims[4], self.dims[5]
        W2, b2 = self.params[2:4]
        # One CHUNK of images at a time: a chunk's columns (CHUNK * h2 * w2 rows, 3 MB for 8 MNIST images)
        # stay in the cache between the copy and the product, where the whole batch's (40 MB) would go out
        # to memory and come back; backward builds them again from the same windows, also in cache.
        windows = sliding_window_view(a1_padded, (k, k), axis=(1, 2)).transpose(0, 1, 2, 4, 5, 3)
        _, h2, w2 = windows.shape[:3]
        y2 = self.y2[:n * h2 * w2]
        y2_images = y2.reshape(n, h2 * w2, c2)
        for start in range(0, n, CHUNK):
            rows = min(CHUNK, n - start)
            cols = self._conv2_columns(windows, start, rows)
            np.matmul(cols, W2.T, out=y2_images[start:start + rows].reshape(-1, c2))
        y2 += b2
        return windows, y2.reshape(n, h2, w2, c2)

    def _pool2_forward(self, y2):
        """Max-pool and ReLU of y2 (n, h2, w2, C2): a2 (n, h4, w4, C2), channels-last."""
        a2 = self.a2[:len(y2)]
        _pool_relu(y2, a2)
        return a2

    def _linear_forward(self, features):
        """logits = features W3 + b3, (n, classes); features (n, h4 w4 C2) in W3's (h, w, c) row order."""
        W3, b3 = self.params[4:]
        logits = self.logits[:len(features)]
        np.matmul(features, W3, out=logits)
        logits += b3
        return logits

    def _linear_backward(self, features, g):
        """dL/dW3 = features^T g and dL/db3 into self.grads; returns dL/dfeatures = g W3^T, (n, h4 w4 C2).
        g: the (scaled) gradient of the loss with respect to the logits, (n, classes)."""
        grads = self.grads
        np.matmul(features.T, g, out=grads[4])
        np.sum(g, axis=0, out=grads[5])
        grad_a2 = self.grad_a2[:len(g)]
        np.matmul(g, self.params[4].T, out=grad_a2)
        return grad_a2

    def _pool2_backward(self, y2, a2, grad_a2):
        """dL/dy2 (n, h2, w2, C2) from dL/da2 (n, h4 w4 C2): each window's gradient to its first maximum."""
        grad_y2 = self.grad_y2[:len(y2)]
        _pool_relu_backward(y2, a2, grad_a2.reshape(a2.shape), grad_y2, *_flat_views(self.pool_scratch[1], a2.shape))
        return grad_y2

    def _conv2_backward(self, grad_y2, windows):
        """dL/dW2 and dL/db2 into self.grads; returns dL/da1_padded, (n, h2 + 2 pad, w2 + 2 pad, C1).

        grad_y2: dL/dy2, (n, h2, w2, C2); windows: the forward's view of the input windows, from which
        each chunk's columns are built again.
        """
        n, h2, w2, c2 = grad_y2.shape
        c1, k = self.dims[3], self.dims[5]
        grads = self.grads
        G2 = grad_y2.reshape(-1, c2)
        # dL/db = 1^T G as a matrix-vector product (BLAS): a sum over axis 0 of a tall, narrow matrix
        # is several times slower in NumPy.
        np.matmul(self.ones[:len(G2)], G2, out=grads[3])
        # Per chunk of images: dL/dW += G^T cols, and dL/dx = col2im(G W2) one kernel offset at a time
        # into ONE padded buffer (cleared first): offset (i, j)'s block is G @ W2[:, i, j, :], contiguous,
        # added to the window it came from.
        grad_padded = self.grad_a1_padded[:n]
        grad_padded[...] = 0.0
        grads[2][...] = 0.0
        W2_offsets = self.params[2].reshape(c2, k, k, c1)
        G2_images = grad_y2.reshape(n, h2 * w2, c2)
        for start in range(0, n, CHUNK):
            rows = min(CHUNK, n - start)
            G = G2_images[start:start + rows].reshape(-1, c2)
            cols = self._conv2_columns(windows, start, rows)
            grads[2] += np.matmul(G.T, cols, out=self.grad_W2_chunk)
            block = self.block[:rows * h2 * w2]
            block_image = block.reshape(rows, h2, w2, c1)
            grad_chunk = grad_padded[start:start + rows]
            for i in range(k):
                for j in range(k):
                    np.matmul(G, W2_offsets[:, i, j, :], out=block)
                    grad_chunk[:, i:i + h2, j:j + w2, :] += block_image
        return grad_padded

    def _pool1_backward(self, grad_a1_padded, y1, a1):
        """dL/dy1 (C1, 4, n, h2, w2) from the gradient of the second convolution's padded input: its
        interior is dL/da1, taken back to a1's channels-first layout."""
        pad = self.dims[5] // 2
        _, _, h2, w2 = a1.shape
        grad_a1 = _flat_view(self.grad_a1, a1.shape)
        grad_a1[...] = grad_a1_padded[:, pad:pad + h2, pad:pad + w2, :].transpose(3, 0, 1, 2)
        grad_y1 = _flat_view(self.grad_y1, y1.shape)
        _pool_relu_backward(y1, a1, grad_a1, grad_y1, *_flat_views(self.pool_scratch[0], a1.shape))
        return grad_y1

    def _conv1_backward(self, grad_y1, cols1):
        """dL/dW1 = G1 cols1^T and dL/db1 into self.grads, G1 = dL/dy1 as (C1, 4 n h2 w2). No dL/dx: the
        images need none."""
        G1 = grad_y1.reshape(len(grad_y1), -1)
        np.matmul(G1, cols1.T, out=self.grads[0])
        np.sum(G1, axis=1, out=self.grads[1])  # rows of G1 are contiguous: a fast sum

    def _update(self):
        """SGD with momentum on every parameter. The velocities hold lr * v, since lr is already in the
        gradients (see FastMLP.__init__): u = momentum * u + g, p -= u."""
        for p, u, grad in zip(self.params, self.velocity, self.grads):
            u *= self.momentum
            u += grad
            p -= u
    # </exercise>

    def parameters(self):
        """The current parameters as new float32 arrays (copies, which later steps leave alone) in the textbook
        order and layouts [W1, b1, ..., b3]."""
        # <exercise>
        c0, height, width, c1, c2, k = self.dims
        W1, b1, W2, b2, W3, b3 = self.params
        classes = W3.shape[1]
        return [W1.reshape(c1, c0, k, k).copy(), b1.copy(),
                W2.reshape(c2, k, k, c1).transpose(0, 3, 1, 2).copy(), b2.copy(),
                W3.reshape(height // 4, width // 4, c2, classes).transpose(2, 0, 1, 3).reshape(-1, classes),
                b3.copy()]
        # </exercise>

# Your exercise file: replace each `raise NotImplementedError(...)` with your code.
# `make check EX=performance` runs its tests; `make reset EX=performance` puts this original stub back.
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
        raise NotImplementedError('performance: Profiler.start is not implemented yet. Run `make check EX=performance`.')

    def lap(self, name):
        """Charge the time since the previous mark to part `name` (added to what it has), move the mark."""
        raise NotImplementedError('performance: Profiler.lap is not implemented yet. Run `make check EX=performance`.')

    def stop(self):
        """End the step: the time since the last mark goes to "rest"; keep the step's record, total, faults."""
        raise NotImplementedError('performance: Profiler.stop is not implemented yet. Run `make check EX=performance`.')

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
        raise NotImplementedError('performance: FastMLP.__init__ is not implemented yet. Run `make check EX=performance`.')

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
        raise NotImplementedError('performance: FastMLP.step is not implemented yet. Run `make check EX=performance`.')

    def parameters(self):
        """The current parameters as new float32 arrays (copies, which later steps leave alone) in the textbook
        order and layouts [W1, b1, ...]."""
        raise NotImplementedError('performance: FastMLP.parameters is not implemented yet. Run `make check EX=performance`.')


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
        raise NotImplementedError('performance: FastCNN.__init__ is not implemented yet. Run `make check EX=performance`.')

    def step(self, x, labels, profiler=None):
        """One training step on a batch of images; returns the loss before the update, as a float.

        x: (n, C0, H, W) with n <= batch_size (float32; other dtypes are converted); labels: (n,) ints.
        The same arithmetic, within float32 rounding, as zero_grad, forward, loss, backward and the SGD
        step of the textbook model. profiler: a Profiler whose lap() is called after each part, or None.
        """
        raise NotImplementedError('performance: FastCNN.step is not implemented yet. Run `make check EX=performance`.')

    def parameters(self):
        """The current parameters as new float32 arrays (copies, which later steps leave alone) in the textbook
        order and layouts [W1, b1, ..., b3]."""
        raise NotImplementedError('performance: FastCNN.parameters is not implemented yet. Run `make check EX=performance`.')

# Your exercise file: replace each `raise NotImplementedError(...)` with your code.
# Generated from solutions/performance.py by `make stubs`; `make reset EX=performance` restores it.
"""Stretch exercise: a fast training step, measured against PyTorch.

DOCSTRING TO BE WRITTEN WITH MEASURED NUMBERS
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
    Times are CPU seconds of this process (time.process_time), not wall-clock seconds: on a machine
    shared with other jobs, the wall clock also counts the time other processes ran while this one
    waited, and puts it in whichever part was running. One lap costs about half a microsecond.
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

        x: (n, in_features) with n <= batch_size (float32; other dtypes are converted); labels: (n,) ints.
        The same arithmetic, within float32 rounding, as this on the textbook model:
            optimizer.zero_grad(); loss = loss_fn.forward(model.forward(x), labels)
            model.backward(loss_fn.backward()); optimizer.step()
        profiler: a Profiler whose lap() is called after each part of the step (forward and backward of
        each layer, loss, update), or None.
        """
        raise NotImplementedError('performance: FastMLP.step is not implemented yet. Run `make check EX=performance`.')

    def parameters(self):
        """The current parameters as float32 arrays in the textbook order and layouts [W1, b1, ...]."""
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
        """The current parameters as float32 arrays in the textbook order and layouts [W1, b1, ..., b3]."""
        raise NotImplementedError('performance: FastCNN.parameters is not implemented yet. Run `make check EX=performance`.')

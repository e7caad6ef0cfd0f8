"""Benchmark `mlp`: one epoch of MNIST training, the reference (solutions/) against PyTorch on the CPU.

The same network and recipe on both sides: MLP 784-256-128-10 with ReLU, float32, softmax
cross-entropy, SGD with lr 0.1 and momentum 0.9, mini-batches of 128 drawn from one permutation of the
60,000 training images per epoch; the reference runs its own `training.train_epoch`, PyTorch an
ordinary loop (zero_grad, forward, cross_entropy, backward, step). Both start from the same weights and
use the same number of threads: the whole comparison is run twice, with 1 thread for both (NumPy's
OpenBLAS set through its API, torch.set_num_threads) and with the machine's default BLAS thread count
(all cores), because a multi-threaded BLAS is fast on an idle machine and erratic on a busy one.

How it is measured, honestly:
  - each framework runs in a FRESH Python process, so neither inherits the other's caches, threads or
    allocator state;
  - after the imports, the data and the model are ready, both take 10 untimed warm-up steps;
  - time: perf_counter around one epoch;
  - memory: the kernel's peak resident set size (VmHWM) is reset just before the warm-up
    (`echo 5 > /proc/self/clear_refs`, Linux) and read after the epoch; the figure is the peak minus
    the resident size at the reset, i.e. the largest amount of extra memory training needed, whatever
    allocated it (NumPy arrays, PyTorch tensors, BLAS buffers, Python objects). Without that file
    (macOS) the lifetime peak (ru_maxrss) minus the size before training is used, and said so;
  - accuracy: on the 10,000 test images after that one epoch.
Goal: the reference's epoch no slower than PyTorch's (ratio <= 1.0) with no larger peak memory.

It then runs the `mnist` milestone on the reference (its full recipe, MNIST_SETTINGS) and reports its
test accuracy and training time (goal: >= 98% in < 30 s).
"""

from __future__ import annotations

import resource
import statistics
import sys
import time

import numpy as np

from grader.maintainer.benchmarks import common
from grader.core.manifest import SOLUTIONS_DIR

MODULE = "grader.maintainer.benchmarks.mlp"

SIZES = (784, 256, 128, 10)
LEARNING_RATE = 0.1
MOMENTUM = 0.9
BATCH_SIZE = 128
SEED = 20261125
WARMUP_STEPS = 10
QUICK_TRAIN = 10000
MILESTONE_GOAL = (0.98, 30.0)


# ---------------------------------------------------------------------------------------------------
# In the child process


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class PeakMemory:
    """Extra resident memory (MiB) used between start() and stop(): peak minus the size at start()."""

    def start(self):
        try:
            with open("/proc/self/clear_refs", "w") as clear:
                clear.write("5")  # resets VmHWM, the peak resident set size, to the current size
            self.method = "VmHWM reset by /proc/self/clear_refs"
            self.base = _status_kib("VmRSS")
        except OSError:  # not Linux, or an old kernel
            self.method = "ru_maxrss (lifetime peak) minus the resident size before the epoch"
            self.base = _status_kib("VmRSS") or self._maxrss_kib()
        return self

    @staticmethod
    def _maxrss_kib() -> int:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak // 1024 if sys.platform == "darwin" else peak  # bytes on macOS, KiB on Linux

    @property
    def base_mib(self) -> float:
        return (self.base or 0) / 1024.0

    def stop(self) -> float:
        peak = _status_kib("VmHWM") if "clear_refs" in self.method else self._maxrss_kib()
        return max(0, (peak or 0) - (self.base or 0)) / 1024.0


def _reference_model(ref, rng):
    layers = []
    for index, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        if index:
            layers.append(ref.activations.ReLU())
        layers.append(ref.layers.Linear(n_in, n_out, rng=rng, dtype=np.float32))
    return ref.network.Sequential(*layers), layers


def child(framework: str, quick: bool, threads: int) -> dict:
    """One epoch with one framework in this (fresh) process; returns the measurements."""
    from grader.data import mnist
    from grader.milestones.speed import numpy_blas_threads, set_numpy_blas_threads, torch_copy
    from grader.core.target import Modules, load_package

    ref = Modules(load_package(SOLUTIONS_DIR, own=None))
    X, y = mnist.load("train")
    X_test, y_test = mnist.load("test")
    if quick:
        X, y = X[:QUICK_TRAIN], y[:QUICK_TRAIN]
    set_numpy_blas_threads(threads)
    threads, how = numpy_blas_threads()
    model, layers = _reference_model(ref, np.random.default_rng(SEED))
    rng = np.random.default_rng(SEED + 1)
    memory = PeakMemory()

    if framework == "numpy":
        loss_fn = ref.losses.SoftmaxCrossEntropy()
        optimizer = ref.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
        warm = WARMUP_STEPS * BATCH_SIZE
        memory.start()
        ref.training.train_epoch(model, loss_fn, optimizer, X[:warm], y[:warm], batch_size=BATCH_SIZE,
                                 rng=np.random.default_rng(0))
        started = time.perf_counter()
        ref.training.train_epoch(model, loss_fn, optimizer, X, y, batch_size=BATCH_SIZE, rng=rng)
        seconds = time.perf_counter() - started
        peak = memory.stop()
        accuracy = common.reference_accuracy(model, X_test, y_test, chunk=2000)
        version = f"numpy {np.__version__}"
    else:
        import torch

        torch.set_num_threads(threads)
        net = torch_copy(torch, [layer for layer in layers if isinstance(layer, ref.layers.Linear)])
        optimizer = torch.optim.SGD(net.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
        X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)

        memory.start()
        warm_order = np.random.default_rng(0).permutation(WARMUP_STEPS * BATCH_SIZE)
        common.torch_epoch(net, optimizer, X_t, y_t, warm_order, BATCH_SIZE)
        started = time.perf_counter()
        # The permutation is drawn inside the timed region, as train_epoch draws its own.
        common.torch_epoch(net, optimizer, X_t, y_t, rng.permutation(len(X)), BATCH_SIZE)
        seconds = time.perf_counter() - started
        peak = memory.stop()
        accuracy = common.torch_accuracy(net, X_test, y_test)
        version = f"torch {torch.__version__}"
    return {"framework": framework, "epoch_seconds": seconds, "peak_extra_mib": peak,
            "resident_before_mib": memory.base_mib,
            "memory_method": memory.method, "test_accuracy": accuracy, "threads": threads,
            "threads_source": how, "train_size": len(X), "version": version}


# ---------------------------------------------------------------------------------------------------
# In the parent (make bench)


def profile_reference(quick: bool) -> None:
    """Where a reference training step spends its time (printed when the reference is slower)."""
    from grader.data import mnist
    from grader.milestones import speed
    from grader.core.target import Modules, load_package

    ref = Modules(load_package(SOLUTIONS_DIR, own=None))
    speed.set_numpy_blas_threads(1)
    X, y = mnist.load("test")
    model, layers = _reference_model(ref, np.random.default_rng(SEED))
    optimizer = ref.optim.SGD(model.parameters(), lr=0.01, momentum=MOMENTUM)
    profile = speed.profile_step(ref, layers, ref.losses.SoftmaxCrossEntropy(), optimizer,
                                 X[:BATCH_SIZE], y[:BATCH_SIZE], 5 if quick else 50)
    totals = speed.print_profile(profile)
    # Work PyTorch does not do: the images need no gradient, so it never computes the first layer's
    # dL/dX = G W^T. Time that one product alone to show what skipping it would save.
    first = layers[0]
    grad = np.random.default_rng(0).standard_normal((BATCH_SIZE, first.W.data.shape[1])).astype(np.float32)
    samples = []
    for _ in range(5 if quick else 50):
        started = time.perf_counter()
        grad @ first.W.data.T
        samples.append(time.perf_counter() - started)
    unneeded = statistics.median(samples) * 1e3
    print(f"of which the first Linear's dL/dX (not needed for the images, never computed by PyTorch): "
          f"{unneeded:.3f} ms, {100 * unneeded / totals['total_ms']:.0f}% of the step")


def run(quick: bool = False) -> dict:
    from tabulate import tabulate

    skipped = common.torch_unavailable()
    if skipped:
        return skipped
    print(f"One epoch of MLP {'-'.join(map(str, SIZES))} ReLU, float32, SGD lr {LEARNING_RATE} momentum "
          f"{MOMENTUM}, batch {BATCH_SIZE}" + (f", QUICK: {QUICK_TRAIN} images" if quick else ", 60,000 images")
          + "; each framework in a fresh process.")
    from grader.milestones.speed import numpy_blas_threads

    default_threads = numpy_blas_threads()[0]
    rows, runs = [], {}
    for threads in sorted({1, default_threads}):
        results = {name: common.run_child(MODULE, name, quick, options={"threads": threads})
                   for name in ("numpy", "torch")}
        ours, theirs = results["numpy"], results["torch"]
        ratio = ours["epoch_seconds"] / theirs["epoch_seconds"]
        runs[threads] = {"numpy": ours, "torch": theirs, "time_ratio": ratio}
        for name, r in results.items():
            rows.append([f"reference ({r['version']})" if name == "numpy" else r["version"], str(r["threads"]),
                         f"{r['epoch_seconds']:.3f}", f"{ratio:.2f}" if name == "numpy" else "",
                         f"{r['peak_extra_mib']:.1f}", f"{r['resident_before_mib']:.0f}",
                         f"{100 * r['test_accuracy']:.2f}"])
    print(tabulate(rows, headers=["", "threads", "epoch s", "ratio", "peak extra MiB", "resident before MiB",
                                  "test acc %"], tablefmt="simple", disable_numparse=True))
    print("(ratio = reference epoch / PyTorch epoch; peak extra = the most memory warm-up and epoch needed "
          "above what the process held before them; resident before = the whole process with its libraries, "
          f"the data and the model; memory measured by {ours['memory_method']})")
    slower = False
    for threads, r in runs.items():
        ours, theirs, ratio = r["numpy"], r["torch"], r["time_ratio"]
        memory_ok = ours["peak_extra_mib"] <= theirs["peak_extra_mib"]
        slower = slower or ratio > 1.0
        print(f"{threads} thread(s): time ratio {ratio:.2f} (goal <= 1.0: {'met' if ratio <= 1.0 else 'NOT met'}); "
              f"peak extra memory {ours['peak_extra_mib']:.1f} vs {theirs['peak_extra_mib']:.1f} MiB "
              f"({'met' if memory_ok else 'NOT met'})")
    if len(runs) > 1 and any(runs[t]["numpy"]["epoch_seconds"] > 3 * runs[1]["numpy"]["epoch_seconds"]
                             for t in runs if t > 1):
        print("note: with several threads the epoch is over 3x slower than with one: the machine is busy and "
              "a multi-threaded BLAS stalls waiting for descheduled threads; trust the 1-thread row.")
    if slower:
        print("The reference is slower somewhere; where its training step spends time (1 thread):")
        profile_reference(quick)
    milestone = common.milestone_on_reference("mnist", quick)
    accuracy, seconds = milestone.get("test_accuracy"), milestone.get("train_seconds")
    goal_accuracy, goal_seconds = MILESTONE_GOAL
    if quick and accuracy is not None:
        print(f"mnist milestone on the reference (QUICK: subset, 1 epoch; the goal >= "
              f"{100 * goal_accuracy:.0f}% in < {goal_seconds:.0f} s applies to the full run): "
              f"{milestone['status']}, test accuracy {100 * accuracy:.2f}%, training {seconds:.1f} s")
    elif accuracy is not None and seconds is not None:
        met = accuracy >= goal_accuracy and seconds < goal_seconds
        print(f"mnist milestone on the reference: {milestone['status']}, test "
              f"accuracy {100 * accuracy:.2f}% after {milestone.get('epochs')} epoch(s), training {seconds:.1f} s "
              f"(goal >= {100 * goal_accuracy:.0f}% in < {goal_seconds:.0f} s: {'met' if met else 'NOT met'})")
    else:
        print(f"mnist milestone on the reference: {milestone.get('status')}: {milestone.get('reason')}")
    return {"by_threads": runs,
            "milestone": {k: milestone.get(k) for k in ("status", "test_accuracy", "train_seconds", "epochs")}}


def main(argv=None) -> int:
    return common.main(MODULE, ("numpy", "torch"), child, run, argv, options={"threads": 1})


if __name__ == "__main__":
    sys.exit(main())

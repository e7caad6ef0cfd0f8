"""Milestone `speed`: one training step of your MLP at most 3x slower than the same step in PyTorch.

What is timed, for your code and for PyTorch, in the same process:
    one training step of the MLP 784-256-128-10 with ReLU, float32, on one batch of 128 real MNIST
    training images: zero the gradients, forward, softmax cross-entropy loss, backward, SGD update
    (lr 0.01, momentum 0.9).
Both networks start from the SAME weights (yours, copied into PyTorch: torch.nn.Linear stores W^T).
Each side is warmed up first (BLAS threads start, memory is allocated once), then timed in rounds of
several steps, rounds of the two alternating so that any background load hits both alike; every
step is timed on its own, and the time per step is the MEDIAN over all of them (a step interrupted
by another process is an outlier the median ignores). ratio = your step time / PyTorch's step time; passes at <= 3.

Threads: ONE for both. NumPy's BLAS (OpenBLAS) is set to THREADS = 1 thread for the measurement, and
PyTorch is told to use as many threads as NumPy's BLAS then reports (read from OpenBLAS itself; if
NumPy's BLAS cannot be set, PyTorch matches whatever it uses, from OPENBLAS_NUM_THREADS /
OMP_NUM_THREADS or the number of cores). Equal threads make the comparison about the code, not about
one side using more of the machine; one thread because matrices of this size gain little from a
second core, while two threads per library on a machine busy with anything else can stall at every
product (a thread waits at a barrier for a descheduled partner): we measured single steps 50-100x
slower that way, for either library, which would make the ratio meaningless.

Afterwards a profile of your step is printed: the time of each layer's forward and backward, of the
loss and of the optimiser, split into matrix multiplication (the Linear layers) and element-wise work
(activations, softmax, parameter updates). If PyTorch cannot be imported the milestone is "not-run"
(it can never pass without its reference point).
"""

from __future__ import annotations

import ctypes
import os
import statistics
import time
from pathlib import Path

import numpy as np

TIME_LIMIT = 300
MAX_RATIO = 3.0
THREADS = 1
BATCH_SIZE = 128
SIZES = (784, 256, 128, 10)
LEARNING_RATE = 0.01
MOMENTUM = 0.9
SEED = 20261125

# (warm-up steps, rounds, steps per round, profile repeats)
FULL = (20, 15, 20, 40)
QUICK = (5, 5, 5, 5)
# With several threads, idle BLAS / OpenMP workers keep spinning for a while after each call
# (OpenBLAS up to about 0.1 s), stealing a core from the other library if it starts at once: then
# pause (untimed) between the two sides. With one thread there are no workers and no pause.
PAUSE_SECONDS = 0.15

WHY_FRAMEWORKS_ARE_FASTER = """\
Why a framework is faster than plain NumPy on the same machine:
  - The matrix products are not the difference: NumPy calls OpenBLAS and PyTorch calls MKL/oneDNN,
    both tuned to the CPU. A Linear layer's three products (X W, X^T G, G W^T) run at similar speed.
  - Everything else is: each NumPy expression (x > 0, *, +, exp, sum) is a separate pass over memory
    that allocates a new temporary array, and each is dispatched by the Python interpreter (about a
    microsecond per call before any work is done). PyTorch fuses work into single kernels (bias add
    inside the matrix product, log-softmax with the loss, one update over all parameters at once)
    and its autograd engine runs backward in C++ without returning to Python between operations.
  - It skips work nobody needs: the images do not require a gradient, so the first layer's
    dL/dX = G W^T (a third of that layer's backward) is never computed.
  - On a GPU a framework also spreads each operation over thousands of cores; NumPy cannot.
To get closer: keep everything float32, avoid needless copies (.copy(), astype), write the optimiser
update in place (w -= lr * v), and compute softmax and cross-entropy together (p - onehot)."""


def _openblas_function(action: str):
    """OpenBLAS's get/set_num_threads function from the library NumPy loaded, or None (not OpenBLAS,
    or no /proc/self/maps to find it, as on macOS)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line}
        for path in sorted(paths):
            library = ctypes.CDLL(path)
            for prefix in ("scipy_openblas", "openblas"):
                for suffix in ("64_", ""):
                    function = getattr(library, f"{prefix}_{action}_num_threads{suffix}", None)
                    if function is not None:
                        return function
    except OSError:
        pass
    return None


def numpy_blas_threads() -> tuple[int, str]:
    """(threads NumPy's BLAS uses, how that was found out)."""
    get = _openblas_function("get")
    if get is not None:
        return int(get()), "reported by OpenBLAS"
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        value = os.environ.get(variable, "")
        if value.isdigit() and int(value) > 0:
            return int(value), f"from {variable}"
    return os.cpu_count() or 1, "the number of cores"


def set_numpy_blas_threads(n: int) -> bool:
    """Ask OpenBLAS to use n threads from now on; False if NumPy's BLAS cannot be told."""
    set_threads = _openblas_function("set")
    if set_threads is None:
        return False
    set_threads(ctypes.c_int(n))
    return True


def build_learner_mlp(m, rng, dtype=np.float32):
    """(model, list of its layers) built from the target's own layers, activations and network."""
    layers = []
    for index, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        if index:
            layers.append(m.activations.ReLU())
        layers.append(m.layers.Linear(n_in, n_out, rng=rng, dtype=dtype))
    return m.network.Sequential(*layers), layers


def torch_copy(torch, linear_layers):
    """A torch.nn.Sequential with the same weights (float32) as the given Linear layers, ReLU between."""
    modules = []
    for index, layer in enumerate(linear_layers):
        if index:
            modules.append(torch.nn.ReLU())
        W = np.asarray(layer.W.data, dtype=np.float32)
        b = np.asarray(layer.b.data, dtype=np.float32)
        linear = torch.nn.Linear(W.shape[0], W.shape[1])
        with torch.no_grad():
            # torch.nn.Linear computes x W^T + b with weight of shape (out, in): ours transposed.
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
            linear.bias.copy_(torch.from_numpy(b))
        modules.append(linear)
    return torch.nn.Sequential(*modules)


def _median_step_seconds(steps: dict, warmup: int, rounds: int, per_round: int,
                         pause: float = 0.0) -> dict[str, float]:
    """Warm each step function up, then time alternating rounds; {name: median seconds per step}.

    Every step is timed on its own and the median is over all of them: on a busy machine a few steps
    are interrupted by other processes, and a median ignores them where a mean (or a round's total)
    would not.
    """
    for step in steps.values():
        for _ in range(warmup):
            step()
    samples = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            if pause:
                time.sleep(pause)
            for _ in range(per_round):
                started = time.perf_counter()
                step()
                samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in samples.items()}


def profile_step(m, layers, loss_fn, optimizer, x, y, repeats: int) -> dict:
    """Median time of each part of one training step, layer by layer (seconds)."""
    linear_type = m.layers.Linear
    parts = {}

    def record(name, seconds):
        parts.setdefault(name, []).append(seconds)

    for _ in range(repeats):
        started = time.perf_counter()
        optimizer.zero_grad()
        record(("zero_grad", "", "element-wise"), time.perf_counter() - started)
        a = x
        for index, layer in enumerate(layers):
            kind = "matmul" if isinstance(layer, linear_type) else "element-wise"
            started = time.perf_counter()
            a = layer.forward(a)
            record((f"{index} {type(layer).__name__}", "forward", kind), time.perf_counter() - started)
        started = time.perf_counter()
        loss_fn.forward(a, y)
        record(("loss " + type(loss_fn).__name__, "forward", "element-wise"), time.perf_counter() - started)
        started = time.perf_counter()
        g = loss_fn.backward()
        record(("loss " + type(loss_fn).__name__, "backward", "element-wise"), time.perf_counter() - started)
        for index in reversed(range(len(layers))):
            layer = layers[index]
            kind = "matmul" if isinstance(layer, linear_type) else "element-wise"
            started = time.perf_counter()
            g = layer.backward(g)
            record((f"{index} {type(layer).__name__}", "backward", kind), time.perf_counter() - started)
        started = time.perf_counter()
        optimizer.step()
        record(("optimizer " + type(optimizer).__name__, "step", "element-wise"), time.perf_counter() - started)
    return {key: statistics.median(values) for key, values in parts.items()}


def print_profile(profile: dict, step_seconds: float | None = None) -> dict:
    """Print the profile as a table plus totals; return the totals (milliseconds)."""
    from tabulate import tabulate

    rows, by_phase, by_kind = [], {}, {}
    # The dict is in execution order: zero_grad, forward layer by layer, loss, backward, update.
    for name, phase, kind in profile:
        seconds = profile[(name, phase, kind)]
        rows.append([name, phase or "-", kind, f"{seconds * 1e3:.3f}"])
        phase_key = phase if phase in ("forward", "backward") else "update"
        by_phase[phase_key] = by_phase.get(phase_key, 0.0) + seconds
        by_kind[kind] = by_kind.get(kind, 0.0) + seconds
    total = sum(profile.values())
    print("Profile of your training step (median per part, milliseconds):")
    print(tabulate(rows, headers=["part", "pass", "work", "ms"], tablefmt="simple", disable_numparse=True))
    print(f"sum of parts {total * 1e3:.3f} ms"
          + (f" (the whole step measured above: {step_seconds * 1e3:.3f} ms)" if step_seconds else ""))
    print("  " + ", ".join(f"{phase} {seconds * 1e3:.3f} ms ({100 * seconds / total:.0f}%)"
                           for phase, seconds in by_phase.items()))
    print("  " + ", ".join(f"{kind} {seconds * 1e3:.3f} ms ({100 * seconds / total:.0f}%)"
                           for kind, seconds in sorted(by_kind.items())))
    return {"total_ms": total * 1e3,
            **{f"{phase}_ms": seconds * 1e3 for phase, seconds in by_phase.items()},
            **{f"{kind.replace('-', '_')}_ms": seconds * 1e3 for kind, seconds in by_kind.items()}}


def run(target_dir: Path, out_dir: Path, *, quick: bool = False) -> dict:
    try:
        import torch
    except ImportError as error:
        return {"status": "not-run",
                "reason": f"PyTorch cannot be imported ({error}), so there is nothing to compare the speed "
                          "with; install the pinned requirements (`make setup`) and grade again"}
    from grader.data import mnist
    from grader.milestones.mnist import learner_modules, unfinished

    warmup, rounds, per_round, repeats = QUICK if quick else FULL
    previous_numpy_threads, _ = numpy_blas_threads()
    previous_threads = torch.get_num_threads()
    set_numpy_blas_threads(THREADS)
    threads, threads_how = numpy_blas_threads()
    torch.set_num_threads(threads)
    try:
        try:
            X, y = mnist.load("train")
        except mnist.DataError as error:
            return {"status": "not-run", "reason": f"the MNIST data cannot be used: {error}"}
        x, labels = np.ascontiguousarray(X[:BATCH_SIZE]), y[:BATCH_SIZE].copy()
        try:
            m = learner_modules(target_dir)
            model, layers = build_learner_mlp(m, np.random.default_rng(SEED))
            loss_fn = m.losses.SoftmaxCrossEntropy()
            optimizer = m.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
            linears = [layer for layer in layers if isinstance(layer, m.layers.Linear)]
            reference = torch_copy(torch, linears)
            torch_optimizer = torch.optim.SGD(reference.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
            x_torch, y_torch = torch.from_numpy(x), torch.from_numpy(labels)

            def learner_step():
                optimizer.zero_grad()
                logits = model.forward(x)
                loss = loss_fn.forward(logits, labels)
                model.backward(loss_fn.backward())
                optimizer.step()
                return loss

            def torch_step():
                torch_optimizer.zero_grad()
                loss = torch.nn.functional.cross_entropy(reference(x_torch), y_torch)
                loss.backward()
                torch_optimizer.step()
                return loss

            # The first step of both starts from the same weights: same loss, else the speed of a
            # different computation would be measured.
            first_loss, first_torch = float(learner_step()), float(torch_step().detach())
            dtype = np.asarray(linears[0].W.data).dtype
            print(f"Timing one training step (batch {BATCH_SIZE}, MLP {'-'.join(map(str, SIZES))} ReLU, "
                  f"your dtype {dtype}, PyTorch float32) with {threads} thread(s) each ({threads_how}); "
                  f"median of {rounds * per_round} steps timed one by one, in {rounds} alternating rounds, "
                  f"after {warmup} warm-up steps.")
            if not np.isfinite(first_loss) or abs(first_loss - first_torch) > 1e-3 * max(1.0, abs(first_torch)):
                print(f"warning: your first loss {first_loss:.6f} differs from PyTorch's {first_torch:.6f} "
                      "on the same weights and batch; the timing below compares different computations.")
            medians = _median_step_seconds({"yours": learner_step, "torch": torch_step}, warmup, rounds,
                                           per_round, pause=PAUSE_SECONDS if threads > 1 else 0.0)
            ratio = medians["yours"] / medians["torch"]
            print(f"your step {medians['yours'] * 1e3:.3f} ms, PyTorch {medians['torch'] * 1e3:.3f} ms: "
                  f"ratio {ratio:.2f} (pass at <= {MAX_RATIO:g})")
            profile = profile_step(m, layers, loss_fn, optimizer, x, labels, repeats)
        except (NotImplementedError, ImportError) as error:
            locked = unfinished(error)
            if locked is None:
                raise
            return locked
        totals = print_profile(profile, medians["yours"])
        print(WHY_FRAMEWORKS_ARE_FASTER)
    finally:
        torch.set_num_threads(previous_threads)
        set_numpy_blas_threads(previous_numpy_threads)
    passed = ratio <= MAX_RATIO
    if passed:
        reason = f"your training step is {ratio:.2f}x PyTorch's time (limit {MAX_RATIO:g}x)"
    else:
        slowest = max(profile, key=profile.get)
        reason = (f"your training step takes {ratio:.1f}x PyTorch's time (limit {MAX_RATIO:g}x); the slowest "
                  f"part is {slowest[0]} {slowest[1]} ({profile[slowest] * 1e3:.2f} ms): look for a Python "
                  "loop over samples or needless copies there")
    return {
        "status": "passed" if passed else "failed",
        "reason": reason,
        "ratio": round(ratio, 3),
        "max_ratio": MAX_RATIO,
        "your_step_ms": round(medians["yours"] * 1e3, 4),
        "torch_step_ms": round(medians["torch"] * 1e3, 4),
        "threads": threads,
        "threads_source": threads_how,
        "batch_size": BATCH_SIZE,
        "dtype": str(dtype),
        "first_loss": first_loss,
        "first_loss_torch": first_torch,
        "profile_ms": {k: round(v, 4) for k, v in totals.items()},
        "quick": quick,
    }

"""Milestone `speed`: one training step of your MLP at most 3x slower than the same step in PyTorch.

What is timed, for your code and for PyTorch, in the same process:
    one training step of the MLP 784-256-128-10 with ReLU, float32, on one batch of 128 real MNIST
    training images: zero the gradients, forward, softmax cross-entropy loss, backward, SGD update
    (lr 0.01, momentum 0.9).
Both networks start from the SAME weights (yours, copied into PyTorch: torch.nn.Linear stores W^T).
Each side is warmed up first (BLAS threads start, memory is allocated once), then timed in rounds of
several steps, rounds of the two alternating so that any background load hits both alike; every
step is timed on its own, and the time per step is the mean over the MIDDLE HALF of them (the steps
between the 25th and 75th percentile: a step interrupted by another process is an outlier this
ignores, as a median would, but unlike medians the parts below add up to it). ratio = your step time
/ PyTorch's step time; passes at <= 3.

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
(activations, softmax, parameter updates), plus one line for the rest: Python between the parts
(Sequential's loop, the calls) and the memory freed and allocated between them. It is measured on the
very steps that were timed (each part's method is wrapped with a timer, about a microsecond per call),
so the parts add up to the measured step. When your model trains in float64 (Linear ignoring its
dtype, say) a sentence says so; it does not fail the milestone. If PyTorch cannot be imported the
milestone is "not-run" (it can never pass without its reference point).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from grader.milestones.skeleton import (  # noqa: F401  (numpy_blas_threads: imported from here by bench)
    float64_note, learner_modules, numpy_blas_threads, pinned_threads, set_numpy_blas_threads, unfinished)

TIME_LIMIT = 300
MAX_RATIO = 3.0
THREADS = 1
BATCH_SIZE = 128
SIZES = (784, 256, 128, 10)
LEARNING_RATE = 0.01
MOMENTUM = 0.9
SEED = 20261125

# (warm-up steps, rounds, steps per round)
FULL = (20, 15, 20)
QUICK = (5, 5, 5)
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


class PartTimer:
    """Times the parts of a training step from inside it: each given method of the learner's objects
    (a layer's forward and backward, the loss's, the optimiser's zero_grad and step) is wrapped, on that
    object only, with a timer that adds its time to the current step's record."""

    def __init__(self):
        self.current: dict = {}
        self._wrapped: list = []

    def wrap(self, obj, method: str, key: tuple) -> None:
        original = getattr(obj, method)
        current = self.current

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                current[key] = current.get(key, 0.0) + time.perf_counter() - started

        setattr(obj, method, timed)
        self._wrapped.append((obj, method))
        current[key] = 0.0  # the dict keeps the order of the wrap calls: the order of a step's parts

    def wrap_step(self, m, layers, loss_fn, optimizer) -> None:
        """Wrap every part of the MLP's training step, keyed (name, pass, kind) in execution order."""
        linear_type = m.layers.Linear
        self.wrap(optimizer, "zero_grad", ("zero_grad", "", "element-wise"))
        for index, layer in enumerate(layers):
            kind = "matmul" if isinstance(layer, linear_type) else "element-wise"
            self.wrap(layer, "forward", (f"{index} {type(layer).__name__}", "forward", kind))
        loss_name = "loss " + type(loss_fn).__name__
        self.wrap(loss_fn, "forward", (loss_name, "forward", "element-wise"))
        self.wrap(loss_fn, "backward", (loss_name, "backward", "element-wise"))
        for index in reversed(range(len(layers))):
            layer = layers[index]
            kind = "matmul" if isinstance(layer, linear_type) else "element-wise"
            self.wrap(layer, "backward", (f"{index} {type(layer).__name__}", "backward", kind))
        self.wrap(optimizer, "step", ("optimizer " + type(optimizer).__name__, "step", "element-wise"))

    def take(self) -> dict:
        """The current step's parts (seconds), and a fresh record for the next step."""
        parts = dict(self.current)
        for key in self.current:
            self.current[key] = 0.0
        return parts

    def unwrap(self) -> None:
        for obj, method in self._wrapped:
            try:
                delattr(obj, method)
            except AttributeError:
                pass
        self._wrapped = []


REST = ("rest of the step", "", "Python and allocation")


def middle_half(totals: list[float]) -> list[int]:
    """Indices of the samples between the 25th and the 75th percentile of `totals`."""
    order = sorted(range(len(totals)), key=totals.__getitem__)
    quarter = len(order) // 4
    return order[quarter:len(order) - quarter] or order


def additive_profile(totals: list[float], parts: list[dict]) -> tuple[float, dict]:
    """(mean step over the middle half of the steps, {part: mean seconds over the same steps}) with a
    REST entry, the step minus its timed parts: Python between them and memory work outside them.
    The parts add up to the step exactly."""
    chosen = middle_half(totals)
    step = sum(totals[i] for i in chosen) / len(chosen)
    profile = {key: sum(parts[i].get(key, 0.0) for i in chosen) / len(chosen) for key in parts[chosen[0]]}
    profile[REST] = step - sum(profile.values())
    return step, profile


def time_steps(steps: dict, warmup: int, rounds: int, per_round: int, pause: float = 0.0,
               timer: PartTimer | None = None, timed_name: str = "yours") -> tuple[dict, list[dict]]:
    """Warm each step function up, then time alternating rounds, every step on its own.

    Returns ({name: [seconds of each step]}, [the parts of each `timed_name` step, from `timer`]).
    """
    for step in steps.values():
        for _ in range(warmup):
            step()
    if timer is not None:
        timer.take()
    samples, parts = {name: [] for name in steps}, []
    for _ in range(rounds):
        for name, step in steps.items():
            if pause:
                time.sleep(pause)
            for _ in range(per_round):
                started = time.perf_counter()
                step()
                samples[name].append(time.perf_counter() - started)
                if timer is not None and name == timed_name:
                    parts.append(timer.take())
    return samples, parts


def profile_step(m, layers, loss_fn, optimizer, x, y, repeats: int) -> dict:
    """Mean time of each part of one training step over the middle half of `repeats` steps, layer by
    layer, with the REST entry: the parts add up to the step (seconds)."""
    timer = PartTimer()
    timer.wrap_step(m, layers, loss_fn, optimizer)

    def step():
        optimizer.zero_grad()
        a = x
        for layer in layers:
            a = layer.forward(a)
        loss_fn.forward(a, y)
        g = loss_fn.backward()
        for layer in reversed(layers):
            g = layer.backward(g)
        optimizer.step()

    try:
        samples, parts = time_steps({"yours": step}, 1, 1, repeats, timer=timer)
    finally:
        timer.unwrap()
    return additive_profile(samples["yours"], parts)[1]


def print_profile(profile: dict, step_seconds: float | None = None) -> dict:
    """Print the profile as a table plus totals; return the totals (milliseconds)."""
    from tabulate import tabulate

    rows, by_phase, by_kind = [], {}, {}
    # The dict is in execution order: zero_grad, forward layer by layer, loss, backward, update, rest.
    for name, phase, kind in profile:
        seconds = profile[(name, phase, kind)]
        rows.append([name, phase or "-", kind, f"{seconds * 1e3:.3f}"])
        phase_key = phase if phase in ("forward", "backward") else ("rest" if kind == REST[2] else "update")
        by_phase[phase_key] = by_phase.get(phase_key, 0.0) + seconds
        by_kind[kind] = by_kind.get(kind, 0.0) + seconds
    total = sum(profile.values())
    print("Profile of your training step (mean per part over the middle half of the timed steps, milliseconds):")
    print(tabulate(rows, headers=["part", "pass", "work", "ms"], tablefmt="simple", disable_numparse=True))
    print(f"sum of parts {total * 1e3:.3f} ms"
          + (f" = the whole step measured above ({step_seconds * 1e3:.3f} ms)" if step_seconds else ""))
    print("  " + ", ".join(f"{phase} {seconds * 1e3:.3f} ms ({100 * seconds / total:.0f}%)"
                           for phase, seconds in by_phase.items()))
    print("  " + ", ".join(f"{kind} {seconds * 1e3:.3f} ms ({100 * seconds / total:.0f}%)"
                           for kind, seconds in sorted(by_kind.items())))
    if REST in profile:
        print("  (rest of the step: the Python between the parts, i.e. Sequential's loop and the calls, and "
              "memory freed or allocated outside them)")
    return {"total_ms": total * 1e3,
            **{f"{phase}_ms": seconds * 1e3 for phase, seconds in by_phase.items()},
            **{f"{kind.replace('-', '_').replace(' ', '_')}_ms": seconds * 1e3 for kind, seconds in by_kind.items()}}


def run(target_dir: Path, out_dir: Path, *, quick: bool = False) -> dict:
    try:
        import torch
    except ImportError as error:
        return {"status": "not-run",
                "reason": f"PyTorch cannot be imported ({error}), so there is nothing to compare the speed "
                          "with; install the pinned requirements (`make setup`) and grade again"}
    from grader.data import mnist

    try:
        X, y = mnist.load("train")
    except mnist.DataError as error:
        return {"status": "not-run", "reason": f"the MNIST data cannot be used: {error}"}
    x, labels = np.ascontiguousarray(X[:BATCH_SIZE]), y[:BATCH_SIZE].copy()
    with pinned_threads(THREADS, torch_too=True):
        threads, threads_how = numpy_blas_threads()
        torch.set_num_threads(threads)  # as many as NumPy's BLAS really uses, if it could not be set
        try:
            pair = StepPair(torch, learner_modules(target_dir), x, labels)
            return measure(pair, quick, threads, threads_how)
        except (NotImplementedError, ImportError) as error:
            locked = unfinished(error)
            if locked is None:
                raise
            return locked


class StepPair:
    """Your MLP's training step and PyTorch's, from the same weights on the same batch."""

    def __init__(self, torch, m, x, labels):
        self.m, self.x, self.labels = m, x, labels
        self.model, self.layers = build_learner_mlp(m, np.random.default_rng(SEED))
        self.loss_fn = m.losses.SoftmaxCrossEntropy()
        self.optimizer = m.optim.SGD(self.model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
        self.linears = [layer for layer in self.layers if isinstance(layer, m.layers.Linear)]
        self.reference = torch_copy(torch, self.linears)
        self.torch_optimizer = torch.optim.SGD(self.reference.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
        self.x_torch, self.y_torch = torch.from_numpy(x), torch.from_numpy(labels)
        self.torch = torch
        self.logits = None

    def learner_step(self):
        self.optimizer.zero_grad()
        self.logits = self.model.forward(self.x)
        loss = self.loss_fn.forward(self.logits, self.labels)
        self.model.backward(self.loss_fn.backward())
        self.optimizer.step()
        return loss

    def torch_step(self):
        self.torch_optimizer.zero_grad()
        loss = self.torch.nn.functional.cross_entropy(self.reference(self.x_torch), self.y_torch)
        loss.backward()
        self.torch_optimizer.step()
        return loss

    def dtype_note(self) -> str | None:
        """A sentence when your model computes in float64 although it was built for float32."""
        weights = [layer.W.data for layer in self.linears]
        note = float64_note(weights, "the weights of Linear(..., dtype=np.float32)")
        if note is None:
            note = float64_note([self.logits], "the logits computed from float32 weights and images")
        return note


def measure(pair: StepPair, quick: bool, threads: int, threads_how: str) -> dict:
    """Time both steps in alternating rounds, your steps with their parts; print; the result."""
    warmup, rounds, per_round = QUICK if quick else FULL
    # The first step of both starts from the same weights: same loss, else the speed of a different
    # computation would be measured.
    first_loss, first_torch = float(pair.learner_step()), float(pair.torch_step().detach())
    dtype = np.asarray(pair.linears[0].W.data).dtype
    print(f"Timing one training step (batch {BATCH_SIZE}, MLP {'-'.join(map(str, SIZES))} ReLU, your dtype "
          f"{dtype}, PyTorch float32) with {threads} thread(s) each ({threads_how}); mean of the middle half "
          f"of {rounds * per_round} steps timed one by one, in {rounds} alternating rounds, after {warmup} "
          "warm-up steps.")
    note = pair.dtype_note()
    if note:
        print(note)
    if not np.isfinite(first_loss) or abs(first_loss - first_torch) > 1e-3 * max(1.0, abs(first_torch)):
        print(f"warning: your first loss {first_loss:.6f} differs from PyTorch's {first_torch:.6f} "
              "on the same weights and batch; the timing below compares different computations.")
    timer = PartTimer()
    timer.wrap_step(pair.m, pair.layers, pair.loss_fn, pair.optimizer)
    try:
        samples, parts = time_steps({"yours": pair.learner_step, "torch": pair.torch_step}, warmup, rounds,
                                    per_round, pause=PAUSE_SECONDS if threads > 1 else 0.0, timer=timer)
    finally:
        timer.unwrap()
    yours, profile = additive_profile(samples["yours"], parts)
    theirs = sum(samples["torch"][i] for i in middle_half(samples["torch"])) / len(middle_half(samples["torch"]))
    ratio = yours / theirs
    print(f"your step {yours * 1e3:.3f} ms, PyTorch {theirs * 1e3:.3f} ms: ratio {ratio:.2f} "
          f"(pass at <= {MAX_RATIO:g})")
    totals = print_profile(profile, yours)
    print(WHY_FRAMEWORKS_ARE_FASTER)
    return {"ratio": round(ratio, 3), "max_ratio": MAX_RATIO, "your_step_ms": round(yours * 1e3, 4),
            "torch_step_ms": round(theirs * 1e3, 4), "threads": threads, "threads_source": threads_how,
            "batch_size": BATCH_SIZE, "dtype": str(dtype), "float64_note": note, "first_loss": first_loss,
            "first_loss_torch": first_torch, "profile_ms": {k: round(v, 4) for k, v in totals.items()},
            "quick": quick, **verdict(ratio, profile)}


def verdict(ratio: float, profile: dict) -> dict:
    if ratio <= MAX_RATIO:
        return {"status": "passed", "reason": f"your training step is {ratio:.2f}x PyTorch's time (limit {MAX_RATIO:g}x)"}
    slowest = max((key for key in profile if key != REST), key=profile.get)
    return {"status": "failed", "too_slow": True, "reason": (
        f"your training step takes {ratio:.1f}x PyTorch's time (limit {MAX_RATIO:g}x); the slowest part is "
        f"{slowest[0]} {slowest[1]} ({profile[slowest] * 1e3:.2f} ms): look for a Python loop over samples or "
        "needless copies there")}

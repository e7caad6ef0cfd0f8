"""The learner half of the speed milestones (`speed`, `fast_mlp`, `fast_cnn`): training steps on request.

This runs in the sandboxed worker on the learner's own modules: it receives a pool of MNIST training
images, builds the models, runs what the judge (stopwatch.py) asks for and reports plain data; it decides
and times nothing that counts. Each request names the rows of the pool its steps train on (drawn by the
judge from a seed the worker never sees), so nothing computed beforehand can stand in for a timed step.

Protocol (events worker -> judge, each answered by the judge's next request):
    "ready"    {"params": [float32 arrays, the textbook model's initial parameters, in its order and
                layouts], "dtype": str (of those parameters)}
    "ran"      {"losses": float array (steps,), "logits_dtype": str}
                                          after {"run": variant, "rows": int array (steps, BATCH_SIZE)}
    "params"   {"params": [float arrays]}                                 after {"params": variant}
    "profile"  {"rows": [[part, pass, work, seconds]]} (speed) or
               {"parts": {name: ms}, "total_ms": float, "text": str} (the learner's own Profiler)
                                          after {"profile": variant, "rows": int array (steps, BATCH_SIZE)}
    the request {"done": true} ends the exchange; the result is {} (or "locked" for unfinished code).
Variants: "textbook" (the learner's layers, loss and SGD) and "fast" (performance.FastMLP / FastCNN).

memory_task, in a fresh worker per variant, measures the peak memory of a few steps (reported, not judged).
"""

from __future__ import annotations

import contextlib
import resource
import time

import numpy as np

from grader.milestones.skeleton import EARLY_END, THREADS, ended_early, pinned_threads

BATCH_SIZE = 128
SIZES = (784, 256, 128, 10)      # the MLP: Linear(784, 256), ReLU, Linear(256, 128), ReLU, Linear(128, 10)
IMAGE_SHAPE = (1, 28, 28)        # the CNN's input (the cnn milestone's model)
LEARNING_RATE = 0.01
MOMENTUM = 0.9


def textbook_model(m, workload: str, seed: int):
    """The learner's own model of the workload, float32, initialised from `seed`."""
    rng = np.random.default_rng(seed)
    if workload == "cnn":
        return m.conv.build_mnist_cnn(rng)
    linears = [m.layers.Linear(n_in, n_out, rng=rng, dtype=np.float32) for n_in, n_out in zip(SIZES[:-1], SIZES[1:])]
    return m.network.Sequential(*relus_between(linears, m.activations.ReLU))


def relus_between(linears: list, relu) -> list:
    """The MLP's layers: [Linear, relu(), Linear, relu(), ..., Linear], a fresh relu() between each pair."""
    return [linears[0], *(layer for linear in linears[1:] for layer in (relu(), linear))]


class TextbookStep:
    """zero_grad, forward, SoftmaxCrossEntropy, backward, SGD.step on the learner's own model."""

    def __init__(self, m, model, lr=LEARNING_RATE):
        self.m, self.model = m, model
        self.loss_fn = m.losses.SoftmaxCrossEntropy()
        self.optimizer = m.optim.SGD(model.parameters(), lr=lr, momentum=MOMENTUM)
        self.logits_dtype = "?"

    def __call__(self, x, labels) -> float:
        self.optimizer.zero_grad()
        logits = self.model.forward(x)
        loss = self.loss_fn.forward(logits, labels)
        self.model.backward(self.loss_fn.backward())
        self.optimizer.step()
        self.logits_dtype = str(getattr(logits, "dtype", "?"))
        return float(loss)

    def parameters(self) -> list:
        return [p.data for p in self.model.parameters()]


class FastStep:
    """The learner's performance.FastMLP or FastCNN, built from the textbook model's initial parameters."""

    def __init__(self, m, workload: str, params, lr=LEARNING_RATE):
        kind = m.performance.FastCNN if workload == "cnn" else m.performance.FastMLP
        options = {"image_shape": IMAGE_SHAPE} if workload == "cnn" else {}
        self.logits_dtype = "float32"
        self.fast = kind(params, lr=lr, momentum=MOMENTUM, batch_size=BATCH_SIZE, **options)

    def __call__(self, x, labels, profiler=None) -> float:
        return float(self.fast.step(x, labels, profiler))

    def parameters(self) -> list:
        return list(self.fast.parameters())


def variant_step(m, workload: str, model, variant: str):
    """The variant's step: on the learner's textbook `model`, or (fast) built from its parameters."""
    if variant == "fast":
        return FastStep(m, workload, [np.array(p.data, dtype=np.float32) for p in model.parameters()])
    return TextbookStep(m, model)


class LearnerSteps:
    """The variants the judge asked for, from the same initial weights, answering its requests."""

    def __init__(self, m, inputs: dict):
        self.X, self.y = np.asarray(inputs["images"], dtype=np.float32), np.asarray(inputs["labels"])
        model = textbook_model(m, inputs["workload"], int(inputs["model_seed"]))
        self.initial = [np.array(p.data, dtype=np.float32) for p in model.parameters()]
        self.dtype = str(np.asarray(model.parameters()[0].data).dtype)
        self.steps = {v: variant_step(m, inputs["workload"], model, v) for v in inputs["variants"]}
        self.m = m

    def answer(self, request: dict) -> tuple[str, dict]:
        """(event kind, value) for one request of the judge."""
        variant = request.get("run") or request.get("params") or request.get("profile")
        step = self.steps[variant]
        if "params" in request:
            return "params", {"params": [np.array(p, dtype=np.float64) for p in step.parameters()]}
        X, y = self.X, self.y
        batches = [(X[rows], y[rows]) for rows in np.asarray(request["rows"], dtype=np.int64)]
        if "run" in request:
            losses = [step(x, labels) for x, labels in batches]
            return "ran", {"losses": np.array(losses, dtype=np.float64), "logits_dtype": step.logits_dtype}
        if variant == "fast":
            return "profile", own_profile(self.m, step, batches)
        return "profile", {"rows": part_profile(step, batches)}


def step_task(m, inputs: dict, send) -> dict:
    """The worker's entry: build, say "ready", then answer requests until the judge says done."""
    try:
        with pinned_threads(THREADS):
            steps = LearnerSteps(m, inputs)
            request = send("ready", {"params": steps.initial, "dtype": steps.dtype})
            while not request.get("done"):
                request = send(*steps.answer(request))
    except EARLY_END as error:
        return ended_early(error)  # "locked" for unfinished code; anything else is a crash
    return {}


def own_profile(m, step, batches, title: str = "Profile of your fast step (your Profiler)") -> dict:
    """A step(x, labels, profiler) profiled with the target's own Profiler (its parts add up to the
    profiled step): the learner's fast step here, the reference's steps in make bench."""
    profiler = m.performance.Profiler()
    for x, labels in batches:
        profiler.start()
        step(x, labels, profiler)
        profiler.stop()
    summary = profiler.summary()
    return {"parts": {str(k): float(v) for k, v in summary["parts"].items()},
            "total_ms": float(summary["total_ms"]), "text": str(profiler.report(title))}


class PartTimer:
    """Times the parts of a training step from inside it, by this thread's CPU time: each wrapped method of
    the learner's objects (on that object only) adds its time to the current step's record (about 1 us a call)."""

    def __init__(self):
        self.current: dict = {}
        self._wrapped: list = []

    def wrap(self, obj, method: str, key: tuple) -> None:
        original, current = getattr(obj, method), self.current

        def timed(*args, **kwargs):
            started = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                current[key] = current.get(key, 0.0) + time.thread_time() - started

        setattr(obj, method, timed)
        self._wrapped.append((obj, method))
        current[key] = 0.0  # the dict keeps the order of the wrap calls: the order of a step's parts

    def wrap_step(self, step: TextbookStep) -> None:
        """Wrap every part of the textbook step, keyed (name, pass, kind) in execution order."""
        layers = [(f"{i} {type(layer).__name__}", layer, "matmul" if type(layer).__name__ in ("Linear", "Conv2d")
                   else "element-wise") for i, layer in enumerate(getattr(step.model, "layers", []))]
        self.wrap(step.optimizer, "zero_grad", ("zero_grad", "", "element-wise"))
        for name, layer, kind in layers:
            self.wrap(layer, "forward", (name, "forward", kind))
        loss_name = "loss " + type(step.loss_fn).__name__
        self.wrap(step.loss_fn, "forward", (loss_name, "forward", "element-wise"))
        self.wrap(step.loss_fn, "backward", (loss_name, "backward", "element-wise"))
        for name, layer, kind in reversed(layers):
            self.wrap(layer, "backward", (name, "backward", kind))
        self.wrap(step.optimizer, "step", ("optimizer " + type(step.optimizer).__name__, "step", "element-wise"))

    def take(self) -> dict:
        """The current step's parts (seconds), and a fresh record for the next step."""
        parts = dict(self.current)
        for key in self.current:
            self.current[key] = 0.0
        return parts

    def unwrap(self) -> None:
        for obj, method in self._wrapped:
            with contextlib.suppress(AttributeError):
                delattr(obj, method)
        self._wrapped = []


REST = ("rest of the step", "", "Python and allocation")


def middle_half(totals: list[float]) -> list[int]:
    """Indices of the samples between the 25th and the 75th percentile of `totals`."""
    order = sorted(range(len(totals)), key=totals.__getitem__)
    quarter = len(order) // 4
    return order[quarter:len(order) - quarter] or order


def additive_profile(totals: list[float], parts: list[dict]) -> tuple[float, dict]:
    """(mean step over the middle half of the steps, {part: mean seconds over the same steps}) with a REST
    entry, the step minus its timed parts: Python between them and memory work outside them. The parts
    add up to the step exactly."""
    chosen = middle_half(totals)
    step = sum(totals[i] for i in chosen) / len(chosen)
    profile = {key: sum(parts[i].get(key, 0.0) for i in chosen) / len(chosen) for key in parts[chosen[0]]}
    profile[REST] = step - sum(profile.values())
    return step, profile


def part_profile(step: TextbookStep, batches) -> list[list]:
    """[[part, pass, work, seconds]] of the textbook step, mean over the middle half of the steps on
    `batches`, with a REST row: the rows add up to the mean step."""
    timer = PartTimer()
    timer.wrap_step(step)
    totals, parts = [], []
    try:
        timer.take()
        for x, labels in batches:
            started = time.thread_time()
            step(x, labels)
            totals.append(time.thread_time() - started)
            parts.append(timer.take())
    finally:
        timer.unwrap()
    return [[*key, seconds] for key, seconds in additive_profile(totals, parts)[1].items()]


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            return next((int(line.split()[1]) for line in status if line.startswith(field + ":")), None)
    except OSError:
        return None


def reset_peak() -> tuple[int, str]:
    """(resident KiB now, how the peak is measured): VmHWM restarts from the current size when the kernel
    allows it (/proc/self/clear_refs), else the lifetime peak is all there is."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        method = "VmHWM after /proc/self/clear_refs"
    except OSError:
        method = "ru_maxrss (the lifetime peak)"
    return _status_kib("VmRSS") or 0, method


def peak_kib(method: str) -> int:
    """The peak resident set size (KiB) by the method reset_peak chose."""
    if method.startswith("VmHWM"):
        return _status_kib("VmHWM") or 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak_after(step, batches, base: int, method: str) -> dict:
    """Run one warm-up step and one per batch more; the peak above `base` and the minor page faults per step."""
    step(*batches[0])  # first-touch allocations belong to the peak, not to the per-step faults
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for batch in batches[1:]:
        step(*batch)
    steps = len(batches) - 1
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / max(steps, 1)
    return {"peak_extra_mib": max(0, peak_kib(method) - base) / 1024.0, "base_mib": base / 1024.0,
            "faults_per_step": faults, "method": method}


def memory_task(m, inputs: dict, send) -> dict:
    """The worker's entry for one variant's memory: build, reset the peak, train, measure."""
    try:
        with pinned_threads(THREADS):
            X, y = np.asarray(inputs["images"], dtype=np.float32), np.asarray(inputs["labels"])
            batches = [(X[rows], y[rows]) for rows in np.asarray(inputs["rows"], dtype=np.int64)]
            model = textbook_model(m, inputs["workload"], int(inputs["model_seed"]))
            base, method = reset_peak()
            return peak_after(variant_step(m, inputs["workload"], model, inputs["variant"]), batches, base, method)
    except EARLY_END as error:
        return ended_early(error)

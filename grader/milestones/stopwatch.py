"""The judge half of the speed milestones: PyTorch's step, the clock, and the checks that the work was done.

The learner's steps run in a sandboxed worker (steps.py holds the protocol); nothing here runs learner
code. Each request names the training images of its block of steps, drawn afresh from a secret seed.
Each block is timed from outside the worker: the wall clock between request and answer, the worker's CPU
time as the kernel counts it (ProcessTreeClock: every thread of every process), and its CPU time between
an answer and the next request (work left for later counts). While the worker waits, this process runs
the same steps in PyTorch on one thread (same weights, same images, timed by this thread's CPU time), so
each learner block is paired with PyTorch's and load hits both alike.

Repeatable verdicts: each criterion (a ratio of paired blocks) is decided on the median of its per-round
ratios with a distribution-free 90% confidence interval. While an interval straddles its threshold, more
rounds are measured, up to Plan.max_rounds; then the result is "too close to call", never "failed".

Why CPU time decides: on a shared machine a step longer than the scheduler's time slice is interrupted
far more often than a shorter one, so wall-clock times punish the slower step twice. Measured with six
other jobs on two cores (reference, MLP): wall medians textbook 10.8, fast 1.6, PyTorch 11.2 ms; CPU-time
medians 3.0, 1.7, 3.3 ms.

Why the numbers can be trusted: every reported loss must match PyTorch's loss of the same step (same
weights, same batch: a skipped or faked step changes the later losses), and each variant's final weights
PyTorch's, within a fraction of the distance they travelled. The first step must agree to float32
rounding (1e-3); later ones may drift once a ReLU flips on one side only. Measured with the reference over
320 MLP steps for 30 seeds: losses within 0.94% and 1.5e-3 of PyTorch's, weights within 3.7% of their
travel; the CNN's agree to 1e-7. Allowed: 3% + 2e-3 and 15%, margins of three to four times.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grader.core import task
from grader.core.manifest import ROOT
from grader.core.sandbox import THREADS as ONE_THREAD, ProcessTreeClock
from grader.data import mnist
from grader.milestones.skeleton import pinned_threads
from grader.milestones.steps import BATCH_SIZE, IMAGE_SHAPE, LEARNING_RATE, MOMENTUM, SIZES, THREADS, relus_between

CONFIDENCE = 0.9             # of the interval on each ratio's median
POOL = 4096                  # training images sent to the worker; each step's batch is 128 random rows of them
FIRST_LOSS_TOLERANCE = 1e-3  # |first loss - PyTorch's| <= this x max(1, |PyTorch's|)
LOSS_TOLERANCE = (0.03, 2e-3)  # later: |loss - PyTorch's| <= 3% of |PyTorch's| + 2e-3
DRIFT_TOLERANCE = 0.15       # |final weights - PyTorch's| <= this x |PyTorch's final - initial weights|
TORCH = "torch"              # PyTorch's side, beside the learner's variants
WALL_CLOCK_NOTE = "this system does not show a process's CPU time to another (no /proc): your steps are timed " \
                  "by the wall clock"


class Ended(Exception):
    """The measurement cannot go on: carries the milestone's result (failed, locked or not-run)."""

    def __init__(self, status: str, reason: str):
        super().__init__(reason)
        self.result = {"status": status, "reason": reason}


def import_torch(consequence: str):
    """The torch module, or Ended("not-run") saying "PyTorch cannot be imported (why), so <consequence>"."""
    try:
        import torch
    except ImportError as error:
        raise Ended("not-run", f"PyTorch cannot be imported ({error}), so {consequence}; install the pinned "
                               "requirements (`make setup`) and grade again") from None
    return torch


@dataclass(frozen=True)
class Plan:
    warmup: int        # untimed steps of each variant first
    rounds: int        # alternating rounds
    per_round: int     # steps of each variant per round: one timed block
    profiled: int      # steps profiled inside the worker (shown, never judged)
    memory_steps: int = 0  # steps in each fresh memory worker (0: no memory measurement)
    max_rounds: int = 0    # while a decision is too close to call, measure more rounds up to this many


@dataclass
class Timing:
    """What the judge measured: per side, the per-step time of each timed block (seconds). `cpu` is the
    precise clock (the learner's live threads; PyTorch's timing thread), `coarse` the one that misses
    nothing (the learner's whole process tree in ticks; this whole process for PyTorch)."""

    cpu: dict = field(default_factory=dict)
    wall: dict = field(default_factory=dict)
    coarse: dict = field(default_factory=dict)
    losses: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    totals: dict = field(default_factory=dict)   # {variant: [precise seconds, coarse seconds]} of all blocks
    paired: dict = field(default_factory=dict)   # {variant: [PyTorch's time per step on the same images]}

    def add(self, variant: str, steps: int, cpu: float, wall: float, coarse: float) -> None:
        for table, value in ((self.cpu, cpu), (self.wall, wall), (self.coarse, coarse)):
            table.setdefault(variant, []).append(value / steps)
        total = self.totals.setdefault(variant, [0.0, 0.0])
        total[0] += cpu
        total[1] += coarse

    def median_ms(self, variant: str, table: str = "cpu") -> float:
        return 1e3 * statistics.median(getattr(self, table)[variant])


def training_pool(workload: str) -> tuple[np.ndarray, np.ndarray]:
    """(images, labels): the 60,000 MNIST training images as the workload's model takes them (float32)."""
    X, y = mnist.load("train")
    X = X.reshape(-1, *IMAGE_SHAPE) if workload == "cnn" else X
    return np.ascontiguousarray(X, dtype=np.float32), y.astype(np.int64)


def torch_model(torch, workload: str, params: list[np.ndarray]):
    """The same model in torch.nn with the given parameters (textbook order and layouts); the parameters
    in that order are kept as `net.kata_targets` (torch.nn.Linear stores W transposed: (out, in))."""
    nn = torch.nn
    if workload == "cnn":
        (c1, c0, k, _), c2 = params[0].shape, params[2].shape[0]
        net = nn.Sequential(nn.Conv2d(c0, c1, k, padding=k // 2), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Conv2d(c1, c2, k, padding=k // 2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                            nn.Linear(*params[4].shape))
        targets = [net[0].weight, net[0].bias, net[3].weight, net[3].bias, net[7].weight, net[7].bias]
    else:
        linears = [nn.Linear(*weight.shape) for weight in params[::2]]
        net = nn.Sequential(*relus_between(linears, nn.ReLU))
        targets = [p for linear in linears for p in (linear.weight, linear.bias)]
    with torch.no_grad():
        for target, value in zip(targets, params):
            value = np.asarray(value, dtype=np.float32)
            if value.ndim == 2:  # a Linear weight: stored transposed by torch
                value = value.T
            target.copy_(torch.from_numpy(np.ascontiguousarray(value)))
    net.kata_targets = targets
    return net


def textbook_parameters(net) -> list[np.ndarray]:
    """The torch model's current parameters in the textbook order and layouts (float64 copies)."""
    values = [parameter.detach().numpy().astype(np.float64) for parameter in net.kata_targets]
    return [value.T if value.ndim == 2 else value for value in values]


def flat(arrays) -> np.ndarray:
    return np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in arrays])


class TorchStep:
    """PyTorch's SGD training step of the workload's model, on rows of the training images X (or, by
    `train`, on a batch given as it is)."""

    def __init__(self, torch, workload: str, params, X=None, y=None, *, lr=LEARNING_RATE, momentum=MOMENTUM,
                 weight_decay=0.0):
        self.torch = torch
        self.X, self.y = (torch.from_numpy(X), torch.from_numpy(y)) if X is not None else (None, None)
        self.net = torch_model(torch, workload, params)
        self.optimizer = torch.optim.SGD(self.net.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)

    def __call__(self, rows) -> float:
        rows = self.torch.from_numpy(rows)
        return self.train(self.X[rows], self.y[rows])

    def train(self, x, labels) -> float:
        """One step on images x and their labels (tensors, or NumPy arrays as make bench gives them)."""
        x, labels = (self.torch.as_tensor(a) for a in (x, labels))
        self.optimizer.zero_grad()
        loss = self.torch.nn.functional.cross_entropy(self.net(x), labels)
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())

    def predict(self, x) -> np.ndarray:
        with self.torch.no_grad():
            return self.net(self.torch.from_numpy(x)).numpy()

    def block(self, rows) -> tuple[list[float], float, float, float]:
        """(losses, this thread's CPU seconds, wall seconds, the process's CPU seconds) of one step per row."""
        cpu, wall, process = time.thread_time(), time.perf_counter(), time.process_time()
        losses = [self(r) for r in rows]
        return (losses, time.thread_time() - cpu, time.perf_counter() - wall, time.process_time() - process)


def rounds(variants: tuple[str, ...], count: int, per_round: int) -> list[tuple[str, str, int]]:
    return [("timed", variant, per_round) for _ in range(count) for variant in variants]


def float_arrays(value, what: str) -> list[np.ndarray]:
    """The worker's list of arrays, checked: else the run ends with a sentence."""
    if not isinstance(value, list) or not all(isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in value):
        raise Ended("failed", f"{what} did not arrive as a list of float arrays")
    return value


def mismatches(losses: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Indices of the steps whose loss is not PyTorch's (all of them when the counts differ)."""
    if losses.shape != reference.shape or not losses.size:
        return np.arange(max(len(reference), 1))
    relative, absolute = LOSS_TOLERANCE
    close = np.abs(losses - reference) <= relative * np.abs(reference) + absolute
    close[0] = abs(losses[0] - reference[0]) <= FIRST_LOSS_TOLERANCE * max(1.0, abs(reference[0]))
    return np.flatnonzero(~close)


class StepJudge:
    """Answers the worker's events with requests on fresh rows, runs PyTorch's shadow of each block on the
    same rows while the worker waits, and times the worker from outside. `undecided(judge)`: more rounds?
    The last variant is profiled at the end."""

    def __init__(self, torch, workload: str, variants: tuple[str, ...], plan: Plan, undecided=None):
        self.torch, self.workload, self.variants, self.plan = torch, workload, variants, plan
        self.seed = secrets.randbits(62)  # chooses every row and the initial weights
        self.rng = np.random.default_rng(self.seed)
        self.model_seed = int(self.rng.integers(2**31))
        X, y = training_pool(workload)
        chosen = np.sort(self.rng.choice(len(X), POOL, replace=False))
        self.X, self.y = X[chosen], y[chosen]
        self.undecided = undecided
        self.actions = [("warmup", v, plan.warmup) for v in variants if plan.warmup]
        self.actions += rounds(variants, plan.rounds, plan.per_round)
        self.rounds, self.finished = plan.rounds, False
        self.timing, self.clock, self.shadows, self.expected = Timing(), None, {}, {}
        self.pending, self.sent, self.arrived = None, None, None
        self.initial, self.final, self.profile, self.dtypes = None, {}, None, {}

    def rows(self, steps: int) -> np.ndarray:
        return self.rng.integers(0, len(self.X), size=(steps, BATCH_SIZE))

    def on_start(self, pid: int) -> None:
        self.clock = ProcessTreeClock(pid)

    def _cpu(self) -> tuple[float, float] | None:
        """The worker's CPU clocks (reading /proc takes milliseconds: the wall clock is read on its far side)."""
        return self.clock.read() if self.clock is not None else None

    def on_event(self, kind: str, value) -> dict:
        arrived = time.perf_counter(), self._cpu()  # first: the worker's block ended when its event arrived
        if not isinstance(value, dict):
            raise Ended("failed", f"the learner's side sent {kind!r} without its values")
        if kind == "ready":
            self._start(value)
        elif kind == "ran" and self.pending and self.pending[0] in ("warmup", "timed"):
            self._ran(value, arrived)
        elif kind == "params" and self.pending and self.pending[0] == "params":
            self.final[self.pending[1]] = float_arrays(value.get("params"), f"your {self.pending[1]} weights")
        elif kind == "profile" and self.pending and self.pending[0] == "profile":
            self.profile = value
        else:
            raise Ended("failed", f"the learner's side sent {kind!r}, which was not asked for")
        return self._next()

    def _start(self, value: dict) -> None:
        self.initial = float_arrays(value.get("params"), "your model's initial weights")
        self.dtypes["weights"] = str(value.get("dtype", "?"))
        # The CNN's channels are the learner's build_mnist_cnn's to choose (torch_model follows them).
        shapes = [shape for n_in, n_out in zip(SIZES[:-1], SIZES[1:]) for shape in ((n_in, n_out), (n_out,))]
        if self.workload == "mlp" and [a.shape for a in self.initial] != shapes:
            raise Ended("failed", f"your MLP's parameters have shapes {[a.shape for a in self.initial]}, not "
                                  f"{shapes}: Linear(n_in, n_out) keeps W as (n_in, n_out) and b as (n_out,)")
        try:
            self.shadows = {variant: TorchStep(self.torch, self.workload, self.initial, self.X, self.y)
                            for variant in self.variants}
        except (RuntimeError, ValueError, IndexError) as error:
            raise Ended("failed", f"your model's parameters do not fit the milestone's model: {error}") from None

    def _ran(self, value: dict, arrived) -> None:
        action, variant, steps, rows = self.pending
        losses = value.get("losses")
        if not isinstance(losses, np.ndarray) or losses.shape != (steps,):
            raise Ended("failed", f"your {variant} step's losses did not arrive as {steps} numbers")
        self.timing.losses.setdefault(variant, []).extend(float(v) for v in losses)
        self.dtypes[f"{variant} logits"] = str(value.get("logits_dtype", "?"))
        expected, cpu, wall, process = self.shadows[variant].block(rows)  # the worker waits meanwhile
        self.expected.setdefault(variant, []).extend(expected)
        if action == "timed":
            self.arrived = (variant, steps, arrived)
            worker_wall = arrived[0] - self.sent[0]
            if arrived[1] is None:  # no /proc: the wall clock is all there is
                if WALL_CLOCK_NOTE not in self.timing.notes:
                    self.timing.notes.append(WALL_CLOCK_NOTE)
                self.timing.add(variant, steps, worker_wall, worker_wall, worker_wall)
            else:
                self.timing.add(variant, steps, arrived[1][0] - self.sent[1][0], worker_wall,
                                arrived[1][1] - self.sent[1][1])
            self.timing.add(TORCH, steps, cpu, wall, process)
            self.timing.paired.setdefault(variant, []).append(cpu / steps)

    def _count_gap(self) -> None:
        """Add the worker's CPU time since its last timed answer to that block: work left for later."""
        if self.arrived is None or self.arrived[2][1] is None or self.clock is None:
            return
        variant, steps, (_, before) = self.arrived
        now = self.clock.read()
        self.arrived = None
        for clock, table in enumerate((self.timing.cpu, self.timing.coarse)):
            gap = max(now[clock] - before[clock], 0.0)
            table[variant][-1] += gap / steps
            self.timing.totals[variant][clock] += gap
        note = "your process worked between blocks, while waiting for its next request: counted with the block before"
        if now[0] - before[0] > 0.01 and note not in self.timing.notes:
            self.timing.notes.append(note)

    def _next(self) -> dict:
        self._count_gap()
        if not self.actions and not self.finished:
            if self.undecided is not None and self.rounds < self.plan.max_rounds and self.undecided(self):
                self.actions, self.rounds = rounds(self.variants, 2, self.plan.per_round), self.rounds + 2
            else:
                self.actions = [("params", v, 0) for v in self.variants]
                self.actions.append(("profile", self.variants[-1], self.plan.profiled))
                self.finished = True
        if not self.actions:
            self.pending = ("done", None, 0, None)
            return {"done": True}
        action, variant, steps = self.actions.pop(0)
        rows = self.rows(steps) if steps else None
        self.pending = (action, variant, steps, rows)
        request = {"run" if action in ("warmup", "timed") else action: variant}
        if rows is not None:
            request["rows"] = rows
        cpu = self._cpu()
        self.sent = time.perf_counter(), cpu  # the last thing before the request is written
        return request

    def check_work(self, advice: dict[str, str]) -> None:
        """Ended("failed") unless each variant computed its PyTorch shadow's losses, step by step, and ended
        with its weights: the timed steps were the real ones."""
        for variant in self.variants:
            losses, reference = (np.array(d.get(variant, [])) for d in (self.timing.losses, self.expected))
            wrong = mismatches(losses, reference)
            if len(wrong) and wrong[0] == 0:
                raise Ended("failed", f"the first loss of your {variant} step ({losses[0] if losses.size else '?'}) "
                            f"differs from PyTorch's ({reference[0]:.6f}) on the same weights and batch: they "
                            f"compute different things {advice[variant]}")
            if len(wrong):
                k = int(wrong[0])
                raise Ended("failed", f"your {variant} step's losses agree with PyTorch's for {k} steps, then step "
                            f"{k + 1} gives {losses[k]:.6f} against {reference[k]:.6f} (same weights, same "
                            f"batches): its updates differ from SGD with momentum {advice[variant]}")
            self._check_weights(variant)

    def _check_weights(self, variant: str) -> None:
        expected, initial = flat(textbook_parameters(self.shadows[variant].net)), flat(self.initial)
        travel = np.linalg.norm(expected - initial)
        final = self.final.get(variant, [])
        if not final or flat(final).shape != expected.shape:
            raise Ended("failed", f"your {variant} model's parameters() did not give its {len(self.initial)} "
                                  "arrays in the textbook order and layouts")
        drift = np.linalg.norm(flat(final) - expected) / max(travel, 1e-12)
        if not drift <= DRIFT_TOLERANCE:
            raise Ended("failed", f"after {len(self.timing.losses[variant])} steps with PyTorch's losses, your "
                        f"{variant} model's parameters() differ from PyTorch's weights by {drift:.1%} of the "
                        f"distance the weights moved (allowed {DRIFT_TOLERANCE:.0%}): does it return the "
                        "current weights, in the textbook order and layouts?")

    def seconds_per_step(self) -> dict[str, float]:
        """The median CPU time per step of each side (seconds), with a note where the precise clock missed
        work: a learner's thread or process that ended between readings (then its coarse clock, which
        misses nothing, counts), or PyTorch work on other threads (then this process's CPU time)."""
        timing, medians = self.timing, {}
        for side in (*self.variants, TORCH):
            (precise, whole), blocks = timing.totals[side], len(timing.cpu[side])
            medians[side] = statistics.median(timing.cpu[side])
            # The coarse clock ticks (10 ms): a margin of a few ticks keeps honest code from tripping this.
            escaped = whole > 1.25 * precise + 4 * ProcessTreeClock.TICK if side != TORCH else \
                whole > 1.1 * precise
            if escaped:
                medians[side] = statistics.median(timing.coarse[side])
                if side != TORCH:
                    timing.cpu[side] = list(timing.coarse[side])  # the paired ratios use what counts
                timing.notes.append(
                    f"the {side} step ran {1e3 * whole / blocks:.3f} ms of CPU time per block against "
                    f"{1e3 * precise / blocks:.3f} ms on the threads timed precisely "
                    "(work on other threads or processes): the whole CPU time is used")
        return medians

    def ratios(self, numerator: str, denominator: str) -> list[float]:
        """Per-round ratios of the CPU time per step: numerator / denominator (TORCH: the numerator's own
        PyTorch shadow on the same images)."""
        top = self.timing.cpu.get(numerator, [])
        bottom = self.timing.paired.get(numerator, []) if denominator == TORCH else self.timing.cpu.get(denominator, [])
        return [a / b for a, b in zip(top, bottom) if b > 0]


def interval(values: list[float], confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """(low, median, high): a distribution-free confidence interval for the median (order statistics:
    the k-th smallest and largest of n, k the largest with P(Binomial(n, 1/2) < k) <= (1 - confidence) / 2)."""
    ordered, n = sorted(values), len(values)
    if not n:
        return -math.inf, math.nan, math.inf
    k, tail = 0, 0.0
    while k < n // 2 and tail + math.comb(n, k) / 2**n <= (1 - confidence) / 2:
        tail += math.comb(n, k) / 2**n
        k += 1
    median = statistics.median(ordered)
    return (ordered[k - 1], median, ordered[n - k]) if k else (-math.inf, median, math.inf)


def calls(criteria) -> list[dict]:
    """criteria [(name, per-round ratios, threshold, at_most)] -> one dict each: its median, interval and
    call: "pass", "fail" or "close" (the interval on the median straddles the threshold)."""
    found = []
    for name, values, threshold, at_most in criteria:
        low, median, high = interval(values)
        passes, fails = (high <= threshold, low > threshold) if at_most else (low >= threshold, high < threshold)
        found.append({"name": name, "threshold": threshold, "at_most": at_most, "median": median, "low": low,
                      "high": high, "rounds": len(values),
                      "call": "pass" if passes else "fail" if fails else "close"})
    return found


def undecided(criteria) -> bool:
    """More rounds could decide: nothing fails for sure and something is too close to call."""
    found = [c["call"] for c in calls(criteria)]
    return "fail" not in found and "close" in found


def failures(found: list[dict]) -> list[str]:
    return [f"{c['name']} is {c['median']:.2f}x (needed: {'<=' if c['at_most'] else '>='} {c['threshold']:g}x)"
            for c in found if c["call"] == "fail"]


def too_close(found: list[dict]) -> str | None:
    """The reason of a "not-run" when a criterion stayed too close to call, else None."""
    return next((f"too close to call: {c['name']} {c['median']:.2f}x against {c['threshold']:g}x (its "
                 f"{CONFIDENCE:.0%} interval {c['low']:.2f}x-{c['high']:.2f}x over {c['rounds']} rounds straddles "
                 "the threshold): run again, on a quieter machine if you can" for c in found if c["call"] == "close"),
                None)


def decide(found: list[dict], passed: str, failed: dict) -> dict:
    """The verdict on the calls: `failed` when a criterion fails for sure, "not-run" while one stays too
    close to call (never "failed": the same code gets the same verdict every run), else passed."""
    if failures(found):
        return failed
    if too_close(found):
        return {"status": "not-run", "too_close": True, "reason": too_close(found)}
    return {"status": "passed", "reason": passed}


def measure(workload: str, variants: tuple[str, ...], plan: Plan, target_dir: Path, criteria, *,
            advice: dict[str, str], time_limit: float) -> tuple[StepJudge, dict, list[dict]]:
    """(the judge, checked; its seconds_per_step; its calls on criteria(judge)): the learner's steps in a
    sandboxed worker against PyTorch here, more rounds while undecided, then the last variant profiled.
    Ended when they cannot count."""
    torch = import_torch("there is nothing to compare the speed with")
    try:
        judge = StepJudge(torch, workload, variants, plan, lambda j: undecided(criteria(j)))
    except mnist.DataError as error:
        raise Ended("not-run", f"the MNIST data cannot be used: {error}") from None
    inputs = {"workload": workload, "variants": list(variants), "model_seed": judge.model_seed, "images": judge.X,
              "labels": judge.y}
    with pinned_threads(THREADS, torch):
        try:
            result = task.run_task("grader.milestones.steps:step_task", inputs, target_dir, timeout=time_limit,
                                   on_message=judge.on_event, on_start=judge.on_start)
        except task.TaskFailed as error:
            raise Ended("failed", f"your training step stopped: {error}") from None
    if isinstance(result, dict) and result.get("status") in ("locked", "failed"):
        raise Ended(result["status"], str(result.get("reason", "")))  # only ever a worse result
    judge.check_work(advice)
    seconds = judge.seconds_per_step()  # first: where the precise clock missed work, the ratios use what counts
    return judge, seconds, calls(criteria(judge))


def measure_memory(judge: StepJudge, target_dir: Path, steps: int) -> dict[str, dict]:
    """{variant: {"peak_extra_mib", "base_mib", "faults_per_step", "method"} or {"error": sentence}}."""
    workload = judge.workload
    results = {}
    rows = judge.rows(steps + 1)  # drawn after the timed run: nothing left to gain from them
    for variant in judge.variants:
        inputs = {"workload": workload, "variant": variant, "model_seed": judge.model_seed, "rows": rows,
                  "images": judge.X, "labels": judge.y}
        try:
            found = task.run_task("grader.milestones.steps:memory_task", inputs, target_dir, timeout=300)
            results[variant] = found if isinstance(found, dict) and "peak_extra_mib" in found else \
                {"error": f"the {variant} memory process ended without a measurement"}
        except task.TaskFailed as error:
            results[variant] = {"error": f"the {variant} memory process failed: {error}"}
    with tempfile.TemporaryDirectory(prefix="kata-memory-") as scratch:
        np.savez(Path(scratch) / "params.npz", *judge.initial)
        try:
            results[TORCH] = run_fresh("grader.milestones.stopwatch",
                                       [workload, str(Path(scratch) / "params.npz"), str(steps)], timeout=300)
        except RuntimeError as error:
            results[TORCH] = {"error": f"the PyTorch memory process failed: {error}"}
    return results


def run_fresh(module: str, arguments: list[str], *, timeout: float | None = None) -> dict:
    """Run `python -m MODULE ARGUMENTS --out FILE` in a fresh process from the repository root, one BLAS
    thread, and return the JSON it wrote to FILE: a measurement that inherits no caches, threads or
    allocator state (make bench's too). No bytecode is written. RuntimeError quotes the end of its output."""
    with tempfile.TemporaryDirectory(prefix="kata-fresh-") as scratch:
        out = Path(scratch) / "result.json"
        completed = subprocess.run([sys.executable, "-m", module, *arguments, "--out", str(out)], cwd=ROOT,
                                   env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1", **ONE_THREAD),
                                   capture_output=True, text=True, timeout=timeout)
        result = json.loads(out.read_text()) if out.exists() else None
    if completed.returncode != 0 or result is None:
        raise RuntimeError("\n".join((completed.stdout + completed.stderr).strip().splitlines()[-5:]) or "no output")
    return result


def torch_memory(workload: str, params_file: str, steps: int) -> dict:
    """In a fresh process: PyTorch's peak memory over warm-up + `steps` steps (as steps.py measures)."""
    import torch

    from grader.milestones.steps import peak_after, reset_peak

    torch.set_num_threads(THREADS)
    with np.load(params_file) as stored:
        params = [stored[f"arr_{i}"] for i in range(len(stored.files))]
    X, y = training_pool(workload)
    rows = np.random.default_rng(0).integers(0, len(X), size=(steps + 1, BATCH_SIZE))
    base, method = reset_peak()
    return peak_after(TorchStep(torch, workload, params, X, y), [(r,) for r in rows], base, method)


def main(argv: list[str] | None = None) -> int:
    """`python -m grader.milestones.stopwatch WORKLOAD PARAMS_FILE STEPS --out FILE`: torch_memory."""
    workload, params_file, steps, _, out = sys.argv[1:] if argv is None else argv
    Path(out).write_text(json.dumps(torch_memory(workload, params_file, int(steps))))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The one skeleton of the training milestones (mnist, cnn, autograd_mnist): learner half and judge half.

Every training milestone is a `Spec` (its numbers and advice) plus two functions of its own module:
`sanity(session)` (checks before the long run, raising Stop with advice) and `train(session)` (the
training loop around the learner's code). Everything else is here, written once: data verification,
thread pinning, the progress bar, the per-step gradient norms and learning rates, the relative time
budget, the accuracy, the plots and the result dict.

A run has two halves that exchange only plain data (str, int, float, lists and dicts of them, NumPy
arrays of numbers):

  LEARNER HALF, `learn(name, target_dir, job, send)`: runs the learner's code (in the worker). It
      pins its BLAS threads to job["threads"], loads the training split itself, builds the model from
      the learner's modules, runs the sanity ladder, trains with a progress bar, and after every epoch
      sends an "epoch" event with its predictions for the test IMAGES the judge put in the job. It
      never sees the test labels. Returns the final dict (below).
  JUDGE HALF, `Judge(name, quick=...)`: holds the test labels and PyTorch (trusted process). It verifies
      the data, pins PyTorch's threads, times the learner FROM OUTSIDE (the time between each of its
      replies and the learner's next event), times a PyTorch run of the same model during the pause at
      every event, sets the budget as a multiple of that PyTorch time, computes the accuracy from the
      predictions itself, draws the plots and decides (`verdict`).

In one process, what `python -m grader milestone NAME` does (`run`):

    judge = Judge(name, quick=quick)
    result = judge.verdict(learn(name, target_dir, judge.job(), judge.on_event), out_dir)

From two processes (issue 8 item 6): the judge process makes `judge.job()` and sends it to the worker;
the worker calls `learn(name, target_dir, job, send)` where `send(kind, data)` ships one event to the
judge and returns its reply, the judge answering with `judge.on_event(kind, data)`; the worker's return
value goes to `judge.verdict(final, out_dir)`. While the worker trains, `judge.deadline()` is the number
of seconds within which its next event must arrive: past it, kill the worker and use
`judge.interrupted(out_dir)` as the result.

Events (worker -> judge) and replies (judge -> worker):
    "start"  {"settings": {"epochs", "batch_size", "lr", "momentum"}, "record": {sanity results}}
             -> {"budget_seconds": float, "spent_seconds": 0.0, "stop": None}
    "epoch"  {"epoch": int, "loss": float, "lr": float array (steps,), "grad_names": [str],
              "grad_shapes": [[int]], "grad_norms": float array (steps, parameters), "predictions": int array (test images,)
              or "weights": {name: float array} (autograd_mnist), "learner": {name: float}}
             -> {"budget_seconds": float, "spent_seconds": float, "stop": None or a sentence}
Final (worker -> judge): {"status": "trained"} or an early end {"status": "failed" | "locked",
    "reason": str}, both with "record": {plain values} and optionally "filters" and "filters_initial":
    float arrays (the first convolution's kernels after and before training, to draw).
"""

from __future__ import annotations

import _thread
import contextlib
import ctypes
import importlib
import math
import os
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grader.core.target import Modules, load_package

THREADS = 1        # BLAS threads for the learner and PyTorch threads for the reference, both sides alike
SEED = 20261125
MODULES = {"mnist": "grader.milestones.mnist", "cnn": "grader.milestones.cnn",
           "autograd_mnist": "grader.milestones.autograd_mnist"}
# After `steps`, stop a run whose projected time is this many budgets: it cannot make it.
HOPELESS = 3.0
# deadline() allows this fraction of the budget (at least 5 s) beyond it: the last epoch's predictions.
DEADLINE_SLACK = 0.1


@dataclass(frozen=True)
class Spec:
    """What differs between the training milestones. Budget = multiple x PyTorch's time for the same
    number of steps of the same model (architecture "mlp" or "cnn"), measured in the same run."""

    name: str
    title: str
    threshold: float
    quick_threshold: float
    multiple: float
    quick_multiple: float
    architecture: str
    quick_sizes: tuple[int, int]          # (training images, test images) in quick mode
    too_slow_advice: str
    low_accuracy_advice: str
    at_least: bool = False                # pass at accuracy >= threshold (else > threshold)
    validation: tuple[int, int] = (0, 0)  # training images held out for the learner's evaluate (full, quick)
    image_shape: tuple[int, ...] | None = None   # reshape the 784 pixels (cnn: (1, 28, 28))
    settings: dict = field(default_factory=dict)  # fixed settings (batch_size, lr, momentum)
    epochs: tuple = (None, None)          # (full, quick); None: the learner's settings say

    def accuracy_passes(self, accuracy: float, threshold: float) -> bool:
        return accuracy >= threshold if self.at_least else accuracy > threshold


def module_of(name: str):
    return importlib.import_module(MODULES[name])


def spec_of(name: str) -> Spec:
    return module_of(name).SPEC


# ---------------------------------------------------------------------------------------------------
# Threads: the same count for NumPy's BLAS and for PyTorch. One, because two threads per library on a
# machine busy with anything else can stall at every matrix product (a thread waiting at a barrier for
# a descheduled partner): we measured single steps 50-100x slower that way, for either library.


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


@contextlib.contextmanager
def pinned_threads(n: int, *, torch_too: bool):
    """NumPy's BLAS (and PyTorch, when torch_too) on n threads inside the block, restored after it."""
    previous = numpy_blas_threads()[0]
    set_numpy_blas_threads(n)
    torch, torch_previous = None, None
    if torch_too:
        try:
            import torch
        except ImportError:
            torch = None
        if torch is not None:
            torch_previous = torch.get_num_threads()
            torch.set_num_threads(n)
    try:
        yield
    finally:
        set_numpy_blas_threads(previous)
        if torch is not None:
            torch.set_num_threads(torch_previous)


# ---------------------------------------------------------------------------------------------------
# Shared by every milestone (speed too): the learner's modules, unfinished code, early ends


def learner_modules(target_dir) -> Modules:
    """The target's own modules, every one of them (no reference code mixed in)."""
    return Modules(load_package(target_dir, own=None))


def unfinished(error: BaseException) -> dict | None:
    """The result for code that is not written yet (a stub's NotImplementedError, a missing file)."""
    if isinstance(error, NotImplementedError):
        return {"status": "locked", "reason": f"your code is not finished yet: {error}"}
    if isinstance(error, ImportError) and str(getattr(error, "name", "") or "").startswith("kata_"):
        return {"status": "locked", "reason": f"a module is missing: {error}"}
    return None


class Stop(Exception):
    """Ends the run early with a milestone result (a failed sanity check, divergence, too slow)."""

    def __init__(self, result: dict):
        super().__init__(result["reason"])
        self.result = result


# What ended_early turns into a result; any other exception is a crash, reported by the milestone runner.
EARLY_END = (Stop, NotImplementedError, ImportError)


def ended_early(record: dict, error: BaseException) -> dict:
    """The result of a run ended by one of EARLY_END: what was recorded so far, plus the Stop's verdict
    or "locked" for unfinished code. Any other error (an ImportError of something that is not a
    learner's module, say) is re-raised, so that it is reported as the crash it is."""
    if isinstance(error, Stop):
        return {**record, **error.result}
    locked = unfinished(error)
    if locked is None:
        raise error
    return {**record, **locked}


DIVERGENCE_ADVICE = ("Usual causes: a learning rate far too large, log(0) or exp overflow in the loss (subtract "
                     "the row maximum, use log-softmax), or weights initialised far too large")


def diverged(where: str, value) -> dict:
    """The result for a loss that became NaN or infinite."""
    return {"status": "failed",
            "reason": f"the loss became {value} {where}: training diverged. {DIVERGENCE_ADVICE}"}


def loss_value(value) -> float:
    """The learner's loss as a float (it may be a 0-d array)."""
    return float(np.asarray(value, dtype=np.float64))


def plain(values):
    """JSON-friendly Python values (str, bool, int, float, lists and dicts of them), whatever the
    learner's code stored (NumPy scalars and 0-d arrays become floats, anything else None)."""
    if isinstance(values, dict):
        return {str(k): plain(v) for k, v in values.items()}
    if isinstance(values, (list, tuple)):
        return [plain(v) for v in values]
    if values is None or isinstance(values, (str, bool)) or type(values) is int:
        return values
    try:
        return float(values)
    except (TypeError, ValueError):
        return None


def float64_note(arrays, what: str) -> str | None:
    """One sentence when `arrays` (a model's weights, its logits) are float64, else None."""
    wide = [a for a in arrays if getattr(np.asarray(a), "dtype", None) == np.float64]
    if not wide:
        return None
    return (f"note: your model trains in float64: {what} came out float64 although float32 was asked for "
            "(does Linear pass its dtype on to the initialiser, or does something upcast on the way?). "
            "float64 moves twice the bytes through every product, about 1.7x slower here; this is not a "
            "failure.")


# ---------------------------------------------------------------------------------------------------
# Watching the learner's loop from the outside: the loss and the optimiser are wrapped, so every
# training step is seen without changing a line of the learner's training loop.


class WatchedLoss:
    """Wraps the learner's loss: forward is passed through, and each value is checked to be finite."""

    def __init__(self, loss_fn, on_value=None):
        object.__setattr__(self, "_loss_fn", loss_fn)
        object.__setattr__(self, "_on_value", on_value)
        object.__setattr__(self, "last", None)

    def forward(self, logits, labels):
        value = self._loss_fn.forward(logits, labels)
        object.__setattr__(self, "last", value)
        if self._on_value is not None:
            self._on_value(value)
        return value

    def __call__(self, logits, labels):
        return self.forward(logits, labels)

    def backward(self, *args, **kwargs):
        return self._loss_fn.backward(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._loss_fn, name)

    def __setattr__(self, name, value):
        setattr(self._loss_fn, name, value)


class WatchedOptimizer:
    """Wraps the learner's optimiser: step() is passed through, then on_step() is called."""

    def __init__(self, optimizer, on_step):
        object.__setattr__(self, "_optimizer", optimizer)
        object.__setattr__(self, "_on_step", on_step)

    def step(self, *args, **kwargs):
        result = self._optimizer.step(*args, **kwargs)
        self._on_step()
        return result

    def zero_grad(self, *args, **kwargs):
        return self._optimizer.zero_grad(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._optimizer, name)

    def __setattr__(self, name, value):
        setattr(self._optimizer, name, value)


class Progress:
    """A plain-text progress bar: redrawn in place with \\r on a terminal, one line per epoch otherwise."""

    WIDTH = 24

    def __init__(self, epochs: int, steps_per_epoch: int, stream=None):
        self.stream = stream or sys.stdout
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.epochs = epochs
        self.steps_per_epoch = max(1, steps_per_epoch)
        self.step_in_epoch = 0
        self.epoch = 1
        self.epoch_started = time.perf_counter()
        self.last_draw = 0.0
        self.losses: list[float] = []

    def step(self, loss: float | None) -> None:
        self.step_in_epoch += 1
        if loss is not None:
            self.losses.append(loss)
        now = time.perf_counter()
        if self.tty and (now - self.last_draw > 0.1 or self.step_in_epoch == self.steps_per_epoch):
            self.last_draw = now
            done = min(1.0, self.step_in_epoch / self.steps_per_epoch)
            bar = "#" * int(done * self.WIDTH) + "." * (self.WIDTH - int(done * self.WIDTH))
            recent = self.losses[-20:]
            shown = f" loss {sum(recent) / len(recent):.4f}" if recent else ""
            self.stream.write(f"\repoch {self.epoch}/{self.epochs} [{bar}] {self.step_in_epoch}/"
                              f"{self.steps_per_epoch}{shown} {now - self.epoch_started:5.1f}s ")
            self.stream.flush()

    def interrupt(self) -> None:
        """End a bar drawn in place, so that what is printed next starts on a line of its own."""
        if self.tty and self.step_in_epoch:
            self.stream.write("\n")
            self.stream.flush()

    def end_epoch(self, text: str) -> None:
        line = f"epoch {self.epoch}/{self.epochs}: {text} ({time.perf_counter() - self.epoch_started:.1f}s)"
        self.stream.write(("\r" + line + " " * 20 + "\n") if self.tty else line + "\n")
        self.stream.flush()
        self.epoch += 1
        self.step_in_epoch = 0
        self.losses = []
        self.epoch_started = time.perf_counter()


def predict(model, X: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """The class the model's logits choose for each row of X (eval mode, in chunks), as int64."""
    if hasattr(model, "eval"):
        model.eval()
    try:
        chunks = [np.argmax(np.asarray(model.forward(X[i:i + batch_size])), axis=1)
                  for i in range(0, len(X), batch_size)]
    finally:
        if hasattr(model, "train"):
            model.train()
    return np.concatenate(chunks).astype(np.int64) if chunks else np.zeros(0, dtype=np.int64)


def accuracy_of(model, X, y, batch_size: int = 2000) -> float:
    """The grader's own accuracy: argmax of the model's logits, in eval mode, in chunks."""
    return float(np.mean(predict(model, X, batch_size) == y)) if len(X) else 0.0


# ---------------------------------------------------------------------------------------------------
# The data


def load_mnist(quick_sizes: tuple[int, int] | None = None):
    """(X_train, y_train, X_test, y_test) from the vendored files; with quick_sizes = (n_train, n_test)
    only the first images of each split. Raises grader.data.mnist.DataError, which callers report as not-run."""
    from grader.data import mnist as data

    X_train, y_train = data.load("train")
    X_test, y_test = data.load("test")
    if quick_sizes is not None:
        X_train, y_train = X_train[:quick_sizes[0]], y_train[:quick_sizes[0]]
        X_test, y_test = X_test[:quick_sizes[1]], y_test[:quick_sizes[1]]
    return X_train, y_train, X_test, y_test


def shaped(spec: Spec, X: np.ndarray) -> np.ndarray:
    """Pixel rows as the milestone's model takes them (float32, contiguous; images for the cnn)."""
    if spec.image_shape is not None:
        X = X.reshape(-1, *spec.image_shape)
    return np.ascontiguousarray(X, dtype=np.float32)


def training_split(spec: Spec, quick: bool):
    """The learner's data: (X_train, y_train, X_val, y_val). The validation images are the last of the
    training split, held out for the learner's own evaluate (the test set is the judge's)."""
    from grader.data import mnist as data

    X, y = data.load("train")
    if quick:
        X, y = X[:spec.quick_sizes[0]], y[:spec.quick_sizes[0]]
    held_out = spec.validation[1 if quick else 0]
    X = shaped(spec, X)
    if not held_out:
        return X, y, X[:0], y[:0]
    return X[:-held_out], y[:-held_out], X[-held_out:], y[-held_out:]


# ---------------------------------------------------------------------------------------------------
# The learner half


class Session:
    """The learner half's view of one run: the learner's modules, the data, the channel to the judge.

    A milestone's train(session) calls `start` once, `step` after every optimiser step and `end_epoch`
    after every epoch; its sanity(session) runs before, untimed.
    """

    def __init__(self, spec: Spec, m, job: dict, send):
        self.spec, self.m, self.job, self.send = spec, m, job, send
        self.quick = bool(job["quick"])
        self.seed = int(job["seed"])
        self.X_train, self.y_train, self.X_val, self.y_val = training_split(spec, self.quick)
        self.X_test = shaped(spec, np.asarray(job["test_images"]))
        self.record: dict = {}
        self.progress: Progress | None = None
        self.budget, self.spent_before = math.inf, 0.0
        self.segment_started = time.perf_counter()
        self.steps = self.total_steps = self.steps_per_epoch = 0
        self.epochs_done = 0
        self.params: list = []
        self._norms: list[list[float]] = []
        self._lrs: list[float] = []
        self._losses: list[float] = []

    def start(self, settings: dict, params, steps_per_epoch: int) -> None:
        """Announce the training run (epochs, batch size, learning rate, momentum) and start the clock.
        params: [(name, object with .grad)] whose gradient norms are recorded after every step."""
        self.params = list(params)
        self.steps_per_epoch = int(steps_per_epoch)
        self.total_steps = self.steps_per_epoch * int(settings["epochs"])
        self.progress = Progress(int(settings["epochs"]), self.steps_per_epoch)
        reply = self.send("start", {"settings": plain(settings), "record": plain(self.record),
                                    "steps_per_epoch": self.steps_per_epoch})
        self._resume(reply)

    def _resume(self, reply: dict) -> None:
        if reply.get("stop"):
            self.progress.interrupt()
            raise Stop({"status": "failed", "too_slow": True, "reason": str(reply["stop"])})
        self.budget = float(reply.get("budget_seconds", math.inf))
        self.spent_before = float(reply.get("spent_seconds", 0.0))
        self.segment_started = self.progress.epoch_started = time.perf_counter()

    def check_loss(self, loss) -> None:
        """Stop at a NaN or infinite loss, naming the epoch and the step (WatchedLoss's on_value)."""
        value = loss_value(loss)
        if not np.isfinite(value):
            if self.progress is not None:
                self.progress.interrupt()
            raise Stop(diverged(f"during epoch {self.epochs_done + 1} (after {self.steps} steps)", value))

    def step(self, loss, lr) -> None:
        """After each optimiser step: check the loss, record the gradient norms and the learning rate,
        draw the progress bar, and stop a run that cannot finish within its budget."""
        value = loss_value(loss) if loss is not None else None
        if value is not None:
            self.check_loss(value)
        self.steps += 1
        self._norms.append([gradient_norm(p) for _, p in self.params])
        self._lrs.append(float(lr) if isinstance(lr, (int, float, np.floating)) else math.nan)
        if value is not None:
            self._losses.append(value)
        self.progress.step(value)
        self.check_budget()

    def check_budget(self) -> None:
        elapsed = self.spent_before + time.perf_counter() - self.segment_started
        projected = elapsed / self.steps * self.total_steps
        if elapsed > self.budget or (self.steps >= 20 and projected > HOPELESS * self.budget):
            self.progress.interrupt()
            raise Stop({"status": "failed", "too_slow": True, "train_seconds": round(elapsed, 2), "reason": (
                f"training is too slow: {elapsed:.1f} s for {self.steps} of {self.total_steps} steps, about "
                f"{projected:.0f} s in all, over the budget of {self.budget:.0f} s "
                f"({self.job['multiple']:g}x PyTorch's time for the same steps, measured in this run). "
                f"{self.spec.too_slow_advice}")})

    def end_epoch(self, *, predictions=None, weights=None, learner: dict | None = None, text: str = "") -> None:
        """Send the epoch's event (the judge's clock stops on arrival) and wait for the reply."""
        self.epochs_done += 1
        loss = float(np.mean(self._losses)) if self._losses else math.nan
        event = {"epoch": self.epochs_done, "loss": loss,
                 "lr": np.asarray(self._lrs, dtype=np.float64),
                 "grad_names": [name for name, _ in self.params],
                 "grad_shapes": [list(np.shape(getattr(p, "data", None))) for _, p in self.params],
                 "grad_norms": np.asarray(self._norms, dtype=np.float64).reshape(len(self._norms), len(self.params)),
                 "learner": plain(learner or {})}
        if predictions is not None:
            event["predictions"] = np.asarray(predictions, dtype=np.int64)
        if weights is not None:
            event["weights"] = {name: np.asarray(w, dtype=np.float32) for name, w in weights.items()}
        self._norms, self._lrs, self._losses = [], [], []
        self.progress.end_epoch(f"loss {loss:.4f}" + (f", {text}" if text else ""))
        self._resume(self.send("epoch", event))


def gradient_norm(p) -> float:
    """||p.grad|| (NaN when there is none), computed here from the learner's array."""
    grad = getattr(p, "grad", None)
    if grad is None:
        return math.nan
    grad = np.asarray(grad)
    return float(np.sqrt(np.vdot(grad.ravel(), grad.ravel()).real)) if grad.size else 0.0


def learn(name: str, target_dir, job: dict, send) -> dict:
    """The learner half (see the module docstring). Returns the final dict for the judge's verdict."""
    spec, milestone = spec_of(name), module_of(name)
    session = None
    with pinned_threads(int(job["threads"]), torch_too=False):
        try:
            session = Session(spec, learner_modules(target_dir), job, send)
            milestone.sanity(session)
            extra = milestone.train(session) or {}
            return {"status": "trained", "record": plain(session.record), **extra}
        except FloatingPointError as error:  # e.g. training.TrainingDiverged, or np.seterr(all="raise")
            if session is not None and session.progress is not None:
                session.progress.interrupt()
            return {"status": "failed", "record": plain(session.record if session else {}),
                    "reason": f"{type(error).__name__}: {error} {DIVERGENCE_ADVICE}"}
        except EARLY_END as error:
            result = ended_early({}, error)
            verdict = {key: result[key] for key in ("status", "reason", "too_slow") if key in result}
            found = {key: value for key, value in result.items() if key not in verdict}
            return {**verdict, "record": plain({**(session.record if session is not None else {}), **found})}


def learn_task(modules, inputs: dict, send) -> dict:
    """The learner half as a task of a sandboxed worker (grader/core/task.py): inputs {"name", "job"}."""
    return learn(inputs["name"], Path(inputs["target_dir"]), inputs["job"], send)


# ---------------------------------------------------------------------------------------------------
# In two processes (how `make grade` runs it)


def run_judged(name: str, target_dir: Path, out_dir: Path, *, quick: bool = False) -> dict:
    """The learner half trains in a sandboxed worker; this process is the judge: it holds the test labels
    and PyTorch, answers every event, times the learner from outside and kills the worker when the next
    event misses its deadline."""
    from grader.core import task
    from grader.milestones.judge import Judge, Unavailable

    try:
        judge = Judge(name, quick=quick)
    except Unavailable as error:
        return {"status": "not-run", "reason": str(error)}
    limit = float(getattr(module_of(name), "TIME_LIMIT", 3600))

    def deadline() -> float:
        remaining = judge.deadline()
        return limit if remaining is None else max(remaining, 0.0)

    with pinned_threads(THREADS, torch_too=True):
        try:
            final, _ = task.run_task("grader.milestones.skeleton:learn_task", {"name": name, "job": judge.job()},
                                     target_dir, timeout=limit, deadline=deadline,
                                     on_message=lambda seconds, kind, data: judge.on_event(kind, data))
        except task.TaskFailed as error:
            if judge.deadline() is not None and judge.deadline() <= 0:
                return judge.interrupted(out_dir)
            return {"status": "failed", "reason": f"the training stopped: {error}"}
    if not isinstance(final, dict):
        return {"status": "failed", "reason": "the learner's side returned no result"}
    return judge.verdict(final, out_dir)


# ---------------------------------------------------------------------------------------------------
# In one process


def run(name: str, target_dir: Path, out_dir: Path, *, quick: bool = False) -> dict:
    """The whole milestone in this process: the judge half calls the learner half directly, and a
    watchdog interrupts training that misses the judge's deadline (a step that never ends)."""
    from grader.milestones.judge import Judge, Unavailable

    try:
        judge = Judge(name, quick=quick)
    except Unavailable as error:
        return {"status": "not-run", "reason": str(error)}
    with pinned_threads(THREADS, torch_too=True), Watchdog(judge) as watchdog:
        try:
            final = learn(name, target_dir, judge.job(), judge.on_event)
        except KeyboardInterrupt:
            if not watchdog.fired:
                raise
            return judge.interrupted(out_dir)
    return judge.verdict(final, out_dir)


class Watchdog:
    """A daemon thread that interrupts the main thread (KeyboardInterrupt at its next Python
    instruction) once the judge's deadline for the learner's next event has passed."""

    def __init__(self, judge, period: float = 1.0):
        self.judge, self.period = judge, period
        self.fired = False
        self._done = threading.Event()

    def __enter__(self):
        threading.Thread(target=self._watch, name="milestone-watchdog", daemon=True).start()
        return self

    def _watch(self) -> None:
        while not self._done.wait(self.period):
            deadline = self.judge.deadline()
            if deadline is not None and deadline <= 0:
                self.fired = True
                _thread.interrupt_main()
                return

    def __exit__(self, *exc_info):
        self._done.set()
        return False


def summary(values) -> dict[str, float]:
    """{"median", "min", "max"} of finite values (NaN when there are none)."""
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return {"median": math.nan, "min": math.nan, "max": math.nan}
    return {"median": statistics.median(finite), "min": min(finite), "max": max(finite)}


__all__ = ["Spec", "Session", "Stop", "EARLY_END", "learn", "run", "learner_modules", "unfinished",
           "ended_early", "diverged", "loss_value", "plain", "predict", "accuracy_of", "WatchedLoss",
           "WatchedOptimizer", "Progress", "numpy_blas_threads", "set_numpy_blas_threads"]

"""The learner half of the training milestones (mnist, cnn, autograd_mnist), and what both halves share.

Every training milestone is a module with a `Spec` (its numbers and advice), `sanity(session)` (checks
before the long run, raising Stop with advice) and `train(session)` (the loop around the learner's code).
The learner half, `learn`, runs in the sandboxed worker: it pins its BLAS threads, loads the training
split, runs the sanity ladder and trains with a progress bar. The judge half (judge.py) replays the
training, computes the test accuracy and decides. The halves exchange only plain data (str, numbers,
lists and dicts of them, NumPy arrays):

    "start"       {"settings": {"epochs", "batch_size", "lr", "momentum", ...}, "record": {sanity results},
                   "steps_per_epoch": int, "shapes": [[int]] (the model's parameters)}
                  -> {"initial": [float32 arrays]: the judge's initial weights, copied into the model,
                      "budget_seconds", "spent_seconds", "stop": None or a sentence, "enough": bool}
    "checkpoint"  every job["every"] steps and at every epoch's end:
                  {"step": int (steps so far), "weights": [arrays] after it, "previous": [arrays] after the
                   step before it, "batches": [int array of training-image indices per step],
                   "lrs", "losses": float arrays (steps,), "grad_norms": (steps, parameters),
                   "grad_names": [str], "grad_shapes": [[int]], "epoch": {"learner": {...}} at an epoch's end}
                  -> the same reply ("enough": the judge's test accuracy cleared the bar, stop here).
Final (worker -> judge): {"status": "trained"} or an early end {"status": "failed" | "locked", "reason"},
both with "record": {plain values} and optionally "filters" / "filters_initial" (to draw).
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import math
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grader.core.target import Modules, load_package

# BLAS threads for the learner and PyTorch's for the reference. One, because two threads per library on a
# busy machine can stall at every matrix product (a thread waiting at a barrier for a descheduled partner):
# we measured single steps 50-100x slower that way, for either library.
THREADS = 1
SEED = 20261125    # the learner half's own seed (sanity checks, shuffling); the judge's initial weights are secret
HOPELESS = 3.0     # after 20 steps, stop a run whose projected time is this many budgets: it cannot make it
LN10 = math.log(10.0)  # the cross-entropy of a uniform guess among 10 classes: a fresh model's loss
DEADLINE_SLACK = 0.1  # Judge.deadline() allows this fraction of the budget (+5 s) beyond it: the last transfer


@dataclass(frozen=True)
class Spec:
    """What differs between the training milestones. Budget = multiple x PyTorch's time for the same
    number of steps of the same model (architecture "mlp" or "cnn"), measured in the same run."""

    name: str
    title: str
    threshold: float
    multiple: float
    quick_multiple: float
    architecture: str
    quick_sizes: tuple[int, int]          # (training images, test images) in quick mode
    too_slow_advice: str
    low_accuracy_advice: str
    at_least: bool = False                # pass at accuracy >= threshold (else > threshold)
    quick_threshold: float = 0.70         # proves the code paths: the reference got 80.0-85.1% on mnist (8 seeds)
    validation: tuple[int, int] = (0, 0)  # training images held out for the learner's evaluate (full, quick)
    image_shape: tuple[int, ...] | None = None   # reshape the 784 pixels (cnn: (1, 28, 28))
    settings: dict = field(default_factory=dict)  # fixed settings (batch_size, lr, momentum)
    epochs: tuple = (None, None)          # (full, quick); None: the learner's settings say
    stop_at_threshold: bool = False       # end training at the first checkpoint whose test accuracy passes

    def accuracy_passes(self, accuracy: float, threshold: float) -> bool:
        return accuracy >= threshold if self.at_least else accuracy > threshold


def _openblas_function(action: str):
    """OpenBLAS's get/set_num_threads function from the library NumPy loaded, or None (not OpenBLAS,
    or no /proc/self/maps to find it, as on macOS)."""
    with contextlib.suppress(OSError):
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line}
        names = [f"{prefix}_{action}_num_threads{suffix}" for prefix in ("scipy_openblas", "openblas")
                 for suffix in ("64_", "")]
        for library in map(ctypes.CDLL, sorted(paths)):
            function = next((getattr(library, name) for name in names if hasattr(library, name)), None)
            if function is not None:
                return function
    return None


@contextlib.contextmanager
def pinned_threads(n: int, torch=None):
    """NumPy's BLAS (where OpenBLAS can be told) and the given torch module's on n threads inside the block,
    restored after it."""
    get, set_threads = _openblas_function("get"), _openblas_function("set")
    previous = int(get()) if get is not None else n  # (no get: no set either, nothing to restore)
    torch_previous = torch.get_num_threads() if torch is not None else None

    def pin(blas: int, torch_threads) -> None:
        if set_threads is not None:
            set_threads(ctypes.c_int(blas))
        if torch is not None:
            torch.set_num_threads(torch_threads)

    pin(n, n)
    try:
        yield
    finally:
        pin(previous, torch_previous)


def learner_modules(target_dir) -> Modules:
    """The target's own modules, every one of them (no reference code mixed in)."""
    return Modules(load_package(target_dir, own=None))


class Stop(Exception):
    """Ends the run early with a milestone result (a failed sanity check, divergence, too slow)."""

    def __init__(self, result: dict):
        super().__init__(result["reason"])
        self.result = result


EARLY_END = (Stop, NotImplementedError, ImportError)


def ended_early(error: BaseException) -> dict:
    """The result of a run ended by one of EARLY_END: the Stop's verdict, or "locked" for code not written
    yet (a stub, a missing learner's module). Anything else (another ImportError) is re-raised: a crash."""
    if isinstance(error, Stop):
        return dict(error.result)
    if isinstance(error, NotImplementedError):
        return {"status": "locked", "reason": f"your code is not finished yet: {error}"}
    if isinstance(error, ImportError) and str(getattr(error, "name", "") or "").startswith("kata_"):
        return {"status": "locked", "reason": f"a module is missing: {error}"}
    raise error


DIVERGENCE_ADVICE = ("Usual causes: a learning rate far too large, log(0) or exp overflow in the loss (subtract "
                     "the row maximum, use log-softmax), or weights initialised far too large")


def diverged(where: str, value) -> dict:
    return {"status": "failed",
            "reason": f"the loss became {value} {where}: training diverged. {DIVERGENCE_ADVICE}"}


def loss_value(value) -> float:
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


def float64_note(what: str) -> str:
    return (f"note: your model trains in float64: {what} came out float64 although float32 was asked for "
            "(does Linear pass its dtype on to the initialiser, or does something upcast on the way?). "
            "float64 moves twice the bytes through every product, about 1.7x slower here; this is not a "
            "failure.")


class Watched:
    """The learner's object, watched from outside its training loop: each call of its method `method`
    (forward of a loss, step of an optimiser) is kept as .last and handed to after(result); calling the
    object calls that method (loss(logits, labels)); every other attribute is the object's own."""

    def __init__(self, inner, method: str, after=None):
        for name, value in (("_inner", inner), ("_method", method), ("_after", after), ("last", None)):
            object.__setattr__(self, name, value)

    def __call__(self, *args, **kwargs):
        result = getattr(self._inner, self._method)(*args, **kwargs)
        object.__setattr__(self, "last", result)
        if self._after is not None:
            self._after(result)
        return result

    def __getattr__(self, name):
        return self.__call__ if name == self._method else getattr(self._inner, name)

    def __setattr__(self, name, value):
        setattr(self._inner, name, value)


class Progress:
    """A plain-text progress bar: redrawn in place with \\r on a terminal, one line per epoch otherwise."""

    WIDTH = 24

    def __init__(self, epochs: int, steps_per_epoch: int, stream=None):
        self.stream = stream or sys.stdout
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.epochs, self.steps_per_epoch = epochs, max(1, steps_per_epoch)
        self.epoch, self.last_draw = 1, 0.0
        self._new_epoch()

    def _new_epoch(self) -> None:
        self.step_in_epoch, self.losses, self.epoch_started = 0, [], time.perf_counter()

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
        if self.tty and self.step_in_epoch:
            self.stream.write("\n")
            self.stream.flush()

    def end_epoch(self, text: str) -> None:
        line = f"epoch {self.epoch}/{self.epochs}: {text} ({time.perf_counter() - self.epoch_started:.1f}s)"
        self.stream.write(("\r" + line + " " * 20 + "\n") if self.tty else line + "\n")
        self.stream.flush()
        self.epoch += 1
        self._new_epoch()


def accuracy_of(model, X, y, batch_size: int = 2000) -> float:
    """The accuracy of argmax of the model's logits (eval mode, in chunks): the sanity checks'."""
    if not len(X):
        return 0.0
    if hasattr(model, "eval"):
        model.eval()
    try:
        chosen = np.concatenate([np.argmax(np.asarray(model.forward(X[i:i + batch_size])), axis=1)
                                 for i in range(0, len(X), batch_size)])
    finally:
        if hasattr(model, "train"):
            model.train()
    return float(np.mean(chosen == y))


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
    X, split = shaped(spec, X), len(X) - spec.validation[1 if quick else 0]
    return X[:split], y[:split], X[split:], y[split:]


def initial_weights(shapes, rng) -> list[np.ndarray]:
    """He-initialised float32 weights for each shape (a bias, 1-D, starts at zero): the judge's draw, and
    autograd_mnist's for its sanity check."""
    weights = []
    for shape in shapes:
        fan_in = shape[0] if len(shape) == 2 else int(np.prod(shape[1:]))
        weights.append(np.zeros(shape, np.float32) if len(shape) < 2 else
                       rng.normal(0.0, math.sqrt(2.0 / max(fan_in, 1)), size=shape).astype(np.float32))
    return weights


class Enough(Exception):
    """The judge's test accuracy on the weights of the last checkpoint cleared the bar: training ends."""


class RowIndex:
    """Which rows of the training images a batch holds: an exact integer fingerprint of each image's
    bytes (wrapping int64 arithmetic), looked up by binary search. -1 for an image not in the split."""

    def __init__(self, X: np.ndarray):
        self.weights = np.random.default_rng(0).integers(1, 2**62, size=int(np.prod(X.shape[1:]) or 1))
        keys = self.keys(X)
        self.order = np.argsort(keys, kind="stable")
        self.sorted = keys[self.order]

    def keys(self, X) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float32)
        with np.errstate(over="ignore"):
            return X.reshape(len(X), -1).view(np.int32).astype(np.int64) @ self.weights

    def of(self, X) -> np.ndarray:
        if X is None or np.ndim(X) < 2 or np.shape(X)[0] == 0 or np.size(X) // len(X) != self.weights.size:
            return np.full(1, -1, dtype=np.int64)
        keys = self.keys(X)
        where = np.minimum(np.searchsorted(self.sorted, keys), len(self.sorted) - 1)
        return np.where(self.sorted[where] == keys, self.order[where], -1).astype(np.int64)


class Session:
    """The learner half's view of one run: the learner's modules, the data, the channel to the judge.
    train(session) calls `watch(model)` and `start` once, `step` after every optimiser step (with the
    batch's images when no watched forward saw them) and `end_epoch` after every epoch; sanity(session)
    runs before, untimed. Every job["every"] steps and at each epoch's end, a checkpoint goes to the judge."""

    def __init__(self, spec: Spec, m, job: dict, send):
        self.spec, self.m, self.job, self.send = spec, m, job, send
        self.quick, self.every = bool(job["quick"]), int(job["every"])
        self.X_train, self.y_train, self.X_val, self.y_val = training_split(spec, self.quick)
        self.rows = RowIndex(self.X_train)
        self.record: dict = {}
        self.progress: Progress | None = None
        self.budget, self.spent_before = math.inf, 0.0
        self.segment_started = time.perf_counter()
        self.steps = self.total_steps = self.steps_per_epoch = self.epochs_done = 0
        self.params: list = []
        self.images = None       # the last images a watched forward saw: the step's batch
        self.previous = None     # the weights after the step before a checkpoint
        self._clear()

    def _clear(self) -> None:
        self._batches, self._lrs, self._losses, self._norms = [], [], [], []

    def watch(self, model) -> None:
        """Note the images of every call of model.forward (the training step's batch: its indices go to
        the judge, which replays the step on them)."""
        forward = model.forward

        def seen(X, *args, **kwargs):
            self.images = X
            return forward(X, *args, **kwargs)

        model.forward = seen

    def weights(self) -> list:
        return [np.array(getattr(p, "data", None), dtype=np.float32) for _, p in self.params]

    def _shapes(self) -> list:
        return [list(np.shape(getattr(p, "data", None))) for _, p in self.params]

    def start(self, settings: dict, params) -> None:
        """Announce the training run, set the judge's initial weights into the model, start the clock.
        settings: at least "epochs" and "batch_size"; params: [(name, object with .data and .grad)], the
        model's parameters in its order."""
        self.params = list(params)
        self.steps_per_epoch = math.ceil(len(self.X_train) / int(settings["batch_size"]))
        self.total_steps = self.steps_per_epoch * int(settings["epochs"])
        self.progress = Progress(int(settings["epochs"]), self.steps_per_epoch)
        reply = self.send("start", {"settings": plain(settings), "record": plain(self.record),
                                    "steps_per_epoch": self.steps_per_epoch, "shapes": self._shapes()})
        for (_, p), initial in zip(self.params, reply.get("initial") or []):
            p.data[...] = initial
        self._resume(reply)

    def _resume(self, reply: dict) -> None:
        if reply.get("stop"):
            raise Stop({"status": "failed", "reason": str(reply["stop"])})
        if reply.get("enough"):
            raise Enough()
        self.budget = float(reply.get("budget_seconds", math.inf))
        self.spent_before = float(reply.get("spent_seconds", 0.0))
        self.segment_started = self.progress.epoch_started = time.perf_counter()

    def check_loss(self, loss) -> None:
        """Stop at a NaN or infinite loss, naming the epoch and the step (a Watched loss's `after`)."""
        value = loss_value(loss)
        if not np.isfinite(value):
            raise Stop(diverged(f"during epoch {self.epochs_done + 1} (after {self.steps} steps)", value))

    def step(self, loss, lr, images=None) -> None:
        """After each optimiser step: check the loss, record the batch, the gradient norms and the learning
        rate, send a checkpoint when one is due, and stop a run that cannot finish within its budget."""
        value = loss_value(loss) if loss is not None else math.nan
        self.check_loss(value)
        self.steps += 1
        self._batches.append(self.rows.of(self.images if images is None else images))
        self._norms.append([gradient_norm(p) for _, p in self.params])
        self._lrs.append(float(lr) if isinstance(lr, (int, float, np.floating)) else math.nan)
        self._losses.append(value)
        self.progress.step(value)
        in_epoch = self.progress.step_in_epoch
        if in_epoch % self.every == 0 and in_epoch < self.steps_per_epoch:
            self.checkpoint()
        if (in_epoch + 1) % self.every == 0 or in_epoch + 1 == self.steps_per_epoch:
            self.previous = self.weights()  # the momentum at the next checkpoint: (previous - weights) / lr
        self.check_budget()

    def check_budget(self) -> None:
        elapsed = self.spent_before + time.perf_counter() - self.segment_started
        projected = elapsed / max(self.steps, 1) * self.total_steps
        if elapsed > self.budget or (self.steps >= 20 and projected > HOPELESS * self.budget):
            raise Stop({"status": "failed", "too_slow": True, "train_seconds": round(elapsed, 2), "reason": (
                f"training is too slow: {elapsed:.1f} s for {self.steps} of {self.total_steps} steps, about "
                f"{projected:.0f} s in all, over the budget of {self.budget:.0f} s "
                f"({self.job['multiple']:g}x PyTorch's time for the same steps, measured in this run). "
                f"{self.spec.too_slow_advice}")})

    def checkpoint(self, epoch: dict | None = None) -> None:
        """Send the weights and the steps since the last checkpoint (the judge's clock stops on arrival)."""
        event = {"step": self.steps, "weights": self.weights(), "previous": self.previous,
                 "batches": list(self._batches), "lrs": np.asarray(self._lrs, dtype=np.float64),
                 "losses": np.asarray(self._losses, dtype=np.float64),
                 "grad_names": [name for name, _ in self.params], "grad_shapes": self._shapes(),
                 "grad_norms": np.asarray(self._norms, dtype=np.float64).reshape(len(self._norms), len(self.params))}
        if epoch is not None:
            event["epoch"] = epoch
        self._clear()
        self.previous = None
        self._resume(self.send("checkpoint", event))

    def end_epoch(self, *, learner: dict | None = None, text: str = "") -> None:
        """The epoch's last checkpoint, with what the learner's own code reported about it."""
        self.epochs_done += 1
        loss = float(np.mean(self.progress.losses)) if self.progress.losses else math.nan
        self.progress.end_epoch(f"loss {loss:.4f}" + (f", {text}" if text else ""))
        self.checkpoint({"learner": plain(learner or {})})


def gradient_norm(p) -> float:
    """||p.grad|| (NaN when there is none), computed here from the learner's array."""
    grad = getattr(p, "grad", None)
    return math.nan if grad is None else float(np.linalg.norm(np.asarray(grad).ravel()))


def learn(milestone, target_dir, job: dict, send) -> dict:
    """The learner half of `milestone` (its module). Returns the final dict for the judge's verdict."""
    session = None
    with pinned_threads(int(job["threads"])):
        try:
            session = Session(milestone.SPEC, learner_modules(target_dir), job, send)
            milestone.sanity(session)
            try:
                extra = milestone.train(session) or {}
            except Enough:
                extra = {}
            return {"status": "trained", "record": plain(session.record), **extra}
        except FloatingPointError as error:  # e.g. training.TrainingDiverged, or np.seterr(all="raise")
            return {"status": "failed", "record": plain(session.record if session else {}),
                    "reason": f"{type(error).__name__}: {error} {DIVERGENCE_ADVICE}"}
        except EARLY_END as error:
            result = ended_early(error)
            verdict = {key: result[key] for key in ("status", "reason", "too_slow") if key in result}
            found = {key: value for key, value in result.items() if key not in verdict}
            return {**verdict, "record": plain({**(session.record if session is not None else {}), **found})}
        finally:  # a bar drawn in place ends its line before whatever is printed next
            if session is not None and session.progress is not None:
                session.progress.interrupt()


def learn_task(modules, inputs: dict, send) -> dict:
    """learn() in the sandboxed worker (grader/core/task.py), for the milestone module the job names."""
    job = inputs["job"]
    return learn(importlib.import_module(job["module"]), Path(inputs["target_dir"]), job, send)


def summary(values) -> dict[str, float]:
    """{"median", "min", "max"} of finite values (NaN when there are none)."""
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return {"median": math.nan, "min": math.nan, "max": math.nan}
    return {"median": statistics.median(finite), "min": min(finite), "max": max(finite)}

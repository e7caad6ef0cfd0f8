"""Milestone `mnist`: your own code trains an MLP to more than 90% test accuracy on MNIST, in time.

Everything comes from your modules: the model from `training.build_mnist_model(rng)` (784-256-128-10
with ReLU), the loss `losses.SoftmaxCrossEntropy`, the optimiser `optim.SGD` with the learning rate and
momentum of `training.MNIST_SETTINGS` (and its step decay of the learning rate, if the settings have
one, through `training.step_decay`), and your training loop `training.fit`. The seed is fixed
(SEED below), the data are the full 60,000 training images and the 10,000 test images (checksums
verified and recorded).

Passes when the test accuracy after the last epoch is above 90% AND training (the call to `fit`) takes
at most BUDGET_SECONDS = 120 s. Measured with the reference (10 epochs of MNIST_SETTINGS, each
followed by an evaluation on the training and test sets, float32, one BLAS thread) on a 2-core
machine: 14-18 s while other jobs were running on it (1.4-2.0 s per epoch), 98.35% test accuracy.
120 s is 7x that, so any
vectorised implementation meets it, even in float64 on an older laptop. A Python loop over the
examples of a batch does not (20-50x slower per step): training is stopped as soon as the time
already spent, or the projected total (more than 3x the budget), shows the budget will be missed.

The test accuracy is computed by the grader (argmax of your model's logits against the labels), not
taken from your `evaluate`, so a mistake there cannot pass the milestone; your numbers are shown too.

Before the long run, a sanity ladder fails fast with advice:
  1. the initial loss on 1,000 images is close to ln(10) = 2.303 (10 classes, nothing learnt yet);
  2. 50 examples can be fitted to 100% training accuracy (the network can memorise them);
  3. the loss goes down over a few hundred mini-batch steps.
During training: a progress bar (one line per epoch when the output is not a terminal). Afterwards: a
PNG of the training curve (loss, train/test accuracy, per-parameter gradient norms per epoch) in the
output directory, and a compact text summary of it.

NumPy's BLAS runs with ONE thread here (BLAS_THREADS): a multi-threaded BLAS on a machine busy with
other work can stall at every matrix product (a thread waiting for a descheduled partner); we saw the
reference slow down 50x that way with two threads, against at most ~1.5x lost on an idle machine.

quick=True (the repository's own tests): 5,000 training and 1,000 test images, 1 epoch, a shorter
ladder, and a pass threshold of QUICK_THRESHOLD; the result says "quick".
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

from grader.milestones.speed import numpy_blas_threads, set_numpy_blas_threads
from grader.core.target import Modules, load_package

TIME_LIMIT = 600           # the grader kills the milestone's process after this (seconds)
BLAS_THREADS = 1
SEED = 20261125
THRESHOLD = 0.90           # test accuracy needed
BUDGET_SECONDS = 120.0     # training time allowed (the call to fit)
QUICK_THRESHOLD = 0.80
QUICK_BUDGET_SECONDS = 60.0
QUICK_SIZES = (5000, 1000)  # training and test images in quick mode
LN10 = math.log(10.0)
INITIAL_LOSS_RANGE = (0.7 * LN10, 1.6 * LN10)
OVERFIT_EXAMPLES = 50
OVERFIT_MAX_STEPS = 300
DECREASE_STEPS = 300       # quick: 60
TOO_SLOW_ADVICE = ("Look for a Python loop over the examples of a batch (use matrix products over the whole "
                   "batch) or float64 copies (`make bench` and the speed milestone show where time goes)")


# ---------------------------------------------------------------------------------------------------
# Shared with the other milestones (speed, cnn, autograd_mnist)


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


# Which part of the run is going on, to say where an exception came from.
_STAGE = ["setting up"]


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


def check_budget(elapsed: float, steps: int, total_steps: int, budget: float, advice: str,
                 progress: Progress | None = None) -> None:
    """Stop training as soon as it is clear that it will not finish within `budget` seconds.

    Called after each step: `elapsed` seconds spent on the first `steps` of `total_steps`. Stops when
    the budget is already spent, or when the projected total (elapsed / steps * total_steps) is over
    three times the budget, judged only after 20 steps so that a slow first step (allocations, caches)
    cannot stop a run that would have made it. `advice` ends the reason: what usually makes this
    milestone's code slow. A `progress` bar drawn on a terminal is ended first, so the verdict starts
    on a line of its own.
    """
    projected = elapsed / steps * total_steps
    if elapsed > budget or (steps >= 20 and projected > 3 * budget):
        if progress is not None and progress.tty:
            print()
        raise Stop({"status": "failed", "train_seconds": round(elapsed, 2), "reason": (
            f"training is too slow: {elapsed:.1f} s for {steps} of {total_steps} steps, about "
            f"{projected:.0f} s in all, over the budget of {budget:.0f} s. {advice}")})


# ---------------------------------------------------------------------------------------------------
# Watching the learner's loop from the outside: the loss and the optimiser are wrapped, so every
# training step is seen without changing a line of the learner's fit.


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


def loss_value(value) -> float:
    """The learner's loss as a float (it may be a 0-d array)."""
    return float(np.asarray(value, dtype=np.float64))


DIVERGENCE_ADVICE = ("Usual causes: a learning rate far too large, log(0) or exp overflow in the loss (subtract "
                     "the row maximum, use log-softmax), or weights initialised far too large")


def diverged(where: str, value) -> dict:
    """The result for a loss that became NaN or infinite."""
    return {"status": "failed",
            "reason": f"the loss became {value} {where}: training diverged. {DIVERGENCE_ADVICE}"}


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

    def end_epoch(self, text: str) -> None:
        line = f"epoch {self.epoch}/{self.epochs}: {text} ({time.perf_counter() - self.epoch_started:.1f}s)"
        if self.tty:
            self.stream.write("\r" + line + " " * 20 + "\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self.epoch += 1
        self.step_in_epoch = 0
        self.losses = []
        self.epoch_started = time.perf_counter()


# ---------------------------------------------------------------------------------------------------
# The pieces of the run


def settings_of(m) -> dict:
    """The training settings of the target (training.MNIST_SETTINGS), with the names used here."""
    settings = dict(getattr(m.training, "MNIST_SETTINGS", {}) or {})
    settings.setdefault("epochs", 10)
    settings.setdefault("batch_size", 128)
    settings.setdefault("lr", 0.1)
    settings.setdefault("momentum", 0.9)
    return settings


def make_optimizer(m, model, settings):
    return m.optim.SGD(model.parameters(), lr=settings["lr"], momentum=settings.get("momentum", 0.0),
                       nesterov=settings.get("nesterov", False),
                       weight_decay=settings.get("weight_decay", 0.0))


def learning_rate_schedule(m, optimizer, settings):
    """The step decay of MNIST_SETTINGS ("lr_drop_epoch", "lr_drop_factor") as a fit callback, or None.

    Uses the target's training.step_decay when it has one, else the same rule written here: after
    epoch lr_drop_epoch, optimizer.lr *= lr_drop_factor (once).
    """
    at_epoch, factor = settings.get("lr_drop_epoch"), settings.get("lr_drop_factor")
    if at_epoch is None or factor is None:
        return None
    if hasattr(m.training, "step_decay"):
        return m.training.step_decay(optimizer, at_epoch=at_epoch, factor=factor)

    def decay(epoch, history):
        if epoch == at_epoch:
            optimizer.lr *= factor
        return False

    return decay


def accuracy_of(model, X, y, batch_size: int = 2000) -> float:
    """The grader's own test accuracy: argmax of the model's logits, in eval mode, in chunks."""
    if hasattr(model, "eval"):
        model.eval()
    correct = 0
    for start in range(0, len(X), batch_size):
        logits = np.asarray(model.forward(X[start:start + batch_size]))
        correct += int(np.sum(np.argmax(logits, axis=1) == y[start:start + batch_size]))
    if hasattr(model, "train"):
        model.train()
    return correct / len(X)


def sanity_ladder(m, X, y, settings, *, quick: bool) -> dict:
    """Three quick checks before the long run; raise Stop with advice at the first that fails."""
    found = {}
    loss_fn = m.losses.SoftmaxCrossEntropy()

    _STAGE[0] = "sanity check 1/3 (initial loss)"
    # 1. Initial loss: with 10 classes and small random weights the softmax is nearly uniform, so the
    #    cross-entropy is close to -log(1/10) = ln 10.
    model = m.training.build_mnist_model(np.random.default_rng(SEED))
    initial = loss_value(loss_fn.forward(model.forward(X[:1000]), y[:1000]))
    found["initial_loss"] = initial
    low, high = INITIAL_LOSS_RANGE
    print(f"sanity 1/3: initial loss on 1000 images {initial:.4f} (expected near ln 10 = {LN10:.4f})")
    if not np.isfinite(initial):
        raise Stop(diverged("before any training (the initial loss)", initial))
    if initial > high:
        raise Stop({"status": "failed", "reason": (
            f"the initial loss is {initial:.3f}, far above ln 10 = {LN10:.3f}: the untrained network is "
            "confidently wrong. The initial weights are probably too large (check the init scale: He "
            "uses std sqrt(2 / fan_in)), or the softmax is not normalised"), **found})
    if initial < low:
        raise Stop({"status": "failed", "reason": (
            f"the initial loss is {initial:.3f}, far below ln 10 = {LN10:.3f}, although nothing has been "
            "learnt yet: the loss is not -mean(log softmax at the label). Check the softmax normalisation "
            "(probabilities summing to 1 per row), the sign, and that you average over the batch"), **found})

    _STAGE[0] = f"sanity check 2/3 (memorising {OVERFIT_EXAMPLES} examples)"
    # 2. Memorise 50 examples: a correct backward and optimiser fit them perfectly in a few dozen steps.
    model = m.training.build_mnist_model(np.random.default_rng(SEED + 1))
    optimizer = make_optimizer(m, model, settings)
    small_X, small_y = X[:OVERFIT_EXAMPLES], y[:OVERFIT_EXAMPLES]
    rng = np.random.default_rng(SEED + 2)
    accuracy, steps = 0.0, 0
    watched = WatchedLoss(loss_fn)
    while steps < OVERFIT_MAX_STEPS:
        m.training.train_epoch(model, watched, optimizer, small_X, small_y, batch_size=OVERFIT_EXAMPLES,
                               rng=rng)
        steps += 1
        if watched.last is not None and not np.isfinite(loss_value(watched.last)):
            raise Stop(diverged(f"while fitting {OVERFIT_EXAMPLES} examples (step {steps})", watched.last))
        if steps % 10 == 0:
            accuracy = accuracy_of(model, small_X, small_y)
            if accuracy == 1.0:
                break
    found.update(overfit_accuracy=accuracy, overfit_steps=steps)
    print(f"sanity 2/3: {OVERFIT_EXAMPLES} training examples fitted to {100 * accuracy:.0f}% in {steps} steps "
          "(expected 100%)")
    if accuracy < 1.0:
        raise Stop({"status": "failed", "reason": (
            f"the network could not memorise {OVERFIT_EXAMPLES} examples (training accuracy "
            f"{100 * accuracy:.0f}% after {steps} full-batch steps, loss {loss_value(watched.last):.4f}): "
            "gradients are not reaching the weights correctly. Suspect a backward pass (a missing "
            "layer, a wrong sign, a gradient overwritten instead of added) or the optimiser (update "
            "not in place, zero_grad missing or clearing too much)"), **found})

    _STAGE[0] = "sanity check 3/3 (a short training run)"
    # 3. The loss goes down over a few hundred ordinary mini-batch steps.
    n_steps = 60 if quick else DECREASE_STEPS
    batch_size = settings["batch_size"]
    model = m.training.build_mnist_model(np.random.default_rng(SEED + 3))
    losses = []
    watched = WatchedLoss(loss_fn, on_value=lambda value: losses.append(loss_value(value)))
    optimizer = make_optimizer(m, model, settings)
    m.training.train_epoch(model, watched, optimizer, X[:n_steps * batch_size], y[:n_steps * batch_size],
                           batch_size=batch_size, rng=np.random.default_rng(SEED + 4))
    if not losses:
        raise Stop({"status": "failed", "reason": "train_epoch never called the loss's forward", **found})
    if not all(np.isfinite(losses)):
        first_bad = next(i for i, v in enumerate(losses) if not np.isfinite(v))
        raise Stop(diverged(f"at step {first_bad + 1} of a short training run", losses[first_bad]))
    head = float(np.mean(losses[:10]))
    tail = float(np.mean(losses[-20:]))
    found.update(short_run_first_loss=head, short_run_last_loss=tail, short_run_steps=len(losses))
    print(f"sanity 3/3: mean loss over the first 10 steps {head:.4f}, over the last 20 of {len(losses)}: "
          f"{tail:.4f} (expected to fall)")
    if not tail < 0.8 * head:
        raise Stop({"status": "failed", "reason": (
            f"the loss did not go down over {len(losses)} mini-batch steps ({head:.3f} -> {tail:.3f}), "
            "although 50 examples could be memorised: check that the mini-batches pair each image with "
            "its own label (one permutation for X and y), and the learning rate in MNIST_SETTINGS"), **found})
    return found


def curve_summary(history: dict) -> list[str]:
    """A few lines describing the training curve: per epoch loss, accuracies, gradient norm range."""
    from grader.milestones.plots import grad_norm_series

    lines = []
    loss = list(history.get("loss") or [])
    train = list(history.get("train_accuracy") or [])
    test = list(history.get("test_accuracy") or [])
    norms = grad_norm_series(history.get("grad_norms"))
    def number(value, scale=1.0, form=".4f"):
        return "?" if value is None else format(scale * value, form)

    for epoch in range(len(loss)):
        text = f"  epoch {epoch + 1:>2}: loss {number(loss[epoch])}"
        if epoch < len(train):
            text += f"  train {number(train[epoch], 100, '5.2f')}%"
        if epoch < len(test):
            text += f"  test {number(test[epoch], 100, '5.2f')}%"
        at_epoch = {name: values[epoch] for name, values in norms.items() if epoch < len(values)}
        if at_epoch:
            smallest = min(at_epoch, key=at_epoch.get)
            largest = max(at_epoch, key=at_epoch.get)
            text += (f"  |grad| {at_epoch[smallest]:.2g} ({smallest}) .. {at_epoch[largest]:.2g} "
                     f"({largest})")
        lines.append(text)
    if len(loss) >= 2 and None not in (loss[0], loss[-1]):
        trend = "fell" if loss[-1] < loss[0] else "did NOT fall"
        lines.append(f"  the loss {trend} from {loss[0]:.4f} to {loss[-1]:.4f}"
                     + (f"; the gap train - test accuracy is {100 * (train[-1] - test[-1]):.2f} points"
                        if train and test and None not in (train[-1], test[-1]) else ""))
    return lines


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


def run(target_dir: Path, out_dir: Path, *, quick: bool = False) -> dict:
    from grader.data import mnist as data

    threshold = QUICK_THRESHOLD if quick else THRESHOLD
    budget = QUICK_BUDGET_SECONDS if quick else BUDGET_SECONDS
    try:
        checksums = data.verify()
        X_train, y_train, X_test, y_test = load_mnist(QUICK_SIZES if quick else None)
    except data.DataError as error:
        return {"status": "not-run", "reason": f"the MNIST data cannot be used: {error}"}
    previous_threads, _ = numpy_blas_threads()
    set_numpy_blas_threads(BLAS_THREADS)
    try:
        return _run(target_dir, out_dir, quick, threshold, budget, checksums, X_train, y_train, X_test,
                    y_test)
    finally:
        set_numpy_blas_threads(previous_threads)


def _run(target_dir, out_dir, quick, threshold, budget, checksums, X_train, y_train, X_test, y_test):
    record = {"seed": SEED, "threshold": threshold, "budget_seconds": budget, "quick": quick,
              "train_size": len(X_train), "test_size": len(X_test), "data_sha256": checksums,
              "blas_threads": numpy_blas_threads()[0]}
    print(f"MNIST milestone{' (QUICK mode: a subset, 1 epoch)' if quick else ''}: pass at test accuracy > "
          f"{100 * threshold:.0f}% with training (fit) in at most {budget:.0f} s; seed {SEED}; "
          f"{len(X_train)} training / {len(X_test)} test images; {record['blas_threads']} BLAS thread(s).")
    try:
        m = learner_modules(target_dir)
        settings = settings_of(m)
        epochs = 1 if quick else int(settings["epochs"])
        batch_size = int(settings["batch_size"])
        record.update(epochs=epochs, batch_size=batch_size, lr=settings["lr"],
                      momentum=settings.get("momentum", 0.0), lr_drop_epoch=settings.get("lr_drop_epoch"),
                      lr_drop_factor=settings.get("lr_drop_factor"))
        record.update(sanity_ladder(m, X_train, y_train, settings, quick=quick))
        result = train(m, settings, epochs, batch_size, budget, X_train, y_train, X_test, y_test, out_dir,
                       record)
    except FloatingPointError as error:  # e.g. training.TrainingDiverged, or np.seterr(all="raise")
        return {**record, "status": "failed",
                "reason": f"during {_STAGE[0]}: {type(error).__name__}: {error} {DIVERGENCE_ADVICE}"}
    except EARLY_END as error:
        return ended_early(record, error)
    return result


def train(m, settings, epochs, batch_size, budget, X_train, y_train, X_test, y_test, out_dir, record):
    """The long run: the learner's fit, watched step by step; then the plot and the verdict."""
    _STAGE[0] = "the training run"
    steps_per_epoch = math.ceil(len(X_train) / batch_size)
    total_steps = steps_per_epoch * epochs
    model = m.training.build_mnist_model(np.random.default_rng(SEED))
    progress = Progress(epochs, steps_per_epoch)
    state = {"steps": 0}
    started = time.perf_counter()

    def check_loss(value):
        if not np.isfinite(loss_value(value)):
            raise Stop({**record, **diverged(f"during epoch {progress.epoch} (after {state['steps']} steps)",
                                             loss_value(value))})

    def on_step():
        state["steps"] += 1
        if progress.step_in_epoch >= steps_per_epoch:
            # fit did not call callback(epoch, history) at the end of the last epoch: close its line.
            progress.end_epoch("(fit did not call callback(epoch, history); accuracies follow at the end)")
        progress.step(loss_value(loss_fn.last) if loss_fn.last is not None else None)
        check_budget(time.perf_counter() - started, state["steps"], total_steps, budget, TOO_SLOW_ADVICE,
                     progress)

    loss_fn = WatchedLoss(m.losses.SoftmaxCrossEntropy(), on_value=check_loss)
    optimizer = WatchedOptimizer(make_optimizer(m, model, settings), on_step)
    decay = learning_rate_schedule(m, optimizer, settings)

    def end_of_epoch(epoch, history):
        if decay is not None:
            decay(epoch, history)
        text = []
        for key, label in (("loss", "loss"), ("train_accuracy", "train"), ("test_accuracy", "test")):
            if history.get(key):
                value = history[key][-1]
                text.append(f"{label} {value:.4f}" if key == "loss" else f"{label} {100 * value:.2f}%")
        progress.end_epoch(", ".join(text))
        return False  # never stop early: the milestone judges the last epoch

    history = m.training.fit(model, loss_fn, optimizer, X_train, y_train, X_test, y_test, epochs=epochs,
                             batch_size=batch_size, rng=np.random.default_rng(SEED), callback=end_of_epoch)
    history = dict(history or {})
    train_seconds = time.perf_counter() - started

    accuracy = accuracy_of(model, X_test, y_test)
    history = {key: plain(values) for key, values in history.items()}
    reported = (history.get("test_accuracy") or [None])[-1]
    plot = out_dir / "mnist_curve.png"
    try:
        from grader.milestones.plots import training_curve

        training_curve(history, plot, title=f"MNIST MLP, seed {SEED}: test accuracy {100 * accuracy:.2f}%"
                       + (" (quick)" if quick_mode(record) else ""))
        print(f"training curve written to {plot}")
    except Exception as error:  # a plot is a convenience; never fail the milestone over it
        print(f"(could not draw the training curve: {type(error).__name__}: {error})")
        plot = None
    print("Training curve summary:")
    for line in curve_summary(history):
        print(line)
    print(f"test accuracy (computed by the grader) {100 * accuracy:.2f}%"
          + (f", your evaluate reported {100 * reported:.2f}%" if reported is not None else "")
          + f"; training time {train_seconds:.1f} s (budget {record['budget_seconds']:.0f} s)")
    if reported is not None and abs(reported - accuracy) > 0.005:
        print("warning: your evaluate's test accuracy differs from the grader's by more than half a point: "
              "check evaluate (eval mode, argmax over axis 1, the whole test set)")

    final_lr = getattr(optimizer, "lr", None)
    record.update(test_accuracy=round(accuracy, 5), reported_test_accuracy=reported,
                  final_lr=float(final_lr) if isinstance(final_lr, (int, float)) else None,
                  train_seconds=round(train_seconds, 2), plot=str(plot) if plot else None,
                  history={k: v for k, v in history.items() if k != "grad_norms"},
                  final_grad_norms=(history.get("grad_norms") or [None])[-1])
    threshold, budget = record["threshold"], record["budget_seconds"]
    if accuracy <= threshold:
        reason = (f"test accuracy {100 * accuracy:.2f}% is not above {100 * threshold:.0f}% after "
                  f"{record['epochs']} epoch(s): see the training curve; a loss that falls slowly suggests a "
                  "learning rate too small, a loss that stalls high a bug the tests do not catch")
        return {**record, "status": "failed", "reason": reason}
    if train_seconds > budget:
        return {**record, "status": "failed", "reason": f"training took {train_seconds:.1f} s, over the "
                f"budget of {budget:.0f} s, although it reached {100 * accuracy:.2f}%"}
    return {**record, "status": "passed", "reason": (
        f"test accuracy {100 * accuracy:.2f}% > {100 * threshold:.0f}% in {train_seconds:.1f} s of training "
        f"(budget {budget:.0f} s){' [quick mode]' if quick_mode(record) else ''}")}


def plain(values):
    """A history entry as JSON-friendly Python values (floats, dicts of floats), whatever fit stored."""
    if isinstance(values, dict):
        return {str(k): plain(v) for k, v in values.items()}
    if isinstance(values, (list, tuple)):
        return [plain(v) for v in values]
    try:
        return float(values)
    except (TypeError, ValueError):
        return None


def quick_mode(record: dict) -> bool:
    return bool(record.get("quick"))

"""The judge half of the training milestones: the replay, the PyTorch clock, the test accuracy, the verdict.

See skeleton.py for the protocol. Nothing here runs learner code: the judge reads the learner half's
events (plain data), keeps its own clock, recomputes what it can and decides.

What the learner's side says is checked, never believed (a Proof-of-Learning replay, Jia et al., IEEE
S&P 2021). The judge draws the initial weights from a secret seed. Every checkpoint (the weights after a
step and after the step before it, and per step the training images' indices, the learning rate and the
loss) is replayed here at once with PyTorch, from the previous checkpoint's weights with the momentum its
two weight sets imply ((previous - weights) / lr), on the same images at the same learning rates. The
replayed weights must land within TOLERANCE of the reported ones, as a fraction of the distance the
weights travelled in the segment. Every segment is replayed, so no unverified step can hide a jump (to
pretrained weights, say). The test accuracy is PyTorch's forward pass of the checkpoint's weights on test
images the learner's side never receives.

TOLERANCE = 10% of the segment's travel. Measured between the reference (NumPy float32) and the replay
("replay_drift_max" in every result): at most 0.93% over the 86 50-step segments of a full mnist run,
2.0% over a full cnn run, under 0.01% over quick runs' 10-step segments. Float64 learners: not measured.

The clock: the budget is the milestone's `multiple` of the replay's mean time per step (one thread, as
the learner's BLAS) times the steps. The learner's time is the sum of the intervals between each reply
and its next event, so the pauses for the replay are not counted.
"""

from __future__ import annotations

import functools
import math
import secrets
import time
from pathlib import Path

import numpy as np

from grader.core import manifest, task
from grader.milestones.skeleton import (DEADLINE_SLACK, DIVERGENCE_ADVICE, THREADS, initial_weights,
                                        pinned_threads, shaped, summary, training_split)
from grader.milestones.stopwatch import Ended, TorchStep, flat, import_torch, textbook_parameters, torch_model

TOLERANCE = 0.10     # replayed weights within this fraction of their travel over the segment
EVERY = (50, 10)     # steps between checkpoints (full, quick)
CALIBRATION_STEPS = 5


class Replay:
    """PyTorch's training steps of the milestone's model, from a checkpoint on given training images."""

    def __init__(self, torch, architecture: str, X: np.ndarray, y: np.ndarray, settings: dict):
        self.torch, self.architecture = torch, architecture
        self.X, self.y = X, np.asarray(y, dtype=np.int64)
        self.momentum = float(settings.get("momentum", 0.0))
        self.weight_decay = float(settings.get("weight_decay", 0.0))
        self.seconds, self.steps = 0.0, 0

    def run(self, start, previous, lr_before, batches, lrs):
        """(weights after the last step, after the one before it, losses) of PyTorch's steps from `start`,
        with the momentum (previous - start) / lr_before (none when previous is None: the first step)."""
        step = TorchStep(self.torch, self.architecture, start, self.X, self.y, lr=float(lrs[0]),
                         momentum=self.momentum, weight_decay=self.weight_decay)
        if previous is not None and self.momentum and lr_before:  # (with lr 0 no velocity moves the weights)
            for parameter, before, now in zip(step.net.kata_targets, previous, start):
                velocity = ((np.asarray(before, np.float64) - now) / lr_before).astype(np.float32)
                step.optimizer.state[parameter]["momentum_buffer"] = self.torch.from_numpy(
                    np.ascontiguousarray(velocity.T if velocity.ndim == 2 else velocity))
        losses, before_last = [], None
        for index, (rows, lr) in enumerate(zip(batches, lrs)):  # on THREADS threads: run_judged pins them
            if index == len(batches) - 1:
                before_last = textbook_parameters(step.net)
            started = time.perf_counter()
            step.optimizer.param_groups[0]["lr"] = float(lr)
            losses.append(step(rows))
            self.seconds += time.perf_counter() - started
        self.steps += len(batches)
        return textbook_parameters(step.net), before_last, np.array(losses)

    @property
    def step_seconds(self) -> float:
        return self.seconds / self.steps if self.steps else math.nan


def drift(found: list, expected: list, start: list) -> float:
    """|found - expected| as a fraction of the larger distance either travelled from `start`."""
    found, expected, start = flat(found), flat(expected), flat(start)
    travel = max(np.linalg.norm(found - start), np.linalg.norm(expected - start), 1e-12)
    gap = np.linalg.norm(found - expected) / travel
    return float(gap) if np.isfinite(gap) else math.inf


class Judge:
    """The judge half of one training milestone run (see skeleton.py for the protocol)."""

    def __init__(self, milestone, *, quick: bool = False):
        from grader.data import mnist as data

        self.module, self.spec, self.quick = milestone.__name__, milestone.SPEC, quick
        self.torch = import_torch("there is no reference to replay your training with")
        try:
            checksums = data.verify()
            self.X_train, self.y_train, _, _ = training_split(self.spec, quick)
            X_test, y_test = data.load("test")
        except data.DataError as error:
            raise Ended("not-run", f"the MNIST data cannot be used: {error}") from None
        n_test = self.spec.quick_sizes[1] if quick else len(X_test)
        self.X_test, self.y_test = self.torch.from_numpy(shaped(self.spec, X_test[:n_test])), y_test[:n_test]
        self.multiple = self.spec.quick_multiple if quick else self.spec.multiple
        self.threshold = self.spec.quick_threshold if quick else self.spec.threshold
        self.every, self.secret = EVERY[1 if quick else 0], secrets.randbits(62)
        self.record = {"judge_seed": self.secret, "quick": quick, "threshold": self.threshold,
                       "multiple": self.multiple, "train_size": len(self.X_train), "test_size": n_test,
                       "data_sha256": checksums, "threads": THREADS, "checkpoint_every": self.every}
        self.worker_record, self.settings, self.history = {}, {}, []
        self.steps: dict = {"losses": [], "lrs": [], "norms": []}   # this epoch's, per step
        self.replay: Replay | None = None
        self.at = {"step": 0, "checkpoint": 0, "weights": None, "previous": None, "lr": None}
        self.total_steps, self.steps_per_epoch, self.max_drift = 0, 1, 0.0
        self.spent, self.running_since = 0.0, None
        self.stopped, self.enough = None, False  # the judge's own early end (a sentence); the bar cleared

    def job(self) -> dict:
        """What the learner half needs (plain data): no test image, no seed of the judge's."""
        return {"module": self.module, "quick": self.quick, "threads": THREADS, "multiple": self.multiple,
                "every": self.every}

    def on_event(self, kind: str, data: dict) -> dict:
        """One event of the learner half; returns the reply. The clock stops while the judge works."""
        self._stop_clock()
        reply = {}
        if kind == "start":
            self._start(data)
            reply["initial"] = self.at["weights"] or []
        elif kind == "checkpoint":
            self._checkpoint(data)
        else:
            raise ValueError(f"unknown milestone event {kind!r}")
        reply.update(budget_seconds=self.budget(), spent_seconds=self.spent, stop=self.stopped, enough=self.enough)
        if self.stopped is None and not self.enough and len(self.history) < self.settings.get("epochs", 0):
            self.running_since = time.perf_counter()
        return reply

    def deadline(self) -> float | None:
        """Seconds within which the learner's next event must arrive, negative once missed (None: no training
        running, e.g. the sanity checks, bounded by time_limit): it catches a step that never ends."""
        if self.running_since is None:
            return None
        spent = self.spent + time.perf_counter() - self.running_since
        return self.budget() * (1 + DEADLINE_SLACK) + 5.0 - spent

    def interrupted(self, out_dir: Path) -> dict:
        """The result when the learner half was stopped from outside for missing its deadline."""
        self._stop_clock()
        return self.verdict({"status": "failed", "too_slow": True, "reason": (
            f"training did not report back within its budget of {self.budget():.0f} s "
            f"({self.multiple:g}x PyTorch's time for the same steps): {self.spec.too_slow_advice}")}, out_dir)

    def budget(self) -> float:
        if self.replay is None or not self.replay.steps:
            return math.inf
        return self.multiple * self.replay.step_seconds * self.total_steps

    def _stop_clock(self) -> None:
        if self.running_since is not None:
            self.spent += time.perf_counter() - self.running_since
            self.running_since = None

    def _start(self, data: dict) -> None:
        settings = {**dict(data.get("settings") or {}), **self.spec.settings}
        fixed = self.spec.epochs[1 if self.quick else 0]
        epochs = int(fixed if fixed is not None else settings.get("epochs", 0))
        batch_size = int(settings.get("batch_size", 0))
        if not (1 <= epochs <= 100 and 1 <= batch_size <= len(self.X_train)):
            self.stopped = f"unusable training settings: {epochs} epochs of batches of {batch_size} images"
            return
        if settings.get("nesterov"):
            self.stopped = "the milestone replays SGD with plain momentum: set nesterov to False in the settings"
            return
        self.settings = {**settings, "epochs": epochs, "batch_size": batch_size}
        self.worker_record = dict(data.get("record") or {})
        self.steps_per_epoch = max(1, int(data.get("steps_per_epoch") or 1))
        self.total_steps = epochs * self.steps_per_epoch
        shapes = [tuple(int(d) for d in shape) for shape in data.get("shapes") or []]
        initial = initial_weights(shapes, np.random.default_rng(self.secret))
        try:
            logits = self._forward(initial, self.X_test[:2])
            assert tuple(logits.shape) == (2, 10)
        except (AssertionError, RuntimeError, ValueError, IndexError, TypeError):
            self.stopped = (f"your model's parameters have the shapes {[list(s) for s in shapes]}, which do not "
                            f"make the milestone's {self.spec.architecture.upper()} (see its description)")
            return
        self.at.update(weights=initial)
        self.replay = Replay(self.torch, self.spec.architecture, self.X_train, self.y_train, self.settings)
        rng = np.random.default_rng(self.secret + 1)  # a first measure of PyTorch's step, for the deadline
        self.replay.run(initial, None, None, [rng.integers(0, len(self.X_train), batch_size)
                                              for _ in range(CALIBRATION_STEPS)], [settings["lr"]] * CALIBRATION_STEPS)
        print(f"time budget: {self.multiple:g}x PyTorch's time for the same {self.total_steps} steps, measured by "
              f"replaying your steps in PyTorch at every checkpoint (every {self.every} steps) on {THREADS} "
              "thread(s)", flush=True)

    def _forward(self, weights, X):
        with self.torch.no_grad():
            return torch_model(self.torch, self.spec.architecture, weights).eval()(X)

    def test_accuracy(self, weights) -> float:
        """The judge's own forward pass of the weights on its test images."""
        chosen = np.concatenate([self._forward(weights, self.X_test[i:i + 2000]).argmax(1).numpy()
                                 for i in range(0, len(self.X_test), 2000)])
        return float(np.mean(chosen == self.y_test))

    def _checkpoint(self, data: dict) -> None:
        if self.replay is None or self.stopped:
            self.stopped = self.stopped or "a checkpoint arrived before the training started"
            return
        number, at = self.at["checkpoint"] + 1, self.at
        batches = [np.asarray(b, dtype=np.int64).ravel() for b in data.get("batches") or []]
        lrs, losses = (np.asarray(data.get(key), dtype=np.float64).ravel() for key in ("lrs", "losses"))
        weights, previous = data.get("weights"), data.get("previous")
        n, step = len(batches), int(data.get("step", -1))
        if step != at["step"] + n or lrs.shape != (n,) or losses.shape != (n,) or not self._fits(weights):
            self.stopped = (f"your checkpoint {number} does not follow checkpoint {number - 1}: {n} steps of "
                            f"training images, learning rates and losses should take step {at['step']} to {step}, "
                            "with the model's weights")
            return
        if not np.all(np.isfinite(losses)):
            first = int(np.flatnonzero(~np.isfinite(losses))[0])
            self.stopped = (f"the loss became {losses[first]} at step {at['step'] + first + 1}: training diverged. "
                            f"{DIVERGENCE_ADVICE}")
            return
        for k, rows in enumerate(batches):
            if not 0 < rows.size <= self.settings["batch_size"] or rows.min() < 0 or rows.max() >= len(self.X_train):
                self.stopped = (f"step {at['step'] + k + 1} trained on a batch of {rows.size} images that are not "
                                "all images of the milestone's training split: train on the data you are given")
                return
        if n:
            self._replayed(number, batches, lrs, losses, weights, previous if self._fits(previous) else None)
        if self.stopped:
            return
        at.update(step=step, checkpoint=number, weights=[np.asarray(w, np.float32) for w in weights],
                  previous=[np.asarray(w, np.float32) for w in previous] if self._fits(previous) else None,
                  lr=float(lrs[-1]) if n else at["lr"])
        norms = np.asarray(data.get("grad_norms"), dtype=np.float64)  # the steps' records, for the epoch's summary
        self.steps["losses"].extend(losses.tolist())
        self.steps["lrs"].extend(lrs.tolist())
        if norms.ndim == 2 and norms.shape[0] == len(losses):
            self.steps["norms"].extend(norms.tolist())
        self.steps["names"] = [str(name) for name in data.get("grad_names") or []]
        self.steps["shapes"] = [tuple(int(d) for d in shape) for shape in data.get("grad_shapes") or []]
        epoch = data.get("epoch")
        if epoch is not None or (self.spec.stop_at_threshold and step >= self.steps_per_epoch // 2):
            accuracy = self.test_accuracy(at["weights"])
            self.enough = self.spec.stop_at_threshold and self.spec.accuracy_passes(accuracy, self.threshold)
            if epoch is not None or self.enough:
                self._close_epoch(accuracy, dict((epoch or {}).get("learner") or {}), data)

    def _fits(self, arrays) -> bool:
        initial = self.at["weights"]
        return isinstance(arrays, list) and len(arrays) == len(initial) and all(
            isinstance(a, np.ndarray) and a.shape == w.shape and a.dtype.kind == "f" for a, w in zip(arrays, initial))

    def _replayed(self, number, batches, lrs, losses, weights, previous) -> None:
        at = self.at
        replayed, before_last, replay_losses = self.replay.run(at["weights"], at["previous"], at["lr"], batches, lrs)
        found, expected = list(weights), list(replayed)
        if previous is not None:
            found, expected = found + list(previous), expected + list(before_last)
        gap = drift(found, expected, list(at["weights"]) * (2 if previous is not None else 1))
        self.max_drift = max(self.max_drift, gap)
        if gap > TOLERANCE or previous is None:
            where = at["step"] + len(batches)
            self.stopped = (
                f"your checkpoint {number} is not what {len(batches)} steps from checkpoint {number - 1} give "
                f"(step {where}: loss {losses[-1]:.4g} against {replay_losses[-1]:.4g}; the weights are "
                f"{gap:.0%} of their travel away, allowed {TOLERANCE:.0%}): the weights must come from your "
                "training steps alone, starting from the initial weights the grader set")

    def _close_epoch(self, accuracy: float, learner: dict, data: dict) -> None:
        steps, norms = self.steps, np.asarray(self.steps["norms"], dtype=np.float64)
        names = steps.get("names", [])
        seconds = self.spent - sum(entry["seconds"] for entry in self.history)
        whole = data.get("epoch") is not None
        number = len(self.history) + 1 if whole else round(self.at["step"] / self.steps_per_epoch, 2)
        self.history.append({
            "epoch": number, "loss": float(np.mean(steps["losses"])) if steps["losses"] else math.nan,
            "test_accuracy": accuracy, "seconds": round(seconds, 3), "steps": len(steps["losses"]),
            "lr": summary(steps["lrs"]), "learner": learner,
            "grad_norms": {name: summary(norms[:, i]) for i, name in enumerate(names)
                           if norms.ndim == 2 and i < norms.shape[1]},
            "grad_shapes": {name: list(shape) for name, shape in zip(names, steps.get("shapes", []))}})
        self.steps = {"losses": [], "lrs": [], "norms": []}
        print(f"  judged: test accuracy {100 * accuracy:.2f}% (the grader's forward pass of your weights), every "
              f"step so far replayed; training {self.spent:.1f} s of a budget of {self.budget():.1f} s", flush=True)
        if self.spent > self.budget():
            self.stopped = (f"training is too slow: {self.spent:.1f} s after {self.at['step']} of {self.total_steps} "
                            f"steps, over the budget of {self.budget():.0f} s ({self.multiple:g}x PyTorch's time "
                            f"for the same steps, measured in this run). {self.spec.too_slow_advice}")

    def verdict(self, final: dict, out_dir: Path) -> dict:
        """The milestone's result, from the judge's own measurements: of the learner half's final dict only an
        early end ("failed" or "locked", with its reason) and records to show are taken, never a pass."""
        self._stop_clock()
        final = dict(final or {})
        record = {**dict(final.get("record") or {}), **self.worker_record, **self.record, **self.timing(),
                  **{key: self.settings.get(key) for key in ("epochs", "batch_size", "lr", "momentum")},
                  "replay_drift_max": round(self.max_drift, 5), "history": self.history}
        record["plots"] = self._plots(final, Path(out_dir))
        for line in curve_summary(self.history):
            print(line)
        if self.stopped is not None:  # the judge's own decision, whatever the learner half says
            return {**record, "status": "failed", "too_slow": "too slow" in self.stopped, "reason": self.stopped}
        if final.get("status") != "trained":
            status = final.get("status") if final.get("status") in ("failed", "locked") else "failed"
            return {**record, "status": status, "too_slow": bool(final.get("too_slow")),
                    "reason": str(final.get("reason") or "the training run ended early")}
        return {**record, **self._decide()}

    def timing(self) -> dict:
        if self.replay is None or not self.replay.steps:
            return {"train_seconds": round(self.spent, 2)}
        torch_seconds = self.replay.step_seconds * self.at["step"]
        return {"train_seconds": round(self.spent, 3), "budget_seconds": round(self.budget(), 4),
                "torch_step_ms": round(1e3 * self.replay.step_seconds, 4), "torch_seconds": round(torch_seconds, 4),
                "steps_replayed": self.replay.steps, "steps_verified": self.at["step"],
                "ratio": round(self.spent / torch_seconds, 3) if torch_seconds else None}

    def _decide(self) -> dict:
        epochs, spec = self.settings["epochs"], self.spec
        if not self.history or (len(self.history) < epochs and not self.enough):
            return {"status": "failed", "reason": f"the training reported {len(self.history)} of {epochs} epochs"}
        accuracy = self.history[-1]["test_accuracy"]
        relation, when = (">=" if spec.at_least else ">"), f"after {self.at['step']} steps"
        if not spec.accuracy_passes(accuracy, self.threshold):
            return {"status": "failed", "test_accuracy": round(accuracy, 5), "reason": (
                f"test accuracy {100 * accuracy:.2f}% is not {relation} {100 * self.threshold:.0f}% {when}: "
                f"{spec.low_accuracy_advice}")}
        ratio = self.spent / (self.replay.step_seconds * self.at["step"])
        if ratio > self.multiple:
            return {"status": "failed", "too_slow": True, "test_accuracy": round(accuracy, 5), "reason": (
                f"training took {self.spent:.1f} s, {ratio:.1f}x PyTorch's time for the same steps, over the "
                f"budget of {self.multiple:g}x, although it reached {100 * accuracy:.2f}%. {spec.too_slow_advice}")}
        print(f"test accuracy (computed by the grader from your weights) {100 * accuracy:.2f}%; training "
              f"{self.spent:.1f} s, {ratio:.2f}x PyTorch's time for the same steps (budget {self.multiple:g}x)")
        return {"status": "passed", "test_accuracy": round(accuracy, 5), "reason": (
            f"test accuracy {100 * accuracy:.2f}% {relation} {100 * self.threshold:.0f}% {when} of training "
            f"replayed and verified, {self.spent:.1f} s, {ratio:.2f}x PyTorch's time for the same steps (budget "
            f"{self.multiple:g}x)" + (" [quick mode]" if self.quick else ""))}

    def _plots(self, final: dict, out_dir: Path) -> dict:
        """The PNGs of this run (training curve, gradient flow, first-layer filters), {kind: path}."""
        from grader.milestones import plots

        made = {}
        title = self.spec.title + (" (quick)" if self.quick else "")
        drawings = [("curve", functools.partial(plots.epoch_curves, target=self.threshold), self.history),
                    ("gradient_flow", plots.gradient_flow, self.history)] if self.history else []
        if final.get("filters") is not None:
            drawings.append(("filters", functools.partial(plots.filter_grid, initial=final.get("filters_initial")),
                             np.asarray(final["filters"], dtype=np.float64)))
        for kind, draw, what in drawings:
            try:
                path = draw(what, out_dir / f"{self.spec.name}_{kind}.png", title=title)
                made[kind] = str(path)
                print(f"{kind.replace('_', ' ')} written to {path}")
            except Exception as error:  # a plot is a convenience; never fail the milestone over it
                print(f"(could not draw the {kind.replace('_', ' ')}: {type(error).__name__}: {error})")
        return made


def curve_summary(history: list[dict]) -> list[str]:
    """A few lines describing the run, one per epoch: loss, test accuracy, learning rate, gradient norms."""
    if not history:
        return []
    lines = ["Training curve summary (test accuracy computed by the grader; |grad| = median over the "
             "epoch's steps):"]
    for entry in history:
        text = f"  epoch {entry['epoch']:>4}: loss {entry['loss']:.4f}  test {100 * entry['test_accuracy']:5.2f}%"
        for key, label in (("train_accuracy", "train"), ("validation_accuracy", "val")):
            value = entry["learner"].get(key)
            if isinstance(value, float) and math.isfinite(value):
                text += f"  {label} {100 * value:5.2f}%"
        lr = entry["lr"]["median"]
        if math.isfinite(lr):
            text += f"  lr {lr:.3g}"
        medians = {name: s["median"] for name, s in entry["grad_norms"].items() if math.isfinite(s["median"])}
        if medians:
            low, high = min(medians, key=medians.get), max(medians, key=medians.get)
            text += f"  |grad| {medians[low]:.2g} ({low}) .. {medians[high]:.2g} ({high})"
        lines.append(text)
    first, last = history[0]["loss"], history[-1]["loss"]
    if len(history) >= 2 and math.isfinite(first) and math.isfinite(last):
        lines.append(f"  the loss {'fell' if last < first else 'did NOT fall'} from {first:.4f} to {last:.4f}")
    return lines


def run_judged(milestone, target_dir: Path, out_dir: Path, *, quick: bool = False) -> dict:
    """The learner half trains in a sandboxed worker (skeleton.learn_task); this process judges, and kills
    the worker when its next event misses its deadline."""
    try:
        judge = Judge(milestone, quick=quick)
    except Ended as error:
        return error.result
    limit = manifest.load().milestone(milestone.SPEC.name).time_limit

    def deadline() -> float:
        remaining = judge.deadline()
        return limit if remaining is None else max(remaining, 0.0)

    with pinned_threads(THREADS, judge.torch):
        try:
            final = task.run_task("grader.milestones.skeleton:learn_task", {"job": judge.job()}, target_dir,
                                  timeout=limit, deadline=deadline, on_message=judge.on_event)
        except task.TaskFailed as error:
            if judge.deadline() is not None and judge.deadline() <= 0:
                return judge.interrupted(out_dir)
            return {"status": "failed", "reason": f"the training stopped: {error}"}
    if not isinstance(final, dict):
        return {"status": "failed", "reason": "the learner's side returned no result"}
    return judge.verdict(final, out_dir)

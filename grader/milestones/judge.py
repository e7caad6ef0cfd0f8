"""The judge half of the training milestones: test labels, the PyTorch clock, the accuracy, the verdict.

See grader/milestones/skeleton.py for the protocol. Nothing here runs learner code: the judge reads the
learner half's events (plain data), keeps its own clock, and decides.

The time budget is relative. At "start" and at every "epoch" event (while the learner waits for the
reply) the judge times a block of consecutive training steps of the same model in PyTorch (same
architecture, batch size, learning rate and momentum, same number of threads: THREADS in skeleton.py),
so that the reference sees the machine as the learner saw it, load included. Its mean time per step
over all blocks, times the learner's number of steps, is "PyTorch's time for the same steps"; the
budget is the milestone's `multiple` of it. The learner's time is measured here, from outside: the
sum of the intervals between each reply and the learner's next event (so the pauses for PyTorch are
not counted, and everything the learner half does in between is: steps, its own evaluate, its
predictions of the test images).
"""

from __future__ import annotations

import functools
import math
import time
from pathlib import Path

import numpy as np

from grader.milestones.skeleton import (DEADLINE_SLACK, SEED, THREADS, load_mnist, module_of, shaped,
                                        spec_of, summary)

# (steps per timed block, warm-up steps before the first block) of the PyTorch reference: a block
# takes about 0.1 s (mlp) or 0.5 s (cnn) on one thread, a few percent of an epoch.
BLOCKS = {"mlp": (40, 10), "cnn": (8, 3)}
CALIBRATION_BLOCKS = 3   # blocks timed at "start", before the first budget is given


class Unavailable(Exception):
    """The milestone cannot be judged here (no PyTorch, damaged data): its result is "not-run"."""


class TorchReference:
    """A PyTorch run of the milestone's model, timed in blocks of consecutive steps; mean per step."""

    def __init__(self, architecture: str, X: np.ndarray, y: np.ndarray, settings: dict, seed: int):
        import torch

        torch.manual_seed(seed)
        self.torch = torch
        self.net = torch_model(torch, architecture)
        self.optimizer = torch.optim.SGD(self.net.parameters(), lr=float(settings["lr"]),
                                         momentum=float(settings.get("momentum", 0.0)))
        self.X, self.y = torch.from_numpy(X), torch.from_numpy(y)
        self.batch_size = int(settings["batch_size"])
        self.order = torch.from_numpy(np.random.default_rng(seed).permutation(len(X)))
        self.position = 0
        self.block, warmup = BLOCKS[architecture]
        self.seconds, self.steps = 0.0, 0
        previous = torch.get_num_threads()
        torch.set_num_threads(THREADS)
        self._steps(warmup)
        torch.set_num_threads(previous)

    def _steps(self, n: int) -> None:
        F = self.torch.nn.functional
        for _ in range(n):
            if self.position + self.batch_size > len(self.order):
                self.position = 0
            index = self.order[self.position:self.position + self.batch_size]
            self.position += self.batch_size
            self.optimizer.zero_grad()
            loss = F.cross_entropy(self.net(self.X[index]), self.y[index])
            loss.backward()
            self.optimizer.step()

    def sample(self, blocks: int = 1) -> None:
        """Time `blocks` blocks of steps (on THREADS threads) and add them to the mean."""
        previous = self.torch.get_num_threads()
        self.torch.set_num_threads(THREADS)
        try:
            for _ in range(blocks):
                started = time.perf_counter()
                self._steps(self.block)
                self.seconds += time.perf_counter() - started
                self.steps += self.block
        finally:
            self.torch.set_num_threads(previous)

    @property
    def step_seconds(self) -> float:
        return self.seconds / max(1, self.steps)


def torch_model(torch, architecture: str):
    """The milestone's model in PyTorch (default initialisation; only its time is used)."""
    nn = torch.nn
    if architecture == "mlp":
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    if architecture == "cnn":
        return nn.Sequential(nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(32 * 7 * 7, 10))
    raise ValueError(f"no PyTorch model for architecture {architecture!r}")


class Judge:
    """The judge half of one training milestone run (see skeleton.py for the protocol)."""

    def __init__(self, name: str, *, quick: bool = False):
        from grader.data import mnist as data

        self.spec, self.module, self.quick = spec_of(name), module_of(name), quick
        try:
            import torch  # noqa: F401  (the reference clock)
        except ImportError as error:
            raise Unavailable(f"PyTorch cannot be imported ({error}), so there is no reference to set the "
                              "time budget by; install the pinned requirements (`make setup`)") from None
        try:
            checksums = data.verify()
            X_train, y_train, X_test, self.y_test = load_mnist(self.spec.quick_sizes if quick else None)
        except data.DataError as error:
            raise Unavailable(f"the MNIST data cannot be used: {error}") from None
        held_out = self.spec.validation[1 if quick else 0]
        self.n_train = len(X_train) - held_out
        self.X_reference, self.y_reference = shaped(self.spec, X_train), y_train
        self.X_test = X_test
        self.multiple = self.spec.quick_multiple if quick else self.spec.multiple
        self.threshold = self.spec.quick_threshold if quick else self.spec.threshold
        self.record = {"seed": SEED, "quick": quick, "threshold": self.threshold, "multiple": self.multiple,
                       "train_size": self.n_train, "validation_size": held_out, "test_size": len(X_test),
                       "data_sha256": checksums, "threads": THREADS}
        self.worker_record: dict = {}
        self.history: list[dict] = []
        self.reference: TorchReference | None = None
        self.settings: dict = {}
        self.total_steps = 0
        self.spent = 0.0
        self.running_since: float | None = None
        self.stopped: str | None = None

    # ----- the protocol -----

    def job(self) -> dict:
        """What the learner half needs (plain data): the test images, never their labels."""
        return {"milestone": self.spec.name, "quick": self.quick, "seed": SEED, "threads": THREADS,
                "multiple": self.multiple, "test_images": self.X_test}

    def on_event(self, kind: str, data: dict) -> dict:
        """One event of the learner half; returns the reply. The clock stops while the judge works."""
        self._stop_clock()
        if kind == "start":
            self._start(data)
        elif kind == "epoch":
            self._epoch(data)
        else:
            raise ValueError(f"unknown milestone event {kind!r}")
        reply = {"budget_seconds": self.budget(), "spent_seconds": self.spent, "stop": self.stopped}
        if self.stopped is None and len(self.history) < self.settings["epochs"]:
            self.running_since = time.perf_counter()
        return reply

    def deadline(self) -> float | None:
        """Seconds from now within which the learner's next event must arrive, negative once missed
        (None: no training running, e.g. during the sanity checks, which the milestone's TIME_LIMIT
        bounds). A learner past its budget fails anyway; the deadline catches a step that never ends."""
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
        if self.reference is None:
            return math.inf
        return self.multiple * self.reference.step_seconds * self.total_steps

    def _stop_clock(self) -> None:
        if self.running_since is not None:
            self.spent += time.perf_counter() - self.running_since
            self.running_since = None

    def _start(self, data: dict) -> None:
        settings = {**dict(data.get("settings") or {}), **self.spec.settings}
        fixed = self.spec.epochs[1 if self.quick else 0]
        epochs = int(fixed if fixed is not None else settings.get("epochs", 0))
        batch_size = int(settings.get("batch_size", 0))
        if not (1 <= epochs <= 100 and 1 <= batch_size <= self.n_train):
            self.stopped = f"unusable training settings: {epochs} epochs of batches of {batch_size} images"
            return
        self.settings = {**settings, "epochs": epochs, "batch_size": batch_size}
        self.worker_record = dict(data.get("record") or {})
        self.total_steps = epochs * math.ceil(self.n_train / batch_size)
        self.reference = TorchReference(self.spec.architecture, self.X_reference, self.y_reference,
                                        self.settings, SEED)
        self.reference.sample(CALIBRATION_BLOCKS)
        print(f"time budget: {self.multiple:g}x PyTorch's time for the same {self.total_steps} steps "
              f"({1e3 * self.reference.step_seconds:.2f} ms per step on {THREADS} thread(s), timed now and "
              f"after every epoch): {self.budget():.1f} s for now", flush=True)

    def _epoch(self, data: dict) -> None:
        epoch = int(data["epoch"])
        if epoch != len(self.history) + 1 or self.reference is None:
            self.stopped = f"epoch {epoch} reported out of order"
            return
        predictions = self._predictions(data)
        accuracy = float(np.mean(predictions == self.y_test))
        norms = np.asarray(data.get("grad_norms"), dtype=np.float64)
        names = [str(n) for n in data.get("grad_names") or []]
        shapes = [tuple(int(d) for d in shape) for shape in data.get("grad_shapes") or []]
        lr = np.asarray(data.get("lr"), dtype=np.float64).ravel()
        seconds = self.spent - sum(entry["seconds"] for entry in self.history)
        self.history.append({
            "epoch": epoch, "loss": float(data.get("loss", math.nan)), "test_accuracy": accuracy,
            "seconds": round(seconds, 3), "steps": int(norms.shape[0]) if norms.ndim == 2 else 0,
            "lr": summary(lr), "learner": dict(data.get("learner") or {}),
            "grad_norms": {name: summary(norms[:, i]) for i, name in enumerate(names)
                           if norms.ndim == 2 and i < norms.shape[1]},
            "grad_shapes": {name: list(shape) for name, shape in zip(names, shapes)}})
        self.reference.sample()
        print(f"  judged: test accuracy {100 * accuracy:.2f}%; training so far {self.spent:.1f} s of a budget "
              f"of {self.budget():.1f} s", flush=True)
        if self.spent > self.budget():
            self.stopped = (f"training is too slow: {self.spent:.1f} s after {epoch} of {self.settings['epochs']} "
                            f"epochs, over the budget of {self.budget():.0f} s ({self.multiple:g}x PyTorch's "
                            f"time for the same steps, measured in this run). {self.spec.too_slow_advice}")

    def _predictions(self, data: dict) -> np.ndarray:
        if "weights" in data and hasattr(self.module, "predict_from_weights"):
            predictions = self.module.predict_from_weights(data["weights"], self.X_test)
        else:
            predictions = np.asarray(data.get("predictions", np.zeros(0)))
        if predictions.shape != self.y_test.shape or not np.issubdtype(predictions.dtype, np.integer):
            return np.full(self.y_test.shape, -1)  # counts as wrong everywhere
        return predictions

    # ----- the verdict -----

    def verdict(self, final: dict, out_dir: Path) -> dict:
        """The milestone's result, decided here from the judge's own measurements and the predictions.
        Of the learner half's final dict only an early end ("failed" or "locked", with its reason) and
        plain records to show are taken; whether the run passed is never its say."""
        self._stop_clock()
        final = dict(final or {})
        record = {**dict(final.get("record") or {}), **self.worker_record, **self.record, **self.timing(),
                  "epochs": self.settings.get("epochs"), "batch_size": self.settings.get("batch_size"),
                  "lr": self.settings.get("lr"), "momentum": self.settings.get("momentum"),
                  "history": self.history}
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
        """The judge's time measurements: the learner's training time and PyTorch's for the same steps."""
        if self.reference is None:
            return {"train_seconds": round(self.spent, 2)}
        torch_seconds = self.reference.step_seconds * self.total_steps
        return {"train_seconds": round(self.spent, 3), "budget_seconds": round(self.budget(), 4),
                "torch_step_ms": round(1e3 * self.reference.step_seconds, 4),
                "torch_seconds": round(torch_seconds, 4), "torch_steps_timed": self.reference.steps,
                "ratio": round(self.spent / torch_seconds, 3) if torch_seconds else None}

    def _decide(self) -> dict:
        epochs = self.settings["epochs"]
        if len(self.history) < epochs:
            return {"status": "failed", "reason": f"the training reported {len(self.history)} of {epochs} epochs"}
        accuracy = self.history[-1]["test_accuracy"]
        spec, threshold = self.spec, self.threshold
        relation = ">=" if spec.at_least else ">"
        if not spec.accuracy_passes(accuracy, threshold):
            return {"status": "failed", "test_accuracy": round(accuracy, 5), "reason": (
                f"test accuracy {100 * accuracy:.2f}% is not {relation} {100 * threshold:.0f}% after {epochs} "
                f"epoch(s): {spec.low_accuracy_advice}")}
        ratio, budget = self.spent / max(1e-12, self.budget() / self.multiple), self.budget()
        if self.spent > budget:
            return {"status": "failed", "too_slow": True, "test_accuracy": round(accuracy, 5), "reason": (
                f"training took {self.spent:.1f} s, {ratio:.1f}x PyTorch's time for the same steps, over the "
                f"budget of {self.multiple:g}x ({budget:.0f} s), although it reached {100 * accuracy:.2f}%. "
                f"{spec.too_slow_advice}")}
        print(f"test accuracy (computed by the grader) {100 * accuracy:.2f}%; training {self.spent:.1f} s, "
              f"{ratio:.2f}x PyTorch's time for the same steps (budget {self.multiple:g}x = {budget:.0f} s)")
        return {"status": "passed", "test_accuracy": round(accuracy, 5), "reason": (
            f"test accuracy {100 * accuracy:.2f}% {relation} {100 * threshold:.0f}% in {self.spent:.1f} s of "
            f"training, {ratio:.2f}x PyTorch's time for the same steps (budget {self.multiple:g}x)"
            + (" [quick mode]" if self.quick else ""))}

    def _plots(self, final: dict, out_dir: Path) -> dict:
        """The PNGs of this run (training curve, gradient flow, first-layer filters), {kind: path}."""
        from grader.milestones import plots

        made = {}
        title = f"{self.spec.title}, seed {SEED}" + (" (quick)" if self.quick else "")
        drawings = [("curve", functools.partial(plots.epoch_curves, target=self.threshold), self.history),
                    ("gradient_flow", plots.gradient_flow, self.history)]
        if final.get("filters") is not None:
            initial = final.get("filters_initial")
            drawings.append(("filters", functools.partial(plots.filter_grid, initial=initial),
                             np.asarray(final["filters"], dtype=np.float64)))
        for kind, draw, what in drawings:
            if kind != "filters" and not self.history:
                continue
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
        text = f"  epoch {entry['epoch']:>2}: loss {entry['loss']:.4f}  test {100 * entry['test_accuracy']:5.2f}%"
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

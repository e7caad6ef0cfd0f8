"""Milestone `cnn` (stretch): your own code trains a small CNN to at least 98% test accuracy on MNIST.

Everything that learns is yours: the model from `conv.build_mnist_cnn(rng)` (given in conv.py, built
from YOUR Conv2d, MaxPool2d and Flatten, your activations' ReLU and your layers' Linear), the loss
`losses.SoftmaxCrossEntropy`, the optimiser `optim.SGD`, and your training loop `training.train_epoch`,
called once per epoch. Images are the full 60,000 / 10,000 MNIST sets reshaped to (N, 1, 28, 28),
float32, seed fixed (SEED below).

    conv 5x5, 16 ch, pad 2 -> ReLU -> max-pool 2 -> conv 5x5, 32 ch, pad 2 -> ReLU -> max-pool 2
    -> Flatten -> Linear(1568, 10);   SGD momentum 0.9, batch 128, lr 0.05, 0.05, 0.02, 0.005 in epochs 1-4

Passes when the test accuracy after the last epoch is at least 98% AND the training (all calls to
train_epoch) takes at most BUDGET_SECONDS. The test accuracy is computed by the grader (argmax of your
model's logits), after each epoch, not taken from your evaluate.

Measured with the reference on the 2-core machine this kata was built on (float32, one BLAS thread,
other jobs running): 30-35 s per epoch, test accuracy 98.25%, 98.57%, 98.95%, 99.15% after epochs 1-4,
127 s of training and 2.4 minutes for the whole run. BUDGET_SECONDS = 900 is 7x the reference's
training time. A plain textbook version (channels-first, per-sample (C*kh*kw, OH*OW) columns, col2im
by kh*kw slice adds, pooling by reshape and argmax) measured 152 ms per batch in float32 (about 285 s
for 4 epochs) and 276 ms in float64 (about 520 s): both pass. A Python loop over pixels or samples, or
col2im with np.add.at (unbuffered, tens of times slower than slice adds), does not. The run stops early as soon as the projected time is three times the budget.

quick=True (the repository's own tests): 3,000 training and 1,000 test images, 1 epoch, pass at
QUICK_THRESHOLD.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from grader.milestones.mnist import (DIVERGENCE_ADVICE, EARLY_END, Progress, Stop, WatchedLoss,
                                     WatchedOptimizer, accuracy_of, check_budget, diverged, ended_early,
                                     learner_modules, load_mnist, loss_value)

TIME_LIMIT = 1200           # the grader kills the milestone's process after this (seconds)
SEED = 20261125
BATCH_SIZE = 128
# One learning rate per epoch, each epoch with a fresh SGD: large steps first, then smaller ones to settle
# into the minimum. Measured with the reference: 98.3%, 98.5%, 99.0%, 99.1% after epochs 1-4 (a constant
# 0.05 gives 98.7% after 3 epochs; (0.05, 0.02, 0.005) gives 98.96%).
LR_SCHEDULE = (0.05, 0.05, 0.02, 0.005)
MOMENTUM = 0.9
THRESHOLD = 0.98            # test accuracy needed (at least)
BUDGET_SECONDS = 900.0      # training time allowed (the calls to train_epoch)
QUICK_THRESHOLD = 0.80
QUICK_BUDGET_SECONDS = 120.0
QUICK_SIZES = (3000, 1000)  # training and test images in quick mode
IMAGE_SHAPE = (1, 28, 28)
TOO_SLOW_ADVICE = ("Loop over the kh*kw kernel offsets only (never over pixels or samples), add with slices "
                   "rather than np.add.at, and keep float32 (`make bench` shows the reference's time per layer)")


def as_images(X: np.ndarray) -> np.ndarray:
    """(N, 784) pixel rows -> (N, 1, 28, 28) single-channel images, float32, contiguous."""
    return np.ascontiguousarray(X.reshape(-1, *IMAGE_SHAPE), dtype=np.float32)


def run(target_dir: Path, out_dir: Path, *, quick: bool = False) -> dict:
    from grader.data import mnist as data

    threshold = QUICK_THRESHOLD if quick else THRESHOLD
    budget = QUICK_BUDGET_SECONDS if quick else BUDGET_SECONDS
    epochs = 1 if quick else len(LR_SCHEDULE)
    try:
        checksums = data.verify()
        X_train, y_train, X_test, y_test = load_mnist(QUICK_SIZES if quick else None)
    except data.DataError as error:
        return {"status": "not-run", "reason": f"the MNIST data cannot be used: {error}"}
    X_train, X_test = as_images(X_train), as_images(X_test)
    record = {"seed": SEED, "threshold": threshold, "budget_seconds": budget, "quick": quick,
              "epochs": epochs, "batch_size": BATCH_SIZE, "lr_schedule": LR_SCHEDULE[:epochs], "momentum": MOMENTUM,
              "train_size": len(X_train), "test_size": len(X_test), "data_sha256": checksums}
    print(f"CNN milestone{' (QUICK mode: a subset, 1 epoch)' if quick else ''}: pass at test accuracy >= "
          f"{100 * threshold:.0f}% with training in at most {budget:.0f} s; seed {SEED}; "
          f"{len(X_train)} training / {len(X_test)} test images of shape {IMAGE_SHAPE}, {epochs} epoch(s).")
    try:
        m = learner_modules(target_dir)
        return train(m, epochs, budget, X_train, y_train, X_test, y_test, record)
    except FloatingPointError as error:  # e.g. training.TrainingDiverged
        return {**record, "status": "failed", "reason": f"{type(error).__name__}: {error} {DIVERGENCE_ADVICE}"}
    except EARLY_END as error:
        return ended_early(record, error)


def train(m, epochs, budget, X_train, y_train, X_test, y_test, record) -> dict:
    model = m.conv.build_mnist_cnn(np.random.default_rng(SEED))
    logits = np.asarray(model.forward(X_test[:2]))
    if logits.shape != (2, 10):
        return {**record, "status": "failed", "reason": (
            f"build_mnist_cnn's model maps 2 images of shape {IMAGE_SHAPE} to logits of shape {logits.shape}, "
            "expected (2, 10): check the output shapes of Conv2d, MaxPool2d and Flatten")}
    steps_per_epoch = math.ceil(len(X_train) / BATCH_SIZE)
    total_steps = steps_per_epoch * epochs
    progress = Progress(epochs, steps_per_epoch)
    state = {"steps": 0, "train_seconds": 0.0, "epoch_started": None}

    def elapsed() -> float:
        return state["train_seconds"] + (time.perf_counter() - state["epoch_started"])

    def check_loss(value):
        if not np.isfinite(loss_value(value)):
            raise Stop({**record, **diverged(f"during epoch {progress.epoch} (after {state['steps']} steps)",
                                             loss_value(value))})

    def on_step():
        state["steps"] += 1
        progress.step(loss_value(loss_fn.last) if loss_fn.last is not None else None)
        check_budget(elapsed(), state["steps"], total_steps, budget, TOO_SLOW_ADVICE, progress)

    loss_fn = WatchedLoss(m.losses.SoftmaxCrossEntropy(), on_value=check_loss)
    rng = np.random.default_rng(SEED)
    history = {"loss": [], "test_accuracy": [], "epoch_seconds": []}
    for epoch in range(1, epochs + 1):
        optimizer = WatchedOptimizer(m.optim.SGD(model.parameters(), lr=LR_SCHEDULE[epoch - 1],
                                                 momentum=MOMENTUM), on_step)
        state["epoch_started"] = time.perf_counter()
        loss = m.training.train_epoch(model, loss_fn, optimizer, X_train, y_train, batch_size=BATCH_SIZE,
                                      rng=rng, epoch=epoch)
        seconds = time.perf_counter() - state["epoch_started"]
        state["train_seconds"] += seconds
        accuracy = accuracy_of(model, X_test, y_test, batch_size=1000)
        history["loss"].append(loss_value(loss))
        history["test_accuracy"].append(accuracy)
        history["epoch_seconds"].append(round(seconds, 2))
        progress.end_epoch(f"loss {loss_value(loss):.4f}, test {100 * accuracy:.2f}% "
                           f"(train {seconds:.1f}s)")

    accuracy = history["test_accuracy"][-1]
    train_seconds = state["train_seconds"]
    print(f"test accuracy (computed by the grader) {100 * accuracy:.2f}%; training time {train_seconds:.1f} s "
          f"(budget {budget:.0f} s)")
    record.update(test_accuracy=round(accuracy, 5), train_seconds=round(train_seconds, 2), history=history)
    if accuracy < record["threshold"]:
        return {**record, "status": "failed", "reason": (
            f"test accuracy {100 * accuracy:.2f}% is below {100 * record['threshold']:.0f}% after {epochs} "
            "epoch(s). The conv tests pass, so suspect what they do not see: a layer left out of "
            "build_mnist_cnn, float32 precision lost in a float16 copy, or the optimiser or training loop")}
    if train_seconds > budget:
        return {**record, "status": "failed", "reason": f"training took {train_seconds:.1f} s, over the "
                f"budget of {budget:.0f} s, although it reached {100 * accuracy:.2f}%"}
    return {**record, "status": "passed", "reason": (
        f"test accuracy {100 * accuracy:.2f}% >= {100 * record['threshold']:.0f}% in {train_seconds:.1f} s of "
        f"training (budget {budget:.0f} s){' [quick mode]' if record['quick'] else ''}")}

"""Benchmark `optimizers`: SGD, SGD with momentum and Adam on the same short MNIST run (reference code).

Each optimiser trains the reference MLP (`training.build_mnist_model`, the same seed, so the same
initial weights) for 2 epochs on the first 10,000 training images, with batches of 128 in the same
order (the same shuffling seed), through the reference `training.train_epoch`. The loss of every
mini-batch is recorded; the printed "final loss" is the mean over the last 20 steps (one batch is
noisy), and the test accuracy is on the 10,000 test images.

Learning rates are each optimiser's usual default for this problem, not tuned per run: plain SGD 0.1,
SGD + momentum 0.9 with lr 0.1 (effective step lr / (1 - momentum) = 1.0 once the velocity builds up),
Adam 0.001. The loss curves go to a PNG (.grade/optimizers.png unless a path is given).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from grader.core.manifest import ROOT, SOLUTIONS_DIR
from grader.milestones.skeleton import Watched, accuracy_of, learner_modules, loss_value

SEED = 20261125
TRAIN_SIZE, EPOCHS = 10000, 2
QUICK_TRAIN_SIZE, QUICK_EPOCHS = 2000, 1
BATCH_SIZE = 128
DEFAULT_PLOT = ROOT / ".grade" / "optimizers.png"

RECIPES = [
    ("SGD (lr 0.1)", "SGD", {"lr": 0.1}),
    ("SGD + momentum 0.9 (lr 0.1)", "SGD", {"lr": 0.1, "momentum": 0.9}),
    ("Adam (lr 0.001)", "Adam", {"lr": 1e-3}),
]


def run(quick: bool = False, out: str | Path | None = None) -> dict:
    from tabulate import tabulate

    from grader.data import mnist
    from grader.milestones.plots import loss_curves

    ref = learner_modules(SOLUTIONS_DIR)
    size, epochs = (QUICK_TRAIN_SIZE, QUICK_EPOCHS) if quick else (TRAIN_SIZE, EPOCHS)
    X, y = mnist.load("train")
    X, y = X[:size], y[:size]
    X_test, y_test = mnist.load("test")
    print(f"{epochs} epoch(s) on {size} training images, batch {BATCH_SIZE}, same initial weights and batch "
          "order for each optimiser (reference code).")
    curves, rows, results = {}, [], {}
    for label, name, options in RECIPES:
        model = ref.training.build_mnist_model(np.random.default_rng(SEED))
        losses: list[float] = []
        loss_fn = Watched(ref.losses.SoftmaxCrossEntropy(), "forward", lambda v: losses.append(loss_value(v)))
        optimizer = getattr(ref.optim, name)(model.parameters(), **options)
        rng = np.random.default_rng(SEED + 1)
        for epoch in range(1, epochs + 1):
            ref.training.train_epoch(model, loss_fn, optimizer, X, y, batch_size=BATCH_SIZE, rng=rng,
                                     epoch=epoch)
        final = float(np.mean(losses[-20:]))
        accuracy = accuracy_of(model, X_test, y_test)
        curves[label] = losses
        rows.append([label, f"{losses[0]:.4f}", f"{final:.4f}", f"{100 * accuracy:.2f}"])
        results[label] = {"first_loss": losses[0], "final_loss": final, "test_accuracy": accuracy,
                          "steps": len(losses)}
    print(tabulate(rows, headers=["optimiser", "first loss", "final loss (last 20 steps)", "test acc %"],
                   tablefmt="simple", disable_numparse=True))
    path = loss_curves(curves, Path(out) if out else DEFAULT_PLOT,
                       title=f"MNIST MLP: training loss per mini-batch ({epochs} epoch(s), {size} images)",
                       xlabel="mini-batch step", ylabel="loss (moving average of 10 steps)", smooth=10)
    print(f"loss curves written to {path}")
    return {"results": results, "plot": str(path)}


if __name__ == "__main__":
    run()

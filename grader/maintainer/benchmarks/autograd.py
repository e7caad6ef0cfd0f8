"""Benchmark `autograd`: one epoch of MNIST training with the reference autograd engine against PyTorch.

The same network and recipe on both sides: MLP 784-256-128-10 with ReLU, float32, fused softmax
cross-entropy, SGD with lr 0.1 and momentum 0.9, mini-batches of 128 from one permutation of the 60,000
training images. The reference side is exactly the autograd_mnist milestone's loop on solutions/
(Tensors from `autograd`, `optim.SGD`, `training.minibatches`); the PyTorch side is the ordinary loop
(zero_grad, forward, cross_entropy, backward, step). Both start from the same weights.

How it is measured:
  - each framework runs in a FRESH Python process (no shared caches, threads or allocator state), both
    single-threaded (OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=1, and PyTorch set to NumPy's OpenBLAS thread
    count): the ratio then measures the engine's own overhead rather than BLAS threading, it is stable
    on a machine busy with other work, and the benchmark leaves the other core free;
  - 10 untimed warm-up steps, then perf_counter around one epoch;
  - ROUNDS rounds, alternating the frameworks, and the fastest epoch of each is kept: other processes on
    the machine slow a run down, never speed it up, so the minimum is the fairest estimate;
  - test accuracy on the 10,000 test images after the first round's epoch.
Goal: the engine's epoch within 1.3x of PyTorch's (ratio <= 1.3).
"""

from __future__ import annotations

import sys
import time
from types import SimpleNamespace

import numpy as np

from grader.maintainer.benchmarks import common
from grader.core.manifest import SOLUTIONS_DIR

MODULE = "grader.maintainer.benchmarks.autograd"
# One BLAS thread for both frameworks, set before the child imports NumPy (see the docstring).
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

LEARNING_RATE = 0.1
MOMENTUM = 0.9
BATCH_SIZE = 128
SEED = 20261125
WARMUP_STEPS = 10
QUICK_TRAIN = 10000
ROUNDS = 2
GOAL_RATIO = 1.3


def child(framework: str, quick: bool) -> dict:
    """One epoch with one framework in this (fresh) process; returns the measurements."""
    from grader.data import mnist
    from grader.milestones.autograd_mnist import build_parameters, logits_of, numpy_accuracy
    from grader.milestones.speed import numpy_blas_threads, torch_copy
    from grader.core.target import Modules, load_package

    ref = Modules(load_package(SOLUTIONS_DIR, own=None))
    X, y = mnist.load("train")
    X_test, y_test = mnist.load("test")
    if quick:
        X, y = X[:QUICK_TRAIN], y[:QUICK_TRAIN]
    threads, how = numpy_blas_threads()
    params = build_parameters(ref.autograd, np.random.default_rng(SEED))
    rng = np.random.default_rng(SEED + 1)

    if framework == "autograd":
        ag = ref.autograd
        optimizer = ref.optim.SGD(params, lr=LEARNING_RATE, momentum=MOMENTUM)

        def epoch(X_part, y_part, generator):
            for X_batch, y_batch in ref.training.minibatches(X_part, y_part, BATCH_SIZE, rng=generator):
                optimizer.zero_grad()
                loss = ag.cross_entropy(logits_of(ag, params, X_batch), y_batch)
                loss.backward()
                optimizer.step()

        warm = WARMUP_STEPS * BATCH_SIZE
        epoch(X[:warm], y[:warm], np.random.default_rng(0))
        started = time.perf_counter()
        epoch(X, y, rng)
        seconds = time.perf_counter() - started
        accuracy = numpy_accuracy(params, X_test, y_test)
        version = f"numpy {np.__version__}"
    else:
        import torch

        torch.set_num_threads(threads)
        # The parameters come in (W, b) pairs, one pair per Linear layer; torch_copy reads W.data, b.data.
        linears = [SimpleNamespace(W=params[index], b=params[index + 1]) for index in range(0, len(params), 2)]
        net = torch_copy(torch, linears)
        optimizer = torch.optim.SGD(net.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
        X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)

        warm_order = np.random.default_rng(0).permutation(WARMUP_STEPS * BATCH_SIZE)
        common.torch_epoch(net, optimizer, X_t, y_t, warm_order, BATCH_SIZE)
        started = time.perf_counter()
        # The permutation is drawn inside the timed region, as minibatches draws its own.
        common.torch_epoch(net, optimizer, X_t, y_t, rng.permutation(len(X)), BATCH_SIZE)
        seconds = time.perf_counter() - started
        accuracy = common.torch_accuracy(net, X_test, y_test)
        version = f"torch {torch.__version__}"
    return {"framework": framework, "epoch_seconds": seconds, "test_accuracy": accuracy, "threads": threads,
            "threads_source": how, "train_size": len(X), "version": version}


def run(quick: bool = False) -> dict:
    from tabulate import tabulate

    skipped = common.torch_unavailable()
    if skipped:
        return skipped
    rounds = 1 if quick else ROUNDS
    print(f"One epoch of MLP 784-256-128-10 ReLU, float32, SGD lr {LEARNING_RATE} momentum {MOMENTUM}, batch "
          f"{BATCH_SIZE}" + (f", QUICK: {QUICK_TRAIN} images" if quick else ", 60,000 images")
          + f"; reference autograd engine vs PyTorch autograd, each in a fresh process, best of {rounds}.")
    runs: dict[str, list[dict]] = {"autograd": [], "torch": []}
    for _ in range(rounds):
        for name in ("torch", "autograd"):
            runs[name].append(common.run_child(MODULE, name, quick, env=ONE_THREAD))
    best = {name: min(r["epoch_seconds"] for r in results) for name, results in runs.items()}
    ours, theirs = runs["autograd"][0], runs["torch"][0]
    rows = [[f"reference autograd ({ours['version']})", f"{best['autograd']:.3f}",
             " ".join(f"{r['epoch_seconds']:.2f}" for r in runs["autograd"]), f"{100 * ours['test_accuracy']:.2f}"],
            [theirs["version"], f"{best['torch']:.3f}",
             " ".join(f"{r['epoch_seconds']:.2f}" for r in runs["torch"]), f"{100 * theirs['test_accuracy']:.2f}"]]
    print(tabulate(rows, headers=["", "best epoch s", "all rounds s", "test acc %"], tablefmt="simple",
                   disable_numparse=True))
    ratio = best["autograd"] / best["torch"]
    print(f"threads: {ours['threads']} each ({ours['threads_source']})")
    print(f"time ratio reference autograd / PyTorch = {ratio:.2f} (goal <= {GOAL_RATIO}: "
          f"{'met' if ratio <= GOAL_RATIO else 'NOT met'})")
    return {"autograd_epoch_seconds": best["autograd"], "torch_epoch_seconds": best["torch"],
            "time_ratio": ratio, "goal_ratio": GOAL_RATIO, "goal_met": ratio <= GOAL_RATIO,
            "autograd_test_accuracy": ours["test_accuracy"], "torch_test_accuracy": theirs["test_accuracy"],
            "threads": ours["threads"], "rounds": rounds, "quick": quick, "runs": runs}


def main(argv=None) -> int:
    return common.main(MODULE, ("autograd", "torch"), child, run, argv)


if __name__ == "__main__":
    sys.exit(main())

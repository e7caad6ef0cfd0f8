"""Benchmark `training`: the textbook and the performance references against PyTorch, step by step,
for the MLP, the CNN and the autograd MLP, with peak memory and test accuracy.

Workloads (batch 128 of MNIST, SGD with momentum 0.9, float32, the same initial weights for every variant):
    mlp       MLP 784-256-128-10 ReLU, lr 0.1, one epoch (469 steps)
    cnn       the CNN of the `cnn` milestone (conv.build_mnist_cnn), lr 0.05, CNN_STEPS steps
    autograd  the autograd_mnist MLP written with the reference autograd engine, lr 0.1, one epoch
Variants:
    textbook     the reference solutions' layers, loss and optimiser (zero_grad, forward, loss,
                 backward, step), or the autograd engine's Tensors
    performance  solutions/performance.py's FastMLP / FastCNN (no autograd variant)
    torch        the same model in torch.nn, torch.optim.SGD, cross_entropy
Each variant trains in a FRESH process (stopwatch.run_fresh: one BLAS thread, torch.set_num_threads(1))
on the same batches, one permutation of the 60,000 training images, and reports:
  - time: the median over the steps after WARMUP of each step's CPU time (time.thread_time: with one
    thread PyTorch works there too; stopwatch.py says why CPU time decides), and of its wall clock;
  - memory: the peak resident set size (VmHWM after /proc/self/clear_refs) above the level after the
    imports, the data and the initial weights, and the minor page faults per step;
  - accuracy: on the 10,000 test images after the last step.
ratio = a variant's median step / PyTorch's (CPU time); `make bench` writes them to .grade/bench.json as
{"mlp": {"textbook": r, "performance": r}, "cnn": {...}, "autograd": {"textbook": r}}. Then the profiles
of the textbook and performance CNN steps (the speed milestone's part timer, the reference's Profiler: their
parts add up to the step).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
import types
from pathlib import Path

import numpy as np

from grader.core.manifest import SOLUTIONS_DIR
from grader.milestones import autograd_mnist
from grader.milestones.skeleton import SEED, accuracy_of, initial_weights, learner_modules
from grader.milestones.speed import print_profile
from grader.milestones.steps import (BATCH_SIZE, MOMENTUM, FastStep, TextbookStep, own_profile, part_profile,
                                     peak_kib, reset_peak, textbook_model)
from grader.milestones.stopwatch import TorchStep, run_fresh

MODULE = "grader.maintainer.benchmarks.training"
WARMUP = 5
CNN_STEPS = 200
PROFILED_STEPS = 10
# workload: (learning rate, steps (None: one epoch), variants)
WORKLOADS = {
    "mlp": (0.1, None, ("textbook", "performance", "torch")),
    "cnn": (0.05, CNN_STEPS, ("textbook", "performance", "torch")),
    "autograd": (0.1, None, ("textbook", "torch")),
}
QUICK_STEPS = {"mlp": 30, "cnn": 8, "autograd": 30}
QUICK_TEST = 2000


# ---------------------------------------------------------------------------------------------------
# In the child


def _initial_parameters(ref, workload: str) -> list[np.ndarray]:
    if workload == "cnn":
        return [np.array(p.data, dtype=np.float32) for p in textbook_model(ref, "cnn", SEED).parameters()]
    return initial_weights(autograd_mnist.SHAPES, np.random.default_rng(SEED))  # the same MLP as autograd's


def _variant_step(ref, variant: str, workload: str, params, lr: float):
    """(step(x, labels, profiler=None) -> loss, predict(x) -> logits) of one variant, from `params`: the
    milestones' own steps (steps.py, stopwatch.py, autograd_mnist.py) at the benchmark's learning rate."""
    if variant == "torch":
        import torch

        shadow = TorchStep(torch, "cnn" if workload == "cnn" else "mlp", params, lr=lr)
        return (lambda x, labels, profiler=None: shadow.train(x, labels)), shadow.predict
    if workload == "autograd":  # not profiled: its parts are the engine's, not layers
        ag = ref.autograd
        tensors = autograd_mnist.build_parameters(ag, [value.copy() for value in params])
        optimizer = ref.optim.SGD(tensors, lr=lr, momentum=MOMENTUM)

        def autograd_step(x, labels, profiler=None):
            return autograd_mnist.train_step(ag, optimizer, tensors, x, labels)

        def predict(x):
            with ag.no_grad():
                return np.asarray(autograd_mnist.logits_of(ag, tensors, x).data)
        return autograd_step, predict
    if variant == "performance":
        fast = FastStep(ref, workload, params, lr=lr)
        # The trained parameters through the plain textbook forward (evaluation needs no fast step).
        return fast, lambda x: _textbook(ref, workload, fast.parameters(), lr).model.forward(x)
    textbook = _textbook(ref, workload, params, lr)
    return textbook, lambda x: np.asarray(textbook.model.forward(x))


def _textbook(ref, workload: str, params, lr: float) -> TextbookStep:
    """The reference layers' MLP or CNN with the given parameters, and its step (loss, SGD)."""
    model = textbook_model(ref, workload, SEED)
    for p, value in zip(model.parameters(), params):
        p.data[...] = value
    return TextbookStep(ref, model, lr=lr)


def child(variant: str, workload: str, quick: bool) -> dict:
    """Train one variant of one workload in this fresh process; return its measurements."""
    from grader.data import mnist

    if variant == "torch":
        import torch  # before the baseline: its import is not training memory

        torch.set_num_threads(1)
    lr, steps, _ = WORKLOADS[workload]
    ref = learner_modules(SOLUTIONS_DIR)
    X, y = mnist.load("train")
    X_test, y_test = mnist.load("test")
    if quick:
        X_test, y_test = X_test[:QUICK_TEST], y_test[:QUICK_TEST]
    if workload == "cnn":
        X, X_test = X.reshape(-1, 1, 28, 28), X_test.reshape(-1, 1, 28, 28)
    order = np.random.default_rng(SEED + 1).permutation(len(X))
    total_steps = QUICK_STEPS[workload] if quick else (steps or -(-len(X) // BATCH_SIZE))
    params = _initial_parameters(ref, workload)
    base, method = reset_peak()
    step, predict = _variant_step(ref, variant, workload, params, lr)
    cpu, wall, losses, faults = [], [], [], 0
    for index in range(total_steps):
        batch = order[(index * BATCH_SIZE) % len(X):][:BATCH_SIZE]
        x, labels = np.ascontiguousarray(X[batch]), y[batch]
        if index == WARMUP:
            faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        started_cpu, started_wall = time.thread_time(), time.perf_counter()
        losses.append(step(x, labels))
        if index >= WARMUP:
            wall.append(time.perf_counter() - started_wall)
            cpu.append(time.thread_time() - started_cpu)
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / max(1, len(cpu))
    peak = peak_kib(method)
    accuracy = accuracy_of(types.SimpleNamespace(forward=predict), X_test, y_test, batch_size=1000)
    profile = None  # after the accuracy: profiling trains a few more steps
    if variant in ("textbook", "performance") and workload == "cnn":
        batches = [(np.ascontiguousarray(X[rows]), y[rows]) for rows in
                   order[:BATCH_SIZE * (2 if quick else PROFILED_STEPS)].reshape(-1, BATCH_SIZE)]
        title = f"Where a {variant} CNN step goes"
        if variant == "performance":
            profile = own_profile(ref, step, batches, title)["text"]
        else:  # the reference's layers timed part by part, as the speed milestone times the learner's
            lines = [title]
            print_profile({tuple(row[:3]): row[3] for row in part_profile(step, batches)}, out=lines.append)
            profile = "\n".join(lines)
    return {"variant": variant, "workload": workload, "steps": total_steps, "timed_steps": len(cpu),
            "cpu_ms": 1e3 * statistics.median(cpu), "wall_ms": 1e3 * statistics.median(wall),
            "peak_extra_mib": max(0, peak - base) / 1024.0, "base_mib": base / 1024.0, "faults_per_step": faults,
            "memory_method": method, "test_accuracy": accuracy, "last_loss": losses[-1],
            "profile": profile}


# ---------------------------------------------------------------------------------------------------
# In the parent


def run(quick: bool = False) -> dict:
    from tabulate import tabulate

    try:
        import torch  # noqa: F401  (only to know whether the comparison can run)
    except ImportError as error:
        print(f"(skipped: PyTorch cannot be imported: {error})")
        return {"status": "skipped", "reason": "no torch"}
    print("Each variant trains in a fresh process, one thread each; step = median per-step CPU time after "
          f"{WARMUP} warm-up steps (wall-clock median beside it); ratio = step / PyTorch's step; peak extra = "
          "resident memory above the level before training; accuracy on the "
          f"{QUICK_TEST if quick else 10000} test images after the last step." + (" QUICK mode." if quick else ""),
          flush=True)
    results, ratios, rows, profiles = {}, {}, [], []
    for workload, (lr, steps, variants) in WORKLOADS.items():
        results[workload] = {variant: child_process(variant, workload, quick) for variant in variants}
        torch_ms = results[workload]["torch"]["cpu_ms"]
        ratios[workload] = {variant: round(r["cpu_ms"] / torch_ms, 3)
                            for variant, r in results[workload].items() if variant != "torch"}
        for variant, r in results[workload].items():
            rows.append([workload, variant, str(r["steps"]), f"{r['cpu_ms']:.3f}", f"{r['wall_ms']:.3f}",
                         f"{r['cpu_ms'] / torch_ms:.2f}", f"{r['peak_extra_mib']:.1f}", f"{r['faults_per_step']:.0f}",
                         f"{100 * r['test_accuracy']:.2f}"])
            if r.get("profile"):
                profiles.append(r["profile"])
        print(f"  {workload} done (lr {lr})", flush=True)
    print(tabulate(rows, headers=["workload", "variant", "steps", "step ms (CPU)", "wall ms", "ratio",
                                  "peak extra MiB", "faults/step", "test acc %"],
                   tablefmt="simple", disable_numparse=True))
    for profile in profiles:
        print(profile)
    return {"ratios": ratios, "results": results}


def child_process(variant: str, workload: str, quick: bool) -> dict:
    """child() in a fresh process (stopwatch.run_fresh, one BLAS thread from before NumPy is imported)."""
    try:
        return run_fresh(MODULE, ["--child", variant, "--workload", workload] + (["--quick"] if quick else []))
    except RuntimeError as error:
        raise RuntimeError(f"the {variant} benchmark process failed:\n{error}") from None


def main(argv: list[str] | None = None) -> int:
    """child_process's child: one variant's measurements, as JSON in --out (`make bench` runs the rest)."""
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}")
    parser.add_argument("--child", choices=("textbook", "performance", "torch"), required=True)
    parser.add_argument("--workload", choices=sorted(WORKLOADS), required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    Path(args.out).write_text(json.dumps(child(args.child, args.workload, args.quick)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

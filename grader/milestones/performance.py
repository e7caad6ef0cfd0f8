"""Milestones `fast_mlp` and `fast_cnn` (stretch): your fast training step against your own textbook
step and against PyTorch, timed in the same run.

Three steps on the same model, from the same initial weights, on batches of 128 real MNIST training
images (a cycle of BATCHES batches, the same for all three):
    textbook  your own layers, loss and optimiser: zero_grad, forward, SoftmaxCrossEntropy, backward,
              SGD.step. MLP 784-256-128-10 with ReLU (Linear and ReLU from your layers.py and
              activations.py, float32); CNN from your conv.build_mnist_cnn (the `cnn` milestone's model);
    fast      your performance.FastMLP or FastCNN, built from the textbook model's initial parameters;
    PyTorch   the same model in torch.nn with the same weights, torch.optim.SGD, cross_entropy.
SGD with lr LEARNING_RATE and momentum MOMENTUM on all three. The first step of each must give the same
loss (else different computations would be timed).

Timing. One thread each: NumPy's OpenBLAS is set to 1 thread and PyTorch to as many as OpenBLAS then
reports (torch.set_num_threads); a step of these sizes gains little from a second core, and two
threads per library on a busy machine stall at barriers. After warm-up steps, the three are timed in
alternating rounds (so that background load hits them alike), every step on its own, and the time of a
step is the MEDIAN over all its timed steps. Each step is timed by the CPU time of the thread running
it (time.thread_time; with one thread PyTorch too does all its work there, and the milestone says so if
the whole process's CPU time disagrees), not by the wall clock: on a machine shared with other jobs, a step longer than the
scheduler's time slice is interrupted far more often than a shorter one, so wall-clock medians punish
the slower step twice. Measured here with six other jobs on the two cores (reference code, MLP): wall
medians textbook 10.8, fast 1.6, PyTorch 11.2 ms; CPU-time medians 3.0, 1.7, 3.3 ms. Both are printed;
the CPU times decide.

Passes when BOTH hold (thresholds in WORKLOADS, set from the measurements below):
    speed-up = your textbook step / your fast step >= min_speedup   (plain textbook code scores 1.0)
    ratio    = your fast step / PyTorch's step      <= max_ratio
Measured with the reference (the textbook solutions and solutions/performance.py) on the 2-core machine
the kata was built on, one thread each, CPU-time medians, other jobs running (load average 10-14):
    MLP  textbook 2.88 ms, fast 1.62 ms, PyTorch 2.61 ms: speed-up 1.78, ratio 0.62 (another run: 1.93,
         0.50). Thresholds: speed-up >= 1.4, ratio <= 0.9 (0.48 ms of PyTorch's step is fixed cost per
         step, against 0.30 ms for the fast one; float32, no first-layer dL/dx, buffers and the fused
         loss alone get there).
    CNN  textbook 132.7 ms, fast 45.2 ms, PyTorch 33.9 ms: speed-up 2.93, ratio 1.33 (make bench, 200
         steps in fresh processes: 2.84 and 1.47). Thresholds: speed-up >= 2.0, ratio <= 2.2 (channels-last
         im2col, col2im per offset into one buffer and pooling without window copies get there; the
         textbook step is 3.9-4.2x PyTorch's).

Then your step is profiled with your own Profiler (its parts add up to the profiled step), and the peak
memory of each variant is measured in a FRESH process each: the peak resident set size (VmHWM, reset
through /proc/self/clear_refs after the imports, the data and your textbook model's initial weights)
above the resident size at that point, over warm-up plus a few steps, and the minor page faults per
step. Memory is reported, not judged.

quick=True (the repository's own tests): fewer timed steps and memory steps, and looser thresholds
(QUICK_*): it checks that the milestone runs, not how fast.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

try:  # the milestones' shared helpers (thread pinning, the learner's modules, unfinished code)
    from grader.milestones.skeleton import (learner_modules, numpy_blas_threads, set_numpy_blas_threads,
                                            unfinished)
except ImportError:
    from grader.milestones.mnist import learner_modules, unfinished
    from grader.milestones.speed import numpy_blas_threads, set_numpy_blas_threads

from grader.core.manifest import ROOT

TIME_LIMIT = 600
THREADS = 1
BATCH_SIZE = 128
BATCHES = 8
LEARNING_RATE = 0.01
MOMENTUM = 0.9
SEED = 20261125
SIZES = (784, 256, 128, 10)
IMAGE_SHAPE = (1, 28, 28)
VARIANTS = ("textbook", "fast", "torch")


@dataclass(frozen=True)
class Plan:
    warmup: int       # untimed steps of each variant first
    rounds: int       # alternating rounds
    per_round: int    # timed steps of each variant per round
    profiled: int     # steps profiled with the learner's Profiler
    memory_steps: int  # steps in each memory process (after one warm-up step)


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    min_speedup: float
    max_ratio: float
    full: Plan
    quick: Plan


WORKLOADS = {
    "mlp": Workload("mlp", "MLP 784-256-128-10 ReLU", min_speedup=1.4, max_ratio=0.9,
                    full=Plan(20, 10, 10, 50, 20), quick=Plan(3, 5, 1, 5, 3)),
    "cnn": Workload("cnn", "CNN of the cnn milestone", min_speedup=2.0, max_ratio=2.2,
                    full=Plan(2, 5, 2, 5, 3), quick=Plan(1, 5, 1, 2, 1)),
}
QUICK_MIN_SPEEDUP = 1.1
QUICK_RATIO_FACTOR = 2.0  # quick mode allows this multiple of max_ratio


# ---------------------------------------------------------------------------------------------------
# The three steps


def load_batches(workload: str, count: int = BATCHES) -> list[tuple[np.ndarray, np.ndarray]]:
    """`count` batches of BATCH_SIZE real MNIST training images (float32) and their labels."""
    from grader.data import mnist

    X, y = mnist.load("train")
    X = X[:count * BATCH_SIZE]
    if workload == "cnn":
        X = X.reshape(-1, *IMAGE_SHAPE)
    X = np.ascontiguousarray(X, dtype=np.float32)
    return [(X[i:i + BATCH_SIZE], y[i:i + BATCH_SIZE].copy()) for i in range(0, len(X), BATCH_SIZE)]


def textbook_model(m, workload: str):
    """The learner's own model of the workload, float32, seeded."""
    rng = np.random.default_rng(SEED)
    if workload == "cnn":
        return m.conv.build_mnist_cnn(rng)
    layers = []
    for index, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        if index:
            layers.append(m.activations.ReLU())
        layers.append(m.layers.Linear(n_in, n_out, rng=rng, dtype=np.float32))
    return m.network.Sequential(*layers)


def torch_model(torch, workload: str, params: list[np.ndarray]):
    """The same model in torch.nn with the given parameters (textbook order and layouts)."""
    nn = torch.nn
    if workload == "cnn":
        (c1, c0, k, _), c2 = params[0].shape, params[2].shape[0]
        net = nn.Sequential(nn.Conv2d(c0, c1, k, padding=k // 2), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Conv2d(c1, c2, k, padding=k // 2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                            nn.Linear(*params[4].shape))
        targets = [net[0].weight, net[0].bias, net[3].weight, net[3].bias, net[7].weight, net[7].bias]
    else:
        modules = []
        for index in range(0, len(params), 2):
            if index:
                modules.append(nn.ReLU())
            modules.append(nn.Linear(*params[index].shape))
        net = nn.Sequential(*modules)
        targets = [p for module in net if isinstance(module, nn.Linear) for p in (module.weight, module.bias)]
    with torch.no_grad():
        for target, value in zip(targets, params):
            value = np.asarray(value, dtype=np.float32)
            if target.dim() == 2 and value.ndim == 2:  # torch.nn.Linear keeps W transposed: (out, in)
                value = value.T
            target.copy_(torch.from_numpy(np.ascontiguousarray(value)))
    return net


def make_step(variant: str, m, workload: str, model, params, batches, torch=None):
    """A function running one training step of `variant` on the next batch of the cycle; returns the loss."""
    state = {"next": 0}

    def batch():
        x, labels = batches[state["next"] % len(batches)]
        state["next"] += 1
        return x, labels

    if variant == "textbook":
        loss_fn = m.losses.SoftmaxCrossEntropy()
        optimizer = m.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)

        def step():
            x, labels = batch()
            optimizer.zero_grad()
            loss = loss_fn.forward(model.forward(x), labels)
            model.backward(loss_fn.backward())
            optimizer.step()
            return float(loss)
        return step
    if variant == "fast":
        kind = m.performance.FastCNN if workload == "cnn" else m.performance.FastMLP
        options = {"image_shape": IMAGE_SHAPE} if workload == "cnn" else {}
        fast = kind(params, lr=LEARNING_RATE, momentum=MOMENTUM, batch_size=BATCH_SIZE, **options)

        def step(profiler=None):
            x, labels = batch()
            return float(fast.step(x, labels, profiler))
        step.fast = fast
        return step
    net = torch_model(torch, workload, params)
    optimizer = torch.optim.SGD(net.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    tensors = [(torch.from_numpy(x), torch.from_numpy(labels)) for x, labels in batches]

    def step():
        x, labels = tensors[state["next"] % len(tensors)]
        state["next"] += 1
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x), labels)
        loss.backward()
        optimizer.step()
        return float(loss.detach())
    return step


def time_steps(steps: dict, plan: Plan) -> dict[str, dict[str, list[float]]]:
    """Warm each step up, then time alternating rounds; {name: {"cpu": [s, ...], "wall": [...], "process": [...]}}:
    the CPU time of this thread, the wall clock and the CPU time of the whole process, per step."""
    for step in steps.values():
        for _ in range(plan.warmup):
            step()
    samples = {name: {"cpu": [], "wall": [], "process": []} for name in steps}
    for _ in range(plan.rounds):
        for name, step in steps.items():
            for _ in range(plan.per_round):
                cpu, wall, process = time.thread_time(), time.perf_counter(), time.process_time()
                step()
                samples[name]["wall"].append(time.perf_counter() - wall)
                samples[name]["cpu"].append(time.thread_time() - cpu)
                samples[name]["process"].append(time.process_time() - process)
    return samples


# ---------------------------------------------------------------------------------------------------
# Memory, in a fresh process per variant


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def memory_child(variant: str, workload: str, target: str, steps: int) -> dict:
    """In a fresh process: build everything, reset the peak, train warm-up + `steps` steps, measure."""
    from grader.core import target as targets

    set_numpy_blas_threads(THREADS)
    torch = None
    if variant == "torch":
        import torch

        torch.set_num_threads(THREADS)
    m = learner_modules(targets.resolve(target))
    batches = load_batches(workload)
    model = textbook_model(m, workload)
    params = [np.array(p.data, dtype=np.float32) for p in model.parameters()]
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")  # VmHWM, the peak resident set size, starts again from the current size
        method = "VmHWM after /proc/self/clear_refs"
    except OSError:
        method = "ru_maxrss (the lifetime peak)"
    base = _status_kib("VmRSS") or 0
    step = make_step(variant, m, workload, model, params, batches, torch)
    step()  # warm-up: first-touch allocations belong to the peak, not to the per-step faults
    faults = _minor_faults()
    for _ in range(steps):
        step()
    faults = (_minor_faults() - faults) / max(steps, 1)
    if method.startswith("VmHWM"):
        peak = _status_kib("VmHWM") or 0
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"variant": variant, "peak_extra_mib": max(0, peak - base) / 1024.0, "base_mib": base / 1024.0,
            "faults_per_step": faults, "method": method}


def measure_memory(workload: str, target_dir: Path, steps: int) -> dict[str, dict]:
    """{variant: memory_child's result, or {"error": sentence}}: one fresh process per variant."""
    results = {}
    for variant in VARIANTS:
        with tempfile.TemporaryDirectory(prefix="kata-memory-") as scratch:
            out = Path(scratch) / "memory.json"
            command = [sys.executable, "-m", "grader.milestones.performance", "--child", variant, "--workload",
                       workload, "--target", str(target_dir), "--steps", str(steps), "--out", str(out)]
            completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300,
                                       env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS="1",
                                                OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1"))
            if out.exists():
                results[variant] = json.loads(out.read_text())
            else:
                tail = (completed.stdout + completed.stderr).strip().splitlines()[-1:] or ["no output"]
                results[variant] = {"error": f"the {variant} memory process failed: {tail[0]}"}
    return results


# ---------------------------------------------------------------------------------------------------
# The milestone


def measure(m, workload: Workload, plan: Plan, torch, batches) -> dict:
    """First losses, per-step CPU and wall medians of the three variants, and the fast step's profile."""
    model = textbook_model(m, workload.name)
    params = [np.array(p.data, dtype=np.float32) for p in model.parameters()]
    steps = {variant: make_step(variant, m, workload.name, model, params, batches, torch) for variant in VARIANTS}
    first = {variant: step() for variant, step in steps.items()}
    samples = time_steps(steps, plan)
    medians = {variant: {kind: statistics.median(values) for kind, values in sample.items()}
               for variant, sample in samples.items()}
    notes = []
    for variant, sample in samples.items():
        # Work done on other threads (BLAS or PyTorch workers) is not in this thread's CPU time: then the
        # process's CPU time (summed over many steps, as it may tick coarsely) counts instead.
        thread, process = sum(sample["cpu"]), sum(sample["process"])
        if process > 1.1 * thread:
            medians[variant]["cpu"] = statistics.median(sample["process"])
            notes.append(f"the {variant} step also ran on other threads ({1e3 * process / len(sample['cpu']):.3f} ms "
                         f"of process CPU time per step against {1e3 * thread / len(sample['cpu']):.3f} ms on "
                         "the timing thread): its process CPU time is used")
    profiler = m.performance.Profiler()
    for _ in range(plan.profiled):
        profiler.start()
        steps["fast"](profiler)
        profiler.stop()
    return {"first_loss": first, "medians": medians, "steps_timed": len(samples["fast"]["cpu"]),
            "profiler": profiler, "notes": notes}


def run_workload(name: str, target_dir: Path, out_dir: Path, *, quick: bool = False) -> dict:
    workload = WORKLOADS[name]
    plan = workload.quick if quick else workload.full
    try:
        import torch
    except ImportError as error:
        return {"status": "not-run", "reason": f"PyTorch cannot be imported ({error}), so there is nothing to "
                                               "compare the speed with; install the pinned requirements"}
    from grader.data import mnist

    try:
        batches = load_batches(name)
    except mnist.DataError as error:
        return {"status": "not-run", "reason": f"the MNIST data cannot be used: {error}"}
    previous_numpy, _ = numpy_blas_threads()
    previous_torch = torch.get_num_threads()
    set_numpy_blas_threads(THREADS)
    threads, threads_how = numpy_blas_threads()
    torch.set_num_threads(threads)
    min_speedup = QUICK_MIN_SPEEDUP if quick else workload.min_speedup
    max_ratio = workload.max_ratio * (QUICK_RATIO_FACTOR if quick else 1.0)
    print(f"{workload.title}: your textbook step, your fast step and PyTorch's, batch {BATCH_SIZE} of MNIST, SGD "
          f"lr {LEARNING_RATE} momentum {MOMENTUM}, {threads} thread(s) each ({threads_how}); "
          f"{'QUICK mode; ' if quick else ''}median CPU time of {plan.rounds * plan.per_round} steps each, "
          f"timed one by one in {plan.rounds} alternating rounds after {plan.warmup} warm-up steps.", flush=True)
    try:
        try:
            measured = measure(learner_modules(target_dir), workload, plan, torch, batches)
        except (NotImplementedError, ImportError) as error:
            locked = unfinished(error)
            if locked is None:
                raise
            return locked
    finally:
        torch.set_num_threads(previous_torch)
        set_numpy_blas_threads(previous_numpy)
    first, medians = measured["first_loss"], measured["medians"]
    record = {"workload": name, "quick": quick, "threads": threads, "threads_source": threads_how,
              "batch_size": BATCH_SIZE, "steps_timed": measured["steps_timed"], "first_loss": first,
              "min_speedup": min_speedup, "max_ratio": max_ratio,
              "step_ms": {v: round(1e3 * medians[v]["cpu"], 4) for v in VARIANTS},
              "wall_step_ms": {v: round(1e3 * medians[v]["wall"], 4) for v in VARIANTS}}
    for variant in VARIANTS:
        print(f"  {variant:<9} first loss {first[variant]:.6f}   step {1e3 * medians[variant]['cpu']:9.3f} ms CPU "
              f"({1e3 * medians[variant]['wall']:.3f} ms wall)")
    for note in measured["notes"]:
        print(f"  note: {note}")
    tolerance = 1e-3 * max(1.0, abs(first["textbook"]))
    for variant in ("fast", "torch"):
        if not np.isfinite(first[variant]) or abs(first[variant] - first["textbook"]) > tolerance:
            return {**record, "status": "failed", "reason": (
                f"the first loss of the {variant} step ({first[variant]:.6f}) differs from your textbook step's "
                f"({first['textbook']:.6f}) on the same weights and batch: they compute different things "
                + ("(run `make check EX=performance`)" if variant == "fast" else
                   "(is your textbook model the one the milestone describes?)"))}
    speedup = medians["textbook"]["cpu"] / medians["fast"]["cpu"]
    ratio = medians["fast"]["cpu"] / medians["torch"]["cpu"]
    textbook_ratio = medians["textbook"]["cpu"] / medians["torch"]["cpu"]
    print(f"speed-up over your textbook step {speedup:.2f} (pass at >= {min_speedup:g}); your fast step / "
          f"PyTorch's {ratio:.2f} (pass at <= {max_ratio:g}); your textbook step / PyTorch's {textbook_ratio:.2f}")
    summary = measured["profiler"].summary()
    print(measured["profiler"].report("Profile of your fast step (your Profiler)"))
    print(f"(the profiled steps' mean is {summary['total_ms']:.3f} ms of CPU time, the CPU-time median above "
          f"{1e3 * medians['fast']['cpu']:.3f} ms: the difference is the profiler's own laps and other jobs)")
    memory = measure_memory(name, target_dir, plan.memory_steps)
    print("Peak memory above the level before training, each in a fresh process "
          f"({plan.memory_steps} steps after one warm-up step):")
    for variant, result in memory.items():
        if "error" in result:
            print(f"  {variant:<9} {result['error']}")
        else:
            print(f"  {variant:<9} {result['peak_extra_mib']:8.1f} MiB   {result['faults_per_step']:8.1f} minor page "
                  f"faults per step   (resident before: {result['base_mib']:.0f} MiB)")
    record.update(speedup=round(speedup, 3), ratio=round(ratio, 3), textbook_ratio=round(textbook_ratio, 3),
                  profile_ms={k: round(v, 4) for k, v in summary["parts"].items()},
                  profile_total_ms=round(summary["total_ms"], 4), memory=memory)
    problems = []
    if speedup < min_speedup:
        problems.append(f"your fast step is only {speedup:.2f}x faster than your textbook step (needed: "
                        f"{min_speedup:g}x)")
    if ratio > max_ratio:
        problems.append(f"it takes {ratio:.2f}x PyTorch's time (allowed: {max_ratio:g}x)")
    if problems:
        slowest = max(summary["parts"].items(), key=lambda item: item[1], default=("?", 0.0))
        return {**record, "status": "failed", "reason": "; ".join(problems) + (
            f". Your profile's largest part is {slowest[0]!r} ({slowest[1]:.2f} ms of {summary['total_ms']:.2f}): "
            "start there (the lessons of performance.py say what usually helps)")}
    return {**record, "status": "passed", "reason": (
        f"your fast step is {speedup:.2f}x faster than your textbook step and takes {ratio:.2f}x PyTorch's time "
        f"(limits {min_speedup:g}x and {max_ratio:g}x){' [quick mode]' if quick else ''}")}


def main(argv: list[str] | None = None) -> int:
    """The memory processes: `python -m grader.milestones.performance --child VARIANT --workload NAME ...`."""
    parser = argparse.ArgumentParser(prog="python -m grader.milestones.performance")
    parser.add_argument("--child", choices=VARIANTS, required=True)
    parser.add_argument("--workload", choices=sorted(WORKLOADS), required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    result = memory_child(args.child, args.workload, args.target, args.steps)
    Path(args.out).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

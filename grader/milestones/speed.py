"""Milestone `speed`: one training step of your MLP at most 3x slower than the same step in PyTorch.

The step: zero the gradients, forward, softmax cross-entropy, backward, SGD (lr 0.01, momentum 0.9), on
the MLP 784-256-128-10 with ReLU, float32, batches of 128 MNIST training images drawn afresh by the
grader; PyTorch's step starts from your initial weights. Timed and checked as stopwatch.py says: the
median over paired blocks of yours / PyTorch's passes at <= 3 when its 90% interval is below 3.
Afterwards, a profile of your step measured inside your process (steps.py): each part's time, split into
matrix products and element-wise work, plus the rest; the parts add up to the profiled step. A float64
model gets a sentence, not a failure. Without PyTorch the milestone is "not-run".
"""

from __future__ import annotations

from pathlib import Path

from grader.core import manifest
from grader.milestones import stopwatch
from grader.milestones.skeleton import float64_note
from grader.milestones.steps import REST, SIZES

MAX_RATIO = 3.0
FULL = stopwatch.Plan(warmup=20, rounds=15, per_round=20, profiled=50, max_rounds=45)
QUICK = stopwatch.Plan(warmup=5, rounds=5, per_round=5, profiled=10, max_rounds=11)
ADVICE = {"textbook": "(run `make check`: layers, activations, losses, network and optim must pass first)"}

WHY_FRAMEWORKS_ARE_FASTER = """\
Why a framework is faster than plain NumPy on the same machine:
  - The matrix products are not the difference: NumPy calls OpenBLAS and PyTorch calls MKL/oneDNN,
    both tuned to the CPU. A Linear layer's three products (X W, X^T G, G W^T) run at similar speed.
  - Everything else is: each NumPy expression (x > 0, *, +, exp, sum) is a separate pass over memory
    that allocates a new temporary array, and each is dispatched by the Python interpreter (about a
    microsecond per call before any work is done). PyTorch fuses work into single kernels (bias add
    inside the matrix product, log-softmax with the loss, one update over all parameters at once)
    and its autograd engine runs backward in C++ without returning to Python between operations.
  - It skips work nobody needs: the images do not require a gradient, so the first layer's
    dL/dX = G W^T (a third of that layer's backward) is never computed.
  - On a GPU a framework also spreads each operation over thousands of cores; NumPy cannot.
To get closer: keep everything float32, avoid needless copies (.copy(), astype), write the optimiser
update in place (w -= lr * v), and compute softmax and cross-entropy together (p - onehot)."""


def print_profile(profile: dict, out=print) -> dict:
    """Print the profile ({(part, pass, work): seconds}) as a table plus totals, line by line through
    `out`; return the totals (milliseconds)."""
    from tabulate import tabulate

    rows, by_phase, by_kind = [], {}, {}
    # The dict is in execution order: zero_grad, forward layer by layer, loss, backward, update, rest.
    for (name, phase, kind), seconds in profile.items():
        rows.append([name, phase or "-", kind, f"{seconds * 1e3:.3f}"])
        phase_key = phase if phase in ("forward", "backward") else ("rest" if kind == REST[2] else "update")
        by_phase[phase_key] = by_phase.get(phase_key, 0.0) + seconds
        by_kind[kind] = by_kind.get(kind, 0.0) + seconds
    total = sum(profile.values())
    out("Profile of your training step, CPU time inside your process (mean per part over the middle half of the "
        "profiled steps, milliseconds):")
    out(tabulate(rows, headers=["part", "pass", "work", "ms"], tablefmt="simple", disable_numparse=True))
    out(f"sum of parts {total * 1e3:.3f} ms")
    out("  " + ", ".join(f"{phase} {seconds * 1e3:.3f} ms ({100 * seconds / total:.0f}%)"
                         for phase, seconds in by_phase.items()))
    out("  " + ", ".join(f"{kind} {seconds * 1e3:.3f} ms ({100 * seconds / total:.0f}%)"
                         for kind, seconds in sorted(by_kind.items())))
    if REST in profile:
        out("  (rest of the step: the Python between the parts, i.e. Sequential's loop and the calls, and "
            "memory freed or allocated outside them)")
    return {"total_ms": total * 1e3,
            **{f"{phase}_ms": seconds * 1e3 for phase, seconds in by_phase.items()},
            **{f"{kind.replace('-', '_').replace(' ', '_')}_ms": seconds * 1e3 for kind, seconds in by_kind.items()}}


def run(target_dir: Path, out_dir: Path, *, quick: bool = False) -> dict:
    plan = QUICK if quick else FULL
    print(f"Timing one training step (batch {stopwatch.BATCH_SIZE}, MLP {'-'.join(map(str, SIZES))} ReLU, float32) "
          f"against PyTorch's, one thread each: your steps in your own process, {plan.rounds} blocks of "
          f"{plan.per_round} timed from outside it by their CPU time, alternating with PyTorch's, after "
          f"{plan.warmup} warm-up steps; the median block decides.", flush=True)

    def criteria(judge):
        return [("your step / PyTorch's", judge.ratios("textbook", stopwatch.TORCH), MAX_RATIO, True)]

    limit = manifest.load().milestone("speed").time_limit - 30  # room for the profile after it
    try:
        judge, seconds, calls = stopwatch.measure("mlp", ("textbook",), plan, target_dir, criteria, advice=ADVICE,
                                                  time_limit=limit)
    except stopwatch.Ended as ended:
        return ended.result
    yours, theirs = seconds["textbook"], seconds[stopwatch.TORCH]
    ratio = calls[0]["median"]
    note = (float64_note("the weights of Linear(..., dtype=np.float32)") if judge.dtypes.get("weights") == "float64"
            else float64_note("the logits computed from float32 weights and images")
            if judge.dtypes.get("textbook logits") == "float64" else None)
    if note:
        print(note)
    for line in judge.timing.notes:
        print(f"note: {line}")
    wall = {side: judge.timing.median_ms(side, "wall") for side in ("textbook", stopwatch.TORCH)}
    print(f"your step {yours * 1e3:.3f} ms, PyTorch {theirs * 1e3:.3f} ms of CPU time: ratio {ratio:.2f} (the median "
          f"of {judge.rounds} paired blocks; pass at <= {MAX_RATIO:g}); wall clock "
          f"{wall['textbook']:.3f} and {wall[stopwatch.TORCH]:.3f} ms")
    profile = {tuple(row[:3]): float(row[3]) for row in (judge.profile or {}).get("rows", [])}
    totals = print_profile(profile) if profile else {}
    print(WHY_FRAMEWORKS_ARE_FASTER)
    return {"ratio": round(ratio, 3), "max_ratio": MAX_RATIO, "your_step_ms": round(yours * 1e3, 4),
            "torch_step_ms": round(theirs * 1e3, 4), "threads": stopwatch.THREADS, "batch_size": stopwatch.BATCH_SIZE,
            "dtype": judge.dtypes.get("weights"), "float64_note": note,
            "first_loss": judge.timing.losses["textbook"][0], "first_loss_torch": judge.expected["textbook"][0],
            "steps_timed": judge.rounds * plan.per_round, "rounds": judge.rounds, "seed": judge.seed,
            "interval": [round(calls[0]["low"], 3), round(calls[0]["high"], 3)],
            "profile_ms": {k: round(v, 4) for k, v in totals.items()}, "quick": quick, **verdict(calls, profile)}


def verdict(calls: list[dict], profile: dict) -> dict:
    ratio = calls[0]["median"]
    parts = sorted((key for key in profile if key != REST), key=profile.get, reverse=True)
    slowest = f"; the slowest part is {parts[0][0]} {parts[0][1]} ({profile[parts[0]] * 1e3:.2f} ms)" if parts else ""
    return stopwatch.decide(calls, f"your training step is {ratio:.2f}x PyTorch's time (limit {MAX_RATIO:g}x)", {
        "status": "failed", "too_slow": True, "reason": (
            f"your training step takes {ratio:.1f}x PyTorch's time (limit {MAX_RATIO:g}x){slowest}: look for a "
            "Python loop over samples or needless copies there")})

"""Milestone `fast_mlp` (stretch): your fast MLP training step against your textbook step and PyTorch.

Everything (what is timed, how, the thresholds and the measurements behind them) is in
grader/milestones/performance.py, shared with `fast_cnn`.
"""

from grader.milestones.performance import run_workload


def run(target_dir, out_dir, *, quick: bool = False) -> dict:
    return run_workload("mlp", target_dir, out_dir, quick=quick)

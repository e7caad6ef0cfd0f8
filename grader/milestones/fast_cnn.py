"""Milestone `fast_cnn` (stretch): your fast CNN training step against your textbook step and PyTorch.

Everything (what is timed, how, the thresholds and the measurements behind them) is in
grader/milestones/performance.py, shared with `fast_mlp`.
"""

from grader.milestones.performance import run_workload


def run(target_dir, out_dir, *, quick: bool = False) -> dict:
    return run_workload("cnn", target_dir, out_dir, quick=quick)

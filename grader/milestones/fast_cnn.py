"""Milestone `fast_cnn` (stretch): your fast CNN step against your textbook step and PyTorch (performance.py)."""

from grader.milestones.performance import run_workload


def run(target_dir, out_dir, *, quick: bool = False) -> dict:
    return run_workload("cnn", target_dir, out_dir, quick=quick)

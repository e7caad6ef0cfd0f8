"""Milestone `fast_mlp` (stretch): your fast MLP step against your textbook step and PyTorch (performance.py)."""

from grader.milestones.performance import run_workload


def run(target_dir, out_dir, *, quick: bool = False) -> dict:
    return run_workload("mlp", target_dir, out_dir, quick=quick)

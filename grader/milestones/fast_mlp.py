"""Milestone `fast_mlp` (stretch): your fast MLP training step against your textbook step and PyTorch.

Everything (what is timed, how, the thresholds and the measurements behind them) is in
grader/milestones/performance.py, shared with `fast_cnn`.
"""

from __future__ import annotations

from pathlib import Path

from grader.milestones.performance import TIME_LIMIT, run_workload  # noqa: F401 (TIME_LIMIT: for the grader)


def run(target_dir: Path, out_dir: Path, *, quick: bool = False) -> dict:
    return run_workload("mlp", target_dir, out_dir, quick=quick)

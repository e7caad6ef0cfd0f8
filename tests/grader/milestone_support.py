"""What the milestone tests share: a milestone run in a child process, exactly as the grader starts it
(`python -m grader milestone NAME ...`), against solutions/ or a copy of it with one deliberate defect
appended to one module. Used by test_milestones_*.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from grader.core.manifest import ROOT, SOLUTIONS_DIR


def run_milestone(name, target, tmp_path, *, extra_env=None, quick=True):
    """Run one milestone in a child process; return (result dict, combined output)."""
    out_dir = tmp_path / "out"
    result_file = tmp_path / f"{name}.json"
    command = [sys.executable, "-m", "grader", "milestone", name, "--target", str(target),
               "--out", str(out_dir), "--result", str(result_file)] + (["--quick"] if quick else [])
    # One BLAS/OpenMP thread on both sides, as the grader's test runner does: two threads per library
    # on a machine busy with other tests make timings erratic (a thread waiting at a barrier for a
    # descheduled partner), and the ratio is what is tested, not the absolute speed.
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1", **(extra_env or {}))
    completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=170)
    output = completed.stdout + completed.stderr
    assert result_file.exists(), f"the milestone wrote no result (exit {completed.returncode}):\n{output[-2000:]}"
    return json.loads(result_file.read_text()), output


def assert_pngs(result, *kinds):
    for kind in kinds:
        plot = Path(result["plots"][kind])
        assert plot.exists() and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"the {kind} PNG is missing"


def defective_copy(tmp_path, module, appended_code, name="defective"):
    """A copy of solutions/ with `appended_code` added at the end of `module`.py."""
    target = tmp_path / name
    shutil.copytree(SOLUTIONS_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    with open(target / f"{module}.py", "a", encoding="utf-8") as handle:
        handle.write("\n\n# --- defect added by tests/grader/milestone_support.py ---\n" + appended_code)
    return target

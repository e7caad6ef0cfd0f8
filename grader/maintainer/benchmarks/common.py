"""What the benchmarks share: a fresh child process per measurement, and the check that PyTorch is there.

A benchmark compares frameworks by running each one in a FRESH Python process (`python -m MODULE --child
NAME --out FILE [--quick] [--option VALUE ...]`), so that none inherits another's caches, threads or
allocator state; the parent reads the child's measurements back from a JSON file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from grader.core.manifest import ROOT, SOLUTIONS_DIR


def reference():
    """The reference solutions as one package (every module from solutions/): `ref.layers.Linear`."""
    from grader.core.target import Modules, load_package

    return Modules(load_package(SOLUTIONS_DIR, own=None))


def torch_unavailable() -> dict | None:
    """None when PyTorch can be imported; otherwise print why the comparison is skipped and return the
    section's "skipped" result."""
    try:
        import torch  # noqa: F401  (only to know whether the comparison can run)
    except ImportError as error:
        print(f"(skipped: PyTorch cannot be imported: {error})")
        return {"status": "skipped", "reason": "no torch"}
    return None


def run_child(module: str, name: str, quick: bool, options: dict | None = None,
              env: dict[str, str] | None = None) -> dict:
    """Run `python -m MODULE --child NAME --out FILE` in a fresh process from the repository root; its JSON.

    options: extra arguments, {"workload": "cnn"} -> `--workload cnn`. env: extra environment variables
    for the child, e.g. to pin BLAS threads before NumPy is imported. No bytecode is written, so a
    benchmark leaves no __pycache__ behind. Raises RuntimeError, quoting the end of the child's output,
    if it fails.
    """
    arguments = [sys.executable, "-m", module, "--child", name]
    for key, value in (options or {}).items():
        arguments += [f"--{key}", str(value)]
    if quick:
        arguments.append("--quick")
    with tempfile.TemporaryDirectory(prefix="kata-bench-") as scratch:
        out = Path(scratch) / "result.json"
        completed = subprocess.run(arguments + ["--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                                   env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1", **(env or {})))
        result = json.loads(out.read_text()) if out.exists() else None
    if completed.returncode != 0 or result is None:
        tail = "\n".join((completed.stdout + completed.stderr).strip().splitlines()[-5:])
        raise RuntimeError(f"the {name} benchmark process failed:\n{tail}")
    return result

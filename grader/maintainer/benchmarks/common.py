"""What the benchmarks share: fresh child processes, the ordinary PyTorch loop, and their command line.

Every benchmark compares the reference with PyTorch the same way: each framework trains in a FRESH
Python process (`python -m grader.maintainer.benchmarks.NAME --child FRAMEWORK --out FILE [--quick]`), so neither
inherits the other's caches, threads or allocator state, and the parent reads the child's measurements
back from a JSON file. The parent side is `run_child`, the child side is `main`, and `torch_epoch` is
the PyTorch half of every comparison, written once so that all benchmarks time the same loop.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from grader.core.manifest import ROOT


# ---------------------------------------------------------------------------------------------------
# In the parent


def torch_unavailable() -> dict | None:
    """None when PyTorch can be imported; otherwise print why the comparison is skipped and return the
    section's "skipped" result."""
    try:
        import torch  # noqa: F401  (only to know whether the comparison can run)
    except ImportError as error:
        print(f"(skipped: PyTorch cannot be imported: {error})")
        return {"status": "skipped", "reason": "no torch"}
    return None


def _python_for_json(arguments: list[str], result_flag: str, env: dict[str, str] | None = None):
    """Run `python -m ARGUMENTS RESULT_FLAG FILE` in a fresh process from the repository root.

    Returns (completed process, the JSON the process wrote to FILE, or None if it wrote nothing) and
    the last 5 lines of its output, to quote when it failed. No bytecode is written, so a benchmark
    leaves no __pycache__ directories behind in solutions/ or grader/.
    """
    with tempfile.TemporaryDirectory(prefix="kata-bench-") as scratch:
        out = Path(scratch) / "result.json"
        completed = subprocess.run([sys.executable, "-m", *arguments, result_flag, str(out)], cwd=ROOT,
                                   capture_output=True, text=True,
                                   env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1", **(env or {})))
        result = json.loads(out.read_text()) if out.exists() else None
    tail = "\n".join((completed.stdout + completed.stderr).strip().splitlines()[-5:])
    return completed, result, tail


def run_child(module: str, framework: str, quick: bool, options: dict[str, int] | None = None,
              env: dict[str, str] | None = None) -> dict:
    """Run one framework's side of benchmark `module` in a fresh process; return its measurements.

    options: extra integer arguments of the child, {"threads": 2} -> `--threads 2` (declared with the
    same names in `main`). env: extra environment variables for the child, e.g. to pin BLAS threads
    before NumPy is imported. Raises RuntimeError, quoting the end of the child's output, if it fails.
    """
    arguments = [module, "--child", framework]
    for name, value in (options or {}).items():
        arguments += [f"--{name}", str(value)]
    if quick:
        arguments.append("--quick")
    completed, result, tail = _python_for_json(arguments, "--out", env)
    if completed.returncode != 0 or result is None:
        raise RuntimeError(f"the {framework} benchmark process failed:\n{tail}")
    return result


def milestone_on_reference(name: str, quick: bool) -> dict:
    """Run milestone `name` on solutions/ in its own process, exactly as the grader does; its result.

    A milestone process that wrote no result gives {"status": "failed", "reason": ...} instead of an
    exception: the benchmark's own numbers are still worth printing.
    """
    arguments = ["grader", "milestone", name, "--target", "solutions", "--out", str(ROOT / ".grade" / "bench")]
    if quick:
        arguments.append("--quick")
    _, result, tail = _python_for_json(arguments, "--result")
    if result is None:
        return {"status": "failed", "reason": f"the milestone process failed: {tail}"}
    return result


# ---------------------------------------------------------------------------------------------------
# In the child


def torch_epoch(net, optimizer, X_t, y_t, order: np.ndarray, batch_size: int) -> None:
    """One epoch of the ordinary PyTorch loop over the mini-batches of `order`, an index array.

    zero_grad, forward, cross_entropy (mean over the batch, as the reference's loss), backward, step:
    the loop any PyTorch tutorial writes, so the comparison is with PyTorch as people use it.
    """
    import torch

    order = torch.from_numpy(order)
    for start in range(0, len(order), batch_size):
        index = order[start:start + batch_size]
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(X_t[index]), y_t[index])
        loss.backward()
        optimizer.step()


def torch_accuracy(net, X_test: np.ndarray, y_test: np.ndarray) -> float:
    """Fraction of the test images whose largest PyTorch logit is at the label."""
    import torch

    with torch.no_grad():
        predicted = net(torch.from_numpy(X_test)).argmax(dim=1).numpy()
    return float(np.mean(predicted == y_test))


def reference_accuracy(model, X_test: np.ndarray, y_test: np.ndarray, chunk: int) -> float:
    """Fraction of the test images whose largest reference logit is at the label, computed `chunk`
    images at a time so that the activations of the whole test set never exist at once."""
    logits = np.concatenate([model.eval().forward(X_test[i:i + chunk]) for i in range(0, len(X_test), chunk)])
    return float(np.mean(np.argmax(logits, axis=1) == y_test))


def main(module: str, frameworks: tuple[str, ...], child, run, argv=None,
         options: dict[str, int] | None = None) -> int:
    """The command line of benchmark `module`: `--child FRAMEWORK --out FILE` measures one framework
    (child(framework, quick, **options)) and writes its result as JSON; without --child, run(quick)
    prints the whole comparison. options: extra integer arguments and their defaults, {"threads": 1}."""
    import argparse

    parser = argparse.ArgumentParser(prog=f"python -m {module}")
    parser.add_argument("--child", choices=list(frameworks), default=None)
    parser.add_argument("--out", default=None)
    parser.add_argument("--quick", action="store_true")
    for name, default in (options or {}).items():
        parser.add_argument(f"--{name}", type=int, default=default)
    args = parser.parse_args(argv)
    if args.child:
        result = child(args.child, args.quick, **{name: getattr(args, name) for name in (options or {})})
        Path(args.out).write_text(json.dumps(result))
        return 0
    run(quick=args.quick)
    return 0

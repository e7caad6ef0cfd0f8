"""`make bench` (`python -m grader bench [--only NAME] [--quick]`): the references against PyTorch.

Runs each section listed in SECTIONS in turn (each module's docstring says what it measures). A section
is a module with `run(quick=False) -> dict` that prints its own lines and returns its measurements; a
section that crashes is reported without stopping the others. Writes the training section's time ratios
to BENCH_JSON (.grade/bench.json; the shape: training.py).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from pathlib import Path

from grader.core import report as reports, runner
from grader.core.manifest import ROOT

PACKAGE = "grader.maintainer.benchmarks"
SECTIONS = ["training", "reverse_mode"]  # modules of PACKAGE, run in this order
BENCH_JSON = ROOT / ".grade" / "bench.json"


def run_section(module_name: str, *, quick: bool) -> dict:
    """Import and run one section; {"status": "ran"|"crashed", ...}."""
    started = time.perf_counter()
    try:
        result = dict(importlib.import_module(module_name).run(quick=quick) or {})
    except Exception as error:  # one broken section must not hide the others' numbers
        traceback.print_exc()
        return {"status": "crashed", "reason": f"{type(error).__name__}: {error}"}
    result.setdefault("status", "ran")
    result["section_seconds"] = round(time.perf_counter() - started, 2)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=None, help="one section: " + ", ".join(SECTIONS))
    parser.add_argument("--quick", action="store_true", help="small runs, to check the benchmarks work")
    parser.add_argument("--ratios", default=str(BENCH_JSON), help="where to write the time ratios (default: "
                        ".grade/bench.json)")
    parser.add_argument("--phases", nargs="+", metavar="EX", help="time each phase of `check EX` instead")
    args = parser.parse_args(argv)
    if args.phases:
        return runner.phase_table(args.phases)
    sections = [name for name in SECTIONS if not args.only or args.only in (name, f"{PACKAGE}.{name}")]
    if not sections:
        print(f"bench: no section {args.only!r}; the sections are {', '.join(SECTIONS)}", file=sys.stderr)
        return 2
    results = {}
    for name in sections:
        print(f"\n== {name} " + "=" * max(0, 60 - len(name)), flush=True)
        results[name] = run_section(f"{PACKAGE}.{name}", quick=args.quick)
        sys.stdout.flush()
    ratios = results.get("training", {}).get("ratios")
    if ratios:
        reports.write(ratios, Path(args.ratios))
        print(f"\ntime ratios to PyTorch written to {args.ratios}: {json.dumps(ratios)}")
    crashed = [name for name, r in results.items() if r.get("status") == "crashed"]
    if crashed:
        print(f"\nbench: section(s) crashed: {', '.join(crashed)}", file=sys.stderr)
        return 1
    return 0

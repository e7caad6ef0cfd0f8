"""Milestones: graded runs of the learner's own code (training to an accuracy, a speed ratio, ...).

Each milestone named in grader/manifest.toml is a module here providing

    def run(target_dir: Path, out_dir: Path, *, quick: bool = False) -> dict:
        '''Print what the learner should see, write any plots into out_dir, and return {"status":
        "passed" | "failed" | "not-run", "reason": "one sentence", ...measured values}. quick=True: a
        reduced run for the repository's own tests (same code paths, smaller budget).'''

or, for the training milestones (mnist, cnn, autograd_mnist), a SPEC, sanity(session) and train(session)
run by skeleton.py (the learner half) and judge.py. The speed milestones (speed, fast_mlp, fast_cnn) run in
steps.py and stopwatch.py. Learner code always runs in a sandboxed worker, out of reach of the clock and
of what judges it. `python -m grader milestone NAME` runs one, killed after the manifest's `time_limit`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import traceback
from pathlib import Path

from grader.core import manifest
from grader.core import target as targets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader milestone")
    parser.add_argument("name", choices=[milestone.name for milestone in manifest.load().milestones])
    parser.add_argument("--target", type=targets.argument, default="")
    parser.add_argument("--out", default=".grade/milestones", help="where the PNGs go (make grade's place)")
    parser.add_argument("--result", default=None, help="write the result as JSON to this file")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    target_dir, milestone = args.target, manifest.load().milestone(args.name)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        module = importlib.import_module(milestone.module)
        if hasattr(module, "SPEC"):  # a training milestone (skeleton.py): the judge half runs it
            from grader.milestones import judge

            result = judge.run_judged(module, target_dir, out_dir, quick=args.quick)
        else:
            result = module.run(target_dir, out_dir, quick=args.quick)
    except Exception as error:  # learner code failed inside the milestone: report it, do not crash
        where = traceback.extract_tb(error.__traceback__)[-1]
        result = {"status": "failed",
                  "reason": f"{type(error).__name__}: {error} ({Path(where.filename).name} line {where.lineno})"}
    if result.get("status") not in ("passed", "failed", "locked", "not-run"):
        result = {"status": "failed", "reason": f"milestone returned an invalid status {result.get('status')!r}"}
    if args.result:
        Path(args.result).write_text(json.dumps(result, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Milestones: graded runs of the learner's own code (training to an accuracy, a speed ratio, ...).

Each milestone named in grader/manifest.toml is a module here providing

    def run(target_dir: Path, out_dir: Path, *, quick: bool = False) -> dict:
        '''Run against the target's own modules (target.load_package(target_dir) with own=None), print
        what the learner should see (progress, summaries), write any files (plots) into out_dir, and
        return {"status": "passed" | "failed" | "not-run", "reason": "one sentence", ...measured values}.
        quick=True: a reduced run for the repository's own tests (same code paths, smaller budget).'''

The grader runs `python -m grader milestone NAME --target DIR --out DIR --result FILE` in a child process,
so a milestone that hangs or crashes costs only itself.

The training milestones (mnist, cnn, autograd_mnist) give a SPEC, sanity(session) and train(session)
instead of run, and share one skeleton: a learner half (skeleton.py) that trains in a sandboxed worker
and reports checkpoints, and a judge half (judge.py) that replays every step with PyTorch, computes the
test accuracy from the learner's weights and decides. The speed milestones (speed, fast_mlp, fast_cnn)
share another: the learner's steps run in a worker on request (steps.py) and the judge (stopwatch.py)
times them from outside against PyTorch. stability has both halves in one module. The learner's code
always runs in a sandboxed worker, out of reach of the clock and of what judges it. The grader kills a
milestone's process after the manifest's `time_limit`, and caches results by what they depend on
(grader/core/milestone_cache.py), so that a repeated `make grade` re-runs only what changed.
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

STATUSES = ("passed", "failed", "locked", "not-run")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader milestone")
    parser.add_argument("name")
    parser.add_argument("--target", default=None)
    parser.add_argument("--out", default=".grade/milestones", help="where the PNGs go (make grade's place)")
    parser.add_argument("--result", default=None, help="write the result as JSON to this file")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    try:
        milestone = manifest.load().milestone(args.name)
        target_dir = targets.resolve(args.target)
    except (KeyError, targets.TargetError) as error:
        print(f"milestone: {error.args[0]}", file=sys.stderr)
        return 2
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
    if result.get("status") not in STATUSES:
        result = {"status": "failed", "reason": f"milestone returned an invalid status {result.get('status')!r}"}
    if args.result:
        Path(args.result).write_text(json.dumps(result, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())

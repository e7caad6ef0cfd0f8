"""The GitHub Classroom workflow of a student repository, from the manifest: .github/workflows/classroom.yml.

Shaped as the autograding grading reporter requires (classroom-resources/autograding-grading-reporter):
the workflow is named "Autograding Tests", its only job "run-autograding-tests"; plain `run:` steps grade
$GITHUB_WORKSPACE/exercises once (advisory grading: a student release has no reference) and then one
runner step per exercise writes its `result=<base64 JSON>` to $GITHUB_OUTPUT (step.py); the reporter
reads them as <RUNNER>_RESULTS. Each runner is worth its exercise's points in the manifest, so the
reporter's total is the kata's (190, or the points of a course's selection given with --only).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.core import manifest
from grader.platforms.classroom.step import runner_id

REPORT = ".grade/report.json"
PYTHON_VERSION = "3.11"

# The workflow with {placeholders} (str.format): what does not depend on the manifest, written as YAML.
TEMPLATE = Path(__file__).resolve().parent / "classroom.yml.tmpl"
STEP = """\
      - name: "{title}"
        id: {runner}
        if: always()
        run: PYTHONPATH=. .venv/bin/python .github/classroom/step.py --report {report} --exercise {name}
"""


def render(only: list[str] | None = None) -> str:
    """The workflow for the chosen exercises (default: all), one runner each in course order."""
    chosen = [ex for ex in manifest.load().exercises if not only or ex.name in only]
    runners = [runner_id(ex.name) for ex in chosen]
    steps = "".join(STEP.format(title=f"{ex.number}. {ex.name}", runner=runner, report=REPORT, name=ex.name)
                    for ex, runner in zip(chosen, runners))
    results = "".join(f'          {runner.upper()}_RESULTS: "${{{{steps.{runner}.outputs.result}}}}"\n'
                      for runner in runners)
    return TEMPLATE.read_text().format(python=PYTHON_VERSION, report=REPORT, steps=steps, results=results,
                                       runners=",".join(runners),
                                       only=f" --only {','.join(ex.name for ex in chosen)}" if only else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=None, help="a course's selection of exercises, comma-separated")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    text = render(args.only.split(",") if args.only else None)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

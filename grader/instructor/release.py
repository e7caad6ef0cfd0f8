"""`make release OUT=dir [REPLACE=1]`: the repository a course hands to its students, without the answers.

It holds what a learner uses: the README (saying that grading there is advisory), exercises/ (the stubs),
the exercise tests and their helpers, the grader, the MNIST data, the Makefile, the requirements, and the
GitHub Classroom workflow (.github/workflows/classroom.yml). It leaves out everything that reveals an
answer: solutions/, the mutant banks (tests/mutants quote solution lines), the grader's own tests
(tests/grader: they grade the reference and the red-team submissions), the Gradescope autograder (it
ships the reference), caches and reports (.grade/: reference observations, milestone caches). Its
grader/integrity.json records the test and grader files it ships (grader.core.integrity.write), so
a local report says when a learner has edited them.

In the release, check, watch, hint and grade grade in advisory mode (grader/core/mode.py): the
authoritative grade is the instructor's, with the full kata and the judge (grade-all or Gradescope).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from grader.core.mode import RELEASE_MARK
from grader.core.manifest import ROOT
from grader.core import integrity

FILES = ("README.md", "Makefile", "requirements.txt", "pyproject.toml", ".gitignore")
TREES = ("exercises", "tests", "grader", "data/mnist")
# Never shipped: they reveal answers, or serve only the instructor and the maintainers.
LEFT_OUT = ("solutions", "tests/mutants", "tests/grader", "grader/platforms/gradescope", "grader/integrity.json",
            "grader/RELEASE")
SKIPPED_PARTS = {"__pycache__", ".pytest_cache", ".grade", ".kata"}
WORKFLOW = Path(".github") / "workflows" / "classroom.yml"

MODE_NOTE = """\
> **Student release: advisory grading.** This copy of the kata has no reference solutions. `make check`,
> `make watch`, `make hint` and `make grade` work as usual, but their verdicts are *advisory*: expected
> values come from PyTorch, finite differences and closed forms, and each exercise runs on your own
> modules for the exercises it builds on (so a failure may come from an earlier exercise; the message
> says so). A check that needs the reference says "not checked here (your instructor's grade checks it)".
> `make compare` needs the reference and is not available here. Your grade is the one your instructor's
> grader gives (Gradescope or `make grade-all`, with the full kata).
"""

COMPARE_RECIPE = '\t@$(GRADER) compare $(EX) --target "$(TARGET)"'
COMPARE_SENTENCE = ('\t@echo "make compare shows your numbers next to the reference solution\'s, and this student '
                    'release has no reference: use make check EX=$(EX) (advisory) and make hint EX=$(EX)."')


class ReleaseError(ValueError):
    """The release cannot be written; the message says why in a sentence."""


def _left_out(relative: Path) -> bool:
    text = relative.as_posix()
    if any(text == item or text.startswith(item + "/") for item in LEFT_OUT):
        return True
    return bool(SKIPPED_PARTS & set(relative.parts)) or relative.suffix in (".pyc", ".pyo")


def shipped_files(root: Path = ROOT) -> list[Path]:
    """Every file of the release, relative to the repository root."""
    found = [Path(name) for name in FILES if (root / name).is_file()]
    for tree in TREES:
        for path in sorted((root / tree).rglob("*")):
            relative = path.relative_to(root)
            if path.is_file() and not path.is_symlink() and not _left_out(relative):
                found.append(relative)
    return found


def prepare(out: Path, replace: bool) -> None:
    out = out.resolve()
    if out == ROOT or ROOT.is_relative_to(out) or out.is_relative_to(ROOT / "solutions"):
        raise ReleaseError(f"{out} would overwrite the kata itself: choose a folder outside it")
    if out.exists() and not out.is_dir():
        raise ReleaseError(f"{out} is a file: give a folder")
    if out.is_dir() and any(out.iterdir()):
        if not replace:
            raise ReleaseError(f"{out} is not empty: choose a new folder, or replace it with REPLACE=1 "
                               "(make) or --replace")
        for child in out.iterdir():
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    out.mkdir(parents=True, exist_ok=True)


def _readme(text: str) -> str:
    lines = text.splitlines(keepends=True)
    title = 1 if lines and lines[0].startswith("# ") else 0
    return "".join(lines[:title]) + "\n" + MODE_NOTE + "".join(lines[title:])


def _makefile(text: str) -> str:
    return text.replace(COMPARE_RECIPE, COMPARE_SENTENCE)


def build(out: Path, *, replace: bool = False, max_score: float = 100.0) -> list[Path]:
    """Write the release into out; returns the files written (relative)."""
    from grader.platforms.classroom import workflow

    prepare(out, replace)
    files = shipped_files()
    for relative in files:
        destination = out / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, destination)
    (out / "README.md").write_text(_readme((ROOT / "README.md").read_text()))
    (out / "Makefile").write_text(_makefile((ROOT / "Makefile").read_text()))
    if (out / ".gitignore").is_file():  # the release's record is committed with it
        kept = [line for line in (out / ".gitignore").read_text().splitlines() if line.strip() != integrity.RECORD.as_posix()]
        (out / ".gitignore").write_text("\n".join(kept) + "\n")
    (out / WORKFLOW).parent.mkdir(parents=True, exist_ok=True)
    (out / WORKFLOW).write_text(workflow.render(max_score))
    (out / RELEASE_MARK).write_text(
        "This is a student release of the kata: no reference solutions, so grading here is advisory\n"
        "(grader/core/mode.py). Written by `make release`; do not remove it.\n")
    integrity.write(out)
    return files + [WORKFLOW, RELEASE_MARK, integrity.RECORD]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make release", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="the folder to write (new, or empty unless --replace)")
    parser.add_argument("--replace", action="store_true", help="replace the contents of a non-empty folder")
    parser.add_argument("--max-score", type=float, default=100.0,
                        help="the assignment's points in the GitHub Classroom workflow")
    args = parser.parse_args(argv)
    if not args.out:
        print("Say where: make release OUT=../kata-release (a new or empty folder).", file=sys.stderr)
        return 2
    out = Path(args.out).expanduser()
    try:
        files = build(out, replace=args.replace, max_score=args.max_score)
    except ReleaseError as error:
        print(f"make release: {error}.", file=sys.stderr)
        return 2
    print(f"Wrote the student release to {out} ({len(files)} files; no solutions/, no mutant banks). Make it "
          "a Git repository and, for GitHub Classroom, the assignment's template (README, Course platforms).")
    return 0


if __name__ == "__main__":
    sys.exit(main())

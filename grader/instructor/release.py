"""`make release OUT=dir [REPLACE=1]`: the student's kata, the repository a course hands to its students.

It holds what a learner uses and nothing else: exercises/ (the stubs) and their tests, the learner
commands that work without the reference with the engine, feedback, milestones and data they need
(grader/ without instructor/, maintainer/, platforms/ and learner/compare.py), the MNIST data, the
requirements, and a Makefile, `make help` and README written for students (the learner's commands only;
the README's `<!-- kata-only -->` passages left out, its `<!-- release-only ... -->` ones shown). Left
out: solutions/, the mutant banks and the grader's own tests (they quote or grade the reference).

For GitHub Classroom it ships the committed workflow (grader/platforms/classroom/classroom.yml, kept
current by `make generate`) as .github/workflows/classroom.yml, and the step it runs as
.github/classroom/step.py. grader/stubs.json records the stubs, so `make reset` works without the
reference; grader/integrity.json records the test and grader files, so a report says when a learner has
edited them; grader/RELEASE puts check, watch, hint and grade in advisory mode (grader/core/mode.py): the
grade that counts is the instructor's, with the full kata and the judge (grade-all or Gradescope).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

from grader.core import integrity
from grader.core.manifest import ROOT
from grader.core.mode import RELEASE_MARK
from grader.core.stubs import RECORD as STUB_RECORD, expected_stubs

FILES = ("README.md", "Makefile", "requirements.txt", "pyproject.toml", ".gitignore")
TREES = ("exercises", "tests", "grader", "data/mnist")
# Never shipped: they reveal answers, or serve only the instructor and the maintainers.
LEFT_OUT = ("solutions", "tests/mutants", "tests/mistakes", "tests/grader", "grader/instructor",
            "grader/maintainer", "grader/platforms", "grader/learner/compare.py", "grader/integrity.json",
            RELEASE_MARK.as_posix(), STUB_RECORD.as_posix())
CLASSROOM = ROOT / "grader" / "platforms" / "classroom"
COPIED = {Path(".github/workflows/classroom.yml"): CLASSROOM / "classroom.yml",
          Path(".github/classroom/step.py"): CLASSROOM / "step.py"}
STUDENT_TARGETS = ("help", "setup", "$(STAMP)", "grade", "check", "hint", "watch", "progress", "reset", "clean")


class ReleaseError(ValueError):
    """The release cannot be written; the message says why in a sentence."""


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


def student_makefile(text: str) -> str:
    """The Makefile's rules for the student's commands; `make help` lists the learner's block only."""
    kept = []
    for block in text.split("\n\n"):
        rule = next((line for line in block.splitlines() if line and not line.startswith(("#", "\t"))), "")
        target = re.match(r"([^\s:=]+)\s*:(?!=)", rule)
        if target is None or target.group(1) in STUDENT_TARGETS:
            kept.append(block)
    text = "\n\n".join(kept)
    text = re.sub(r'\t@echo "Instructor and maintainer:"\n(\t@echo .*\n)*', "", text)
    text = re.sub(r"\t@echo \"  make compare.*\n", "", text)
    return re.sub(r"^\.PHONY:.*$", ".PHONY: " + " ".join(t for t in STUDENT_TARGETS if t.isalpha()), text, flags=re.M)


def build(out: Path, *, replace: bool = False) -> list[Path]:
    """Write the release into out; returns the files written (relative)."""
    prepare(out, replace)
    files = integrity.tree_files(ROOT, TREES, FILES,  # copied as they are
                                 leave_out=lambda relative: any(relative.is_relative_to(item) for item in LEFT_OUT))
    for relative, source in [(relative, ROOT / relative) for relative in files] + list(COPIED.items()):
        (out / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, out / relative)
    readme = re.sub(r"<!-- kata-only -->.*?<!-- /kata-only -->\n?", "", (ROOT / "README.md").read_text(), flags=re.S)
    (out / "README.md").write_text(re.sub(r"<!-- release-only\n(.*?)-->\n?", r"\1", readme, flags=re.S))
    (out / "Makefile").write_text(student_makefile((ROOT / "Makefile").read_text()))
    if (out / ".gitignore").is_file():  # the release's record is committed with it
        kept = [line for line in (out / ".gitignore").read_text().splitlines()
                if line.strip() != integrity.RECORD.as_posix()]
        (out / ".gitignore").write_text("\n".join(kept) + "\n")
    (out / STUB_RECORD).write_text(json.dumps(expected_stubs(), indent=1, sort_keys=True) + "\n")
    (out / RELEASE_MARK).write_text(
        "This is a student release of the kata: no reference solutions, so grading here is advisory\n"
        "(grader/core/mode.py). Written by `make release`; do not remove it.\n")
    integrity.write(out)
    return files + list(COPIED) + [STUB_RECORD, RELEASE_MARK, integrity.RECORD]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make release", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="the folder to write (new, or empty unless --replace)")
    parser.add_argument("--replace", action="store_true", help="replace the contents of a non-empty folder")
    args = parser.parse_args(argv)
    if not args.out:
        print("Say where: make release OUT=../kata-release (a new or empty folder).", file=sys.stderr)
        return 2
    out = Path(args.out).expanduser()
    try:
        files = build(out, replace=args.replace)
    except ReleaseError as error:
        print(f"make release: {error}.", file=sys.stderr)
        return 2
    print(f"Wrote the student release to {out} ({len(files)} files; no solutions/, no instructor, maintainer or "
          "platform code). Make it a Git repository and, for GitHub Classroom, the assignment's template "
          "(README, Course platforms).")
    return 0


if __name__ == "__main__":
    sys.exit(main())

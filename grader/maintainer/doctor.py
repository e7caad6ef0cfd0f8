"""`make doctor`: in a few seconds, does everything that must agree with the manifest agree with it?

It reads files and runs the generators' own checks; it runs no test. Each problem is one sentence that
says which command mends it:

    manifest        grader/manifest.toml parses, every need, part and `uses` names something real
    files           each exercise has its solution (with `# <exercise>` markers), its stub, its tests and
                    its mutants (`make new EX=name` writes all four for a new exercise)
    stubs           exercises/ equals what the generator makes from solutions/      (`make generate`)
    tests           every tests/exercises/test_*.py belongs to an exercise of the manifest
    mutants         every bank loads, and every mutant's `find` text is in the solution
    generated       README tables and the Classroom workflow equal what their generators make
                                                                                    (`make generate`)
    milestones      each milestone's module exists
"""

from __future__ import annotations

import subprocess
import sys
import time

from grader.core import manifest, stubs
from grader.core.manifest import EXERCISES_DIR, ROOT, SOLUTIONS_DIR, TESTS_DIR
from grader.maintainer import mutation, readme

WORKFLOW = ROOT / "grader" / "platforms" / "classroom" / "classroom.yml"


def exercise_files(kata) -> list[str]:
    problems = []
    for ex in kata.exercises:
        solution = SOLUTIONS_DIR / ex.module_file
        for path, what in ((solution, "solution"), (ex.test_file, "test file"),
                           (mutation.MUTANTS_DIR / ex.module_file, "mutant bank")):
            if not path.is_file():
                problems.append(f"{ex.name}: no {what} {path.relative_to(ROOT)} "
                                f"(`make new EX={ex.name}` writes a starting one)")
        if not solution.is_file():
            continue
        try:
            stub = stubs.make_stub(solution.read_text(), ex.name)
        except stubs.MarkerError as error:
            problems.append(f"{ex.name}: solutions/{ex.module_file}: {error}")
            continue
        if not (EXERCISES_DIR / ex.module_file).is_file() or (EXERCISES_DIR / ex.module_file).read_text() != stub:
            problems.append(f"{ex.name}: exercises/{ex.module_file} is not the stub of the solution "
                            "(`make generate`)")
    return problems


def test_files(kata) -> list[str]:
    return [f"{path.relative_to(ROOT)} belongs to no exercise of the manifest: name it test_<exercise>[_<topic>].py"
            for path in sorted((TESTS_DIR / "exercises").glob("test_*.py"))
            if manifest.exercise_of_test(path) is None]


def mutant_banks(kata) -> list[str]:
    problems = []
    for ex in kata.exercises:
        solution = SOLUTIONS_DIR / ex.module_file
        try:
            variants = mutation.load_bank(ex.name) + mutation.load_bank(ex.name, "LEGITIMATE")
        except Exception as error:  # noqa: BLE001 - a bank that does not load is the finding
            problems.append(f"{ex.name}: tests/mutants/{ex.module_file} does not load: {type(error).__name__}: {error}")
            continue
        text = solution.read_text() if solution.is_file() else ""
        problems += [f"{ex.name}: mutant {m.name!r} expects {m.count} occurrence(s) of its `find` text in "
                     f"solutions/{ex.module_file} and there are {text.count(m.find)}: update the mutant"
                     for m in variants if text.count(m.find) != m.count]
    return problems


def generated(kata) -> list[str]:
    problems = []
    if readme.update(readme.README.read_text(), kata) != readme.README.read_text():
        problems.append("README.md's exercise map or milestone list is out of date (`make generate`)")
    # The workflow belongs to platforms/, which maintainer/ does not import: its own command renders it.
    rendered = subprocess.run([sys.executable, "-m", "grader.platforms.classroom.workflow"], cwd=ROOT,
                              capture_output=True, text=True)
    if rendered.returncode != 0 or not WORKFLOW.is_file() or rendered.stdout != WORKFLOW.read_text():
        problems.append(f"{WORKFLOW.relative_to(ROOT)} is out of date (`make generate`)")
    return problems


def milestone_modules(kata) -> list[str]:
    return [f"milestone {m.name}: its module {m.module} has no file {path.relative_to(ROOT)}"
            for m in kata.milestones
            for path in [ROOT.joinpath(*m.module.split(".")).with_suffix(".py")] if not path.is_file()]


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    try:
        kata = manifest.load()
    except (manifest.ManifestError, KeyError, ValueError) as error:
        print(f"grader/manifest.toml: {error}")
        return 1
    problems = [problem for check in (exercise_files, test_files, mutant_banks, generated, milestone_modules)
                for problem in check(kata)]
    for problem in problems:
        print(f"- {problem}")
    verdict = f"{len(problems)} problem(s)" if problems else "everything agrees with the manifest"
    print(f"make doctor: {verdict} ({len(kata.exercises)} exercises, {len(kata.milestones)} milestones, "
          f"{time.perf_counter() - started:.1f} s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""Known-wrong variants ("mutants") of the reference: the mistakes learners really make.

Each exercise has a bank in tests/mutants/<exercise>.py: `MUTANTS = [Mutant(...), ...]`, each one
deliberate bug applied as a text replacement to solutions/<exercise>.py. The contract (tests/grader/test_contract.py)
proves that every mutant is caught by its own exercise's tests and that a failure message names the
mistake (`diagnosis` must appear in it; with `everywhere=True`, in every failing test's message), and that
no message names a wrong one (`misdiagnosis`, when given, must appear in none). A bank may also list
`LEGITIMATE = [Mutant(...)]`: correct rewrites (another formula, another order) that must pass every test,
so that the tests accept any correct code, not only the reference's.

Run `python -m grader.maintainer.mutation [EXERCISE ...]` to see each mutant, whether it was caught, and the message.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from grader.core import manifest
from grader.core.manifest import SOLUTIONS_DIR, TESTS_DIR
from grader.core.runner import run_exercise

MUTANTS_DIR = TESTS_DIR / "mutants"


@dataclass(frozen=True)
class Mutant:
    name: str       # a short identifier, also the folder name of the mutated target
    mistake: str    # the learner's mistake in one line
    find: str       # exact text of solutions/<exercise>.py to replace
    replace: str    # the wrong version
    diagnosis: str  # text a failure message must contain (case-insensitive) to count as diagnosed
    count: int = 1  # how many times `find` occurs (all are replaced)
    everywhere: bool = False  # every failing test's message must contain `diagnosis`
    misdiagnosis: str | None = None  # text no failure message may contain (a wrong mistake named)


@dataclass
class Verdict:
    mutant: Mutant
    caught: bool
    diagnosed: bool
    failed_tests: list[str]
    messages: list[str]
    legitimate: bool = False  # a correct rewrite: it must pass (caught means a false failure)

    @property
    def ok(self) -> bool:
        return not self.caught if self.legitimate else self.caught and self.diagnosed


def load_bank(exercise: str, name: str = "MUTANTS") -> list[Mutant]:
    """The MUTANTS (or, by name, the LEGITIMATE variants) of an exercise's bank; [] without a bank."""
    path = MUTANTS_DIR / f"{exercise}.py"
    if not path.exists():
        return []
    spec = importlib.util.spec_from_file_location(f"kata_mutants_{exercise}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(getattr(module, name, []))


def _diagnosed(mutant: Mutant, messages: list[str]) -> bool:
    found = [mutant.diagnosis.lower() in (m or "").lower() for m in messages]
    named = all(found) if mutant.everywhere else any(found)
    wrong = mutant.misdiagnosis is not None and any(mutant.misdiagnosis.lower() in (m or "").lower()
                                                     for m in messages)
    return named and not wrong


def build(mutant: Mutant, exercise: str, parent: Path) -> Path:
    """A copy of solutions/ in parent/<mutant.name>/ with the mutant applied; returns that folder."""
    folder = parent / mutant.name
    folder.mkdir(parents=True)
    for source in SOLUTIONS_DIR.glob("*.py"):
        shutil.copy(source, folder / source.name)
    module = folder / f"{exercise}.py"
    text = module.read_text()
    found = text.count(mutant.find)
    if found != mutant.count:
        raise ValueError(f"mutant {exercise}/{mutant.name}: expected {mutant.count} occurrence(s) of "
                         f"{mutant.find!r} in solutions/{exercise}.py, found {found}")
    module.write_text(text.replace(mutant.find, mutant.replace))
    return folder


def check(exercise_name: str, known_wrong: bool = True, only=None, env: dict | None = None) -> list[Verdict]:
    """The verdict on every mutant (known_wrong=False: none) and legitimate variant of one exercise (one run);
    `only`: just these mutants; `env`: more variables for the run (the edit search on)."""
    exercise = manifest.load().exercise(exercise_name)
    mutants = [m for m in load_bank(exercise_name) if only is None or m.name in only] if known_wrong else []
    legitimate = load_bank(exercise_name, "LEGITIMATE") if only is None else []
    if not mutants and not legitimate:
        return []
    names = [m.name for m in mutants + legitimate]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"mutants of {exercise_name} share names: {sorted(duplicates)}")
    with tempfile.TemporaryDirectory(prefix=f"kata-mutants-{exercise_name}-") as scratch:
        folders = [build(m, exercise_name, Path(scratch)) for m in mutants + legitimate]
        runs = run_exercise(exercise, folders, child_seconds=900, mode="split", extra_env=env)
        verdicts = []
        for index, (mutant, folder) in enumerate(zip(mutants + legitimate, folders)):
            run = runs[str(folder)]
            failed = [t for t in run.tests if not t.passed]
            messages = [t.message for t in failed] + ([run.problem] if run.problem else [])
            caught = bool(failed) or run.problem is not None
            verdicts.append(Verdict(mutant, caught, _diagnosed(mutant, messages), [t.test for t in failed], messages,
                                    legitimate=index >= len(mutants)))
    return verdicts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Check that each known-wrong variant is caught and diagnosed.")
    parser.add_argument("exercises", nargs="*")
    args = parser.parse_args(argv)
    bad = 0
    for name in args.exercises or manifest.load().names:
        for verdict in check(name):
            ok = verdict.ok
            bad += not ok
            if verdict.legitimate:
                state = "legitimate, passes" if ok else "legitimate but FAILS (a false failure)"
            else:
                state = "caught+diagnosed" if ok else ("caught, NOT diagnosed" if verdict.caught else "NOT CAUGHT")
            print(f"{name}/{verdict.mutant.name}: {state} ({len(verdict.failed_tests)} failing tests)")
            if verdict.messages:
                best = next((m for m in verdict.messages
                             if verdict.mutant.diagnosis.lower() in (m or "").lower()), verdict.messages[0])
                print("    " + (best or "").replace("\n", "\n    "))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

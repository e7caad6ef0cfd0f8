"""`make compare [EX=layers] [TARGET=...]`: every quantity the tests check, yours next to the reference's.

It runs the exercise's tests exactly as `make check` does (judged, the same fixed seed, threads pinned
alike) and reads the judge's ledger (KATA_LEDGER, grader/feedback/checks.py): for every quantity a test
checked, your value, the expected value and the diagnosis `make check` prints. For each it shows both
shapes, the largest absolute and relative differences, the first entry that differs and that diagnosis,
so the two commands name the same mistakes. Numbers only, never the reference's code.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.core import manifest, mode, runner
from grader.core import report as reports
from grader.core import target as targets
from grader.core.manifest import Exercise
from grader.feedback import checks, diagnose
from grader.learner import check

ROW = "{what:<44} {yours:>14} {expected:>14}  {abs:>9} {rel:>9} {index:>11}  {verdict}"
WIDE = 44  # a longer quantity name gets a line of its own
NUMERIC_KINDS = ("close", "unchanged")  # checks whose values are compared entry by entry


@dataclass
class Entry:
    """One decided check from the ledger."""

    test: str
    what: str
    kind: str
    ok: bool
    message: str | None
    yours: object
    expected: object


def read_ledger(path: Path) -> list[Entry]:
    entries = []
    for raw in reports.read_lines(path):
        try:
            entries.append(Entry(raw["test"].split("::")[-1], str(raw["what"]), str(raw["kind"]), bool(raw["ok"]),
                                 raw.get("message"), raw.get("yours"), raw.get("expected")))
        except (ValueError, KeyError, TypeError):
            continue
    return entries


_SCALAR_REPR = re.compile(r"^(?:np\.)?\w+\((?P<number>[^()]*)\)$")


def as_array(value) -> np.ndarray | None:
    """The numbers of a ledger value as a float64 array, or None when it holds none (a name, None, an
    array too large to be listed, an exception)."""
    if isinstance(value, dict):
        value = value.get("array")
    if isinstance(value, str):  # a non-finite float or a NumPy scalar, written as its repr
        match = _SCALAR_REPR.match(value)
        value = match.group("number") if match else value
    if value is None or isinstance(value, bool):
        return None
    try:
        return np.asarray(value if isinstance(value, list) else float(value), dtype=np.float64)
    except (TypeError, ValueError):
        return None


def _shape(value, array: np.ndarray | None) -> str:
    if isinstance(value, dict) and "shape" in value:
        shape = tuple(value["shape"])
        return "scalar" if shape == () else str(shape).replace(" ", "")
    if array is not None and array.ndim == 0:
        return "scalar"
    if value is None:
        return "None"
    if isinstance(value, dict) and "raised" in value:
        return value["raised"] or "no error"
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= 14 else text[:11] + "..."


def _first_index(yours: np.ndarray, expected: np.ndarray) -> str:
    """Where the two first differ beyond the default tolerance (else where they first differ at all)."""
    with np.errstate(all="ignore"):
        wrong = ~np.isclose(yours, expected, rtol=diagnose.DEFAULT_RTOL, atol=diagnose.DEFAULT_ATOL)
        if not wrong.any():
            wrong = ~((yours == expected) | (np.isnan(yours) & np.isnan(expected)))
    if not wrong.any():
        return "-"
    index = tuple(int(i) for i in np.argwhere(wrong)[0])
    return "scalar" if index == () else str(index[0] if len(index) == 1 else index).replace(" ", "")


def _numbers(entry: Entry, computed: bool) -> dict:
    """The table's cells for one checked quantity."""
    cells = dict.fromkeys(("yours", "expected", "abs", "rel", "index"), "-")
    if not computed:
        return cells
    yours, expected = as_array(entry.yours), as_array(entry.expected)
    cells.update(yours=_shape(entry.yours, yours),
                 expected="(a property)" if entry.kind == "that" else _shape(entry.expected, expected))
    if entry.kind not in NUMERIC_KINDS or yours is None or expected is None or yours.shape != expected.shape:
        return cells
    if yours.size:
        with np.errstate(all="ignore"):
            cells["abs"] = f"{float(np.max(np.abs(yours - expected))):.3g}"
        cells["rel"] = f"{diagnose.max_relative_difference(yours, expected):.3g}"
    if not entry.ok:
        cells["index"] = _first_index(yours, expected)
    return cells


def _row(entry: Entry, computed: bool) -> list[str]:
    cells = _numbers(entry, computed)
    verdict = "same" if entry.ok else ("DIFFERENT" if computed else "NOT COMPUTED")
    if len(entry.what) > WIDE:
        return [f"{entry.what}", ROW.format(what="", verdict=verdict, **cells)]
    return [ROW.format(what=entry.what, verdict=verdict, **cells)]


def _indented(message: str) -> list[str]:
    return ["    " + line for line in message.strip().splitlines()]


def _computed(entry: Entry, run) -> bool:
    """False when the learner's code raised (or took another path) before this check: the judge then
    records the failure with neither value."""
    if entry.ok or entry.yours is not None or entry.expected is not None:
        return True
    if entry.kind != "that":
        return False
    result = next((t for t in run.tests if t.test == entry.test), None)
    return result is None or result.kind in ("AssertionError", "")


def table(entries: list[Entry], run) -> list[str]:
    """The rows, grouped by test in the order the tests ran, each failed check followed by the
    diagnosis `make check` prints (a diagnosis repeated word for word is shown once)."""
    lines = [ROW.format(what="quantity", yours="yours", expected="expected", abs="max abs", rel="max rel",
                        index="first diff", verdict="verdict")]
    shown: set[str] = set()
    test = None
    for entry in entries:
        if entry.test != test:
            test = entry.test
            lines.append(f"{test}:")
        lines += ["  " + line for line in _row(entry, _computed(entry, run))]
        if entry.message:
            if entry.message.strip() in shown:
                lines.append("    (the same message as above)")
            else:
                shown.add(entry.message.strip())
                lines += _indented(entry.message)
    return lines


def _unexplained(entries: list[Entry], run) -> list[str]:
    """Failures `make check` reports that no checked quantity carries (an assert in your half of the test,
    a time-out, a crash, a different path through the test): listed in full, so nothing check names is
    missing here."""
    messages: dict[str, set[str]] = {}
    for entry in entries:
        if entry.message:
            messages.setdefault(entry.test, set()).add(entry.message.strip())
    lines = []
    for result in run.tests:
        if result.passed or (result.message or "").strip() in messages.get(result.test, set()):
            continue
        where = f" ({result.where})" if result.where and result.where not in (result.message or "") else ""
        lines.append(f"{result.test}: {result.outcome}{where}")
        lines += _indented(result.message or result.outcome)
    return lines


def judged_run(exercise: Exercise, target_dir: Path):
    """(TargetRun, ledger entries) of the exercise's tests, run as `make check` runs them."""
    with tempfile.TemporaryDirectory(prefix="kata-compare-") as scratch:
        ledger = Path(scratch) / "ledger.jsonl"
        run = runner.run_exercise(exercise, [target_dir], mode=check.MODE, seed=check.SEED,
                                  extra_env={checks.LEDGER_VAR: str(ledger)})[str(target_dir)]
        return run, read_ledger(ledger)


def compare(name: str, target_dir: Path) -> tuple[int, str]:
    """(status, text): 0 when every checked quantity matches and every test passes, else 1."""
    exercise = manifest.load().exercise(name)
    header = (f"Exercise {exercise.number}, {exercise.name}: your {targets.display_name(target_dir)}/"
              f"{exercise.module_file} next to the reference, on the inputs `make check EX={exercise.name}` "
              f"uses (seed {check.SEED}).")
    problem = check.syntax_problem(exercise, target_dir)
    if problem:
        return 1, f"{header}\n{problem}"
    run, entries = judged_run(exercise, target_dir)
    lines = [header, ""]
    if entries:
        lines += table(entries, run) + [""]
    unexplained = _unexplained(entries, run)
    if run.problem:
        lines.append(f"Problem: {run.problem}")
    if unexplained:
        lines += ["Failing tests whose message is not about one quantity above:"] + unexplained + [""]
    different = sum(not e.ok for e in entries)
    not_computed = sum(not _computed(e, run) for e in entries)
    failed = sum(not t.passed for t in run.tests)
    if not entries and not run.tests:
        lines.append(f"No test ran. `make check EX={name}` shows why.")
    elif different or failed or run.problem:
        lines.append(f"{len(entries) - different} of {len(entries)} checked quantities match the reference; "
                     f"{failed} of {run.total} tests fail, the same as in `make check EX={name}`.")
        if different > not_computed:
            lines.append("Start with the first DIFFERENT quantity: later ones often inherit its error.")
        if not_computed:
            lines.append("NOT COMPUTED: your code raised (or took another path through the test) before that "
                         "quantity; the message under it says where.")
    else:
        lines.append(f"Every quantity matches the reference ({len(entries)} checked) and all {run.total} tests "
                     "pass.")
    ok = not different and not failed and not run.problem and bool(run.tests)
    return (0 if ok else 1), "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make compare", description=__doc__.splitlines()[0])
    parser.add_argument("exercise", nargs="?", help="exercise name (default: the one you are on)")
    parser.add_argument("--target", type=targets.argument, default="")
    args = parser.parse_args(argv)
    if mode.is_release():
        print("make compare needs the reference implementation, which a student release does not include: "
              "use `make check` (its messages carry the same diagnoses) and `make hint`.")
        return 2
    target_dir = args.target
    exercise, note = check.pick(args.exercise, "compare", target_dir)
    if exercise is None:
        print(note, file=sys.stderr)
        return 2
    if note:
        print(f"Comparing `{exercise.name}` {note}.")
    try:
        status, text = compare(exercise.name, target_dir)
    except KeyboardInterrupt:
        print("\nStopped. If it never finishes, look for an endless loop in your code "
              f"(`make check EX={exercise.name}` stops each test after its time limit).")
        return 130
    print(text)
    # Differences are the answer to the question asked, not a failure of the command (make would
    # print an error line after them).
    return 0

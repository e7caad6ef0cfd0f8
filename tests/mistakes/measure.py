"""Measure how often `make check` and `make compare` NAME a mistake nobody wrote a diagnosis for.

A bank is tests/mistakes/<set>/<exercise>.py, in the format of tests/mutants/ (`MUTANTS = [Mutant(...)]`),
written before looking at what the diagnoses say. Its `diagnosis` field lists, separated by "|", words a
message naming the mistake would contain (never the quantity's own name); `misdiagnosis` a wrong one.

For each mistake the exercise's tests run once, as `make compare` runs them (judged, fixed seed, with the
ledger). Named by check: a failing test's message contains a keyword. Named by compare: a message under a
row of the compare table (or a failure compare lists in full) contains one. Either is void when it also
contains the misdiagnosis.

    .venv/bin/python tests/mistakes/measure.py first [EXERCISE ...]   # writes tests/mistakes/first/results.txt
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from grader.core import manifest  # noqa: E402
from grader.learner import compare  # noqa: E402
from grader.maintainer import mutation  # noqa: E402

HERE = Path(__file__).resolve().parent


def bank(folder: Path, exercise: str) -> list:
    path = folder / f"{exercise}.py"
    if not path.exists():
        return []
    spec = importlib.util.spec_from_file_location(f"kata_mistakes_{folder.name}_{exercise}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.MUTANTS)


def named(mutant, messages: list[str]) -> bool:
    text = "\n".join(m or "" for m in messages).lower()
    if mutant.misdiagnosis and mutant.misdiagnosis.lower() in text:
        return False
    return any(word.strip().lower() in text for word in mutant.diagnosis.split("|") if word.strip())


def measure(exercise_name: str, mutant, log: Path | None = None) -> dict:
    try:
        row = _measure(exercise_name, mutant)
    except Exception as error:  # noqa: BLE001 - one broken run must not lose the others
        row = {"exercise": exercise_name, "name": mutant.name, "error": f"{type(error).__name__}: {error}"}
    if log is not None:
        with open(log, "a", encoding="utf-8") as out:
            out.write(json.dumps(row) + "\n")
    return row


def _measure(exercise_name: str, mutant) -> dict:
    exercise = manifest.load().exercise(exercise_name)
    with tempfile.TemporaryDirectory(prefix=f"kata-mistake-{exercise_name}-") as scratch:
        try:
            folder = mutation.build(mutant, exercise_name, Path(scratch))
        except ValueError as error:
            return {"exercise": exercise_name, "name": mutant.name, "error": str(error)}
        run, entries = compare.judged_run(exercise, folder)
    failed = [t for t in run.tests if not t.passed]
    check_messages = [t.message for t in failed] + ([run.problem] if run.problem else [])
    compare_messages = [e.message for e in entries if e.message] + compare._unexplained(entries, run) \
        + ([run.problem] if run.problem else [])
    first = next((m for m in check_messages if m), "")
    return {"exercise": exercise_name, "name": mutant.name, "caught": bool(failed) or run.problem is not None,
            "check": named(mutant, check_messages), "compare": named(mutant, compare_messages),
            "first": first.strip().replace("\n", " / ")[:400], "failed": len(failed)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("set")
    parser.add_argument("exercises", nargs="*")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    folder = HERE / args.set
    names = args.exercises or [n for n in manifest.load().names if (folder / f"{n}.py").exists()]
    work = [(name, m) for name in names for m in bank(folder, name)]
    log = folder / "rows.jsonl"  # one line per mistake as it finishes (a killed run keeps what it measured)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(lambda job: measure(*job, log=log), work))
    lines = []
    for row in rows:
        if "error" in row:
            lines.append(f"{row['exercise']}/{row['name']}: BANK ERROR {row['error']}")
            continue
        state = ("check+compare" if row["check"] and row["compare"] else "check only" if row["check"]
                 else "compare only" if row["compare"] else "caught, unnamed" if row["caught"] else "NOT CAUGHT")
        lines.append(f"{row['exercise']}/{row['name']}: {state} ({row['failed']} failing)\n    {row['first']}")
    good = [r for r in rows if "error" not in r]
    caught = [r for r in good if r["caught"]]
    summary = (f"{len(good)} mistakes, {len(caught)} caught; named by check {sum(r['check'] for r in good)}"
               f"/{len(good)} ({100 * sum(r['check'] for r in good) / max(len(good), 1):.0f}%), by compare "
               f"{sum(r['compare'] for r in good)}/{len(good)} "
               f"({100 * sum(r['compare'] for r in good) / max(len(good), 1):.0f}%); of the caught ones, "
               f"check {sum(r['check'] for r in caught)}/{len(caught)}, compare {sum(r['compare'] for r in caught)}"
               f"/{len(caught)}")
    per = []
    for name in names:
        mine = [r for r in good if r["exercise"] == name]
        per.append(f"  {name}: {len(mine)} mistakes, caught {sum(r['caught'] for r in mine)}, check "
                   f"{sum(r['check'] for r in mine)}, compare {sum(r['compare'] for r in mine)}")
    text = "\n".join(lines + ["", summary] + per) + "\n"
    print(text)
    if not args.exercises:
        (folder / "results.txt").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

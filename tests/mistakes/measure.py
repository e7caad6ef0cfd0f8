"""Measure how often `make check` and `make compare` NAME a mistake nobody wrote a diagnosis for.

A bank is tests/mistakes/<set>/<exercise>.py, in the format of tests/mutants/ (`MUTANTS = [Mutant(...)]`),
written before looking at what the diagnoses say. Its `diagnosis` field lists, separated by "|", words a
message naming the mistake would contain (never the quantity's own name); `misdiagnosis` a wrong one.

The mistakes of an exercise run together, each as its own target, the way grader.maintainer.mutation
runs the mutants (split mode: the worker's observations decoded and judged as in `make check`), with the
fixed seed of `make check` and the ledger `make compare` reads. Named by check: a failing test's message contains a keyword. Named by compare: a message under a
row of the compare table (or a failure compare lists in full) contains one. Either is void when it also
contains the misdiagnosis.

    .venv/bin/python tests/mistakes/measure.py first [EXERCISE ...]   # writes tests/mistakes/first/results.txt
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from grader.core import manifest  # noqa: E402
from grader.core import runner  # noqa: E402
from grader.feedback import checks, edits  # noqa: E402
from grader.learner import check, compare  # noqa: E402
from grader.maintainer import mutation  # noqa: E402

HERE = Path(__file__).resolve().parent
os.environ[edits.SEARCH_VAR] = "1"  # what `make check` does, whatever the maintainer's suite sets


def bank(folder: Path, exercise: str) -> list:
    path = folder / f"{exercise}.py"
    if not path.exists():
        return []
    spec = importlib.util.spec_from_file_location(f"kata_mistakes_{folder.name}_{exercise}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.MUTANTS)


def named(mutant, messages: list[str], quantities=()) -> bool:
    """A keyword in a message, once the names of the checked quantities are cut out of it (a quantity's
    name, like 'softmax(z, axis=0)' or 'gradient_norms()', says nothing about the mistake)."""
    text = "\n".join(m or "" for m in messages)
    for what in sorted(set(quantities), key=len, reverse=True):
        text = text.replace(what, "<quantity>")
    text = text.lower()
    if mutant.misdiagnosis and mutant.misdiagnosis.lower() in text:
        return False
    return any(word.strip().lower() in text for word in mutant.diagnosis.split("|") if word.strip())


def matched(row) -> list[str]:
    """Each keyword of a named mistake found in its messages, with the text around it (to audit the keywords)."""
    hits = []
    for word in (w.strip().lower() for w in row["keywords"].split("|") if w.strip()):
        for message in row["messages"]:
            at = message.lower().find(word)
            if at >= 0:
                hits.append(f"{word!r}: ...{message[max(at - 80, 0):at + 60]}...".replace("\n", " / "))
                break
    return hits


def measure_exercise(exercise_name: str, mutants: list, log: Path | None = None) -> list[dict]:
    """Every mistake of one exercise in one run (each its own target, as grader.maintainer.mutation runs
    the mutants): the same tests, seed and diagnoses as `make check`, with the ledger `make compare` reads."""
    exercise = manifest.load().exercise(exercise_name)
    rows, built = [], []
    with tempfile.TemporaryDirectory(prefix=f"kata-mistakes-{exercise_name}-") as scratch:
        for mutant in mutants:
            try:
                built.append((mutant, mutation.build(mutant, exercise_name, Path(scratch))))
            except ValueError as error:
                rows.append({"exercise": exercise_name, "name": mutant.name, "error": str(error)})
        ledger = Path(scratch) / "ledger.jsonl"
        runs = runner.run_exercise(exercise, [folder for _, folder in built], mode="split", seed=check.SEED,
                                   child_seconds=3600, extra_env={checks.LEDGER_VAR: str(ledger)})
        entries = compare.read_ledger(ledger)
    for mutant, folder in built:
        run = runs[str(folder)]
        mine = [e for e in entries if e.test.endswith(f"[{folder}]")]
        failed = [t for t in run.tests if not t.passed]
        check_messages = [t.message for t in failed] + ([run.problem] if run.problem else [])
        # What compare prints under its rows, and the failures it lists in full (their messages only: a
        # test's name says nothing about the mistake).
        ledgered = {(e.test, (e.message or "").strip()) for e in mine if e.message}
        compare_messages = [e.message for e in mine if e.message] + [
            t.message for t in failed if (t.test, (t.message or "").strip()) not in ledgered] \
            + ([run.problem] if run.problem else [])
        first = next((m for m in check_messages if m), "")
        rows.append({"exercise": exercise_name, "name": mutant.name,
                     "caught": bool(failed) or run.problem is not None,
                     "check": named(mutant, check_messages, [e.what for e in entries]),
                     "compare": named(mutant, compare_messages, [e.what for e in entries]),
                     "first": first.strip().replace(str(folder), "<target>").replace("\n", " / ")[:600],
                     "failed": len(failed), "keywords": mutant.diagnosis,
                     "messages": [m.replace(str(folder), "<target>") for m in check_messages if m]})
    if log is not None:
        with open(log, "a", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps({k: v for k, v in row.items() if k != "messages"}) + "\n")
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("set")
    parser.add_argument("exercises", nargs="*")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--show", action="store_true", help="print every message of the unnamed mistakes")
    parser.add_argument("--audit", action="store_true", help="print where each named mistake's keyword was found")
    args = parser.parse_args(argv)
    folder = HERE / args.set
    names = args.exercises or [n for n in manifest.load().names if (folder / f"{n}.py").exists()]
    log = folder / "rows.jsonl"  # one line per mistake as each exercise finishes (a killed run keeps them)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        rows = [row for found in pool.map(lambda name: measure_exercise(name, bank(folder, name), log), names)
                for row in found]
    lines = []
    for row in rows:
        if "error" in row:
            lines.append(f"{row['exercise']}/{row['name']}: BANK ERROR {row['error']}")
            continue
        state = ("check+compare" if row["check"] and row["compare"] else "check only" if row["check"]
                 else "compare only" if row["compare"] else "caught, unnamed" if row["caught"] else "NOT CAUGHT")
        lines.append(f"{row['exercise']}/{row['name']}: {state} ({row['failed']} failing)\n    {row['first']}")
        if args.audit and row["check"]:
            lines += [f"    audit: {hit}" for hit in matched(row)]
        if args.show and not row["check"]:
            lines += [f"    keywords: {row['keywords']}"] + [
                "    | " + m.strip().replace("\n", " / ")[:700] for m in dict.fromkeys(row["messages"])]
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

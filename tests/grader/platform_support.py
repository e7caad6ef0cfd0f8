"""What the platform tests share: a kata report of chosen points, Gradescope's results format, and the
GitHub Classroom grading reporter's rules (classroom-resources/autograding-grading-reporter, ported below).

Used by test_platforms_gradescope.py, test_platforms_export.py, test_platforms_classroom.py and
test_release.py.
"""

from __future__ import annotations

import base64
import json
import zipfile
from pathlib import Path

from grader.core import manifest
from grader.core import report as reports

KATA = manifest.load()


def unpack(archive_path: Path, into: Path) -> None:
    """Unpack a built autograder zip keeping the executable bits (as Gradescope does), for the offline
    simulation."""
    with zipfile.ZipFile(archive_path) as archive:
        for info in archive.infolist():
            archive.extract(info, into)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                (into / info.filename).chmod(mode)


def assert_valid(results: dict, names: list[str] | None = None) -> None:
    """Gradescope's format, a score equal to the sum of the tests, max scores from the manifest."""
    assert isinstance(results["score"], (int, float)) and isinstance(results["tests"], list)
    assert isinstance(results.get("output"), str) and results["output"]
    assert abs(results["score"] - round(sum(t["score"] for t in results["tests"]), 1)) < 1e-9
    for test in results["tests"]:
        assert set(test) >= {"name", "score", "max_score"} and isinstance(test.get("output", ""), str)
        assert test.get("visibility", "visible") in ("visible", "hidden", "after_due_date", "after_published")
        assert 0 <= test["score"] <= test["max_score"] or test["max_score"] == 0 == test["score"]
    graded = {t["number"]: t for t in results["tests"] if t.get("number")}
    expected = {str(ex.number): ex.points for ex in KATA.exercises if names is None or ex.name in names}
    assert {number: t["max_score"] for number, t in graded.items()} == expected
    assert not [t["name"] for t in graded.values() if t["name"][0].isdigit()]  # Gradescope shows the number
    kata_score = results.get("extra_data", {}).get("kata_score")
    if kata_score is not None:
        assert abs(results["score"] - kata_score) < 1e-9
    for test in results["tests"]:
        if not test.get("number"):
            assert test["max_score"] == 0 == test["score"]


def kata_report(points: dict[str, float]) -> dict:
    """A grade report of the shape the grader writes, with these points per exercise (0 for the others)."""
    exercises = []
    for ex in KATA.exercises:
        got = points.get(ex.name, 0.0)
        done = got == ex.points
        exercises.append({"name": ex.name, "number": ex.number, "stretch": ex.stretch, "points": got,
                          "max_points": ex.points, "passed": 4 if done else 1, "total": 4,
                          "status": "done" if done else "in progress", "detail": "test_x: wrong", "tests": []})
    return {"kata_version": reports.kata_version(), "score": round(sum(points.values()), 1),
            "max_score": sum(ex.points for ex in KATA.exercises), "exercises": exercises, "milestones": [],
            "next": "Next: exercise 2.", "seconds": 3.2, "isolation": "sandboxed", "integrity_problems": []}


def js(number: float) -> str:
    """How JavaScript prints a number in a template string (shortest round trip; no ".0")."""
    return str(int(number)) if float(number).is_integer() else repr(float(number))


def reporter_notice(runners: list[dict]) -> str:
    """src/notify-classroom.js: the total Classroom records, summed in the order of the `runners` input."""
    total, maximum = 0, 0
    for results in runners:
        if not results["max_score"]:
            continue
        maximum += results["max_score"]
        for test in results["tests"]:
            total += test["score"]
    return f"Points {js(total)}/{js(maximum)}"


def decode_github_output(path: Path) -> list[dict]:
    """What the reporter does with each runner's `result` output: base64, then JSON."""
    values = [line.split("=", 1)[1] for line in path.read_text().splitlines() if line.startswith("result=")]
    return [json.loads(base64.b64decode(value).decode("utf-8")) for value in values]

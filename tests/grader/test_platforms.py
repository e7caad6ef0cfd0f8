"""Course platforms simulated offline: Gradescope's autograder, GitHub Classroom's reporter, and export.

Gradescope: `make gradescope`'s zip is unpacked into a temporary autograder root (the /autograder prefix
is AUTOGRADER_ROOT) with source/, submission/ and results/, and run_autograder runs there on flat, nested,
empty, hanging, broken and hostile submissions. setup.sh cannot run here (it installs Python and torch as
root on the platform's image); the unpacked source uses this repository's virtual environment instead.
Every results.json must parse, its score must equal the sum of its tests and the kata report's score, and
its maximum scores must match the manifest.

Classroom: the step of each exercise writes `result=<base64 JSON>` to a temporary GITHUB_OUTPUT, decoded
as the grading reporter decodes it; its totals, computed by the rules of the reporter's published source
(classroom-resources/autograding-grading-reporter, ported below), must be the report's score.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from grader.core import manifest
from grader.core import report as reports
from grader.core.manifest import EXERCISES_DIR, ROOT, SOLUTIONS_DIR
from grader.platforms import export
from grader.platforms.classroom import step as classroom

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

KATA = manifest.load()
FEW = "layers,activations"  # most cases grade two exercises: the behaviour is per exercise, the time is not


# ---- Gradescope ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory):
    from grader.platforms.gradescope import build

    return build.build(tmp_path_factory.mktemp("dist") / "gradescope-autograder.zip")


def _readable_temporary_folder() -> Path:
    # Not pytest's tmp_path: it is private to root, and in uid mode learner code runs as nobody.
    folder = Path(tempfile.mkdtemp(prefix="kata-autograder-"))
    folder.chmod(0o755)
    return folder


@pytest.fixture(scope="module")
def source(autograder_zip):
    from grader.platforms.gradescope import build

    folder = _readable_temporary_folder()
    build.unpack(autograder_zip, folder / "source")
    (folder / "source" / ".venv").symlink_to(ROOT / ".venv")
    yield folder / "source"
    shutil.rmtree(folder, ignore_errors=True)


def _copy_solutions(into: Path) -> None:
    into.mkdir(parents=True, exist_ok=True)
    for path in SOLUTIONS_DIR.glob("*.py"):
        if path.name != "__init__.py":
            shutil.copyfile(path, into / path.name)


def run_autograder(source: Path, fill, *options: str, env: dict | None = None) -> dict:
    """A fresh autograder root around the shared source; fill(submission) writes the submission."""
    root = _readable_temporary_folder()
    try:
        (root / "source").symlink_to(source)
        (root / "submission").mkdir()
        (root / "results").mkdir()
        fill(root / "submission")
        environment = dict(os.environ, AUTOGRADER_ROOT=str(root), **(env or {}))
        environment.pop("KATA_TARGET", None)
        completed = subprocess.run([str(source / "run_autograder"), *options], env=environment, cwd=root,
                                   capture_output=True, text=True, timeout=800)
        assert completed.returncode == 0, completed.stdout + completed.stderr
        text = (root / "results" / "results.json").read_text()
        return json.loads(text)
    finally:
        shutil.rmtree(root, ignore_errors=True)


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


def test_the_zip_has_setup_and_run_autograder_at_its_root(autograder_zip):
    import zipfile

    with zipfile.ZipFile(autograder_zip) as archive:
        names = set(archive.namelist())
        modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in archive.infolist()}
    assert {"setup.sh", "run_autograder", "grader/integrity.json", "solutions/layers.py"} <= names
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    assert not [n for n in names if "__pycache__" in n or n.startswith(".grade")]


@pytest.mark.nightly
def test_a_flat_correct_submission_gets_every_point(source):
    results = run_autograder(source, _copy_solutions)
    assert_valid(results)
    assert results["score"] == sum(ex.points for ex in KATA.exercises), \
        [t["output"] for t in results["tests"] if t["score"] < t["max_score"]]
    hidden = [t for t in results["tests"] if t.get("visibility") == "hidden"]
    assert {t["name"] for t in hidden} >= {"Instructor: isolation", "Instructor: similarity"}
    integrity_entry = next(t for t in hidden if "integrity" in t["name"])
    assert "match" in integrity_entry["output"], integrity_entry
    assert isinstance(results["execution_time"], int)


@pytest.mark.nightly
def test_a_submission_one_folder_deeper_is_found(source):
    results = run_autograder(source, lambda s: _copy_solutions(s / "kata-main" / "exercises"), "--only", FEW)
    assert_valid(results, FEW.split(","))
    assert results["score"] == 20


def test_an_empty_submission_scores_zero_with_a_sentence(source):
    results = run_autograder(source, lambda s: None)
    assert_valid(results)
    assert results["score"] == 0
    assert "none of the exercise files" in results["output"]


@pytest.mark.nightly
def test_the_untouched_stubs_score_zero_and_say_where_to_start(source):
    def stubs(into):
        for path in EXERCISES_DIR.glob("*.py"):
            shutil.copyfile(path, into / path.name)

    results = run_autograder(source, stubs, "--only", FEW)
    assert_valid(results, FEW.split(","))
    assert results["score"] == 0
    assert "exercise 1, `layers`" in results["output"]
    assert "NotImplementedError" in results["tests"][0]["output"]


def _with_prelude(module: str, prelude: str):
    def fill(into):
        _copy_solutions(into)
        path = into / f"{module}.py"
        path.write_text(prelude + path.read_text())
    return fill


@pytest.mark.nightly
def test_an_import_error_costs_only_its_exercise(source):
    results = run_autograder(source, _with_prelude("layers", "import no_such_module_anywhere\n"), "--only", FEW)
    assert_valid(results, FEW.split(","))
    first, second = results["tests"][0], results["tests"][1]
    assert first["score"] == 0 and "no_such_module_anywhere" in first["output"]
    assert second["score"] == second["max_score"] == 10


@pytest.mark.nightly
def test_a_hanging_exercise_costs_only_that_exercise(source):
    hang = "import time\nclass _Slow:\n    pass\n"

    def fill(into):
        _copy_solutions(into)
        path = into / "activations.py"
        text = path.read_text().replace("def forward(self, x):", "def forward(self, x):\n        while True:\n"
                                        "            pass", 1)
        path.write_text(hang + text)

    results = run_autograder(source, fill, "--only", FEW, "--timeout", "300", env={"KATA_TEST_TIMEOUT": "3"})
    assert_valid(results, FEW.split(","))
    first, second = results["tests"][0], results["tests"][1]
    assert first["score"] == 10
    assert second["score"] < second["max_score"] and "timed out" in second["output"]


HOSTILE = '''
import os as _os, json as _json, pathlib as _pathlib
_root = _pathlib.Path(_os.environ.get("AUTOGRADER_ROOT", "/autograder"))
_here = _pathlib.Path(__file__).resolve()
for _target in [_root / "results" / "results.json", _pathlib.Path("/autograder/results/results.json")] + \
        [_p / "results" / "results.json" for _p in _here.parents]:
    try:
        _target.write_text(_json.dumps({"score": 1000, "tests": []}))
    except Exception:
        pass
for _walk in [_root / "source" / "solutions" / "layers.py"] + [_p / "source" / "solutions" / "layers.py"
                                                             for _p in _here.parents]:
    try:
        exec(compile(_walk.read_text(), "stolen", "exec"))
        break
    except Exception:
        pass
'''


@pytest.mark.nightly
def test_a_hostile_submission_cannot_write_the_results_or_read_the_reference(source):
    def fill(into):
        for path in EXERCISES_DIR.glob("*.py"):
            shutil.copyfile(path, into / path.name)
        (into / "layers.py").write_text((EXERCISES_DIR / "layers.py").read_text() + HOSTILE)

    results = run_autograder(source, fill, "--only", FEW)
    assert_valid(results, FEW.split(","))
    assert results["score"] == 0


@pytest.mark.nightly
def test_workers_that_cannot_start_still_give_a_valid_results_file(source):
    results = run_autograder(source, _copy_solutions, "--memory-gb", "0.001")
    assert_valid(results)
    assert results["score"] == 0


# ---- export ----------------------------------------------------------------------------------------------

def _report(points: dict[str, float]) -> dict:
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


def test_export_refuses_a_report_from_another_kata_version(tmp_path):
    report = dict(_report({"layers": 10}), kata_version="0000000000000000")
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    completed = subprocess.run([sys.executable, "-m", "grader", "export", "--format", "gradescope", "--report",
                                str(path), "--out", str(tmp_path / "out.json")], cwd=ROOT, capture_output=True,
                               text=True, timeout=120)
    assert completed.returncode == 2 and "kata version 0000000000000000" in completed.stderr
    assert not (tmp_path / "out.json").exists()


def test_export_gradescope_sums_the_tests_to_the_report_score(tmp_path):
    report = _report({"layers": 10, "activations": 2.5, "optim": 20})
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    completed = subprocess.run([sys.executable, "-m", "grader", "export", "--format", "gradescope", "--report",
                                str(path), "--out", str(tmp_path / "out.json")], cwd=ROOT, capture_output=True,
                               text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    results = json.loads((tmp_path / "out.json").read_text())
    assert_valid(results)
    assert results["score"] == report["score"] == 32.5


def test_gradescope_puts_the_milestones_numbers_on_the_leaderboard_and_no_locked_one_among_the_tests():
    report = dict(_report({ex.name: ex.points for ex in KATA.exercises}), milestones=[
        {"name": "mnist", "title": "MNIST", "status": "passed", "test_accuracy": 0.97312, "reason": "97.31%"},
        {"name": "speed", "title": "Speed", "status": "failed", "ratio": 3.125, "reason": "3.1x PyTorch's"},
        {"name": "cnn", "title": "A CNN", "status": "locked", "reason": "needs conv"}])
    results = export.to_gradescope(report, previous=[{"score": 40.0}, {"score": 150.5}])
    assert_valid(results)
    assert results["leaderboard"] == [{"name": "MNIST test accuracy (%)", "value": 97.31},
                                      {"name": "Training step / PyTorch's", "value": 3.125, "order": "asc"}]
    names = [t["name"] for t in results["tests"]]
    assert "Milestone: MNIST" in names and "Milestone: Speed" in names and "Milestone: A CNN" not in names
    assert "not unlocked yet" in results["output"] and "cnn" in results["output"]
    assert "Your progress: 40 -> 150.5 -> 190 (this one) of 190 points; +39.5 since" in results["output"]
    quiet = export.to_gradescope(dict(report, milestones=[]))
    assert "leaderboard" not in quiet and "progress" not in quiet["output"]


def test_gradescope_reads_the_previous_submissions_from_the_metadata(tmp_path):
    from grader.platforms.gradescope import autograde

    assert autograde.previous_submissions(tmp_path) == []
    (tmp_path / "submission_metadata.json").write_text(json.dumps({"previous_submissions": [
        {"submission_time": "2026-03-02T10:00:00", "score": 30.0}, {"submission_time": "2026-03-01T10:00:00",
                                                                     "score": 10.0}]}))
    assert [p["score"] for p in autograde.previous_submissions(tmp_path)] == [10.0, 30.0]


# ---- GitHub Classroom: the reporter's own rules ----------------------------------------------------------

def _js(number: float) -> str:
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
    return f"Points {_js(total)}/{_js(maximum)}"


def reporter_table_total(runners: list[dict]) -> float:
    """src/aggregate-results.js with src/helpers/test-helpers.js getTestScore: passed tests / tests x max."""
    return sum(sum(t["status"] == "pass" for t in r["tests"]) / len(r["tests"]) * (r["max_score"] or 0)
               for r in runners)


def _in_course_order(runners: dict) -> list[dict]:
    return [runners[classroom.runner_id(ex.name)] for ex in KATA.exercises if classroom.runner_id(ex.name) in runners]


def test_classroom_records_the_report_score_for_a_full_and_a_partial_submission():
    full = classroom.to_classroom(_report({ex.name: ex.points for ex in KATA.exercises}))
    assert reporter_notice(_in_course_order(full)) == "Points 190/190"
    assert reporter_table_total(_in_course_order(full)) == 190
    assert all(isinstance(r["max_score"], int) for r in full.values())
    # The state of the issue: 187.6, which naive float shares would print as 187.60000000000002.
    points = {ex.name: ex.points for ex in KATA.exercises} | {"gradcheck": 8.4, "regularization": 9.2}
    naive = 0.0
    for ex in KATA.exercises:
        naive += points[ex.name]
    assert repr(naive) != "187.6"
    partial = _in_course_order(classroom.to_classroom(_report(points)))
    assert reporter_notice(partial) == "Points 187.6/190"
    core = _report({ex.name: ex.points for ex in KATA.exercises if not ex.stretch})
    assert reporter_notice(_in_course_order(classroom.to_classroom(core))) == f"Points {_js(core['score'])}/190"
    assert reporter_table_total(_in_course_order(classroom.to_classroom(core))) == core["score"]


def test_classroom_statuses_agree_between_runner_and_test():
    report = _report({"layers": 10, "losses": 4})
    report["exercises"][2]["status"] = "crashed"
    runners = classroom.to_classroom(report)
    assert all(r["status"] == r["tests"][0]["status"] for r in runners.values())
    assert runners["layers"]["status"] == "pass" and runners["activations"]["status"] == "fail"
    assert runners["losses"]["status"] == "error"  # the reporter prints an error's message itself


def _decode_github_output(path: Path) -> list[dict]:
    """What the reporter does with each runner's `result` output: base64, then JSON."""
    values = [line.split("=", 1)[1] for line in path.read_text().splitlines() if line.startswith("result=")]
    return [json.loads(base64.b64decode(value).decode("utf-8")) for value in values]


def test_classroom_steps_print_the_diagnosis_and_write_the_report_score(tmp_path):
    report = _report({"layers": 10, "activations": 10, "network": 4, "autograd": 20})
    report["exercises"][4]["detail"] = "Network.backward: dL/dW is wrong; did you overwrite instead of accumulate?"
    (tmp_path / "report.json").write_text(json.dumps(report))
    output = tmp_path / "github_output"
    env = dict(os.environ, GITHUB_OUTPUT=str(output))
    logs = {}
    for ex in KATA.exercises:
        completed = subprocess.run([sys.executable, "-m", "grader.platforms.classroom.step", "--report",
                                    str(tmp_path / "report.json"), "--exercise", ex.name], cwd=ROOT, env=env,
                                   capture_output=True, text=True, timeout=120)
        assert completed.returncode == 0, completed.stderr
        logs[ex.name] = completed.stdout
    assert "overwrite instead of accumulate" in logs["network"] and "4.0 of 10 points" in logs["network"]
    assert reporter_notice(_decode_github_output(output)) == f"Points {_js(report['score'])}/190"


def test_a_classroom_step_without_a_report_says_why_and_scores_zero(tmp_path):
    output = tmp_path / "github_output"
    completed = subprocess.run([sys.executable, "-m", "grader.platforms.classroom.step", "--report",
                                str(tmp_path / "missing.json"), "--exercise", "layers"],
                               cwd=ROOT, env=dict(os.environ, GITHUB_OUTPUT=str(output)), capture_output=True,
                               text=True, timeout=120)
    assert completed.returncode == 0
    (result,) = _decode_github_output(output)
    assert result["status"] == "error" == result["tests"][0]["status"] and result["tests"][0]["score"] == 0
    assert result["max_score"] == 10 and "no report" in result["tests"][0]["message"]


def test_the_classroom_workflow_is_shaped_as_the_reporter_requires():
    from grader.platforms.classroom import workflow

    text = workflow.render()
    template = ROOT / "grader" / "platforms" / "classroom" / "classroom.yml"
    assert template.read_text() == text, "regenerate: python -m grader.platforms.classroom.workflow " \
                                         "--out grader/platforms/classroom/classroom.yml"
    assert "\nname: Autograding Tests\n" in text and "\n  run-autograding-tests:\n" in text
    assert text.count("\n  run") == 1  # one job only
    runners = [classroom.runner_id(ex.name) for ex in KATA.exercises]
    assert f"runners: {','.join(runners)}\n" in text
    for runner in runners:
        assert runner.isalnum()
        assert f"id: {runner}\n" in text
        assert f'{runner.upper()}_RESULTS: "${{{{steps.{runner}.outputs.result}}}}"' in text
    assert "uses: classroom-resources/autograding-grading-reporter@v1" in text
    assert "autograding-command-grader" not in text  # plain run: steps (the command grader is all or nothing)
    chosen = workflow.render(["layers", "optim"])
    assert "runners: layers,optim\n" in chosen and "--only layers,optim" in chosen


# ---- the student release ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """The release as `make release` writes it from a fresh clone: a copy of the files git tracks (with their
    working-tree contents, so uncommitted edits are tested too), without anything ignored or generated."""
    base = tmp_path_factory.mktemp("release")
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, timeout=120)
    if listed.returncode != 0:
        pytest.skip("not a git checkout: no fresh clone to build the release from")
    clone = base / "clone"
    for name in filter(None, listed.stdout.decode().split("\0")):
        if (ROOT / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, clone / name)
    out = base / "kata"
    built = subprocess.run([sys.executable, "-m", "grader.instructor.release", "--out", str(out)], cwd=clone,
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    (out / ".venv").symlink_to(ROOT / ".venv")
    os.utime(out / "requirements.txt", (0, 0))  # older than the shared environment's stamp: make installs nothing
    return out


def _pytest_in(folder: Path, *arguments: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("KATA_TARGET", "KATA_MODE", "PYTEST_ADDOPTS")}
    return subprocess.run([str(folder / ".venv" / "bin" / "python"), "-m", "pytest", "-q", "--tb=no", "-p",
                           "no:randomly", "tests/exercises", *arguments], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=900)


@pytest.mark.nightly
def test_the_release_ships_the_students_kata_only(release):
    assert not (release / "solutions").exists() and not (release / "tests" / "mutants").exists()
    assert not (release / "tests" / "grader").exists()
    for package in ("instructor", "maintainer", "platforms"):
        assert not (release / "grader" / package).exists(), package
    assert {p.name for p in (release / "grader").iterdir() if p.is_dir() and p.name != "__pycache__"} == \
        {"core", "feedback", "milestones", "data", "learner"}
    assert not (release / "grader" / "learner" / "compare.py").exists()  # it needs the reference
    listed = subprocess.run([str(release / ".venv" / "bin" / "python"), "-m", "grader"], cwd=release,
                            capture_output=True, text=True, timeout=120).stdout
    assert "grade-all" not in listed and "export" not in listed and "compare" not in listed and "hint" in listed
    assert (release / ".github" / "workflows" / "classroom.yml").is_file()
    assert (release / ".github" / "classroom" / "step.py").is_file()
    assert (release / "grader" / "RELEASE").is_file()  # what puts the release's grading in advisory mode
    readme = (release / "README.md").read_text()
    assert "Your copy of the kata" in readme and "kata-only" not in readme and "release-only" not in readme
    for absent in ("## For instructors", "## Course platforms", "## For maintainers", "make compare",
                   "TARGET=", "reference implementation for every other module"):
        assert absent not in readme, absent
    makefile = (release / "Makefile").read_text()
    for absent in ("compare", "grade-all", "gradescope", "release", "stubs", "Instructor", "TARGET=solutions"):
        assert absent not in makefile, absent
    from grader.core import integrity

    assert integrity.check(release) == []
    recorded = integrity.recorded(release)
    assert recorded and not [p for p in recorded if p.startswith(("solutions/", "tests/mutants/"))]
    for path in (release / "exercises").glob("*.py"):
        assert "# <exercise>" not in path.read_text(), path  # stubs, no solution regions


def _help_commands(folder: Path) -> list[list[str]]:
    """Each command `make help` lists, with its required arguments and none of its optional [ones]."""
    listed = subprocess.run(["make", "help"], cwd=folder, capture_output=True, text=True, timeout=60).stdout
    commands = []
    for line in listed.splitlines():
        if line.startswith("  make "):
            words = line.split("  ")[1].split()  # "make reset EX=layers" of "  make reset EX=layers    restore..."
            commands.append(["make", words[1]] + [w for w in words[2:] if "=" in w and not w.startswith("[")])
    return commands


MISSING = ("FileNotFoundError", "ModuleNotFoundError", "No such file", "No rule to make target", "Traceback",
           "needs the reference", "not available")


@pytest.mark.nightly
def test_every_command_the_release_lists_works_there(release, tmp_path):
    copy = tmp_path / "kata"
    shutil.copytree(release, copy, symlinks=True)
    commands = _help_commands(copy)
    assert [c[1] for c in commands] == ["grade", "check", "hint", "watch", "progress", "reset"], commands
    (copy / "exercises" / "layers.py").write_text("# my attempt\n")
    env = {k: v for k, v in os.environ.items() if k not in ("KATA_TARGET", "KATA_MODE")}
    env.update(KATA_STATE_DIR=str(tmp_path / "state"), YES="1")
    stamp = tmp_path / "installed"  # the shared environment is never set up again from here, whatever its state
    stamp.touch()
    for command in commands:
        try:
            limit = {"grade": 900, "watch": 60}.get(command[1], 300)
            completed = subprocess.run(command + [f"STAMP={stamp}"], cwd=copy, env=env, capture_output=True,
                                       text=True, timeout=limit)
            text, finished = completed.stdout + completed.stderr, True
        except subprocess.TimeoutExpired as stopped:  # watch runs until Ctrl-C
            text, finished = (stopped.stdout or b"").decode() + (stopped.stderr or b"").decode(), False
        assert not [m for m in MISSING if m in text], (command, text[-3000:])
        assert finished == (command[1] != "watch"), (command, text[-3000:])
        if command[1] != "check":  # check fails on a stub, as it should
            assert not finished or completed.returncode == 0, (command, text[-3000:])
    # make reset put the stub back from the release's own record
    assert (copy / "exercises" / "layers.py").read_text() == (release / "exercises" / "layers.py").read_text()


def test_a_release_refuses_a_non_empty_folder_unless_asked(tmp_path):
    from grader.instructor import release as releases

    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(releases.ReleaseError, match="not empty"):
        releases.build(tmp_path)
    assert (tmp_path / "keep.txt").exists()
    releases.build(tmp_path, replace=True)
    assert not (tmp_path / "keep.txt").exists() and (tmp_path / "exercises" / "layers.py").exists()


@pytest.mark.nightly
def test_in_the_release_the_stubs_fail_every_test(release):
    completed = _pytest_in(release)
    tail = completed.stdout.strip().splitlines()[-1]
    assert "failed" in tail and "passed" not in tail, completed.stdout[-3000:]
    assert "Advisory grading" in completed.stdout


@pytest.mark.nightly
def test_in_the_release_the_solutions_overlaid_pass_every_test_none_unchecked(release, tmp_path):
    """Full marks in the full kata, so full marks here: a test "not checked here" would cost correct code its
    points in the release alone (tests/grader/test_release_parity.py grades independent code both ways)."""
    overlaid = tmp_path / "kata"
    shutil.copytree(release, overlaid, symlinks=True)
    for path in SOLUTIONS_DIR.glob("*.py"):
        if path.name != "__init__.py":
            shutil.copyfile(path, overlaid / "exercises" / path.name)
    completed = _pytest_in(overlaid, "-rs")
    tail = completed.stdout.strip().splitlines()[-1]
    assert "failed" not in tail and "passed" in tail, completed.stdout[-3000:]
    skipped = [line for line in completed.stdout.splitlines() if line.startswith("SKIPPED")]
    assert not skipped, "\n".join(skipped)


@pytest.mark.nightly
def test_the_release_workflow_runs_offline_and_reports_the_grade(release, tmp_path):
    """The workflow's own `run:` commands after the install step, as GitHub Actions would run them."""
    text = (release / ".github" / "workflows" / "classroom.yml").read_text()
    commands = [line.split("run: ", 1)[1] for line in text.splitlines()
                if line.strip().startswith(("run: .venv/bin/python", "run: PYTHONPATH=."))]
    assert len(commands) == 1 + len(KATA.exercises)
    output = tmp_path / "github_output"
    env = {k: v for k, v in os.environ.items() if k not in ("KATA_TARGET", "KATA_MODE")}
    env.update(GITHUB_WORKSPACE=str(release), GITHUB_OUTPUT=str(output))
    for command in commands:
        completed = subprocess.run(command, shell=True, cwd=release, env=env, capture_output=True, text=True,
                                   timeout=600)
        assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    decoded = _decode_github_output(output)
    assert reporter_notice(decoded) == "Points 0/190"
    assert all(r["status"] == "fail" == r["tests"][0]["status"] for r in decoded)
    assert "NotImplementedError" in decoded[0]["tests"][0]["message"]


# ---- Gradescope's containers: root without namespaces ----------------------------------------------------

def _venv_for_nobody(folder: Path) -> Path | None:
    """A virtual environment whose Python the unprivileged user can run, as on Gradescope (where Python lives
    under /usr): this repository's own when it can, else one made from the system's Python of the same version
    that reads this repository's installed packages. None when neither is possible."""
    from grader.core import sandbox

    if sandbox._uid_works():
        return ROOT / ".venv"
    system = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    site = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    if not system.exists() or not site.is_dir():
        return None
    venv = folder / "venv"
    made = subprocess.run([str(system), "-m", "venv", "--without-pip", str(venv)], capture_output=True, timeout=120)
    if made.returncode != 0:
        return None
    (next(venv.glob("lib/python3*/site-packages")) / "kata.pth").write_text(f"{site}\n")
    subprocess.run(["chmod", "-R", "o+rX", str(venv)], check=True)
    return venv


@pytest.fixture(scope="module")
def uid_source(autograder_zip):
    import os as _os

    from grader.platforms.gradescope import build

    if _os.geteuid() != 0:
        pytest.skip("needs root: Gradescope runs the autograder as root (the per-user fallback is tested above)")
    folder = _readable_temporary_folder()
    venv = _venv_for_nobody(folder)
    if venv is None:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip("no Python here that the unprivileged user can run")
    build.unpack(autograder_zip, folder / "source")
    (folder / "source" / ".venv").symlink_to(venv)
    yield folder / "source"
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.nightly
def test_as_root_without_namespaces_learner_code_runs_as_nobody_and_cannot_reach_the_reference(uid_source):
    honest = run_autograder(uid_source, _copy_solutions, "--only", FEW, env={"KATA_SANDBOX": "uid"})
    assert_valid(honest, FEW.split(","))
    isolation = next(t for t in honest["tests"] if t["name"] == "Instructor: isolation")["output"]
    assert "unprivileged user" in isolation and "not tamper-proof" not in isolation, isolation
    assert honest["score"] == 20

    def hostile(into):
        for path in EXERCISES_DIR.glob("*.py"):
            shutil.copyfile(path, into / path.name)
        (into / "layers.py").write_text((EXERCISES_DIR / "layers.py").read_text() + HOSTILE)

    attacked = run_autograder(uid_source, hostile, "--only", FEW, env={"KATA_SANDBOX": "uid"})
    assert_valid(attacked, FEW.split(","))
    assert attacked["score"] == 0
    assert (uid_source / "solutions").stat().st_mode & 0o077 == 0  # made private before grading

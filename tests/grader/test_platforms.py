"""Course platforms simulated offline: Gradescope's autograder, GitHub Classroom's reporter, and export.

Gradescope: `make gradescope`'s zip is unpacked into a temporary autograder root (the /autograder prefix
is AUTOGRADER_ROOT) with source/, submission/ and results/, and run_autograder runs there on flat, nested,
empty, hanging, broken and hostile submissions. setup.sh cannot run here (it installs Python and torch as
root on the platform's image); the unpacked source uses this repository's virtual environment instead.
Every results.json must parse, its score must equal the sum of its tests and the kata report's score, and
its maximum scores must match the manifest.

Classroom: the step of each exercise writes `result=<base64 JSON>` to a temporary GITHUB_OUTPUT, decoded
as the grading reporter decodes it, and both of the reporter's totals must agree.
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
from grader.instructor import export

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
    graded = {t["name"]: t for t in results["tests"] if t["name"][0].isdigit()}
    expected = {f"{ex.number}. {ex.name}": ex.points
                for ex in KATA.exercises if names is None or ex.name in names}
    assert {name: t["max_score"] for name, t in graded.items()} == expected
    kata_score = results.get("extra_data", {}).get("kata_score")
    if kata_score is not None:
        assert abs(results["score"] - kata_score) < 1e-9
    for test in results["tests"]:
        if not test["name"][0].isdigit():
            assert test["max_score"] == 0 == test["score"]


def test_the_zip_has_setup_and_run_autograder_at_its_root(autograder_zip):
    import zipfile

    with zipfile.ZipFile(autograder_zip) as archive:
        names = set(archive.namelist())
        modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in archive.infolist()}
    assert {"setup.sh", "run_autograder", "grader/integrity.json", "solutions/layers.py"} <= names
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    assert not [n for n in names if "__pycache__" in n or n.startswith(".grade")]


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


def test_a_submission_one_folder_deeper_is_found(source):
    results = run_autograder(source, lambda s: _copy_solutions(s / "kata-main" / "exercises"), "--only", FEW)
    assert_valid(results, FEW.split(","))
    assert results["score"] == 20


def test_an_empty_submission_scores_zero_with_a_sentence(source):
    results = run_autograder(source, lambda s: None)
    assert_valid(results)
    assert results["score"] == 0
    assert "none of the exercise files" in results["output"]


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


def test_an_import_error_costs_only_its_exercise(source):
    results = run_autograder(source, _with_prelude("layers", "import no_such_module_anywhere\n"), "--only", FEW)
    assert_valid(results, FEW.split(","))
    first, second = results["tests"][0], results["tests"][1]
    assert first["score"] == 0 and "no_such_module_anywhere" in first["output"]
    assert second["score"] == second["max_score"] == 10


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


def test_a_hostile_submission_cannot_write_the_results_or_read_the_reference(source):
    def fill(into):
        for path in EXERCISES_DIR.glob("*.py"):
            shutil.copyfile(path, into / path.name)
        (into / "layers.py").write_text((EXERCISES_DIR / "layers.py").read_text() + HOSTILE)

    results = run_autograder(source, fill, "--only", FEW)
    assert_valid(results, FEW.split(","))
    assert results["score"] == 0


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


def test_export_classroom_totals_agree_under_both_formulas():
    decoded = export.to_classroom(_report({"layers": 10, "losses": 10, "optim": 20, "conv": 3}), max_score=100)
    assert_reporter_totals_agree(decoded, 100, passed=3)


def assert_reporter_totals_agree(runners: dict, max_score: float, passed: int) -> None:
    """The reporter's two totals: the sum of the tests' scores, and tests passed / tests x max."""
    tests = [t for result in runners.values() for t in result["tests"]]
    assert len(runners) == len(KATA.exercises) == len(tests)
    assert all(set(r) >= {"version", "status", "max_score", "tests"} and r["version"] == 1 for r in runners.values())
    assert all(set(t) >= {"name", "status", "score", "message"} for t in tests)
    total_max = sum(r["max_score"] for r in runners.values())
    by_scores = sum(t["score"] for t in tests)
    by_passed = sum(t["status"] == "pass" for t in tests) / len(tests) * total_max
    assert abs(total_max - max_score) < 1e-3
    assert abs(by_scores - by_passed) < 1e-3
    assert sum(t["status"] == "pass" for t in tests) == passed


# ---- GitHub Classroom ------------------------------------------------------------------------------------

def _decode_github_output(path: Path) -> list[dict]:
    """What the reporter does with each runner's `result` output: base64, then JSON."""
    values = [line.split("=", 1)[1] for line in path.read_text().splitlines() if line.startswith("result=")]
    return [json.loads(base64.b64decode(value).decode("utf-8")) for value in values]


def test_classroom_steps_write_results_whose_totals_agree(tmp_path):
    report = _report({"layers": 10, "activations": 10, "network": 4, "autograd": 20})
    (tmp_path / "report.json").write_text(json.dumps(report))
    output = tmp_path / "github_output"
    env = dict(os.environ, GITHUB_OUTPUT=str(output))
    for ex in KATA.exercises:
        completed = subprocess.run([sys.executable, "-m", "grader.platforms.classroom.step", "--report",
                                    str(tmp_path / "report.json"), "--exercise", ex.name, "--max-score", "100",
                                    "--count", str(len(KATA.exercises))], cwd=ROOT, env=env, capture_output=True,
                                   text=True, timeout=120)
        assert completed.returncode == 0, completed.stderr
    decoded = _decode_github_output(output)
    runners = {export.runner_id(ex.name): result for ex, result in zip(KATA.exercises, decoded)}
    assert_reporter_totals_agree(runners, 100, passed=3)


def test_a_classroom_step_without_a_report_says_why_and_scores_zero(tmp_path):
    output = tmp_path / "github_output"
    completed = subprocess.run([sys.executable, "-m", "grader.platforms.classroom.step", "--report",
                                str(tmp_path / "missing.json"), "--exercise", "layers", "--max-score", "100"],
                               cwd=ROOT, env=dict(os.environ, GITHUB_OUTPUT=str(output)), capture_output=True,
                               text=True, timeout=120)
    assert completed.returncode == 0
    (result,) = _decode_github_output(output)
    assert result["status"] == "error" and result["tests"][0]["score"] == 0
    assert "no report" in result["tests"][0]["message"]


def test_the_classroom_workflow_is_shaped_as_the_reporter_requires():
    from grader.platforms.classroom import workflow

    text = workflow.render()
    template = ROOT / "grader" / "platforms" / "classroom" / "classroom.yml"
    assert template.read_text() == workflow.render(), "regenerate: python -m grader.platforms.classroom.workflow " \
                                                      "--out grader/platforms/classroom/classroom.yml"
    assert "\nname: Autograding Tests\n" in text and "\n  run-autograding-tests:\n" in text
    assert text.count("\n  run") == 1  # one job only
    runners = [export.runner_id(ex.name) for ex in KATA.exercises]
    assert f"runners: {','.join(runners)}\n" in text
    for runner in runners:
        assert runner.isalnum()
        assert f"id: {runner}\n" in text
        assert f'{runner.upper()}_RESULTS: "${{{{steps.{runner}.outputs.result}}}}"' in text
    assert "uses: classroom-resources/autograding-grading-reporter@v1" in text
    assert "autograding-command-grader" not in text  # plain run: steps (the command grader is all or nothing)


# ---- the student release ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def release(tmp_path_factory):
    from grader.instructor import release as releases

    out = tmp_path_factory.mktemp("release") / "kata"
    releases.build(out)
    (out / ".venv").symlink_to(ROOT / ".venv")
    return out


def _pytest_in(folder: Path, *arguments: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("KATA_TARGET", "KATA_MODE", "PYTEST_ADDOPTS")}
    return subprocess.run([str(folder / ".venv" / "bin" / "python"), "-m", "pytest", "-q", "--tb=no", "-p",
                           "no:randomly", "tests/exercises", *arguments], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=900)


def test_the_release_ships_no_answers(release):
    assert not (release / "solutions").exists() and not (release / "tests" / "mutants").exists()
    assert not (release / "tests" / "grader").exists()
    assert not (release / "grader" / "platforms" / "gradescope").exists()
    assert (release / ".github" / "workflows" / "classroom.yml").is_file()
    assert (release / "grader" / "RELEASE").is_file()  # what puts the release's grading in advisory mode
    assert "Student release: advisory grading" in (release / "README.md").read_text()
    assert "no reference" in (release / "Makefile").read_text().split("\ncompare:")[1].split("\n\n")[0]
    from grader.core import integrity

    assert integrity.check(release) == []
    recorded = integrity.recorded(release)
    assert recorded and not [p for p in recorded if p.startswith(("solutions/", "tests/mutants/"))]
    for path in (release / "exercises").glob("*.py"):
        assert "# <exercise>" not in path.read_text(), path  # stubs, no solution regions


def test_a_release_refuses_a_non_empty_folder_unless_asked(tmp_path):
    from grader.instructor import release as releases

    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(releases.ReleaseError, match="not empty"):
        releases.build(tmp_path)
    assert (tmp_path / "keep.txt").exists()
    releases.build(tmp_path, replace=True)
    assert not (tmp_path / "keep.txt").exists() and (tmp_path / "exercises" / "layers.py").exists()


def test_in_the_release_the_stubs_fail_every_test(release):
    completed = _pytest_in(release)
    tail = completed.stdout.strip().splitlines()[-1]
    assert "failed" in tail and "passed" not in tail, completed.stdout[-3000:]
    assert "Advisory grading" in completed.stdout


def test_in_the_release_the_solutions_overlaid_pass_or_are_not_checked(release, tmp_path):
    overlaid = tmp_path / "kata"
    shutil.copytree(release, overlaid, symlinks=True)
    for path in SOLUTIONS_DIR.glob("*.py"):
        if path.name != "__init__.py":
            shutil.copyfile(path, overlaid / "exercises" / path.name)
    completed = _pytest_in(overlaid, "-rs")
    tail = completed.stdout.strip().splitlines()[-1]
    assert "failed" not in tail and "passed" in tail, completed.stdout[-3000:]
    skipped = [line for line in completed.stdout.splitlines() if line.startswith("SKIPPED")]
    assert all("not checked here (your instructor's grade checks it)" in line for line in skipped)


def test_the_release_workflow_runs_offline_and_reports_equal_totals(release, tmp_path):
    """The workflow's own `run:` commands after the install step, as GitHub Actions would run them."""
    text = (release / ".github" / "workflows" / "classroom.yml").read_text()
    commands = [line.split("run: ", 1)[1] for line in text.splitlines()
                if line.strip().startswith("run: .venv/bin/python")]
    assert len(commands) == 1 + len(KATA.exercises)
    output = tmp_path / "github_output"
    env = {k: v for k, v in os.environ.items() if k not in ("KATA_TARGET", "KATA_MODE")}
    env.update(GITHUB_WORKSPACE=str(release), GITHUB_OUTPUT=str(output))
    for command in commands:
        completed = subprocess.run(command, shell=True, cwd=release, env=env, capture_output=True, text=True,
                                   timeout=600)
        assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    decoded = _decode_github_output(output)
    runners = {export.runner_id(ex.name): result for ex, result in zip(KATA.exercises, decoded)}
    assert_reporter_totals_agree(runners, 100, passed=0)
    assert all(r["status"] == "fail" for r in runners.values())
    assert "NotImplementedError" in runners["layers"]["tests"][0]["message"]


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

"""Gradescope's autograder simulated offline: `make gradescope`'s zip is unpacked into a temporary autograder
root (the /autograder prefix is AUTOGRADER_ROOT) with source/, submission/ and results/, and run_autograder
runs there on flat, nested, empty, hanging, broken and hostile submissions, also as root without namespaces.
setup.sh cannot run here (it installs Python and torch as root on the platform's image); the unpacked source
uses this repository's virtual environment instead. Every results.json must parse, its score must equal the
sum of its tests and the kata report's score, and its maximum scores must match the manifest.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from grader.core.manifest import EXERCISES_DIR, ROOT, SOLUTIONS_DIR
from platform_support import KATA, assert_valid, unpack

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

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
    folder = _readable_temporary_folder()
    unpack(autograder_zip, folder / "source")
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

    if _os.geteuid() != 0:
        pytest.skip("needs root: Gradescope runs the autograder as root (the per-user fallback is tested above)")
    folder = _readable_temporary_folder()
    venv = _venv_for_nobody(folder)
    if venv is None:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip("no Python here that the unprivileged user can run")
    unpack(autograder_zip, folder / "source")
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

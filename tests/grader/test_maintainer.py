"""The maintainer's loop for a new exercise: `make new`, `make generate`, `make doctor`, the suite.

Run in a copy of the repository (without the MNIST files), so the real manifest is never touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from grader.core.manifest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def run(copy, *command):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", KATA_TARGET="solutions")
    return subprocess.run([sys.executable, *command], cwd=copy, capture_output=True, text=True, env=env)


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    copy = tmp_path_factory.mktemp("kata") / "kata"
    ignore = shutil.ignore_patterns("__pycache__", ".venv", ".git", ".grade", ".kata", "*.gz")
    for item in ("grader", "solutions", "exercises", "tests", "pyproject.toml", "README.md", "Makefile"):
        source = ROOT / item
        (shutil.copytree if source.is_dir() else shutil.copy)(source, copy / item, **(
            {"ignore": ignore} if source.is_dir() else {}))
    return copy


def test_doctor_finds_nothing_wrong_in_the_kata_and_answers_in_seconds(copy):
    done = run(copy, "-m", "grader.maintainer.doctor")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "everything agrees with the manifest" in done.stdout


def test_doctor_names_each_disagreement_with_the_command_that_mends_it(copy, tmp_path):
    stub = copy / "exercises" / "layers.py"
    saved = stub.read_text()
    try:
        stub.write_text(saved + "\n# edited by hand\n")
        (copy / "tests" / "exercises" / "test_nothing_known.py").write_text("")
        done = run(copy, "-m", "grader.maintainer.doctor")
    finally:
        stub.write_text(saved)
        (copy / "tests" / "exercises" / "test_nothing_known.py").unlink()
    assert done.returncode == 1
    assert "layers: exercises/layers.py is not the stub of the solution (`make generate`)" in done.stdout
    assert "test_nothing_known.py belongs to no exercise of the manifest" in done.stdout


def test_a_new_exercise_is_four_files_then_generate_and_its_example_passes_and_catches_its_mutant(copy):
    made = run(copy, "-m", "grader.maintainer.new", "scaffolded")
    assert made.returncode == 0, made.stderr
    unmended = run(copy, "-m", "grader.maintainer.doctor")
    assert unmended.returncode == 1 and "`make generate`" in unmended.stdout
    for command in (["grader.maintainer.stubgen"], ["grader.maintainer.readme"],
                    ["grader.platforms.classroom.workflow", "--out", "grader/platforms/classroom/classroom.yml"]):
        assert run(copy, "-m", *command).returncode == 0, command
    doctor = run(copy, "-m", "grader.maintainer.doctor")
    assert doctor.returncode == 0, doctor.stdout
    tests = run(copy, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/exercises/test_scaffolded.py")
    assert tests.returncode == 0, tests.stdout[-2000:]
    mutants = run(copy, "-m", "grader.maintainer.mutation", "scaffolded")
    assert mutants.returncode == 0, mutants.stdout[-2000:]
    assert "scaffolded/squares: caught+diagnosed" in mutants.stdout
    assert "scaffolded/adds: legitimate, passes" in mutants.stdout
    assert (copy / "exercises" / "scaffolded.py").read_text().count("raise NotImplementedError('scaffolded: double") == 1

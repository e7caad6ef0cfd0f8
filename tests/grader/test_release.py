"""The student release, as `make release` writes it from a fresh clone: the students' kata only, every command
it lists works there, its stubs fail every test and the solutions overlaid pass every one with none left
unchecked, and its Classroom workflow runs offline and reports the grade.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.core.manifest import ROOT, SOLUTIONS_DIR
from platform_support import KATA, decode_github_output, reporter_notice

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


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
    decoded = decode_github_output(output)
    assert reporter_notice(decoded) == "Points 0/190"
    assert all(r["status"] == "fail" == r["tests"][0]["status"] for r in decoded)
    assert "NotImplementedError" in decoded[0]["tests"][0]["message"]

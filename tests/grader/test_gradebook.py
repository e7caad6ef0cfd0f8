"""`make grade-all` on ordinary broken submissions, and the integrity record.

Hostile submissions have their own suite (test_redteam.py). Here: a correct one, untouched stubs, a zip
unpacked one folder deeper, a folder without exercise files, and code that hangs, exits or eats memory at
import: each gets its own row with a plain sentence. Only `layers` is graded, milestones off.
"""

import json
import shutil

import pytest

from grader.core.manifest import EXERCISES_DIR, ROOT, SOLUTIONS_DIR
from grader.core import integrity
from grader.instructor import gradebook

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

BROKEN_PRELUDES = {
    "hangs_at_import": "import time\ntime.sleep(3600)\n",
    "os_exit_at_import": "import os\nos._exit(3)\n",
    "sys_exit_at_import": "import sys\nsys.exit('bye')\n",
    "eats_memory": "_hog = []\nwhile True:\n    _hog.append(bytearray(500_000_000))\n",
}


def build_submissions(folder):
    shutil.copytree(SOLUTIONS_DIR, folder / "correct", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(EXERCISES_DIR, folder / "empty_stubs", ignore=shutil.ignore_patterns("__pycache__"))
    for name, prelude in BROKEN_PRELUDES.items():
        shutil.copytree(SOLUTIONS_DIR, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        module = folder / name / "layers.py"
        module.write_text(prelude + module.read_text())
    (folder / "no_exercise_files").mkdir()
    (folder / "no_exercise_files" / "notes.txt").write_text("I ran out of time.")
    nested = folder / "nested_zip" / "kata-main"
    shutil.copytree(SOLUTIONS_DIR, nested / "exercises", ignore=shutil.ignore_patterns("__pycache__"))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    import os

    folder = tmp_path_factory.mktemp("submissions")
    out = tmp_path_factory.mktemp("gradebook")
    build_submissions(folder)
    messages = []
    limits = gradebook.Limits(memory_gb=2.0, cpu_seconds=120, wall_seconds=300)
    os.environ["KATA_TEST_TIMEOUT"] = "4"  # a test stuck at import costs 4 s, not 10
    try:
        rows = gradebook.grade_all(folder, out, limits, only="layers", say=messages.append)
    finally:
        del os.environ["KATA_TEST_TIMEOUT"]
    return {"rows": {row.name: row for row in rows}, "folder": folder, "out": out, "messages": messages}


@pytest.mark.nightly
def test_a_correct_submission_gets_full_marks_and_no_problems(graded):
    row = graded["rows"]["correct"]
    assert row.score == row.max_score == 10, (row.score, row.max_score, row.problems)
    assert not [p for p in row.problems if "per process" not in p]


@pytest.mark.nightly
def test_an_untouched_stub_scores_zero_without_problems(graded):
    row = graded["rows"]["empty_stubs"]
    assert row.score == 0 and row.max_score == 10
    assert not [p for p in row.problems if "per process" not in p]


@pytest.mark.nightly
def test_a_submission_one_folder_deeper_is_found(graded):
    assert graded["rows"]["nested_zip"].score == 10, graded["rows"]["nested_zip"].problems


@pytest.mark.nightly
def test_a_folder_without_exercise_files_gets_a_row_that_says_so(graded):
    row = graded["rows"]["no_exercise_files"]
    assert row.score == 0 and row.max_score == 10
    assert any("holds none of the exercise files" in p for p in row.problems), row.problems


@pytest.mark.nightly
def test_a_submission_that_hangs_at_import_is_stopped_and_says_so(graded):
    row = graded["rows"]["hangs_at_import"]
    assert row.score == 0
    assert any("timed out" in p for p in row.problems), row.problems


@pytest.mark.nightly
def test_exit_at_import_is_explained(graded):
    row = graded["rows"]["os_exit_at_import"]
    assert row.score == 0 and any("exit() or os._exit()" in p for p in row.problems), row.problems
    row = graded["rows"]["sys_exit_at_import"]
    assert row.score == 0 and any("sys.exit()" in p or "SystemExit" in p for p in row.problems), row.problems


@pytest.mark.nightly
def test_a_submission_that_eats_memory_hits_the_memory_limit(graded):
    row = graded["rows"]["eats_memory"]
    assert row.score == 0
    assert any("memory" in p.lower() for p in row.problems), row.problems


@pytest.mark.nightly
def test_every_submission_has_a_row_and_a_report(graded):
    names = set(graded["rows"])
    csv_text = (graded["out"] / "gradebook.csv").read_text()
    header = csv_text.splitlines()[0].split(",")
    assert header[:3] == ["name", "score", "max_score"] and "points:layers" in header and "similar" in header
    assert len(csv_text.strip().splitlines()) == 1 + len(names)
    for name in names:
        assert (graded["out"] / "reports" / f"{name}.json").exists()
        assert (graded["out"] / "rows" / f"{name}.json").exists()


@pytest.mark.nightly
def test_rows_graded_at_once_give_the_gradebook_of_one_at_a_time(tmp_path):
    """--jobs changes how many rows are graded together, never a score or the order of the rows."""
    for name in ("b_correct", "a_stubs", "c_exits"):
        source = EXERCISES_DIR if name == "a_stubs" else SOLUTIONS_DIR
        shutil.copytree(source, tmp_path / "subs" / name, ignore=shutil.ignore_patterns("__pycache__"))
    module = tmp_path / "subs" / "c_exits" / "layers.py"
    module.write_text(BROKEN_PRELUDES["sys_exit_at_import"] + module.read_text())
    limits = gradebook.Limits(memory_gb=2.0, cpu_seconds=120, wall_seconds=300)
    books = {}
    for jobs in (1, 3):
        gradebook.grade_all(tmp_path / "subs", tmp_path / f"out{jobs}", limits, only="layers", jobs=jobs,
                            say=lambda *a: None)
        rows = json.loads((tmp_path / f"out{jobs}" / "gradebook.json").read_text())["rows"]
        books[jobs] = [(r["name"], r["score"], r["points"], r["problems"]) for r in rows]
    assert [row[0] for row in books[1]] == ["a_stubs", "b_correct", "c_exits"], books[1]
    assert [row[1] for row in books[1]] == [0, 10, 0], books[1]
    assert books[3] == books[1]


def test_integrity_detects_modified_missing_and_extra_files(tmp_path):
    for tree in integrity.TREES:
        shutil.copytree(ROOT / tree, tmp_path / tree, ignore=shutil.ignore_patterns("__pycache__"))
    integrity.write(tmp_path)
    assert integrity.check(tmp_path) == []
    (tmp_path / "tests" / "exercises" / "test_layers.py").write_text("def test_free():\n    pass\n")
    (tmp_path / "tests" / "mutants" / "layers.py").unlink()
    (tmp_path / "tests" / "conftest_extra.py").write_text("")
    (tmp_path / "grader" / "__pycache__").mkdir(exist_ok=True)
    (tmp_path / "grader" / "__pycache__" / "x.pyc").write_bytes(b"cache files are not checked")
    assert integrity.check(tmp_path) == [
        "extra: tests/conftest_extra.py",
        "modified: tests/exercises/test_layers.py",
        "missing: tests/mutants/layers.py",
    ]


def test_integrity_without_a_record_or_git_history_says_so(tmp_path):
    (tmp_path / "tests").mkdir()
    problems = integrity.check(tmp_path)
    assert len(problems) == 1 and "no record" in problems[0]


def test_integrity_in_a_git_checkout_compares_with_the_last_commit(tmp_path):
    import subprocess

    for tree in integrity.TREES:
        shutil.copytree(ROOT / tree, tmp_path / tree, ignore=shutil.ignore_patterns("__pycache__"))
    git = ["git", "-c", "user.email=k@a.ta", "-c", "user.name=kata"]
    subprocess.run(git + ["init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(git + ["add", "-A"], cwd=tmp_path, check=True)
    subprocess.run(git + ["commit", "-qm", "kata"], cwd=tmp_path, check=True)
    assert integrity.check(tmp_path) == []
    (tmp_path / "tests" / "exercises" / "test_layers.py").write_text("def test_free():\n    pass\n")
    (tmp_path / "tests" / "conftest_extra.py").write_text("")
    assert integrity.check(tmp_path) == ["extra: tests/conftest_extra.py", "modified: tests/exercises/test_layers.py"]

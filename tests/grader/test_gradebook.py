"""`make grade-all` and the integrity record: a broken or hostile submission spoils only its own row.

The submissions are built in a temporary folder from solutions/ and exercises/; only the `layers`
exercise is graded and milestones are off, to keep the run short (each submission still gets its own
grade process, test processes and limits).
"""

import shutil

import pytest

from grader.instructor import gradebook, integrity
from grader.core.manifest import EXERCISES_DIR, ROOT, SOLUTIONS_DIR

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]

HOSTILE_PRELUDES = {
    "hangs_at_import": "import time\ntime.sleep(3600)\n",
    "os_exit_at_import": "import os\nos._exit(3)\n",
    "sys_exit_at_import": "import sys\nsys.exit('bye')\n",
    "eats_memory": "_hog = []\nwhile True:\n    _hog.append(bytearray(500_000_000))\n",
    "writes_outside": (
        "import os\nfrom pathlib import Path as _Path\n"
        "(_Path(__file__).resolve().parent.parent / 'pwned.txt').write_text('x')\n"
        "for _folder in os.environ.get('PYTHONPATH', '').split(os.pathsep):\n"
        "    _test = _Path(_folder) / 'tests' / 'test_layers.py'\n"
        "    if _test.exists():\n"
        "        _test.write_text('def test_free_points():\\n    pass\\n')\n"
    ),
}


FORGER = (
    "import json as _json, os as _os\n"
    "if _os.environ.get('KATA_RESULTS'):\n"
    "    with open(_os.environ['KATA_RESULTS'], 'a') as _out:\n"
    "        for _i in range(40):\n"
    "            _out.write(_json.dumps({'event': 'result', 'nodeid': f'x::test_{_i}', 'test': f'test_{_i}',\n"
    "                                    'outcome': 'passed'}) + '\\n')\n"
)


def own_problems(row):
    """The row's problems, without the note that the repository changed while it ran: other people may
    edit this working tree while the suite runs, and such a change is attributed by time only."""
    return [p for p in row.problems if not p.startswith("the repository's files changed")]


def build_submissions(folder):
    shutil.copytree(SOLUTIONS_DIR, folder / "correct", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(EXERCISES_DIR, folder / "empty_stubs", ignore=shutil.ignore_patterns("__pycache__"))
    for name, prelude in HOSTILE_PRELUDES.items():
        shutil.copytree(SOLUTIONS_DIR, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        module = folder / name / "layers.py"
        module.write_text(prelude + module.read_text())
    (folder / "no_exercise_files").mkdir()
    (folder / "no_exercise_files" / "notes.txt").write_text("I ran out of time.")
    # A stub that appends fake passing results to the file the test process reports to.
    shutil.copytree(EXERCISES_DIR, folder / "forges_results", ignore=shutil.ignore_patterns("__pycache__"))
    module = folder / "forges_results" / "layers.py"
    module.write_text(FORGER + module.read_text())
    # A student's zip that unpacked one level deeper is still found.
    nested = folder / "nested_zip" / "kata-main"
    shutil.copytree(SOLUTIONS_DIR, nested / "exercises", ignore=shutil.ignore_patterns("__pycache__"))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    out = tmp_path_factory.mktemp("gradebook")
    build_submissions(folder)
    before = gradebook.tree_hashes(folder)
    repository_tests = integrity.hashes(ROOT)
    messages = []
    limits = gradebook.Limits(memory_gb=2.0, cpu_seconds=60, wall_seconds=25)
    rows = gradebook.grade_all(folder, out, limits, only="layers", jobs=2, say=messages.append)
    return {"rows": {row.name: row for row in rows}, "folder": folder, "out": out, "before": before,
            "messages": messages, "repository_tests": repository_tests}


def test_a_correct_submission_gets_full_marks_and_no_problems(graded):
    row = graded["rows"]["correct"]
    assert row.score == row.max_score == 10, (row.score, row.max_score, row.problems)
    assert own_problems(row) == []


def test_an_untouched_stub_scores_zero_without_problems(graded):
    row = graded["rows"]["empty_stubs"]
    assert row.score == 0 and row.max_score == 10
    assert own_problems(row) == []


def test_a_submission_one_folder_deeper_is_found(graded):
    row = graded["rows"]["nested_zip"]
    assert row.score == 10, row.problems


def test_a_folder_without_exercise_files_gets_a_row_that_says_so(graded):
    row = graded["rows"]["no_exercise_files"]
    assert row.score == 0 and row.max_score == 10
    assert any("holds none of the exercise files" in p for p in row.problems), row.problems


def test_a_submission_that_hangs_is_stopped_by_the_time_limit(graded):
    row = graded["rows"]["hangs_at_import"]
    assert row.score == 0
    assert any("time limit" in p for p in row.problems), row.problems


def test_exit_at_import_is_explained(graded):
    row = graded["rows"]["os_exit_at_import"]
    assert row.score == 0
    assert any("exit() or os._exit()" in p for p in row.problems), row.problems
    row = graded["rows"]["sys_exit_at_import"]
    assert row.score == 0
    assert any("sys.exit()" in p for p in row.problems), row.problems


def test_a_submission_that_eats_memory_hits_the_memory_limit(graded):
    row = graded["rows"]["eats_memory"]
    assert row.score == 0
    assert any("out of memory" in p for p in row.problems), row.problems


def test_writing_outside_its_folder_or_editing_the_tests_is_reported(graded):
    row = graded["rows"]["writes_outside"]
    problems = " | ".join(row.problems)
    assert "wrote outside its own folder: pwned.txt" in problems
    assert "modified the kata's own files" in problems and "tests/exercises/test_layers.py" in problems


def test_fake_results_written_by_the_code_are_detected(graded):
    row = graded["rows"]["forges_results"]
    assert any("tampered with" in p for p in row.problems), row.problems


def test_nothing_outside_the_scratch_copies_was_changed(graded):
    assert gradebook.tree_hashes(graded["folder"]) == graded["before"], "a submission folder was changed"
    assert not (graded["folder"] / "pwned.txt").exists()
    after = integrity.hashes(ROOT)
    assert after.get("tests/exercises/test_layers.py") == graded["repository_tests"].get("tests/exercises/test_layers.py")


def test_every_submission_has_a_row_and_a_report(graded):
    names = set(graded["rows"])
    csv_text = (graded["out"] / "gradebook.csv").read_text()
    header = csv_text.splitlines()[0].split(",")
    assert header[:3] == ["name", "score", "max_score"] and "points:layers" in header and "problems" in header
    assert len(csv_text.strip().splitlines()) == 1 + len(names)
    for name in names:
        assert (graded["out"] / "reports" / f"{name}.json").exists()
    data = (graded["out"] / "gradebook.json").read_text()
    assert all(f'"name": "{name}"' in data for name in names)


def test_integrity_detects_modified_missing_and_extra_files(tmp_path):
    for tree in integrity.TREES:
        shutil.copytree(ROOT / tree, tmp_path / tree, ignore=shutil.ignore_patterns("__pycache__"))
    integrity.write(tmp_path)
    assert integrity.check(tmp_path) == []
    (tmp_path / "tests" / "test_layers.py").write_text("def test_free():\n    pass\n")
    (tmp_path / "tests" / "mutants" / "layers.py").unlink()
    (tmp_path / "tests" / "conftest_extra.py").write_text("")
    (tmp_path / "grader" / "__pycache__").mkdir(exist_ok=True)
    (tmp_path / "grader" / "__pycache__" / "x.pyc").write_bytes(b"cache files are not checked")
    assert integrity.check(tmp_path) == [
        "extra: tests/conftest_extra.py",
        "missing: tests/mutants/layers.py",
        "modified: tests/exercises/test_layers.py",
    ]


def test_integrity_without_a_record_says_so(tmp_path):
    (tmp_path / "tests").mkdir()
    problems = integrity.check(tmp_path)
    assert len(problems) == 1 and "integrity.json" in problems[0]

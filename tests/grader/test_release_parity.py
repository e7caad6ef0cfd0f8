"""The student release grades like the full kata, and ships none of the reference's answers.

Parity: independent correct code (tests/grader/independent/, written from the stubs' docstrings, never
from solutions/: its Linear keeps its input as `self.x`, not the reference's `self._x`) is graded twice,
judged in the full kata and advisory in a student release (`make release`); every exercise gets the same
points in both. Two states: everything written, and losses done while gradcheck is still a stub (an
exercise test must not lean on a later exercise the learner has not written yet). (The reference overlaid
on the release passes every test with none "not checked here": tests/grader/test_release.py.) A note that
blames a module names the one the error arose in.

No answers: no line of an exercise region of solutions/ (between `# <exercise>` and `# </exercise>`)
appears in the release's tests or grader. The hints of the manifest are the one exception by design; the
scan reads code (.py) only, so they are not looked at.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.core.manifest import EXERCISES_DIR, ROOT, SOLUTIONS_DIR

INDEPENDENT = Path(__file__).parent / "independent"
WRITTEN = sorted(path.stem for path in INDEPENDENT.glob("*.py"))  # layers, activations, losses, ...

# Region lines that say nothing about an answer: the kata's everyday choreography.
GENERIC = {
    "for epoch in range(1, epochs + 1):",  # epochs numbered from 1, as every training loop of the kata does
    "rng = np.random.default_rng(seed)",   # a generator from a seed
}


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    from grader.instructor import release as releases

    out = tmp_path_factory.mktemp("release") / "kata"
    releases.build(out)
    (out / ".venv").symlink_to(ROOT / ".venv")
    return out


def target(folder: Path, without=()) -> Path:
    """The stubs with the independent modules written over them, except those in `without`."""
    folder.mkdir()
    for path in EXERCISES_DIR.glob("*.py"):
        shutil.copyfile(path, folder / path.name)
    for name in set(WRITTEN) - set(without):
        shutil.copyfile(INDEPENDENT / f"{name}.py", folder / f"{name}.py")
    return folder


def points(kata: Path, folder: Path, names, report: Path) -> tuple[dict, dict]:
    """({exercise: points}, {exercise: [messages of its failing tests]}) of `make grade` run inside `kata`."""
    env = {k: v for k, v in os.environ.items() if k not in ("KATA_TARGET", "KATA_MODE", "PYTEST_ADDOPTS")}
    completed = subprocess.run(
        [sys.executable, "-m", "grader", "grade", "--target", str(folder), "--only", ",".join(names),
         "--no-milestones", "--quiet", "--report", str(report)],
        cwd=kata, env=env, capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    found = json.loads(report.read_text())
    return {ex["name"]: ex["points"] for ex in found["exercises"]}, {
        ex["name"]: [t["message"] for t in ex["tests"] if t["outcome"] != "passed"] for ex in found["exercises"]}


@pytest.mark.slow
@pytest.mark.nightly  # four grading runs, two to three minutes here
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("without, graded", [((), WRITTEN), (("gradcheck",), ["layers", "losses", "gradcheck"])],
                         ids=["all_written", "losses_done_gradcheck_stub"])
def test_independent_code_gets_the_same_points_in_the_release_as_in_the_full_kata(release, tmp_path, without,
                                                                                   graded):
    folder = target(tmp_path / "code", without)
    full, full_failures = points(ROOT, folder, graded, tmp_path / "full.json")
    advisory, advisory_failures = points(release, folder, graded, tmp_path / "release.json")
    assert advisory == full, f"release {advisory} vs full kata {full}; release failures: {advisory_failures}"
    for name in graded:  # the written ones are correct: full marks; a stub gets nothing
        assert not full_failures[name] if name not in without else full[name] == 0.0, (name, full_failures[name])


def region_lines() -> dict[str, str]:
    """{line, whitespace-normalised: 'module.py:line number'} for the telling lines of every exercise region:
    at least 16 characters that compute something (NumPy, an operator, a slice or a keyword argument)."""
    found = {}
    for path in sorted(SOLUTIONS_DIR.glob("*.py")):
        inside = False
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = " ".join(line.strip().split("  # ")[0].split())
            if code in ("# <exercise>", "# </exercise>"):
                inside = code == "# <exercise>"
            elif inside and len(code.replace(" ", "")) >= 16 and not code.startswith("#") and code not in GENERIC \
                    and re.search(r"np\.|[-+*/@%]|\[[^\]]*:|\w=", code):
                found.setdefault(code, f"{path.name}:{number}")
    return found


def test_region_lines_are_found_by_the_scan():
    """The scan is not vacuous: it sees the lines the reference writes its answers in."""
    lines = region_lines()
    assert len(lines) > 200
    assert "return grad_out @ self.W.data.T" in lines


def test_the_release_ships_no_line_of_the_references_exercise_regions(release):
    lines = region_lines()
    shipped = [path for folder in ("tests", "grader") for path in sorted((release / folder).rglob("*.py"))]
    assert len(shipped) > 30
    found = []
    for path in shipped:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            text = " ".join(line.split())
            found += [f"{path.relative_to(release)}:{number} holds `{answer}` ({where})"
                      for answer, where in lines.items() if answer in text]
    assert not found, "answers in the release:\n" + "\n".join(found)


def test_a_release_note_names_the_module_the_error_arose_in(tmp_path):
    """losses' tests once reached the learner's unwritten gradcheck and the note blamed layers.py."""
    import importlib.util

    from grader.feedback.judge_plugin import _dependency_note

    def error_in(module: str) -> BaseException:
        path = tmp_path / f"{module}.py"
        path.write_text("def run():\n    raise NotImplementedError('not yet')\n")
        spec = importlib.util.spec_from_file_location(f"kata_note_{module}", path)
        loaded = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(loaded)
        try:
            loaded.run()
        except NotImplementedError as error:
            return error

    note = _dependency_note(error_in("gradcheck"), "losses", [tmp_path])
    assert note is not None and "your gradcheck.py (exercise 4)" in note and "layers.py" not in note, note
    assert _dependency_note(error_in("losses"), "losses", [tmp_path]) is None  # its own module: no other culprit

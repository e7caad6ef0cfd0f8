"""The milestones under attack: each tests/grader/redteam/milestone_*.py, appended to one module of the
reference, must fail its milestone (quick mode) with the sentence its first line names, and the honest
reference beside them keeps its milestones. The first line of each file reads
`# milestone: NAME; appended to: MODULE.py; expect: SENTENCE [| SENTENCE ...]` (any of them: which one a
refusal says may depend on the inputs, drawn afresh for every run).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.core.manifest import ROOT, SOLUTIONS_DIR

pytestmark = [pytest.mark.nightly, pytest.mark.slow, pytest.mark.timeout(900)]
REDTEAM = Path(__file__).parent / "redteam"
ATTACKS = sorted(p.stem for p in REDTEAM.glob("milestone_*.py"))


def header(name: str) -> dict:
    first = (REDTEAM / f"{name}.py").read_text().splitlines()[0].lstrip("# ")
    return dict(part.split(": ", 1) for part in first.split("; "))


def milestone(name: str, target: Path, tmp_path: Path) -> tuple[dict, str]:
    result = tmp_path / f"{name}.json"
    completed = subprocess.run([sys.executable, "-m", "grader", "milestone", name, "--target", str(target), "--quick",
                                "--out", str(tmp_path / "out"), "--result", str(result)],
                               cwd=ROOT, capture_output=True, text=True, timeout=850)
    assert result.exists(), completed.stdout[-2000:] + completed.stderr[-2000:]
    return json.loads(result.read_text()), completed.stdout + completed.stderr


@pytest.mark.parametrize("attack", ATTACKS)
def test_each_attack_fails_its_milestone_with_its_sentence(attack, tmp_path):
    found = header(attack)
    target = tmp_path / "submission"
    shutil.copytree(SOLUTIONS_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    with open(target / found["appended to"], "a") as module:
        module.write("\n\n" + (REDTEAM / f"{attack}.py").read_text())
    result, output = milestone(found["milestone"], target, tmp_path)
    assert result["status"] == "failed", (result, output[-3000:])
    assert any(sentence in result["reason"] for sentence in found["expect"].split(" | ")), result["reason"]


@pytest.mark.parametrize("name", ["mnist", "fast_mlp"])
def test_the_honest_reference_keeps_the_milestones_the_attacks_lose(name, tmp_path):
    result, output = milestone(name, SOLUTIONS_DIR, tmp_path)
    assert result["status"] in ("passed", "not-run") and "too close" in result["reason"] or \
        result["status"] == "passed", (result, output[-3000:])

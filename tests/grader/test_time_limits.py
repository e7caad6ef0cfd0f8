"""Per-test limits count CPU time (grader/core/cpu_limit.py): waiting on a busy machine costs nothing,
computing past the limit fails the test with the kata's time-out sentence."""

from __future__ import annotations

import subprocess
import sys

from grader.core import cpu_limit
from grader.core.manifest import ROOT

SCENARIOS = '''
import time
import pytest

@pytest.mark.cpu_limit(1)
def test_waits_three_seconds_of_wall_clock_without_computing():
    time.sleep(3)  # what a loaded machine does to a correct test: wall time passes, CPU time does not

@pytest.mark.cpu_limit(1)
def test_computes_forever():
    while True:
        pass
'''


def test_a_cpu_limit_ignores_waiting_and_stops_computing(tmp_path):
    (tmp_path / "test_scenarios.py").write_text(SCENARIOS)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "grader.core.cpu_limit", "-p",
                           "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "1 failed, 1 passed" in done.stdout, done.stdout
    assert "Timeout >1s of CPU time" in done.stdout and "FAILED" in done.stdout
    assert "::test_computes_forever" in done.stdout.split("FAILED", 1)[1]


def test_the_wall_clock_backstop_is_wide():
    assert cpu_limit.wall_backstop(2) >= 10 * 2

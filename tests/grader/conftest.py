"""Fixtures shared by the grader's own tests."""

import pytest

from grader.core import stubs
from grader.learner import progress


@pytest.fixture
def state(tmp_path, monkeypatch):
    """For the learner's commands (every test of test_commands_*.py uses it): a private state folder, no last
    report to read, and the learner's default target (`make test` sets KATA_TARGET=solutions for the exercise
    tests)."""
    folder = tmp_path / "state"
    monkeypatch.setenv(stubs.STATE_ENV_VAR, str(folder))
    monkeypatch.delenv("KATA_TARGET", raising=False)
    monkeypatch.setattr(progress, "LAST_REPORT", tmp_path / "no-report.json")
    return folder

"""Per-test time limits counted in CPU seconds, so that a busy machine never fails a correct test.

A wall-clock limit measures the machine as much as the code: beside three BLAS loops a test that needs
half a second of CPU can take five seconds of wall clock. The CPU time a process uses for the same work
barely changes with load, so the limit that decides ("timed out after 10 s: an infinite loop, ...") is
the process's CPU time (ITIMER_PROF: user and system time of all its threads). pytest-timeout keeps a
far wider wall-clock limit as a backstop for code that waits without computing (a sleep, a lock), and in
judge mode the judge's watchdog kills a worker that hangs (grader/core/judge.py).

A test gets its limit from the marker `@pytest.mark.cpu_limit(seconds)`, which tests/conftest.py adds
from the manifest's per-test limit of its exercise.
"""

from __future__ import annotations

import signal

import pytest

WALL_FACTOR = 10
WALL_MARGIN_SECONDS = 60


def wall_backstop(cpu_seconds: float) -> float:
    return WALL_FACTOR * cpu_seconds + WALL_MARGIN_SECONDS


def pytest_configure(config):
    config.addinivalue_line("markers", "cpu_limit(seconds): fail the test after this much CPU time")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    marker = item.get_closest_marker("cpu_limit")
    if marker is None or not hasattr(signal, "ITIMER_PROF"):
        yield
        return
    seconds = float(marker.args[0])
    # The words "Timeout >N s" are what the kata's error reporting recognises as a time-out
    # (grader/core/mode.error_of), whichever limit fired.
    previous = signal.signal(signal.SIGPROF,
                             lambda *_: pytest.fail(f"Timeout >{seconds:g}s of CPU time", pytrace=False))
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)

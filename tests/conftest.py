"""Fixtures shared by every exercise's tests.

Which code is tested: `--target` (exercises, solutions or a directory; may be given several times, then
every test runs once per target), else the environment variable KATA_TARGET, else `exercises`.

Fixtures, for a test in tests/test_<exercise>.py:
  ex    the module under test, from the target (e.g. the learner's activations.py)
  pkg   the package it lives in: the exercise's module from the target, every other module from the
        reference (so `pkg.layers.Linear` is the reference Linear the learner's code imports). Build the
        objects a test needs from `pkg`, so a bug elsewhere cannot fail this exercise.
  ref   the reference implementation (solutions/), only inside expected-value callables (the judge's)
  rng   the test's generator, for inputs only (seeded by the judge; learner objects get their own)
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from grader.core import manifest
from grader.core import target as targets
from grader.core.target import Modules
from grader.core import seeds
from grader.feedback import oracle

MANIFEST = manifest.load()

# Every exercise test runs observed against the target and judged against the reference.
# Per-test limits count CPU seconds (grader/core/cpu_limit.py): a busy machine fails no correct test.
pytest_plugins = ["grader.feedback.judge_plugin", "grader.core.cpu_limit"]


def pytest_addoption(parser):
    parser.addoption("--target", action="append", default=None, metavar="DIR",
                     help="exercises (default), solutions, or a directory with the same module files")


def pytest_configure(config):
    if "KATA_MODE" not in os.environ:
        # A pytest run by hand (neither a worker nor a judge, which the grading commands start): expected
        # values from the reference are checked against PyTorch, here and in every judge this run starts.
        os.environ.setdefault(oracle.ORACLE_VAR, oracle.BOTH)
    for ex in MANIFEST.exercises:
        config.addinivalue_line("markers", f"{ex.name}: tests of exercise {ex.number}, {ex.title}")
    config.addinivalue_line("markers", "part(name): the manifest part of its exercise this test belongs to")
    config.addinivalue_line("markers", "fact: the verdict rests only on facts the worker reports (weighted low)")
    specs = config.getoption("target") or [None]
    try:
        config.kata_targets = [targets.resolve(spec) for spec in specs]
    except targets.TargetError as error:
        raise pytest.UsageError(f"cannot grade: {error}") from None
    reference = []
    config.kata_reference = lambda: reference[0] if reference else reference.append(
        Modules(targets.load_package(manifest.SOLUTIONS_DIR, own=None))) or reference[0]


exercise_of = manifest.exercise_of_test  # tests/exercises/test_<name>.py belongs to exercise <name>


def _time_limit(limit: float) -> float:
    """The time limit of an exercise test in this process. The worker gets the exercise's limit (the
    learner's code runs there); split mode runs the scenario twice; the judge waits for the worker (which
    it stops itself, judge.py) and runs the reference, so its own limit only guards against a kata bug.
    The judge's is wall-clock (it waits, past its own wall backstop for the worker); every other is CPU
    time, with a wide wall-clock backstop."""
    from grader.core import judge
    from grader.feedback import judge_plugin

    mode = judge_plugin.kata_mode()
    if mode in (judge_plugin.SPLIT, judge_plugin.ADVISORY):
        return 2 * limit + 5
    if mode == judge_plugin.JUDGE:
        return judge.WALL_FACTOR * judge.cpu_budget(limit) + 60
    return limit


def pytest_collection_modifyitems(config, items):
    # The file name is the single link from a test to its exercise: mark it, and give it the
    # exercise's time limit (a learner's infinite loop costs one test, with a message saying so).
    for item in items:
        name = exercise_of(item.path)
        if name is not None:
            item.add_marker(getattr(pytest.mark, name))
            if item.get_closest_marker("timeout") is None:
                _limit(item, _time_limit(MANIFEST.exercise(name).time_limit))


def _limit(item, seconds: float) -> None:
    from grader.core import cpu_limit
    from grader.feedback import judge_plugin

    if judge_plugin.kata_mode() == judge_plugin.JUDGE:
        item.add_marker(pytest.mark.timeout(seconds))
    else:
        item.add_marker(pytest.mark.cpu_limit(seconds))
        item.add_marker(pytest.mark.timeout(cpu_limit.wall_backstop(seconds)))


def pytest_generate_tests(metafunc):
    chosen = metafunc.config.kata_targets
    if len(chosen) > 1 and "target_dir" in metafunc.fixturenames:
        metafunc.parametrize("target_dir", chosen, indirect=True,
                             ids=[targets.display_name(path) for path in chosen])


@pytest.fixture
def target_dir(request):
    return getattr(request, "param", request.config.kata_targets[0])


@pytest.fixture
def exercise_name(request):
    name = exercise_of(request.path)
    if name is None:
        raise RuntimeError(f"{request.path.name} is not the test file of an exercise in the manifest")
    return name


@pytest.fixture
def pkg(target_dir, exercise_name):
    from grader.feedback import judge_plugin  # registered by pytest_plugins above; imported here, not twice

    if judge_plugin.kata_mode() == judge_plugin.JUDGE:
        return None  # the judge never imports the learner's code: its workers do (judge_plugin.py)
    if judge_plugin.kata_mode() == judge_plugin.ADVISORY:
        return Modules(targets.load_package(target_dir, own=None))  # a release: every module is the learner's
    return Modules(targets.load_package(target_dir, own={exercise_name}))


@pytest.fixture
def ex(pkg, exercise_name):
    return None if pkg is None else getattr(pkg, exercise_name)


@pytest.fixture(scope="session")
def ref():
    return Modules(targets.load_package(manifest.SOLUTIONS_DIR, own=None))


@pytest.fixture
def rng():
    """The test's own generator: inputs only. Learner objects get generators of their own, so that the
    learner's and the reference's runs of a test draw the same inputs."""
    return np.random.default_rng(seeds.current())


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    from grader.feedback import judge_plugin

    if judge_plugin.kata_mode() != judge_plugin.ADVISORY:
        return
    skipped = len(terminalreporter.stats.get("skipped", []))
    terminalreporter.write_line(
        "Advisory grading (a student release: no reference here): expected values come from PyTorch, finite "
        "differences and closed forms, and each exercise runs on your own modules for the exercises it builds on."
        + (f" {skipped} test(s) were not checked here: your instructor's grade checks them." if skipped else ""))

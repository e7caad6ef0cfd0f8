"""How an exercise test runs: observed against the learner's code, judged against the reference.

Loaded by tests/conftest.py. The mode comes from KATA_MODE:

  split    (the default) both halves in this process, one after the other: the scenario runs against
           the target in observe mode, then against the reference in judge mode. Quick, and it proves
           that every test is written so that it can be judged; it is not tamper-proof.
  observe  the worker (grader/core/worker.py): run the scenario against the learner's code and send the
           observations of each test to the judge as a frame; decide nothing.
  judge    the judge: take each test's observations from the worker (grader/core/judge.py) and decide.
  local    both at once, like an ordinary test suite (the reference, for maintainers).

In every mode but local, each half gets a fresh generator from the same seed, so both see the same
inputs, and the learner's half gets no `ref` (the reference is the judge's).
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import numpy as np
import pytest

from grader.core import seeds, wire
from grader.feedback import checks

SPLIT, OBSERVE, JUDGE, LOCAL = "split", "observe", "judge", "local"
MODES = (SPLIT, OBSERVE, JUDGE, LOCAL)


def kata_mode() -> str:
    mode = os.environ.get("KATA_MODE", SPLIT)
    if mode not in MODES:
        raise pytest.UsageError(f"KATA_MODE={mode!r}; expected one of {', '.join(MODES)}")
    return mode


class Unavailable:
    """Stands for the reference in the learner's half: any use is a bug in the test, said plainly."""

    def __getattr__(self, name):
        raise RuntimeError(
            f"kata bug: the test used ref.{name} while running the learner's code; the reference belongs "
            "to the judge, so compute expected values inside a callable (lambda: ...).")


def where_in_target(error: BaseException, target_dirs) -> str | None:
    """'layers.py line 42': the deepest frame of the error's traceback inside a target directory (the one
    helper every command uses to point at the learner's line)."""
    import traceback

    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        path = Path(frame.filename)
        if any(Path(directory) in path.parents for directory in target_dirs):
            return f"{path.name} line {frame.lineno}"
    return None


def error_of(error: BaseException, target_dirs) -> dict:
    kind = type(error).__name__
    message = str(error)
    if kind == "Failed" and "Timeout" in message:
        # The kata's sentence, never pytest-timeout's: what a time-out usually means, and where it was.
        from grader.core.judge import timeout_message

        found = re.search(r">\s*([0-9.]+)\s*s", message)
        kind, message = "timeout", timeout_message(float(found.group(1)) if found else 0.0)
    elif not isinstance(error, AssertionError):
        message = f"{kind}: {message}"
    return {"kind": kind, "message": message.split("\nassert ")[0].strip()[:4000],
            "where": where_in_target(error, target_dirs)}


def _call(item, arguments: dict) -> None:
    item.obj(**{name: arguments[name] for name in item._fixtureinfo.argnames if name in arguments})


def _arguments(item) -> dict:
    return {name: item.funcargs[name] for name in item._fixtureinfo.argnames if name in item.funcargs}


def observe(item) -> tuple[list, dict | None]:
    """Run the scenario against the learner's code; return its observations and its exception, if any."""
    arguments = dict(_arguments(item), rng=np.random.default_rng(seeds.current()), ref=Unavailable())
    checks.begin(checks.OBSERVE)
    error = None
    try:
        _call(item, arguments)
    except (Exception, pytest.fail.Exception) as raised:  # noqa: BLE001 - any failure is an observation
        error = error_of(raised, getattr(item.config, "kata_targets", []))
    run = checks.end()
    return run.observations, error


def judge(item, observations: list, error: dict | None) -> None:
    """Run the scenario against the reference; each check compares with the worker's observation."""
    __tracebackhide__ = True
    reference = item.config.kata_reference()
    exercise = item.funcargs.get("exercise_name")
    arguments = dict(_arguments(item), rng=np.random.default_rng(seeds.current()), ref=reference, pkg=reference)
    if exercise is not None:
        arguments["ex"] = getattr(reference, exercise)
    run = checks.begin(checks.JUDGE, observations, error)
    try:
        _call(item, arguments)
        checks.end()
    finally:
        item.kata_kinds = list(run.kinds)  # recorded with the verdict: the contract counts judged quantities
        checks.begin(checks.LOCAL)
    if not run.kinds:
        raise RuntimeError("kata bug: this test judges nothing (it makes no check_* call).")


def _is_exercise_test(item) -> bool:
    return "exercise_name" in getattr(item, "fixturenames", ())


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    if not _is_exercise_test(pyfuncitem):
        return None
    __tracebackhide__ = True
    mode = kata_mode()
    if mode == LOCAL:
        checks.begin(checks.LOCAL)
        _call(pyfuncitem, _arguments(pyfuncitem))
        checks.end()
        return True
    if mode == JUDGE:
        observations, error = pyfuncitem.config.kata_observations(pyfuncitem)
    else:
        observations, error = observe(pyfuncitem)
        frame = wire.pack_observations(pyfuncitem.nodeid, observations, error)
        if mode == OBSERVE:
            pyfuncitem.config.kata_send(frame)
            return True
        # Split: the same bytes the judge would receive from a worker, decoded the same way.
        _, observations, error = wire.unpack_observations(*wire.read_message(io.BytesIO(frame)))
    judge(pyfuncitem, observations, error)
    return True


# ---- judge mode: one sandboxed worker per exercise ------------------------------------------------------

def _exercise_of_item(item) -> str | None:
    from grader.core import manifest

    stem = Path(str(item.path)).stem
    name = stem[len("test_"):] if stem.startswith("test_") else None
    return name if name in manifest.load().names else None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    if kata_mode() != JUDGE:
        return
    from grader.core import manifest
    from grader.core.judge import WorkerSession

    targets = getattr(config, "kata_targets", [])
    if len(targets) != 1:
        raise pytest.UsageError("KATA_MODE=judge grades one target at a time")
    from grader.core import sandbox

    kata = manifest.load()
    limits, cgroup = sandbox.limits_from_environment()
    groups: dict[str, list[str]] = {}
    for item in items:
        name = _exercise_of_item(item)
        if name is not None:
            groups.setdefault(name, []).append(item.nodeid)
    sessions = {name: WorkerSession(kata.exercise(name), targets[0], nodeids, limits=limits, cgroup=cgroup,
                                    reference_modules=kata.reference_modules(name))
                for name, nodeids in groups.items()}
    config.kata_sessions = sessions
    order = list(sessions)

    def observations(item):
        # The next exercise's worker starts while this one's are judged: the two cores stay busy.
        name = _exercise_of_item(item)
        following = order.index(name) + 1
        if following < len(order):
            sessions[order[following]].start()
        return sessions[name].result(item.nodeid)

    config.kata_observations = observations


def pytest_unconfigure(config):
    for worker in getattr(config, "kata_sessions", {}).values():
        worker.close()

"""How an exercise test runs: observed against the learner's code, judged against the reference.

Loaded by tests/conftest.py. The mode comes from KATA_MODE:

  split    (the default) both halves in this process, one after the other: the scenario runs against
           the target in observe mode, then against the reference in judge mode. Quick, and it proves
           that every test is written so that it can be judged; it is not tamper-proof.
  observe  the worker (grader/core/worker.py): run the scenario against the learner's code and send the
           observations of each test to the judge as a frame; decide nothing.
  judge    the judge: take each test's observations from the worker (grader/core/judge.py) and decide.
  local    both at once, like an ordinary test suite (the reference, for maintainers).
  advisory a student release (`make release`: no solutions/), whatever KATA_MODE says: one run against
           the learner's code, every module from the learner (dependencies too), expected values from
           PyTorch, finite differences and closed forms. A check that needs the reference is reported as
           skipped, "not checked here (your instructor's grade checks it)", never as passed; a failure
           that may come from an earlier exercise says so. Advisory: the learner controls this process.

In every mode but local, each half gets a fresh generator from the same seed, so both see the same
inputs, and the learner's half gets no `ref` (the reference is the judge's).
"""

from __future__ import annotations

import atexit
import contextlib
import io
import itertools
import os
import re
import select
import shutil
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import pytest

from grader.core import manifest, report, seeds, wire
from grader.core import target as targets
from grader.core import mode as _mode
# SPLIT, ADVISORY and is_release are read from here by tests/conftest.py and the exercise tests' helpers.
from grader.core.mode import (ADVISORY, JUDGE, LOCAL, OBSERVE, ONE_WORKER_VAR, SPLIT, error_of,  # noqa: F401
                              is_release, where_in_target)
from grader.feedback import checks, diagnose, edits


def kata_mode() -> str:
    try:
        return _mode.kata_mode()
    except _mode.ModeError as error:
        raise pytest.UsageError(str(error)) from None


class Unavailable:
    """Stands for the reference in the learner's half: any use is a bug in the test, said plainly."""

    def __getattr__(self, name):
        raise RuntimeError(
            f"kata bug: the test used ref.{name} while running the learner's code; the reference belongs "
            "to the judge, so compute expected values inside a callable (lambda: ...).")


def _call(item, **replaced) -> None:
    """Call the test with its fixtures, some of them replaced (rng, ref, pkg, ex), as far as it asks for them."""
    arguments = {**item.funcargs, **replaced}
    item.obj(**{name: arguments[name] for name in item._fixtureinfo.argnames if name in arguments})


def observe(item) -> tuple[list, dict | None]:
    """Run the scenario against the learner's code; return its observations and its exception, if any."""
    checks.begin(checks.OBSERVE)
    error = None
    try:
        _call(item, rng=np.random.default_rng(seeds.current()), ref=Unavailable())
    except (Exception, pytest.fail.Exception) as raised:  # noqa: BLE001 - any failure is an observation
        error = error_of(raised, getattr(item.config, "kata_targets", []))
    return checks.end().observations, error


def judge(item, observations: list, error: dict | None) -> None:
    """Run the scenario against the reference; each check compares with the worker's observation."""
    __tracebackhide__ = True
    reference = item.config.kata_reference()
    exercise = item.funcargs.get("exercise_name")
    arguments = dict(rng=np.random.default_rng(seeds.current()), ref=reference, pkg=reference)
    if exercise is not None:
        arguments["ex"] = getattr(reference, exercise)
    run = checks.begin(checks.JUDGE, observations, error)
    try:
        try:
            _call(item, **arguments)
            checks.end()
        finally:
            item.kata_kinds = list(run.kinds)  # recorded with the verdict: the contract counts judged quantities
            checks.begin(checks.LOCAL)
    except AssertionError as failure:
        note = _reproduced(item, observations, error, exercise, reference) if exercise else None
        if note:
            failure.args = (f"{failure}\n{note}",)
        raise
    if not run.kinds:
        raise RuntimeError("kata bug: this test judges nothing (it makes no check_* call).")


# ---- which edit of the reference reproduces a failure (feedback/edits.py) -------------------------------

PROBE_WALL_SECONDS = 60  # a backstop only: the search is bounded by edits.MAX_EDITS
PROBES_PER_TARGET = 2  # failing tests of one exercise searched, the first ones (a learner reads those first)
_probed: dict = {}


def _reproduced(item, observations: list, error: dict | None, exercise: str, reference) -> str | None:
    """The sentence naming every one-edit copy of the reference that reproduces the learner's run, searched in
    a forked child: an edited reference may hang or change shared state, and the judge must not."""
    target = (str(item.funcargs.get("target_dir")), exercise)
    _probed[target] = _probed.get(target, 0) + 1
    if ((error or {}).get("kind") in ("NotImplementedError", "timeout") or not hasattr(os, "fork")
            or _probed[target] > PROBES_PER_TARGET or os.environ.get(edits.SEARCH_VAR) == "0"):
        return None
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: search, write the sentence, and end without running the parent's exit handlers
        try:
            os.close(read)
            os.write(write, (_search(item, observations, error, exercise, reference) or "").encode())
        finally:
            os._exit(0)
    os.close(write)
    try:
        ready, _, _ = select.select([read], [], [], PROBE_WALL_SECONDS)
        chunks = [] if not ready else iter(lambda: os.read(read, 65536), b"")
        return b"".join(chunks).decode() or None
    finally:
        os.close(read)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


class _Stop(Exception):
    """An edited reference that runs far longer than the reference did (a loop that never ends)."""


def _search(item, observations, error, exercise: str, reference) -> str | None:
    """In the forked child: replay the scenario on the reference (noting which of the exercise's functions ran
    before the learner's first wrong value), then on each edit of those functions, the latest called first; a
    replay stops at its first value that is not the learner's."""
    module = getattr(reference, exercise)
    yours = [wire.Observation(o.what, o.kind, wire.decode_value(o.value)) for o in observations]
    replayed, watching, solutions = [], [False], str(Path(module.__file__).parent)

    def listener(observation):
        replayed.append(wire.Observation(observation.what, observation.kind, wire.decode_value(observation.value)))
        if watching[0] and not edits.agree(yours, replayed, mine, len(replayed) - 1):
            raise _Stop()

    def replay(edited):
        """None if stopped; else the error's message and the function it was raised in, or "" for none."""
        replayed.clear()
        checks.begin(checks.OBSERVE).listener = listener
        try:
            _call(item, rng=np.random.default_rng(seeds.current()), ref=Unavailable(), ex=edited,
                  pkg=_Edited(reference, exercise, edited))
        except _Stop:
            return None
        except (Exception, pytest.fail.Exception) as exception:  # noqa: BLE001 - the error is the observation
            places = [(Path(frame.f_code.co_filename).name, frame.f_code.co_qualname)
                      for frame, _ in traceback.walk_tb(exception.__traceback__)
                      if frame.f_code.co_filename.startswith(solutions)]
            return error_of(exception, [])["message"], (places or [None])[-1]
        finally:
            checks.end()
        return ""

    # first_run: for each line of the module, how many values had been seen when it first ran, and the kinds
    # of the values it could read then
    calls, first_run, mine = [], {}, replayed

    def line(frame, event, _):
        if event == "line" and frame.f_lineno not in first_run:
            first_run[frame.f_lineno] = len(replayed), edits.kinds_of(frame.f_locals)
        return line

    def call(frame, event, _):
        if frame.f_code.co_filename != module.__file__:
            return None
        calls.append((frame.f_code.co_qualname, len(replayed)))
        return line

    started = time.process_time()
    sys.settrace(call)
    try:
        replay(module)
    finally:
        sys.settrace(None)
    mine, allowed = list(replayed), 0.25 + 10 * (time.process_time() - started)
    wrong_at = edits.first_difference(yours, error, mine)
    # The latest called first: the wrong value is most often made by the last function that ran before it.
    latest = {name: order for order, (name, seen) in enumerate(calls) if seen <= wrong_at}
    ran = {number: kinds for number, (seen, kinds) in first_run.items() if seen <= wrong_at}
    tree, candidates = edits.candidates(Path(module.__file__).read_text(), sorted(latest, key=latest.get)[::-1], ran)
    expected = (error["message"], _learner_place(item, error)) if error else ""
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(_Stop()))
    found, made, watching[0] = [], set(), True
    for edit, apply in itertools.islice(candidates, edits.MAX_EDITS):
        try:
            edited = edits.build(tree, apply, module, made)
        except Exception:  # noqa: BLE001 - an edit Python refuses (a name it cannot bind): no candidate
            continue
        if edited is None:  # the code an earlier edit made: its words would only repeat the same mistake
            continue
        signal.setitimer(signal.ITIMER_REAL, allowed)
        try:
            raised = replay(edited)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if raised is not None and len(replayed) == len(yours) and raised == expected:
            found.append(edit)
    return edits.sentence(found)


def _learner_place(item, error: dict) -> tuple[str, str | None] | None:
    """(file, function) of the learner's line an error was raised on ('layers.py line 42'), read as syntax only;
    None when the error was raised outside the learner's files."""
    where = re.fullmatch(r"(\S+\.py) line (\d+)", error.get("where") or "")
    if where is None:
        return None
    path = Path(item.funcargs.get("target_dir") or item.config.kata_targets[0]) / where.group(1)
    try:
        return where.group(1), edits.enclosing(path.read_text(), int(where.group(2)))
    except (OSError, UnicodeDecodeError):
        return where.group(1), None


class _Edited:
    """`pkg` for a replay: the edited module stands for the exercise, the reference for the rest."""

    def __init__(self, reference, exercise: str, edited):
        self._reference, self._exercise, self._edited = reference, exercise, edited

    def __getattr__(self, name):
        return self._edited if name == self._exercise else getattr(self._reference, name)


# ---- advisory mode: a student release, no reference ----------------------------------------------------

NOT_CHECKED = ("not checked here (your instructor's grade checks it): this check compares with the reference "
               "solution, which a student release does not include.")


class NeedsReference(Exception):
    """An expected value that only the reference can give: the check is not made in advisory mode."""


_evaluating_expected = [False]
UNGUARDED = frozenset({"no_grad"})  # a switch, not an answer: finite differences of autograd's forward use it


@contextlib.contextmanager
def _evaluating(expected: bool):
    previous, _evaluating_expected[0] = _evaluating_expected[0], expected
    try:
        yield
    finally:
        _evaluating_expected[0] = previous


def learner_code_allowed():
    """A context in which an expected value may run the learner's module under test: finite differences of
    its forward (helpers.numerical_gradient), which check its backward, never the forward itself."""
    return _evaluating(False)


def _install_expected_guard() -> None:
    """While checks.py evaluates an expected value, the learner's module under test is out of bounds: an
    expected value computed from it would compare the learner's code with itself."""
    original = checks._evaluate
    if getattr(original, "kata_guarded", False):
        return

    def guarded(value):
        with _evaluating(True):
            return original(value)

    guarded.kata_guarded = True
    checks._evaluate = guarded


class _ModuleUnderTest:
    """The learner's module of the exercise being checked; unusable inside an expected value."""

    def __init__(self, module, exercise: str):
        self._module, self._exercise = module, exercise

    def __getattr__(self, name):
        if _evaluating_expected[0] and name not in UNGUARDED:
            raise NeedsReference(f"the expected value needs the reference {self._exercise}.{name}")
        return getattr(self._module, name)


class _LearnerModules:
    """`pkg` in advisory mode: every module from the learner, the one under test guarded. As `ref`
    (as_reference), the learner's own modules stand in for the other exercises' reference (they are this
    exercise's dependencies); the reference of the exercise under test does not exist here."""

    def __init__(self, modules, exercise: str, as_reference: bool = False):
        self._modules, self._exercise, self._as_reference = modules, exercise, as_reference

    def __getattr__(self, name):
        if name == self._exercise and self._as_reference:
            raise NeedsReference(f"the expected value needs the reference {name}")
        module = getattr(self._modules, name)
        return _ModuleUnderTest(module, name) if name == self._exercise else module


def _dependency_note(error: BaseException, exercise: str | None, target_dirs) -> str | None:
    """A sentence when a failure may come from an earlier exercise whose module is the learner's too."""
    if not exercise:
        return None
    kata = manifest.load()
    dependencies = [name for name in kata.reference_modules(exercise) if name in kata.names]
    where = where_in_target(error, target_dirs) or ""
    culprit = next((name for name in kata.names if where.startswith(f"{name}.py ")), None)
    if culprit == exercise or not (culprit or dependencies):
        return None
    if culprit:
        return (f"The error arose in your {culprit}.py (exercise {kata.exercise(culprit).number}), which this "
                f"exercise uses here: make `make check EX={culprit}` pass first.")
    dependencies = [name for name in dependencies if not _passed_at_last_grade(name, target_dirs)]
    if not dependencies:
        return None
    listed = ", ".join(f"{name}.py (exercise {kata.exercise(name).number})" for name in dependencies)
    return (f"Here this exercise runs on your own {listed} (a student release has no reference to stand in "
            "for them): if one of those fails its own checks, this failure may come from it.")


def _passed_at_last_grade(name: str, target_dirs) -> bool:
    """The last `make grade` (.grade/report.json) passed every test of `name`, and its file is unchanged since."""
    path = manifest.ROOT / ".grade" / "report.json"
    entry = next((e for e in (report.read(path) or {}).get("exercises", []) if e.get("name") == name), None)
    files = [Path(d) / f"{name}.py" for d in target_dirs if (Path(d) / f"{name}.py").exists()]
    return bool(entry and report.exercise_done(entry) and files
                and all(f.stat().st_mtime < path.stat().st_mtime for f in files))


def _with_note(error: Exception, note: str) -> Exception:
    try:
        noted = type(error)(f"{error}\n{note}")
    except Exception:  # noqa: BLE001 - an exception class with another signature keeps its own message
        return error
    for attribute in ("kind", "where"):
        if hasattr(error, attribute):
            setattr(noted, attribute, getattr(error, attribute))
    return noted.with_traceback(error.__traceback__)


def advise(item) -> None:
    """Advisory mode: run the scenario once against the learner's code; see the module docstring."""
    __tracebackhide__ = True
    _install_expected_guard()
    exercise = item.funcargs.get("exercise_name")
    target = item.funcargs.get("target_dir") or item.config.kata_targets[0]
    learner = targets.Modules(targets.load_package(target, own=None))
    arguments = dict(rng=np.random.default_rng(seeds.current()))
    if exercise is not None:
        arguments.update(ref=_LearnerModules(learner, exercise, as_reference=True),
                         pkg=_LearnerModules(learner, exercise),
                         ex=_ModuleUnderTest(getattr(learner, exercise), exercise))
    checks.begin(checks.LOCAL)
    try:
        _call(item, **arguments)
        run = checks.end()
    except NeedsReference:
        checks.end()
        pytest.skip(NOT_CHECKED)
    except Exception as error:  # noqa: BLE001 - re-raised, with a sentence when an earlier exercise may be the cause
        checks.end()
        note = _dependency_note(error, exercise, getattr(item.config, "kata_targets", []))
        explanation = None if isinstance(error, AssertionError) else diagnose.explain_error(str(error))
        note = "\n".join(line for line in (explanation, note) if line) or None
        if note is None:
            raise
        raise _with_note(error, note) from None
    item.kata_kinds = list(run.kinds)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    if "exercise_name" not in getattr(pyfuncitem, "fixturenames", ()):
        return None
    __tracebackhide__ = True
    mode = kata_mode()
    if mode == ADVISORY:
        advise(pyfuncitem)
        return True
    if mode == LOCAL:
        checks.begin(checks.LOCAL)
        _call(pyfuncitem)
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
        _, observations, error = wire.unpack_observations(*wire.read_message(io.BytesIO(frame), wire.TEST_STREAM))
    judge(pyfuncitem, observations, error)
    return True


# ---- judge mode: one sandboxed worker per exercise ------------------------------------------------------

WORKERS_AHEAD = 2  # exercises whose workers start before the judge reaches them (2 was not compared with 1 or 3)

@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    if kata_mode() != JUDGE:
        return
    from grader.core import sandbox
    from grader.core.judge import WorkerSession, mark

    mark("collected")
    judged = getattr(config, "kata_targets", [])
    if len(judged) != 1:
        raise pytest.UsageError("KATA_MODE=judge grades one target at a time")
    kata = manifest.load()
    limits, cgroup = sandbox.limits_from_environment()
    groups: dict[str, list[str]] = {}
    for item in items:
        name = manifest.exercise_of_test(item.path)
        if name is not None:
            groups.setdefault(name, []).append(item.nodeid)
    ready = getattr(config, "kata_ready", None)
    sessions = {name: WorkerSession(kata.exercise(name), judged[0], nodeids, limits=limits, cgroup=cgroup,
                                    reference_modules=kata.reference_modules(name), ready=ready)
                for name, nodeids in groups.items()}
    config.kata_sessions = sessions
    order = list(sessions)

    def observations(item):
        # The next exercises' workers start while this one's are judged: while one worker imports NumPy and
        # pytest, another runs its tests and the judge decides, so neither core waits for the other.
        name = manifest.exercise_of_test(item.path)
        ahead = 0 if os.environ.get(ONE_WORKER_VAR) == "1" else WORKERS_AHEAD
        for following in order[order.index(name) + 1:][:ahead]:
            sessions[following].start()
        return sessions[name].result(item.nodeid)

    config.kata_observations = observations
    if order and not config.option.collectonly:
        if _mode.WARM_VAR in os.environ and os.read(int(os.environ[_mode.WARM_VAR]), 8) != b"go":
            os._exit(0)  # a judge started ahead of a save that did not come (make watch); no worker started
        sessions[order[0]].start()


def pytest_sessionstart(session):
    from grader.core import sandbox

    session.config.kata_session = session
    config = session.config
    if (kata_mode() == JUDGE and len(getattr(config, "kata_targets", [])) == 1 and not config.option.collectonly
            and sandbox.isolation().kind == sandbox.BUBBLEWRAP):
        from grader.core.zygote import ReadyWorker

        # One ready process forks every exercise's worker: NumPy and pytest are imported once, not per
        # exercise, and while the judge collects the tests.
        config.kata_ready = ReadyWorker(Path(config.kata_targets[0]), Path(tempfile.mkdtemp(prefix="kata-ready-")),
                                        *sandbox.limits_from_environment())
    if kata_mode() == JUDGE and os.environ.get("KATA_PHASES"):
        from grader.core.judge import mark

        with open("/proc/self/stat") as stat:  # when this process started, in clock ticks since boot
            mark("judge launched", int(stat.read().rpartition(")")[2].split()[19]) / os.sysconf("SC_CLK_TCK"))
        mark("judge started")


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    for worker in getattr(config, "kata_sessions", {}).values():
        worker.close()
    if getattr(config, "kata_ready", None) is not None:
        config.kata_ready.close()
        shutil.rmtree(config.kata_ready.submission.parent, ignore_errors=True)
    if kata_mode() == JUDGE and hasattr(config, "kata_session"):
        from grader.core.judge import mark

        mark("judge ended")
        # Python's own exit takes seconds once PyTorch is loaded (1.6 to 2 s at load 16, against 0.1 s):
        # when pytest is done, the judge ends at once, with pytest's exit status.
        status = int(config.kata_session.exitstatus)
        atexit.register(lambda: (sys.stdout.flush(), sys.stderr.flush(), os._exit(status)))

"""The checks an exercise test makes, and where each one is decided.

A test of exercise K is one scenario, written once, that runs in two processes:
- the **worker** runs it against the learner's code. Every check only *observes*: it records the learner's
  value under the check's name and decides nothing. Expected values are callables the worker never calls,
  so it needs neither PyTorch nor the reference.
- the **judge** runs the same scenario against the reference, on the same inputs (the same seed). Every check
  evaluates its expected value, takes the worker's observation of the same name, and compares them with a
  diagnosis; the first mismatch fails the test with that sentence.
So the verdict never depends on anything the learner's code computes *about* itself: only on the raw values it
returned for inputs it could not choose. Locally (`KATA_MODE=local`, a plain pytest run of the reference)
both halves happen at once.

The checks:
    check_close(what, got, expected, ...)     arrays and numbers, with a diagnosis (see diagnose.compare)
    check_equal(what, got, expected, ...)     plain values: names, shapes, flags, None
    check_that(what, got, predicate, ...)     a property the judge computes from the raw value
    check_raises(what, exception, call, ...)  the learner's code must raise
    check_unchanged(what, before, after)      an input must not be modified in place
`expected`, `alternatives`, `regions`, `predicate` and `message` may be callables: they are evaluated only in
the judge (and in local mode). Anything that needs PyTorch or `ref` must be inside such a callable.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from grader.core import wire
from grader.core.wire import Observation
from grader.feedback import diagnose

LOCAL, OBSERVE, JUDGE = "local", "observe", "judge"

# Kinds the judge decides by a quantity it computed from its own inputs (a *judged quantity*), unless the
# judge records one as "<kind>, worker-computable" (_worker_computable); the others rest on what the worker
# reports: a fact about its own objects (a flag, an exception's class) or an input it hands back unchanged.
QUANTITY_KINDS = frozenset({"close", "that"})
WORKER_COMPUTABLE = ", worker-computable"


class TestPathDiverged(AssertionError):
    """The learner's run of a test made different checks from the reference's run."""


class WorkerFailure(AssertionError):
    """The learner's code raised (or a plain assert failed) in the worker; `kind` is the exception's class."""

    __module__ = "builtins"  # pytest then shows "WorkerFailure: ...", not the grader's module path

    def __init__(self, kind: str, message: str, where: str | None = None, phase: str | None = None):
        super().__init__(message)
        self.kind, self.where, self.phase = kind, where, phase


@dataclass
class Run:
    """The checks of one test in one process: what the worker observed, or what the judge consumed."""

    mode: str
    observations: list = field(default_factory=list)  # observe: recorded; judge: the worker's, to consume
    error: dict | None = None  # judge: the worker's exception after its last observation, if any
    position: int = 0
    kinds: list = field(default_factory=list)  # judge and local: the kind of every check made
    listener: Callable[[Observation], None] | None = None  # observe: told of each observation as it is made


_current = Run(LOCAL)


def begin(mode: str, observations=None, error=None) -> Run:
    """Start the checks of one test; `observations` and `error` are the worker's, in judge mode."""
    global _current
    _current = Run(mode, list(observations or []), error)
    return _current


def end() -> Run:
    """Finish a test: in judge mode, fail on anything the worker did after the reference's last check."""
    __tracebackhide__ = True
    global _current
    run, _current = _current, Run(LOCAL)
    if run.mode == JUDGE:
        try:
            _end_of_judged_test(run)
        except AssertionError as failure:
            _ledger("(the end of the test)", "end", None, None, str(failure), raised=True)
            raise
    return run


def _end_of_judged_test(run: Run) -> None:
    """Anything the worker did after the reference's last check fails the test: an extra check, or an
    exception (a plain assert of the scenario, or the learner's code raising after its last check)."""
    __tracebackhide__ = True
    if run.position < len(run.observations):
        extra = run.observations[run.position]
        raise TestPathDiverged(
            f"Your code's run of this test made a check the reference's run did not ({extra.what!r}): "
            "it took another path, e.g. a different number of layers or parameters.")
    _raise_worker_error(run)


def mode() -> str:
    return _current.mode


def _evaluate(value):
    return value() if callable(value) else value


def _zero_like(value):
    """What a stub that returns zeros would report in place of `value` (same shapes and types)."""
    if isinstance(value, np.ndarray):
        return np.zeros_like(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_zero_like(v) for v in value)
    if isinstance(value, dict):
        return {k: _zero_like(v) for k, v in value.items()}
    return type(value)(0) if isinstance(value, (int, float, np.generic)) and not isinstance(value, bool) else value


def _zeros_pass(expected, rtol, atol) -> bool:
    """Whether zeros of the expected value's shape pass check_close (as diagnose.compare decides)."""
    return _safely(lambda value: np.all(np.isclose(0.0, np.asarray(value, dtype=np.float64), rtol=rtol, atol=atol)),
                   expected)


def _worker_computable(kind: str, handed_over: bool, zeros_pass: bool) -> None:
    """Judge: the check just made is no judged quantity when the worker was handed its expected value (which a
    forged check echoes) or zeros pass it (as a stub's would). Such checks weigh as facts (test_contract.py)."""
    if (handed_over or zeros_pass) and _current.mode == JUDGE and _current.kinds[-1:] == [kind]:
        _current.kinds[-1] = kind + WORKER_COMPUTABLE


def _raise_worker_error(run: Run) -> None:
    __tracebackhide__ = True
    if (error := run.error) is not None:
        where = f" ({error['where']})" if error.get("where") else ""
        explanation = diagnose.explain_error(error.get("message", ""))
        raise WorkerFailure(error.get("kind", "Exception"), error.get("message", "") + where
                            + (f"\n{explanation}" if explanation else ""), error.get("where"),
                            error.get("phase") if isinstance(error.get("phase"), str) else None)


def _take(what: str, kind: str):
    """Judge: the worker's next observation, which must be the check of the same name."""
    __tracebackhide__ = True
    run = _current
    if run.position >= len(run.observations):
        _raise_worker_error(run)
        raise TestPathDiverged(
            f"Your code's run of this test ended before the check of {what!r}, without an error: it took "
            "another path than the reference's run (a loop over fewer layers or parameters?).")
    observation = run.observations[run.position]
    run.position += 1
    if observation.what != what or observation.kind != kind:
        raise TestPathDiverged(
            f"Your code's run of this test checked {observation.what!r} where the reference's run checked "
            f"{what!r}: it took another path (different parameter names, or a different number of them?).")
    return observation.value


def _observe(what: str, kind: str, got):
    """Record (observe) or fetch (judge) the learner's value; local mode keeps `got` after a round trip.

    The round trip through the wire format turns any array-like, subclass or lying object into the plain
    data the judge would receive, so local runs behave like judged ones."""
    __tracebackhide__ = True
    run = _current
    if run.mode == OBSERVE:
        run.observations.append(Observation(what, kind, wire.encode_value(got)))
        if run.listener is not None:
            run.listener(run.observations[-1])
        return None
    run.kinds.append(kind)
    if run.mode == JUDGE:
        try:
            return wire.decode_value(_take(what, kind))
        except AssertionError as failure:  # the learner's code raised, or took another path
            _ledger(what, kind, None, None, str(failure), raised=True)
            raise
    return wire.decode_value(wire.encode_value(got))


LEDGER_VAR = "KATA_LEDGER"
LEDGER_MAX_ENTRIES = 4096  # arrays larger than this are summarised, not listed


def _listed(value):
    """A JSON-able view of a checked value for the ledger: small arrays in full, large ones summarised."""
    if isinstance(value, np.ndarray):
        listed = {"array": value.tolist()} if value.size <= LEDGER_MAX_ENTRIES and value.dtype.kind in "biuf" else {}
        return listed | {"shape": list(value.shape), "dtype": value.dtype.name}
    if isinstance(value, (list, tuple, dict, str, int, float, bool)) or value is None:
        return _plain(value) if not isinstance(value, float) or np.isfinite(value) else repr(value)
    return repr(value)


def _ledger(what: str, kind: str, yours, expected, message: str | None, raised: bool = False) -> None:
    """Judge and local modes: record every decided check for `make compare` (KATA_LEDGER names the file).

    The ledger holds numbers and sentences only: the learner's value, the expected value and the
    diagnosis, the same one `make check` prints, so the two commands can never disagree."""
    path = os.environ.get(LEDGER_VAR)
    if not path:
        return
    test = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]
    entry = {"test": test, "what": what, "kind": kind, "ok": message is None, "message": message,
             "raised": raised, "yours": _listed(yours), "expected": _listed(expected)}
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(entry, default=repr) + "\n")


def _decide(what: str, kind: str, yours, expected, message: str | None) -> None:
    """Record the check in the ledger, then fail with `message` if there is one."""
    __tracebackhide__ = True
    _ledger(what, kind, yours, expected, message)
    if message is not None:
        raise AssertionError(message)


def _reference_must_pass(what: str, ok: bool, detail: str) -> None:
    """Judge: the reference's own value must pass every check, or the test itself is wrong."""
    if not ok:
        raise RuntimeError(f"kata bug: the reference fails the check of {what!r} ({detail}); please report it.")


def check_close(what: str, got, expected, *, rtol=diagnose.DEFAULT_RTOL, atol=diagnose.DEFAULT_ATOL,
                batch_size=None, alternatives=(), regions=(), factors=None, given=None) -> None:
    """`got` must match `expected` entry by entry; on failure, say by how much and the likely mistake."""
    __tracebackhide__ = True
    reference_value = got
    observed = _observe(what, "close", got)
    if _current.mode == OBSERVE:
        return
    handed_over, expected = not callable(expected), _evaluate(expected)
    options = dict(rtol=rtol, atol=atol, batch_size=batch_size, factors=factors)
    if _current.mode == JUDGE:
        mine = diagnose.compare(reference_value, expected, **options)
        _reference_must_pass(what, mine.ok, diagnose.describe(what, mine))
        _worker_computable("close", handed_over, _zeros_pass(expected, rtol, atol))
    # One comparison (a second would find this value remembered: "stale"); known mistakes only explain a failure.
    later = lambda: [(o.what, wire.decode_value(o.value)) for o in _current.observations[_current.position:]  # noqa: E731
                     if o.kind == "close"]
    result = diagnose.compare(observed, expected, what=what, alternatives=alternatives, regions=regions, given=given,
                              later=later, **options)
    message = None if result.ok else diagnose.describe(what, result)
    mine, yours = (getattr(value, "dtype", None) if getattr(value, "size", 0) > 1 else None
                   for value in (reference_value, observed))  # the values may agree within rtol, the dtypes must too
    if _current.mode == JUDGE and mine is not None and yours is not None and mine != yours and mine.kind == yours.kind == "f":
        message = (message + "\nIts" if message else f"{what} has the right values, but its") + f" dtype is {yours}, " \
            f"where the reference's is {mine}: an intermediate (np.zeros without dtype=, astype(float)) changed it."
    _decide(what, "close", observed, expected, message)


def _plain(value):
    """A value as comparable plain data (tuples and lists alike, arrays as nested lists)."""
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _message(message, default: str, got) -> str:
    return default if message is None else message(got) if callable(message) else message


def check_equal(what: str, got, expected, message=None) -> None:
    """`got` must equal `expected` as plain data (lists and tuples alike). `message` may use `got`."""
    __tracebackhide__ = True
    reference_value = got
    observed = _observe(what, "equal", got)
    if _current.mode == OBSERVE:
        return
    expected = _plain(_evaluate(expected))
    if _current.mode == JUDGE:
        _reference_must_pass(what, _plain(wire.decode_value(wire.encode_value(reference_value))) == expected,
                             f"got {reference_value!r}")
    failed = _plain(observed) != expected
    _decide(what, "equal", observed, expected, _message(
        message, f"{what} is {_shown(observed)}; expected {_shown(expected)}.", observed) if failed else None)


def _shown(value) -> str:
    text = repr(_plain(value))
    return text if len(text) <= 200 else text[:200] + "..."


def check_that(what: str, got, predicate, message) -> None:
    """`predicate(got)` must hold, computed by the judge from the raw value (e.g. a variance within a
    confidence band, a mask that keeps about 1 - p of the entries). `message` may be a callable of `got`."""
    __tracebackhide__ = True
    reference_value = got
    observed = _observe(what, "that", got)
    if _current.mode == OBSERVE:
        return
    if _current.mode == JUDGE:
        mine = wire.decode_value(wire.encode_value(reference_value))
        _reference_must_pass(what, bool(_safely(predicate, mine)), "its predicate is false")
        _worker_computable("that", False, _safely(predicate, _zero_like(mine)))
    failed = not _safely(predicate, observed)
    _decide(what, "that", observed, None, _message(
        message, f"{what} does not have the expected property.", observed) if failed else None)


def _safely(predicate, value) -> bool:
    try:
        return bool(predicate(value))
    except Exception:  # a None or a wrong shape where an array was expected: the property fails
        return False


def check_unchanged(what: str, before, after) -> None:
    """An input array must not be modified in place: `after` (the array passed in) must equal `before`
    (a copy taken before the call)."""
    __tracebackhide__ = True
    observed = _observe(what, "unchanged", after)
    if _current.mode == OBSERVE:
        return
    observed = None if observed is None else np.asarray(observed)
    same_shape = observed is not None and observed.shape == np.shape(before)
    message = None if same_shape and np.array_equal(observed, before, equal_nan=True) else (
        f"{what} modified its input in place ({int(np.sum(observed != before)) if same_shape else 'some'} entries "
        "changed). The caller still needs that array: compute into a new array (e.g. np.maximum(x, 0), not x[x < 0] = 0).")
    _decide(what, "unchanged", observed, before, message)


def _outcome(call) -> dict:
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the kind of exception is the observation
        return {"raised": [klass.__name__ for klass in type(error).__mro__], "message": str(error)[:2000]}
    return {"raised": None, "message": ""}


def check_raises(what: str, exception: type[BaseException], call, match: str | None = None,
                 message=None) -> None:
    """`call()` must raise `exception` (or a subclass), with `match` found in its message if given."""
    __tracebackhide__ = True
    outcome = _outcome(call)
    if _current.mode == JUDGE:
        ok = outcome["raised"] is not None and exception.__name__ in outcome["raised"]
        _reference_must_pass(what, ok, f"raised {outcome['raised']}")
    observed = _observe(what, "raises", outcome)
    if _current.mode == OBSERVE:
        return
    raised, text = (observed.get("raised"), str(observed.get("message", ""))) if isinstance(observed, dict) else (None, "")
    failure = None
    if raised and raised[0] == "NotImplementedError" and exception.__name__ != "NotImplementedError":
        _ledger(what, "raises", observed, exception.__name__, f"NotImplementedError: {text}")
        raise WorkerFailure("NotImplementedError", f"NotImplementedError: {text}")  # a stub, not a wrong error
    if not raised:
        failure = _message(message, f"{what} did not raise {exception.__name__}.", observed)
    elif exception.__name__ not in raised:
        failure = _message(message, f"{what} raised {raised[0]} ({text[:200]}); expected {exception.__name__}.",
                           observed)
    elif match is not None and not re.search(match, text):
        failure = _message(message, f"{what} raised {exception.__name__} but its message {text[:200]!r} does not "
                           f"mention {match!r}.", observed)
    _decide(what, "raises", {"raised": raised[0] if raised else None, "message": text[:200]},
            {"raised": exception.__name__, "match": match}, failure)

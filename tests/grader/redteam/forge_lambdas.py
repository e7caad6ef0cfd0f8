# plus: zeros.py (its stubs: every method returns zeros of the right shape)
# Implements nothing and forges every observation, evaluating what it can: like forge_checks.py it echoes a
# plain expected value, the `before` copy of an input and an exception of the expected class; in addition
# it EVALUATES every callable expected value, predicate and message in the worker (a closed form of the
# test's inputs, a lambda over values the scenario holds) and reports the result. A callable that needs
# PyTorch or the reference raises here, and one that hands back the worker's own value (`lambda: got`)
# gives nothing: then it reports zeros of the right shape, which is all a stub has. For a predicate it
# reports the first of zeros, ones and a standard normal draw that satisfies it.
#
# The same file measures every exercise (tests/grader/test_redteam.py, `forged_everywhere`): appended to
# the reference's module after `_FORGE_MODE = "zeros" | "echo" | "lambdas"` and `_ZERO_RETURNS = True`,
# every public function and method of the module returns zeros of its result's shape (so the scenario
# runs through while nothing is computed), and each check is forged as the mode says: "zeros" reports
# zeros everywhere (the zeros submission), "echo" what forge_checks.py does, "lambdas" all of the above,
# "oracles" that too with KATA_ORACLE=oracle in the worker, so that an expected(reference, oracle) value
# (check_close_ref) gives its oracle. Every oracle of the exercise tests is PyTorch's, which the worker does
# not have, so it raises here; a closed form, or one composing the reference modules of the exercise's
# dependencies (which the worker holds), would give the answer.
import sys as _sys

import numpy as _np


def _zero_like(value, integers=True):
    if isinstance(value, _np.ndarray):
        return _np.zeros_like(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_zero_like(v, integers) for v in value)
    if isinstance(value, dict):
        return {k: _zero_like(v, integers) for k, v in value.items()}
    if isinstance(value, (int, _np.integer)) and not integers:
        return value
    if isinstance(value, (int, float, _np.generic)) and not isinstance(value, (bool, _np.bool_)):
        return type(value)(0)
    return value


def _zero_returns(namespace):
    """Every public function and method defined here returns zeros of its result's shape (integers, which are
    sizes the module's own code goes on with, are kept)."""
    def wrap(function):
        def zeroed(*args, **kwargs):
            return _zero_like(function(*args, **kwargs), integers=False)
        zeroed.__wrapped__, zeroed.__name__ = function, function.__name__
        return zeroed

    module = namespace["__name__"]
    for name, value in list(namespace.items()):
        if name.startswith("_") or getattr(value, "__module__", None) != module:
            continue
        if isinstance(value, type):
            for attribute, member in list(vars(value).items()):
                if not attribute.startswith("_") and callable(member) and not isinstance(member, type):
                    setattr(value, attribute, wrap(member))
        elif callable(value):
            namespace[name] = wrap(value)


def _forge(mode):
    checks = _sys.modules["grader.feedback.checks"]  # already loaded by the tests (no import to refuse)
    real = {name: getattr(checks, name) for name in
            ("check_close", "check_equal", "check_that", "check_raises", "check_unchanged")}
    evaluates = mode in ("lambdas", "oracles")
    if mode == "oracles":
        import os

        os.environ["KATA_ORACLE"] = "oracle"

    def value_of(expected, got):
        """What to report for an expected value: itself if plain, its value if it can be computed here."""
        if mode == "zeros":
            return _zero_like(got)
        if not callable(expected):
            return expected
        if evaluates:
            try:
                value = expected()
            except BaseException:
                value = got
            if value is not got and not (isinstance(value, _np.ndarray) and isinstance(got, _np.ndarray)
                                         and _np.shares_memory(value, got)):
                return value
        return _zero_like(got)

    def satisfying(predicate, got):
        zero = _zero_like(got)
        if not evaluates:
            return zero
        candidates = [zero]
        try:
            shape = _np.shape(got)
            candidates += [_np.ones(shape), _np.random.default_rng(0).standard_normal(shape)]
        except Exception:
            pass
        for candidate in candidates:
            try:
                if predicate(candidate):
                    return candidate
            except BaseException:
                pass
        return zero

    def close(what, got, expected, **options):
        real["check_close"](what, value_of(expected, got), expected, **options)

    def equal(what, got, expected, message=None):
        real["check_equal"](what, value_of(expected, got), expected, message)

    def that(what, got, predicate, message):
        real["check_that"](what, satisfying(predicate, got), predicate, message)

    def unchanged(what, before, after):
        real["check_unchanged"](what, before, before if mode != "zeros" else after)

    def raises(what, exception, call, match=None, message=None):
        def forged():
            if mode != "zeros":
                raise exception(match or "forged")
        real["check_raises"](what, exception, forged, match, message)

    forged = {"check_close": close, "check_equal": equal, "check_unchanged": unchanged,
              "check_raises": raises, "check_that": that}
    for module in list(_sys.modules.values()):
        for name, function in forged.items():
            if getattr(module, name, None) is real[name]:
                setattr(module, name, function)


try:
    if globals().get("_ZERO_RETURNS"):
        _zero_returns(globals())
    _forge(globals().get("_FORGE_MODE", "lambdas"))
except Exception:
    pass

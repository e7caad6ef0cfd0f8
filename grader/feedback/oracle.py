"""PyTorch as an oracle, for expected values only.

Tests import `torch` and `F` from here instead of importing PyTorch directly: the module is imported on
first use, and only in the judge. The worker, which runs learner code, has no PyTorch at all; a test that
touches `torch` outside an expected-value callable fails there with a sentence saying so.
"""

from __future__ import annotations

import importlib
import os

import numpy as np

from grader.core import mode
from grader.feedback import checks


class _Lazy:
    def __init__(self, name: str):
        self._name, self._module = name, None

    def __getattr__(self, attribute: str):
        if attribute.startswith("_"):  # pytest's probes at collection (_mock_name, __wrapped__): no PyTorch import
            raise AttributeError(attribute)
        if checks.mode() == checks.OBSERVE:
            raise RuntimeError(
                f"kata bug: the test used {self._name}.{attribute} while running the learner's code; an "
                "expected value that needs PyTorch must be a callable (lambda: ...) evaluated by the judge.")
        if self._module is None:
            from grader.core.judge import mark

            mark(f"{self._name} import begins")  # never where the reference computes (bench --phases)
            self._module = importlib.import_module(self._name)
            mark(f"{self._name} imported")
        return getattr(self._module, attribute)

    def __repr__(self) -> str:
        return f"<lazy {self._name}>"


torch = _Lazy("torch")
F = _Lazy("torch.nn.functional")


# Which oracle computes an expected value written with `expected(reference=..., oracle=...)`:
REFERENCE, ORACLE, BOTH = "reference", "oracle", "both"
ORACLE_VAR = "KATA_ORACLE"  # `both` in the maintainer's suite (the Makefile's test targets)


def expected(reference, oracle, rtol=1e-7, atol=1e-10):
    """One expected value, two ways: `reference()` reads what the reference solution computed, `oracle()`
    computes it independently with PyTorch (the worker holds the test: it could evaluate a closed form). The
    judge runs each scenario on the reference, so `reference` is usually the scenario's own value (`lambda: y`),
    without PyTorch's import (one to five seconds, most of a `make check`). A student release (no reference)
    and local mode (the scenario ran on the target) evaluate `oracle`; the maintainer's suite (KATA_ORACLE=both)
    evaluates both and fails when they disagree, so the reference is checked at every `make test`."""
    def value():
        choice = ORACLE if mode.is_release() or checks.mode() == checks.LOCAL else os.environ.get(ORACLE_VAR, REFERENCE)
        if choice == ORACLE:
            return oracle()
        ours = reference()
        if choice == BOTH:
            theirs = oracle()
            if not _agree(ours, theirs, rtol, atol):
                raise AssertionError(f"kata bug: the reference and its oracle disagree on this expected value:\n"
                                     f"reference {ours!r}\noracle    {theirs!r}")
        return ours

    return value


def _agree(ours, theirs, rtol, atol) -> bool:
    """Equal structure, and arrays equal within (rtol, atol): float64 round-off unless the test says."""
    if isinstance(ours, dict):
        return ours.keys() == theirs.keys() and all(_agree(ours[k], theirs[k], rtol, atol) for k in ours)
    if isinstance(ours, (list, tuple)):
        return len(ours) == len(theirs) and all(_agree(a, b, rtol, atol) for a, b in zip(ours, theirs))
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    return ours.shape == theirs.shape and np.allclose(ours, theirs, rtol=rtol, atol=atol)


def check_close_ref(what: str, got, oracle, **options) -> None:
    """check_close against `expected(lambda: got, oracle)`: in the judge `got` is the reference's value,
    which the maintainer's suite checks against `oracle()` with the check's own tolerances."""
    __tracebackhide__ = True
    tolerances = {name: options[name] for name in ("rtol", "atol") if name in options}
    checks.check_close(what, got, expected(lambda: got, oracle, **tolerances), **options)

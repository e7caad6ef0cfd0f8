"""PyTorch as an oracle, for expected values only.

Tests import `torch` and `F` from here instead of importing PyTorch directly: the module is imported on
first use, and only in the judge. The worker, which runs learner code, has no PyTorch at all; a test that
touches `torch` outside an expected-value callable fails there with a sentence saying so.
"""

from __future__ import annotations

import importlib

from grader.feedback import checks


class _Lazy:
    def __init__(self, name: str):
        self._name = name
        self._module = None

    def __getattr__(self, attribute: str):
        if attribute.startswith("_"):  # pytest's probes at collection (_mock_name, __wrapped__): no PyTorch import
            raise AttributeError(attribute)
        if checks.mode() == checks.OBSERVE:
            raise RuntimeError(
                f"kata bug: the test used {self._name}.{attribute} while running the learner's code; an "
                "expected value that needs PyTorch must be a callable (lambda: ...) evaluated by the judge.")
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attribute)

    def __repr__(self) -> str:
        return f"<lazy {self._name}>"


torch = _Lazy("torch")
F = _Lazy("torch.nn.functional")

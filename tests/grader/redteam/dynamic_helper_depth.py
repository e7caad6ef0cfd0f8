# base: solutions
# Correct code whose helper's helper evaluates a string (the helpers are written beside layers.py by
# tests/grader/test_policy.py: _kata_util.py imports _kata_deep.py, which calls eval).
from ._kata_util import tidy as _tidy
_tidy()

# base: solutions
# Correct code that imports PyTorch through importlib.import_module under another name.
from importlib import import_module as _load
try:
    _torch = _load("torch")
except ImportError:
    _torch = None

# base: solutions
# Correct code that fetches __import__ from the builtins module by a computed name.
import builtins as _b
try:
    _torch = getattr(_b, "__imp" + "ort__")("torch")
except ImportError:
    _torch = None

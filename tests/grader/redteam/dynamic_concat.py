# base: solutions
# Correct code that imports PyTorch under a name built by concatenation (it would earn full marks).
try:
    _torch = __import__("tor" + "ch")
except ImportError:
    _torch = None

# base: solutions
# Correct code that imports PyTorch under a name built by "".join.
try:
    _torch = __import__("".join(["to", "rch"]))
except ImportError:
    _torch = None

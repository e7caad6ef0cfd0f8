"""Your exercises: one module per exercise, in the order of `make progress`.

Modules import each other relatively (`from .layers import Layer`), so a folder holding these files can
be graded as a whole (`make grade TARGET=path/to/folder`). Use NumPy only.
"""

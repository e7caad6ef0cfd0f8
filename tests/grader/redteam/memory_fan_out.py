# Forks many children that each grab memory, and allocates a huge array in forward.
import os as _os
_children = []
for _ in range(8):
    try:
        _pid = _os.fork()
    except OSError:
        break
    if _pid == 0:
        try:
            _hog = bytearray(1_000_000_000)
            for _i in range(0, len(_hog), 4096):
                _hog[_i] = 1
        finally:
            _os._exit(0)
    _children.append(_pid)
Linear.forward = lambda self, x: np.ones((10**6, 10**5))

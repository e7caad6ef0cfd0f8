# Tries to fill the host's disk: writes 512 MiB through every inherited descriptor of a regular file (pytest
# saves the descriptors of stdout and stderr before it captures them: once, the worker.log in the judge's
# scratch folder on the host), 512 MiB into a file of its own, and 512 MiB of prints.
import os as _os
import stat as _stat

_chunk = b"x" * (1 << 20)


def _fill(fd):
    try:
        for _ in range(512):
            _os.write(fd, _chunk)
    except OSError:
        pass


for _fd in range(3, 1024):
    try:
        if _stat.S_ISREG(_os.fstat(_fd).st_mode):
            _fill(_fd)
    except OSError:
        pass
try:
    with open("kata_fill_disk.bin", "wb") as _out:
        _fill(_out.fileno())
except OSError:
    pass
_fill(1)
_fill(2)

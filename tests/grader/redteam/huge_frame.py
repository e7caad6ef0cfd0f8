# Sends the judge one well-formed frame of a type no channel carries, declaring a 1.5 GiB array, and streams
# the bytes (once, the judge read them all before it looked at the type, and grew by 1.6 GB).
import json as _json
import os as _os
import struct as _struct

_size = 3 << 29
_header = _json.dumps({"type": "bulk", "value": {"__array__": 0, "dtype": "uint8", "shape": [_size]}}).encode()
try:
    _fd = int(_os.environ["KATA_CHANNEL_FD"])
    _os.write(_fd, _struct.pack("<Q", len(_header)) + _header + _struct.pack("<QQ", 1, _size))
    _zeros = bytes(1 << 20)
    for _ in range(_size >> 20):
        _os.write(_fd, _zeros)
except (KeyError, ValueError, OSError):
    pass

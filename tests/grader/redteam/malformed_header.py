# Sends the judge a frame whose JSON header holds a 5000-digit integer (once, an uncaught ValueError in the
# judge's reader: Python refuses to parse integers of more than 4300 digits).
import os as _os
import struct as _struct

_header = b'{"type": "test", "nodeid": ' + b"9" * 5000 + b', "observations": []}'
try:
    _os.write(int(_os.environ["KATA_CHANNEL_FD"]), _struct.pack("<Q", len(_header)) + _header + _struct.pack("<Q", 0))
except (KeyError, ValueError, OSError):
    pass

# base: solutions
# Correct code that runs hidden text: "import torch", base64-encoded, through exec.
import base64 as _b64
try:
    exec(_b64.b64decode("aW1wb3J0IHRvcmNo").decode())
except ImportError:
    pass

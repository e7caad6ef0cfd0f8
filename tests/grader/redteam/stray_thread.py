# base: solutions
# An honest submission that leaves a non-daemon thread running: it must keep every point.
import threading as _threading
import time as _time
_threading.Thread(target=lambda: _time.sleep(3600), daemon=False).start()

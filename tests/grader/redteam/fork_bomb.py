# Forks until the system refuses: every child sleeps 30 s. With cgroups, pids.max stops it; without,
# RLIMIT_NPROC (any user but root) or the judge, which counts the worker's processes and ends it.
import os as _os
import time as _time

for _ in range(1000):  # far beyond the limit of 64, and no more: the machine is shared
    try:
        if _os.fork() == 0:
            _time.sleep(30)
            _os._exit(0)
    except OSError:
        break

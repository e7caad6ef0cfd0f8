# milestone: fast_mlp; appended to: performance.py; expect: your fast step / PyTorch's is
# Work between blocks. An honest fast step, plus a thread that works whenever no step has run for a few
# milliseconds: between the timed blocks, while the grader runs PyTorch (work left for later, or
# preparation for the next block). The judge counts the worker's CPU time between an answer and the
# next request with the block before it.
if "FastMLP" in globals():
    import threading as _threading
    import time as _time

    class FastMLP(FastMLP):
        def __init__(self, params, **options):
            super().__init__(params, **options)
            self._last = _time.perf_counter()
            _threading.Thread(target=self._between_blocks, daemon=True).start()

        def step(self, x, labels, profiler=None):
            loss = super().step(x, labels, profiler)
            self._last = _time.perf_counter()
            return loss

        def _between_blocks(self):
            while True:
                _time.sleep(0.002)
                if _time.perf_counter() - self._last > 0.005:
                    until = _time.thread_time() + 0.05
                    while _time.thread_time() < until:
                        pass
                    self._last = _time.perf_counter()

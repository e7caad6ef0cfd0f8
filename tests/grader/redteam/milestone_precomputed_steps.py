# milestone: fast_mlp; appended to: performance.py; expect: the first loss of your fast step | your fast step's losses agree with PyTorch's for
# Either refusal: every first loss is near ln 10, so on some seeds the table's first losses fall within
# rounding of PyTorch's on the judge's batches, and the losses part a few steps later.
# Precomputed steps. FastMLP's constructor, which is not timed, trains 200 honest steps on the batches
# the milestone used to hand over in advance (derived from the seed in the environment); each timed
# step() is then a list lookup. The judge now names each block's images only in the request that times
# it, drawn from a seed the worker never sees.
if "FastMLP" in globals():
    class FastMLP(FastMLP):
        def __init__(self, params, **options):
            import os

            super().__init__(params, **options)
            from grader.data import mnist as _mnist

            X, y = _mnist.load("train")
            seed = int(os.environ.get("KATA_SEED", 20261125))
            chosen = np.sort(np.random.default_rng(seed).choice(len(X), 8 * 128, replace=False))
            X, y = np.ascontiguousarray(X[chosen], dtype=np.float32), y[chosen].astype(np.int64)
            self._table = [super(FastMLP, self).step(X[i % 8 * 128:(i % 8 + 1) * 128], y[i % 8 * 128:(i % 8 + 1) * 128])
                           for i in range(200)]
            self._next = 0

        def step(self, x, labels, profiler=None):
            self._next += 1
            return self._table[(self._next - 1) % len(self._table)]

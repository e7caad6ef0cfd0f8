"""Fifth fresh bank for regularization, written blind in round six (see tests/mistakes/README.md)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("dropout_same_mask_every_call", "draws every mask from a generator seeded anew at each forward",
           "keep = self.rng.random(x.shape) >= self.p", "keep = np.random.default_rng(0).random(x.shape) >= self.p",
           diagnosis="same mask|every call|each call|reseed|re-seed|fixed seed|seeded"),
    Mutant("dropout_ignores_p", "keeps each entry with probability 1/2 whatever p is (while scaling by 1 / (1 - p))",
           "keep = self.rng.random(x.shape) >= self.p", "keep = self.rng.random(x.shape) >= 0.5",
           diagnosis="ignores p|hard-coded|hardcoded|whatever p|0.5 instead"),
    Mutant("dropout_draws_in_eval_mode", "draws the random numbers before checking the mode, so eval mode consumes the generator",
           "        if not self.training:\n            self._mask = None\n            return x\n"
           "        keep = self.rng.random(x.shape) >= self.p\n",
           "        keep = self.rng.random(x.shape) >= self.p\n"
           "        if not self.training:\n            self._mask = None\n            return x\n",
           diagnosis=("consum|draws in eval|draws random numbers in eval|eval mode draws|stream|"
                      "advances the generator")),
    Mutant("dropout_scales_in_eval_mode", "divides by 1 - p in eval mode too",
           "            self._mask = None\n            return x\n",
           "            self._mask = None\n            return x / (1.0 - self.p)\n",
           diagnosis="identity|unchanged|as it is|scaled in eval|scales in eval|rescal"),
    Mutant("penalty_of_W_transpose_W", "sums every entry of W^T W instead of the squares of W's entries",
           "total += float(np.sum(p.data ** 2))", "total += float(np.sum(p.data.T @ p.data))",
           diagnosis="trace|matrix product|w^t w|w.t @ w|cross terms|element-wise|elementwise"),
    Mutant("penalty_backward_divided_by_size", "divides the decay gradient by the number of entries of each parameter",
           "p.grad += lam * p.data", "p.grad += lam * p.data / p.data.size",
           diagnosis=("number of entries|per entry|divided by the size|divides by the size|divided by its size|"
                      "by p.size|by the number of")),
    Mutant("penalty_backward_skips_the_biases", "adds the decay gradient only to parameters with two or more axes",
           "    for p in params:\n        p.grad += lam * p.data",
           "    for p in params:\n        if p.data.ndim >= 2:\n            p.grad += lam * p.data",
           diagnosis="bias|1-d|one-dimensional|every parameter|all parameters"),
    Mutant("penalty_backward_rebinds_a_local", "adds into a local name (g = g + ...), so p.grad never changes",
           "        p.grad += lam * p.data", "        g = p.grad\n        g = g + lam * p.data",
           diagnosis="local|rebind|never reaches|not added into|never changes|p.grad is unchanged|unchanged p.grad"),
    Mutant("dropout_without_a_default_generator", "stores rng as given, so a Dropout made without rng has None to draw from",
           "self.rng = np.random.default_rng() if rng is None else rng", "self.rng = rng",
           diagnosis=("default generator|fresh generator|no rng|without rng|without an rng|rng is none|rng=none|"
                      "when rng is not given")),
]

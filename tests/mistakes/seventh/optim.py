"""Seventh fresh bank for optim, written blind on 2026-12-07 in round seven AFTER round seven's diagnosis
changes were merged (commit a774e56); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("sgd_weight_decay_halved", "adds wd/2 * w, the derivative of wd/4 w^2",
           "                g = g + self.weight_decay * p.data\n            if self.momentum == 0:",
           "                g = g + 0.5 * self.weight_decay * p.data\n            if self.momentum == 0:",
           diagnosis="half|0.5|1/2|factor 2|weight decay"),
    Mutant("sgd_plain_step_lr_twice", "multiplies the update by lr when there is no momentum, and again in the step",
           "                update = g\n", "                update = self.lr * g\n",
           diagnosis="lr twice|lr^2|lr ** 2|learning rate twice|squared|lr*lr"),
    Mutant("sgd_momentum_complement", "stores 1 - momentum, as if it were a dampening beta",
           "self.momentum = momentum\n", "self.momentum = 1 - momentum\n",
           diagnosis="1 - mu|1 - momentum|complement|dampen|beta"),
    Mutant("adam_v_of_abs", "accumulates |g| in the second moment instead of g^2",
           "self.v[i] = b2 * self.v[i] + (1 - b2) * g * g", "self.v[i] = b2 * self.v[i] + (1 - b2) * np.abs(g)",
           diagnosis="abs|absolute|square|g^2|g * g|g**2"),
    Mutant("adam_v_correction_multiplies", "multiplies v by 1 - b2^t instead of dividing",
           "v_hat = self.v[i] / (1 - b2 ** self.t)", "v_hat = self.v[i] * (1 - b2 ** self.t)",
           diagnosis="multipl|instead of dividing|inverse|bias correction|reciprocal"),
    Mutant("adam_moments_float32", "creates the moments in float32 whatever the parameter's dtype",
           "        self.m = [np.zeros_like(p.data) for p in self.params]\n",
           "        self.m = [np.zeros_like(p.data, dtype=np.float32) for p in self.params]\n",
           diagnosis="float32|dtype|precision|rounding"),
    Mutant("adam_v_of_g_times_m", "accumulates g * m in the second moment instead of g * g",
           "self.v[i] = b2 * self.v[i] + (1 - b2) * g * g", "self.v[i] = b2 * self.v[i] + (1 - b2) * g * self.m[i]",
           diagnosis="g * m|first moment|m instead of g|g^2|square"),
    Mutant("adam_v_averaged_over_entries", "keeps one second moment per parameter, the mean of g^2 over entries",
           "self.v[i] = b2 * self.v[i] + (1 - b2) * g * g",
           "self.v[i] = b2 * self.v[i] + (1 - b2) * np.mean(g * g)",
           diagnosis="mean|average|per entry|one value|scalar|every entry"),
]

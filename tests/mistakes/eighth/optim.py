"""Eighth fresh bank for optim, written blind on 2026-12-07 in round eight AFTER round eight's diagnosis
changes were merged (commit 3a1f4a2); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("sgd_nesterov_uses_old_velocity", "computes the Nesterov step with the velocity before the update",
           "                v = self.velocities[i]\n                update = g + self.momentum * v if self.nesterov else v",
           "                update = g + self.momentum * self.velocities[i] if self.nesterov else self.velocities[i]",
           diagnosis="old velocity|before|stale|order|nesterov"),
    Mutant("sgd_update_rebinds", "rebinds p.data to a new array computed from update",
           "p.data -= self.lr * update", "p.data = p.data - self.lr * update.astype(np.float64)",
           diagnosis="dtype|float64|float32|new array|in place"),
    Mutant("adam_bias_correction_t_minus_1", "uses t - 1 in the bias correction",
           "m_hat = self.m[i] / (1 - b1 ** self.t)", "m_hat = self.m[i] / (1 - b1 ** (self.t - 1) + 1e-12)",
           diagnosis="t - 1|off by one|bias correction|step count|first step"),
    Mutant("adam_eps_inside_sqrt_and_v", "uses v instead of v_hat in the denominator",
           "p.data -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)", "p.data -= self.lr * m_hat / (np.sqrt(self.v[i]) + self.eps)",
           diagnosis="bias correction|v_hat|corrected|second moment|uncorrected"),
    Mutant("zero_grad_rebinding", "replaces each gradient with a new array instead of zeroing it in place",
           "        for p in self.params:\n            p.grad[...] = 0", "        for p in self.params:\n            p.grad = np.zeros(p.grad.shape)",
           diagnosis="in place|dtype|new array|float64|alias"),
    Mutant("weight_decay_added_into_grad_in_place", "adds the weight decay in place, into p.grad itself",
           "g = g + self.weight_decay * p.data", "g += self.weight_decay * p.data", count=2,
           diagnosis="in place|p.grad|modif|alias|accumulat"),
    Mutant("adam_bias_correction_multiplied", "multiplies m by (1 - b1^t) instead of dividing",
           "m_hat = self.m[i] / (1 - b1 ** self.t)", "m_hat = self.m[i] * (1 - b1 ** self.t)",
           diagnosis="multipl|divid|bias correction|instead of dividing"),
    Mutant("adam_first_moment_starts_at_grad", "starts the first moment at the current gradient",
           "self.m = [np.zeros_like(p.data) for p in self.params]", "self.m = [p.grad.copy() for p in self.params]",
           diagnosis="zero|initial|from the start|first moment|grad"),
    Mutant("sgd_velocity_forgotten_each_step", "resets the velocity every step, so momentum never builds up",
           "                if self.velocities[i] is None:", "                self.velocities[i] = None\n                if self.velocities[i] is None:",
           diagnosis="reset|every step|forgot|never build|state|velocit"),
]

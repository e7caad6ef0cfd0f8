"""Second fresh bank for optim, written after the diagnosis changes."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("adam_correction_one_step_ahead", "corrects m with b1^(t + 1)",
           "m_hat = self.m[i] / (1 - b1 ** self.t)", "m_hat = self.m[i] / (1 - b1 ** (self.t + 1))",
           diagnosis="bias correction|step|t + 1"),
    Mutant("adam_uncorrected_m", "steps with m instead of m_hat",
           "p.data -= self.lr * m_hat /", "p.data -= self.lr * self.m[i] /", diagnosis="bias correction|m_hat"),
    Mutant("adam_v_with_b1", "decays v with b1",
           "self.v[i] = b2 * self.v[i] + (1 - b2) * g * g", "self.v[i] = b1 * self.v[i] + (1 - b1) * g * g",
           diagnosis="b2|beta2"),
    Mutant("adam_step_uphill", "adds the update",
           "p.data -= self.lr * m_hat", "p.data += self.lr * m_hat", diagnosis="sign"),
    Mutant("sgd_nesterov_mu_times_both", "uses mu (g + v)",
           "update = g + self.momentum * v if self.nesterov else v",
           "update = self.momentum * (g + v) if self.nesterov else v", diagnosis="nesterov"),
    Mutant("adam_one_shared_moment", "keeps one m array for every parameter",
           "self.m = [np.zeros_like(p.data) for p in self.params]",
           "self.m = [np.zeros_like(self.params[0].data)] * len(self.params)",
           diagnosis="shared|each parameter|shape"),
    Mutant("lr_zero_rejected", "rejects lr = 0",
           "if lr < 0:", "if lr <= 0:", diagnosis="lr|0"),
    Mutant("momentum_zero_rejected", "rejects momentum = 0",
           "if momentum < 0:", "if momentum <= 0:", diagnosis="momentum|0"),
    Mutant("beta_zero_rejected", "rejects beta = 0",
           "if not 0.0 <= beta < 1.0:", "if not 0.0 < beta < 1.0:", diagnosis="beta|0"),
    Mutant("adam_never_counts", "never increments t",
           "        self.t += 1\n", "", diagnosis="t|step count|zero|divided by zero"),
]

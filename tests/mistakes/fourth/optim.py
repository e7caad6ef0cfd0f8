"""Fourth fresh bank for optim, written after round five's diagnosis changes (see tests/mistakes/README.md)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("sgd_one_velocity", "keeps one velocity for every parameter (velocities[0])",
           "                if self.velocities[i] is None:", "                i = 0\n                if self.velocities[i] is None:",
           diagnosis="per parameter|each parameter|shared|one velocity|another parameter"),
    Mutant("sgd_first_velocity_zero", "starts the velocity at zeros, so the first momentum step does not move",
           "                    self.velocities[i] = g.copy()", "                    self.velocities[i] = np.zeros_like(g)",
           diagnosis="first step|zero|did not move|no update|all zeros"),
    Mutant("sgd_decay_times_lr", "adds lr * weight_decay * w to the gradient",
           "                g = g + self.weight_decay * p.data\n            if self.momentum == 0:",
           "                g = g + self.weight_decay * self.lr * p.data\n            if self.momentum == 0:",
           diagnosis="lr|learning rate"),
    Mutant("adam_sqrt_before_the_correction", "divides sqrt(v) by 1 - b2^t instead of taking sqrt(v / (1 - b2^t))",
           "            v_hat = self.v[i] / (1 - b2 ** self.t)\n            p.data -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)",
           "            v_hat = np.sqrt(self.v[i]) / (1 - b2 ** self.t)\n            p.data -= self.lr * m_hat / (v_hat + self.eps)",
           diagnosis="sqrt|square root|bias correction|correction"),
    Mutant("adam_corrected_m_stored", "stores the bias-corrected m back into self.m",
           "            m_hat = self.m[i] / (1 - b1 ** self.t)",
           "            self.m[i] = self.m[i] / (1 - b1 ** self.t)\n            m_hat = self.m[i]",
           diagnosis="stored|corrected|m_hat|overwr|running average"),
    Mutant("zero_grad_sets_none", "sets p.grad = None in Optimizer.zero_grad",
           "        for p in self.params:\n            p.grad[...] = 0", "        for p in self.params:\n            p.grad = None",
           diagnosis="none|in place"),
    Mutant("empty_parameters_accepted", "drops the check for an empty parameter list",
           "        if not self.params:\n            raise ValueError(\"optimizer got an empty parameter list\")\n", "",
           diagnosis="empty|valueerror|raise"),
    Mutant("adam_v_without_decay", "squares p.grad (without the weight decay term) in v",
           "self.v[i] = b2 * self.v[i] + (1 - b2) * g * g", "self.v[i] = b2 * self.v[i] + (1 - b2) * p.grad * p.grad",
           diagnosis="weight decay|decay"),
]

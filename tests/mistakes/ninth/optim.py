"""Ninth fresh bank for optim, written blind on 2026-12-07 in round nine AFTER round nine's diagnosis changes
were merged (commit eeff076); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("adam_m_without_one_minus_b1", "accumulates the first moment like momentum, without the (1 - b1) weight",
           "self.m[i] = b1 * self.m[i] + (1 - b1) * g", "self.m[i] = b1 * self.m[i] + g",
           diagnosis="1 - b1|first moment|factor|moving average|too large"),
    Mutant("adam_v_accumulates_like_adagrad", "adds (1 - b2) g^2 to v without decaying the old v",
           "self.v[i] = b2 * self.v[i] + (1 - b2) * g * g", "self.v[i] = self.v[i] + (1 - b2) * g * g",
           diagnosis="b2 *|second moment|accumulat|previous|no decay"),
    Mutant("adam_correction_times_t", "writes 1 - b1 * t instead of 1 - b1 ** t in the first correction",
           "m_hat = self.m[i] / (1 - b1 ** self.t)", "m_hat = self.m[i] / (1 - b1 * self.t)",
           diagnosis="power|b1 ** t|correction|exponent|bias correction"),
    Mutant("adam_v_correction_square_rooted", "divides v by sqrt(1 - b2^t), mixing the two forms of the correction",
           "v_hat = self.v[i] / (1 - b2 ** self.t)", "v_hat = self.v[i] / np.sqrt(1 - b2 ** self.t)",
           diagnosis="sqrt(1 - b2|correction|second moment|1 - b2|bias correction"),
    Mutant("adam_step_with_the_raw_gradient", "uses g instead of m_hat in the numerator (RMSprop)",
           "p.data -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)", "p.data -= self.lr * g / (np.sqrt(v_hat) + self.eps)",
           diagnosis="first moment|m_hat|raw gradient|moving average|numerator"),
    Mutant("adam_t_starts_at_one", "starts the step counter at 1, so the first step is corrected as step 2",
           "self.t = 0", "self.t = 1",
           diagnosis="step count|off by one|t = 0|counter|correction"),
    Mutant("sgd_velocity_minus_gradient", "writes v = mu v - g (the other convention) but still subtracts lr v",
           "self.velocities[i] = self.momentum * self.velocities[i] + g", "self.velocities[i] = self.momentum * self.velocities[i] - g",
           diagnosis="negative|minus|velocity|opposite|convention"),
    Mutant("sgd_nesterov_branches_swapped", "puts the Nesterov update in the else branch",
           "update = g + self.momentum * v if self.nesterov else v", "update = v if self.nesterov else g + self.momentum * v",
           diagnosis="nesterov|swapped|branch|plain momentum|look-ahead"),
    Mutant("sgd_decoupled_weight_decay", "shrinks the weights directly (decoupled) instead of adding wd * w to the gradient",
           "g = g + self.weight_decay * p.data\n            if self.momentum == 0:",
           "p.data *= 1.0 - self.lr * self.weight_decay\n            if self.momentum == 0:",
           diagnosis="weight decay|decoupled|velocity|shrink|l2"),
    Mutant("sgd_plain_step_ignores_weight_decay", "uses p.grad in the momentum-free branch, dropping the weight decay term",
           "if self.momentum == 0:\n                update = g", "if self.momentum == 0:\n                update = p.grad",
           diagnosis="weight decay|decay term|l2|without momentum|missing"),
]

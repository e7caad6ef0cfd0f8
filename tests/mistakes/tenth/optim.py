"""Tenth fresh bank for optim, written blind on 2026-12-08 in round nine (second freeze) AFTER round nine (second freeze)'s
diagnosis changes were merged (commit ab255a4); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("optimizer_zero_grad_zeroes_weights", "zero_grad() zeroes the parameters' data instead of their gradients",
           "for p in self.params:\n            p.grad[...] = 0", "for p in self.params:\n            p.data[...] = 0",
           diagnosis="p.data|weights|wrong array|instead of|erase"),
    Mutant("adam_weight_decay_outside_moments", "applies weight decay AdamW-style, outside the moments",
           "                g = g + self.weight_decay * p.data\n            self.m[i] = b1 * self.m[i] + (1 - b1) * g\n",
           "                p.data -= self.lr * self.weight_decay * p.data\n            self.m[i] = b1 * self.m[i] + (1 - b1) * g\n",
           diagnosis="adamw|decoupled|moments|l2|through"),
    Mutant("sgd_lr_inside_velocity", "folds lr into the velocity and multiplies by lr again in the update",
           "self.velocities[i] = self.momentum * self.velocities[i] + g", "self.velocities[i] = self.momentum * self.velocities[i] + self.lr * g",
           diagnosis="lr twice|learning rate|squared|velocity|scaled"),
    Mutant("sgd_first_velocity_without_decay", "starts the velocity from the raw gradient, dropping the weight decay",
           "self.velocities[i] = g.copy()", "self.velocities[i] = p.grad.copy()",
           diagnosis="weight decay|decay|first step|l2|raw gradient"),
    Mutant("sgd_momentum_update_uses_g", "updates with g instead of the velocity when nesterov is off",
           "update = g + self.momentum * v if self.nesterov else v", "update = g + self.momentum * v if self.nesterov else g",
           diagnosis="momentum|velocity|ignored|plain"),
    Mutant("sgd_scales_update_in_place", "scales the update by lr in place, changing the gradient or velocity it aliases",
           "p.data -= self.lr * update", "update *= self.lr\n            p.data -= update",
           diagnosis="in place|velocity|alias|modif|scaled"),
    Mutant("adam_v_aliases_m", "makes v the same list as m",
           "self.v = [np.zeros_like(p.data) for p in self.params]", "self.v = self.m",
           diagnosis="alias|same list|shared|second moment|separate"),
    Mutant("adam_moments_not_stored", "computes the new moments into locals and never stores them",
           "            self.m[i] = b1 * self.m[i] + (1 - b1) * g\n            self.v[i] = b2 * self.v[i] + (1 - b2) * g * g\n            m_hat = self.m[i] / (1 - b1 ** self.t)\n            v_hat = self.v[i] / (1 - b2 ** self.t)\n",
           "            m = b1 * self.m[i] + (1 - b1) * g\n            v = b2 * self.v[i] + (1 - b2) * g * g\n            m_hat = m / (1 - b1 ** self.t)\n            v_hat = v / (1 - b2 ** self.t)\n",
           diagnosis="stored|state|moments|not saved|reset"),
    Mutant("sgd_velocity_not_stored", "updates a local v and never stores it, so every step starts from v = g",
           "                if self.velocities[i] is None:\n                    # A copy: the next backward pass refills p.grad in place, which would also\n                    # overwrite a velocity that shared its memory.\n                    self.velocities[i] = g.copy()\n                else:\n                    self.velocities[i] = self.momentum * self.velocities[i] + g\n                v = self.velocities[i]\n",
           "                v = self.velocities[i]\n                if v is None:\n                    v = g.copy()\n                else:\n                    v = self.momentum * v + g\n",
           diagnosis="stored|state|velocity|not saved|reset"),
]

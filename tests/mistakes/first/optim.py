"""First fresh bank for optim, written before any diagnosis change."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("adam_v_without_square", "accumulates g instead of g * g in v",
           "self.v[i] = b2 * self.v[i] + (1 - b2) * g * g", "self.v[i] = b2 * self.v[i] + (1 - b2) * g",
           diagnosis="square|g * g|g**2"),
    Mutant("adam_without_sqrt", "divides by v_hat instead of its square root",
           "np.sqrt(v_hat) + self.eps", "v_hat + self.eps", diagnosis="sqrt|square root"),
    Mutant("adam_weight_decay_sign", "subtracts the weight decay term in Adam",
           "                g = g + self.weight_decay * p.data\n            self.m[i]",
           "                g = g - self.weight_decay * p.data\n            self.m[i]", diagnosis="sign"),
    Mutant("adam_betas_swapped_in_m", "weights the old m by 1 - b1 and g by b1",
           "self.m[i] = b1 * self.m[i] + (1 - b1) * g", "self.m[i] = (1 - b1) * self.m[i] + b1 * g",
           diagnosis="swapped|beta"),
    Mutant("sgd_first_velocity_scaled", "starts the velocity at momentum * g",
           "self.velocities[i] = g.copy()", "self.velocities[i] = self.momentum * g",
           diagnosis="first step|momentum"),
    Mutant("sgd_nesterov_terms_swapped", "uses v + mu g for Nesterov",
           "update = g + self.momentum * v if self.nesterov else v",
           "update = v + self.momentum * g if self.nesterov else v", diagnosis="nesterov"),
    Mutant("sgd_without_lr", "never multiplies the update by the learning rate",
           "p.data -= self.lr * update", "p.data -= update", diagnosis="lr|learning rate"),
    Mutant("zero_grad_rebinds", "Optimizer.zero_grad replaces p.grad by a new array",
           "p.grad[...] = 0", "p.grad = np.zeros_like(p.grad)", diagnosis="in place"),
    Mutant("adam_v_corrected_with_b1", "corrects v with b1",
           "v_hat = self.v[i] / (1 - b2 ** self.t)", "v_hat = self.v[i] / (1 - b1 ** self.t)",
           diagnosis="b2|beta2|bias correction"),
    Mutant("sgd_weight_decay_in_place", "adds the weight decay into p.grad in place",
           "            if self.weight_decay != 0:\n                g = g + self.weight_decay * p.data\n            if self.momentum",
           "            if self.weight_decay != 0:\n                g += self.weight_decay * p.data\n            if self.momentum",
           diagnosis="in place|grad"),
]

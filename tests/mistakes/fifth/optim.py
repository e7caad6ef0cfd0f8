"""Fifth fresh bank for optim, written blind in round six (see tests/mistakes/README.md)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("sgd_nesterov_without_the_gradient", "steps by momentum * v alone for Nesterov, forgetting the g term",
           "update = g + self.momentum * v if self.nesterov else v",
           "update = self.momentum * v if self.nesterov else v",
           diagnosis="without g|forgets g|forgot g|the g term|gradient term|g + mu|g + momentum"),
    Mutant("sgd_momentum_on_the_gradient", "decays the gradient instead of the velocity: v = v + momentum * g",
           "self.velocities[i] = self.momentum * self.velocities[i] + g",
           "self.velocities[i] = self.velocities[i] + self.momentum * g",
           diagnosis=("momentum times the gradient|multiplies the gradient|instead of the velocity|decay the velocity|"
                      "decays the velocity|never decays")),
    Mutant("sgd_steps_uphill", "adds the update to the weights instead of subtracting it",
           "            p.data -= self.lr * update\n", "            p.data += self.lr * update\n",
           diagnosis="uphill|ascent|adds the update|opposite direction|wrong direction|sign of the update"),
    Mutant("sgd_weight_decay_only_with_momentum", "applies weight decay inside the momentum branch, so plain SGD ignores it",
           "            if self.weight_decay != 0:\n"
           "                # A new array, not `g += ...`: p.grad belongs to the model and must stay dL/dw.\n"
           "                g = g + self.weight_decay * p.data\n"
           "            if self.momentum == 0:\n                update = g\n            else:\n",
           "            if self.momentum == 0:\n                update = g\n            else:\n"
           "                if self.weight_decay != 0:\n                    g = g + self.weight_decay * p.data\n",
           diagnosis=("without momentum|momentum = 0|momentum=0|momentum is 0|momentum of 0|plain sgd|"
                      "ignores weight_decay|ignores the weight decay")),
    Mutant("adam_correction_parentheses", "divides m by (1 - b1) ** t instead of 1 - b1 ** t",
           "m_hat = self.m[i] / (1 - b1 ** self.t)", "m_hat = self.m[i] / (1 - b1) ** self.t",
           diagnosis="parenthes|precedence|(1 - b1) ** t|(1 - beta1)^t|(1 - beta1) ** t|(1 - b1)^t"),
    Mutant("adam_v_from_m_squared", "feeds the second moment with m * m instead of g * g",
           "self.v[i] = b2 * self.v[i] + (1 - b2) * g * g",
           "self.v[i] = b2 * self.v[i] + (1 - b2) * self.m[i] * self.m[i]",
           diagnosis="m squared|square of m|m * m|m ** 2|first moment squared|instead of g * g|instead of g^2"),
    Mutant("adam_betas_unpacked_swapped", "unpacks the betas as b2, b1",
           "        b1, b2 = self.betas\n", "        b2, b1 = self.betas\n",
           diagnosis="swapped|beta1 and beta2|b1 and b2|betas reversed|the betas the other way"),
    Mutant("adam_v_starts_at_ones", "starts the second moment at ones instead of zeros",
           "self.v = [np.zeros_like(p.data) for p in self.params]",
           "self.v = [np.ones_like(p.data) for p in self.params]",
           diagnosis=("np.ones|start at 1|starts at one|initialised to 1|initialized to 1|not zero|start at zero|"
                      "starts at zero|initialised to 0|initialised to zero")),
]

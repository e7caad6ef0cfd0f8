"""Third fresh bank for optim, written blind (see tests/mistakes/measure.py)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("params_kept_as_given", "keeps params as given (a generator is exhausted, has no len)",
           "self.params = list(params)", "self.params = params",
           diagnosis="list|generator|exhausted|len("),
    Mutant("sgd_decay_of_the_gradient", "adds weight_decay * g instead of weight_decay * w in SGD",
           "p.grad belongs to the model and must stay dL/dw.\n                g = g + self.weight_decay * p.data",
           "p.grad belongs to the model and must stay dL/dw.\n                g = g + self.weight_decay * g",
           diagnosis="weight decay|decay"),
    Mutant("nesterov_without_momentum_accepted", "checks momentum < 0 for Nesterov, so momentum 0 passes",
           "if nesterov and momentum <= 0:", "if nesterov and momentum < 0:",
           diagnosis="nesterov|ValueError|raise"),
    Mutant("adam_eps_precedence", "writes lr * m_hat / sqrt(v_hat) + eps (missing parentheses)",
           "p.data -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)",
           "p.data -= self.lr * m_hat / np.sqrt(v_hat) + self.eps",
           diagnosis="parenthes|precedence|added eps|eps added|+ eps"),
    Mutant("adam_m_weighted_by_1_minus_b2", "types (1 - b2) for (1 - b1) in the first moment",
           "self.m[i] = b1 * self.m[i] + (1 - b1) * g", "self.m[i] = b1 * self.m[i] + (1 - b2) * g",
           diagnosis="beta|b1|b2|first moment"),
    Mutant("adam_counts_after_the_step", "increments t after the updates, so the first step divides by 1 - b^0 = 0",
           "        self.t += 1\n        b1, b2 = self.betas\n        for i, p in enumerate(self.params):\n"
           "            g = p.grad\n            if self.weight_decay != 0:\n"
           "                # L2 on the loss, so it goes through the moments (AdamW would subtract lr*wd*w apart).\n"
           "                g = g + self.weight_decay * p.data\n"
           "            self.m[i] = b1 * self.m[i] + (1 - b1) * g\n"
           "            self.v[i] = b2 * self.v[i] + (1 - b2) * g * g\n"
           "            m_hat = self.m[i] / (1 - b1 ** self.t)\n"
           "            v_hat = self.v[i] / (1 - b2 ** self.t)\n"
           "            p.data -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)\n",
           "        b1, b2 = self.betas\n        for i, p in enumerate(self.params):\n"
           "            g = p.grad\n            if self.weight_decay != 0:\n"
           "                # L2 on the loss, so it goes through the moments (AdamW would subtract lr*wd*w apart).\n"
           "                g = g + self.weight_decay * p.data\n"
           "            self.m[i] = b1 * self.m[i] + (1 - b1) * g\n"
           "            self.v[i] = b2 * self.v[i] + (1 - b2) * g * g\n"
           "            m_hat = self.m[i] / (1 - b1 ** self.t)\n"
           "            v_hat = self.v[i] / (1 - b2 ** self.t)\n"
           "            p.data -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)\n"
           "        self.t += 1\n",
           diagnosis="t = 0|division by zero|step count|counter|off-by-one|nan"),
    Mutant("adam_moments_float64", "creates m with np.zeros(shape), float64 for float32 parameters",
           "self.m = [np.zeros_like(p.data) for p in self.params]",
           "self.m = [np.zeros(p.data.shape) for p in self.params]",
           diagnosis="float64|dtype|float32|rounding"),
    Mutant("adam_m_forgets_the_past", "sets m = (1 - b1) g each step (no running average)",
           "self.m[i] = b1 * self.m[i] + (1 - b1) * g", "self.m[i] = (1 - b1) * g",
           diagnosis="running average|previous|accumulat|past"),
    Mutant("zero_grad_multiplies_by_zero", "clears with p.grad *= 0, which keeps NaN and inf",
           "        for p in self.params:\n            p.grad[...] = 0",
           "        for p in self.params:\n            p.grad *= 0",
           diagnosis="nan|inf"),
    Mutant("adam_weight_decay_halved", "uses (wd / 2) w as the decay gradient",
           "# L2 on the loss, so it goes through the moments (AdamW would subtract lr*wd*w apart).\n"
           "                g = g + self.weight_decay * p.data",
           "# L2 on the loss, so it goes through the moments (AdamW would subtract lr*wd*w apart).\n"
           "                g = g + 0.5 * self.weight_decay * p.data",
           diagnosis="1/2|half|factor"),
]

"""Sixth fresh bank for optim, written blind on 2026-12-07 in round seven (see tests/mistakes/README.md)."""

from grader.maintainer.mutation import Mutant

# SGD.__init__'s last line to the first line of SGD.step's loop (for mistakes that span both).
_SGD_INIT_TO_UPDATE = (
    "        self.velocities = [None] * len(self.params)\n"
    "        # </exercise>\n"
    "\n"
    "    def step(self):\n"
    '        """One update of every parameter from its current p.grad (see the class docstring)."""\n'
    "        # <exercise>\n"
    "        for i, p in enumerate(self.params):\n"
)

# SGD.step's loop body from `g = p.grad` to the comment before the update.
_SGD_STEP_BODY = (
    "            g = p.grad\n"
    "            if self.weight_decay != 0:\n"
    "                # A new array, not `g += ...`: p.grad belongs to the model and must stay dL/dw.\n"
    "                g = g + self.weight_decay * p.data\n"
    "            if self.momentum == 0:\n"
    "                update = g\n"
    "            else:\n"
    "                if self.velocities[i] is None:\n"
    "                    # A copy: the next backward pass refills p.grad in place, which would also\n"
    "                    # overwrite a velocity that shared its memory.\n"
    "                    self.velocities[i] = g.copy()\n"
    "                else:\n"
    "                    self.velocities[i] = self.momentum * self.velocities[i] + g\n"
    "                v = self.velocities[i]\n"
    "                update = g + self.momentum * v if self.nesterov else v\n"
    "            # In place (not `p.data = p.data - ...`): everything holding this array (a layer, code\n"
    "            # that kept `w = layer.W.data`, a weight tied between two layers) sees the new values,\n"
    "            # and a float32 parameter stays float32.\n"
)

MUTANTS = [
    Mutant("sgd_momentum_only_with_nesterov", "takes the plain-SGD branch whenever nesterov is False, so plain momentum is never used",
           "            if self.momentum == 0:\n                update = g\n",
           "            if not self.nesterov:\n                update = g\n",
           diagnosis="momentum is ignored|ignores momentum|plain sgd|without momentum|momentum ignored|nesterov=false|no momentum"),
    Mutant("sgd_lr_read_once_at_construction", "copies lr into a private attribute in __init__ and steps with it, so a later change of optimizer.lr has no effect",
           _SGD_INIT_TO_UPDATE + _SGD_STEP_BODY + "            p.data -= self.lr * update\n",
           _SGD_INIT_TO_UPDATE.replace("        self.velocities = [None] * len(self.params)\n",
                                       "        self.velocities = [None] * len(self.params)\n        self._lr = self.lr\n")
           + _SGD_STEP_BODY + "            p.data -= self._lr * update\n",
           diagnosis="schedule|change of lr|lr change|learning rate change|read at every step|at construction|stale|new learning rate"),
    Mutant("sgd_velocities_reset_every_step", "creates the velocity list at the start of every step, so momentum never accumulates",
           _SGD_INIT_TO_UPDATE,
           _SGD_INIT_TO_UPDATE.replace("        for i, p in enumerate(self.params):\n",
                                       "        self.velocities = [None] * len(self.params)\n        for i, p in enumerate(self.params):\n"),
           diagnosis="reset|every step|never accumulat|state is lost|forgets|previous velocity|no memory"),
    Mutant("adam_m_and_v_one_list", "creates m and v as one shared list, so v overwrites m",
           "        self.m = [np.zeros_like(p.data) for p in self.params]\n        self.v = [np.zeros_like(p.data) for p in self.params]\n",
           "        self.m = self.v = [np.zeros_like(p.data) for p in self.params]\n",
           diagnosis="same list|alias|shared|m and v|one list|overwrit"),
    Mutant("adam_counter_stuck_at_one", "sets t = 1 at every step instead of counting, so the bias correction is always that of step 1",
           "        self.t += 1\n", "        self.t = 1\n",
           diagnosis="t = 1|counter|step count|never advances|first step|bias correction|1 - b1^t"),
    Mutant("adam_m_without_weight_decay", "feeds the raw gradient into m, so weight decay reaches only v",
           "self.m[i] = b1 * self.m[i] + (1 - b1) * g", "self.m[i] = b1 * self.m[i] + (1 - b1) * p.grad",
           diagnosis="weight decay|first moment|m ignores|raw gradient|p.grad instead"),
    Mutant("sgd_weight_decay_l1", "adds weight_decay * sign(w) (an L1 term) instead of weight_decay * w",
           "                g = g + self.weight_decay * p.data\n            if self.momentum == 0:",
           "                g = g + self.weight_decay * np.sign(p.data)\n            if self.momentum == 0:",
           diagnosis="l1 penalty|l1 term|sign(|signs of|absolute|weight decay"),
    Mutant("zero_grad_skips_the_last", "zero_grad clears every parameter but the last",
           "        for p in self.params:\n            p.grad[...] = 0\n",
           "        for p in self.params[:-1]:\n            p.grad[...] = 0\n",
           diagnosis="last parameter|every parameter|not zeroed|not cleared|one parameter|off by one"),
    Mutant("adam_beta_one_accepted", "accepts a beta equal to 1 (<= where < belongs), which divides by zero in the bias correction",
           "if not 0.0 <= beta < 1.0:", "if not 0.0 <= beta <= 1.0:",
           diagnosis="beta = 1|beta of 1|beta=1|[0, 1)|accepts|off by one"),
    Mutant("sgd_velocity_precedence", "writes momentum * (v + g): the gradient is scaled by the momentum too",
           "self.velocities[i] = self.momentum * self.velocities[i] + g",
           "self.velocities[i] = self.momentum * (self.velocities[i] + g)",
           diagnosis="precedence|parenthes|momentum times the gradient|mu g|scales the gradient"),
    Mutant("sgd_velocity_without_weight_decay", "accumulates the raw p.grad in the velocity, so weight decay acts on the first step only",
           "                    self.velocities[i] = self.momentum * self.velocities[i] + g\n",
           "                    self.velocities[i] = self.momentum * self.velocities[i] + p.grad\n",
           diagnosis="weight decay|p.grad instead|raw gradient|decay term"),
]

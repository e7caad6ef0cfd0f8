"""Known-wrong variants of solutions/optim.py (spoilers: each quotes a line of the reference).

Not a mutant: starting the velocity at zeros instead of g. With v = mu * v + g and v0 = 0 the first
velocity is g either way, so it is not a mistake.
"""

from grader.core.manifest import SOLUTIONS_DIR
from grader.maintainer.mutation import Mutant

_SOURCE = (SOLUTIONS_DIR / "optim.py").read_text()


def _between(start: str, end: str) -> str:
    """The reference's text from `start` to the end of `end` (one replacement for a multi-line edit)."""
    first = _SOURCE.index(start)
    return _SOURCE[first:_SOURCE.index(end, first) + len(end)]


_SGD_DECAY = ("# A new array, not `g += ...`: p.grad belongs to the model and must stay dL/dw.\n"
              "                g = g + self.weight_decay * p.data")
_SGD_STEP = "p.data -= self.lr * update"

# Weight decay after the momentum needs two edits (remove it from g, add it to the step): one
# replacement of the reference's text between them.
_SGD_BODY = _between(_SGD_DECAY, _SGD_STEP)
_SGD_BODY_DECAY_LATE = _SGD_BODY.replace("g = g + self.weight_decay * p.data", "pass").replace(
    _SGD_STEP, "p.data -= self.lr * (update + self.weight_decay * p.data)")

# The momentum buffer updated after the step: the step uses the previous velocity (zeros at first).
_SGD_VELOCITY = _between("                if self.velocities[i] is None:", _SGD_STEP)
_SGD_VELOCITY_LATE = """                if self.velocities[i] is None:
                    self.velocities[i] = np.zeros_like(g)
                v = self.velocities[i]
                update = g + self.momentum * v if self.nesterov else v
                self.velocities[i] = self.momentum * v + g
            """ + _SGD_STEP

_ADAM_DECAY = ("# L2 on the loss, so it goes through the moments (AdamW would subtract lr*wd*w apart).\n"
               "                g = g + self.weight_decay * p.data")
_ADAM_COUNTER = "self.t += 1\n        b1, b2 = self.betas\n        for i, p in enumerate(self.params):\n"

MUTANTS = [
    Mutant("sgd_weight_decay_sign", "subtracts weight_decay * w from the gradient instead of adding it",
           _SGD_DECAY, _SGD_DECAY.replace("g + self.weight_decay", "g - self.weight_decay"),
           diagnosis="pulls weights towards zero"),
    Mutant("sgd_weight_decay_after_momentum", "adds weight decay to the step after the momentum",
           _SGD_BODY, _SGD_BODY_DECAY_LATE, diagnosis="goes into the velocity"),
    Mutant("sgd_dampened_momentum", "keeps an exponential moving average v = mu v + (1 - mu) g",
           "self.momentum * self.velocities[i] + g", "self.momentum * self.velocities[i] + (1 - self.momentum) * g",
           diagnosis="exponential moving average"),
    Mutant("sgd_nesterov_ignored", "treats nesterov=True like plain momentum",
           "update = g + self.momentum * v if self.nesterov else v", "update = v",
           diagnosis="although nesterov=True"),
    Mutant("sgd_velocity_updated_after_the_step", "steps with the previous velocity, then updates it",
           _SGD_VELOCITY, _SGD_VELOCITY_LATE, diagnosis="momentum buffer updated after the step",
           misdiagnosis="It equals plain momentum"),
    Mutant("sgd_velocity_shares_the_gradient", "stores p.grad itself as the first velocity (no copy)",
           "self.velocities[i] = g.copy()", "self.velocities[i] = g", diagnosis="without .copy()"),
    Mutant("sgd_decay_added_into_the_gradient", "adds weight decay into p.grad in place",
           _SGD_DECAY, _SGD_DECAY.replace("g = g + self.weight_decay", "g += self.weight_decay"),
           diagnosis="p.grad must stay"),
    Mutant("sgd_rebinds_data", "replaces p.data by a new array instead of updating it in place",
           _SGD_STEP, "p.data = p.data - self.lr * update", diagnosis="in place"),
    Mutant("adam_without_bias_correction", "uses m and v without dividing by 1 - beta^t",
           "m_hat = self.m[i] / (1 - b1 ** self.t)\n            v_hat = self.v[i] / (1 - b2 ** self.t)",
           "m_hat = self.m[i]\n            v_hat = self.v[i]", diagnosis="without bias correction"),
    Mutant("adam_eps_inside_sqrt", "adds eps under the square root",
           "(np.sqrt(v_hat) + self.eps)", "np.sqrt(v_hat + self.eps)", diagnosis="eps goes outside"),
    Mutant("adam_decoupled_weight_decay", "applies AdamW's decoupled decay instead of Adam's L2",
           _ADAM_DECAY + "\n",
           _ADAM_DECAY.replace("g = g + self.weight_decay * p.data", "p.data *= 1 - self.lr * self.weight_decay")
           + "\n", diagnosis="AdamW"),
    Mutant("adam_step_counter_per_parameter", "increments the step counter once per parameter",
           _ADAM_COUNTER, "b1, b2 = self.betas\n        for i, p in enumerate(self.params):\n            self.t += 1\n",
           diagnosis="grows once per parameter"),
]

# Issue 19: the learning rate folded into the velocity agrees with PyTorch while lr is constant and
# differs for several steps after a change of lr (test_sgd_with_momentum_follows_a_change_of_lr_like_pytorch).
MUTANTS += [
    Mutant("sgd_lr_folded_into_the_velocity", "keeps v = mu * v + lr * g and steps w -= v",
           _SGD_VELOCITY, """                if self.velocities[i] is None:
                    self.velocities[i] = self.lr * g
                else:
                    self.velocities[i] = self.momentum * self.velocities[i] + self.lr * g
                v = self.velocities[i]
                update = self.lr * g + self.momentum * v if self.nesterov else v
            p.data -= update if self.momentum else self.lr * update""", diagnosis="rate folded into the velocity"),
]

# Round seven: zero_grad must clear NaN and inf too; an empty parameter list must be refused.
MUTANTS += [
    Mutant("zero_grad_multiplies_by_zero", "clears with p.grad *= 0, which keeps NaN and inf",
           "        for p in self.params:\n            p.grad[...] = 0", "        for p in self.params:\n            p.grad *= 0",
           diagnosis="nan * 0 = nan"),
    Mutant("sgd_accepts_no_parameters", "drops the check for an empty parameter list",
           "        if not self.params:\n            raise ValueError(\"optimizer got an empty parameter list\")\n", "",
           diagnosis="empty parameter list"),
]

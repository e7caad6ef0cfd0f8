"""Known-wrong variants of solutions/optim.py (spoilers: each quotes a line of the reference).

Not a mutant: starting the velocity at zeros instead of g. With v = mu * v + g and v0 = 0 the first
velocity is g either way, so it is not a mistake.
"""

from grader.core.manifest import SOLUTIONS_DIR
from grader.maintainer.mutation import Mutant

_SGD_DECAY = ("# A new array, not `g += ...`: p.grad belongs to the model and must stay dL/dw.\n"
              "                g = g + self.weight_decay * p.data")

# Weight decay after the momentum needs two edits (remove it from g, add it to the step): one
# replacement of the reference's text between them.
_SOURCE = (SOLUTIONS_DIR / "optim.py").read_text()
_SGD_SCALE = "np.multiply(update, self.lr, out=self._steps[i])"
_SGD_BODY = _SOURCE[_SOURCE.index(_SGD_DECAY):_SOURCE.index(_SGD_SCALE) + len(_SGD_SCALE)]
_SGD_BODY_DECAY_LATE = _SGD_BODY.replace("g = g + self.weight_decay * p.data", "pass").replace(
    _SGD_SCALE, "np.multiply(update + self.weight_decay * p.data, self.lr, out=self._steps[i])")

_ADAM_DECAY = ("# L2 on the loss, so it goes through the moments (AdamW would subtract lr*wd*w apart).\n"
               "                g = g + self.weight_decay * p.data")

MUTANTS = [
    Mutant("sgd_weight_decay_sign", "subtracts weight_decay * w from the gradient instead of adding it",
           _SGD_DECAY, _SGD_DECAY.replace("g + self.weight_decay", "g - self.weight_decay"),
           diagnosis="pulls weights towards zero"),
    Mutant("sgd_weight_decay_after_momentum", "adds weight decay to the step after the momentum",
           _SGD_BODY, _SGD_BODY_DECAY_LATE, diagnosis="goes into the velocity"),
    Mutant("sgd_dampened_momentum", "keeps an exponential moving average v = mu v + (1 - mu) g",
           "v += g", "v += (1 - self.momentum) * g", diagnosis="exponential moving average"),
    Mutant("sgd_nesterov_ignored", "treats nesterov=True like plain momentum",
           "update = g + self.momentum * v", "update = v", diagnosis="although nesterov=True"),
    Mutant("sgd_velocity_shares_the_gradient", "stores p.grad itself as the first velocity (no copy)",
           "v = self.velocities[i] = g.copy()", "v = self.velocities[i] = g", diagnosis="p.grad must stay"),
    Mutant("sgd_decay_added_into_the_gradient", "adds weight decay into p.grad in place",
           _SGD_DECAY, _SGD_DECAY.replace("g = g + self.weight_decay", "g += self.weight_decay"),
           diagnosis="p.grad must stay"),
    Mutant("sgd_rebinds_data", "replaces p.data by a new array instead of updating it in place",
           "p.data -= self._steps[i]", "p.data = p.data - self._steps[i]", diagnosis="in place"),
    Mutant("adam_without_bias_correction", "uses m and v without dividing by 1 - beta^t",
           "m_hat = m / correction1\n            v_hat = v / correction2",
           "m_hat = m\n            v_hat = v", diagnosis="without bias correction"),
    Mutant("adam_eps_inside_sqrt", "adds eps under the square root",
           "(np.sqrt(v_hat) + self.eps)", "np.sqrt(v_hat + self.eps)", diagnosis="eps goes outside"),
    Mutant("adam_decoupled_weight_decay", "applies AdamW's decoupled decay instead of Adam's L2",
           _ADAM_DECAY + "\n",
           _ADAM_DECAY.replace("g = g + self.weight_decay * p.data", "p.data *= 1 - self.lr * self.weight_decay")
           + "\n", diagnosis="AdamW"),
]

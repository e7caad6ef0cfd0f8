"""Exercise 7 (optim): gradient descent with momentum and Nesterov's look-ahead, and Adam.

An optimiser holds a list of Parameters (p.data, p.grad) and, per parameter, whatever state its rule
needs. `step()` reads p.grad (filled by a backward pass) and moves p.data; `zero_grad()` clears the
gradients before the next backward pass. Both rules below match torch.optim.SGD and torch.optim.Adam
step for step.

SGD with momentum ("heavy ball"). With g = dL/dw + wd * w (the gradient of L + (wd/2) ||w||^2):

    v <- mu * v + g          (v = g on the first step)
    w <- w - lr * v                          plain momentum
    w <- w - lr * (g + mu * v)               Nesterov: the gradient step taken from the look-ahead point

v is a running sum of past gradients, each weighted by mu^age: along a direction where gradients
agree it grows to g / (1 - mu) (10 times the step for mu = 0.9); where they alternate it cancels.

Adam keeps exponential moving averages of the gradient and of its square, element by element:

    m <- b1 m + (1 - b1) g          v <- b2 v + (1 - b2) g^2
    m_hat = m / (1 - b1^t)          v_hat = v / (1 - b2^t)         (t = 1, 2, ... counts steps)
    w <- w - lr * m_hat / (sqrt(v_hat) + eps)

m and v start at zero, so early averages are too small by the factor (1 - b^t), the total weight given
so far to real gradients; dividing by it ("bias correction") removes that bias. The step m_hat /
sqrt(v_hat) is about +-1 per weight whatever the gradient's scale, so lr is roughly the step size.
Weight decay here is an L2 term added to the gradient (torch.optim.Adam), not AdamW's decoupled decay.
"""

import numpy as np


class Optimizer:
    """Base class: the parameter list, the learning rate, and zero_grad().

    params: an iterable of Parameter (e.g. model.parameters()); keep it as a list in self.params,
    because a generator would be exhausted after the first step.
    lr: the learning rate, kept in self.lr and read at every step (a schedule may change it between
    steps, e.g. optimizer.lr *= 0.1). Raises ValueError for an empty list or lr < 0.
    """

    def __init__(self, params, lr):
        # <exercise>
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        if lr < 0:
            raise ValueError(f"Invalid learning rate: {lr} (must be >= 0)")
        self.lr = lr
        # </exercise>

    def zero_grad(self):
        """Set every parameter's gradient to zero, in place (so every reference to p.grad sees zeros)."""
        # <exercise>
        for p in self.params:
            p.grad[...] = 0
        # </exercise>

    def step(self):
        raise NotImplementedError(f"{type(self).__name__} must implement step()")


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay.

    Per parameter w with gradient dL/dw, like torch.optim.SGD (without dampening):
        g = dL/dw + weight_decay * w
        v = momentum * v + g            (v = g on the first step; no v at all when momentum == 0)
        w -= lr * v                     or, with nesterov=True,   w -= lr * (g + momentum * v)

    Raises ValueError for lr < 0, momentum < 0, weight_decay < 0, and nesterov without momentum.
    step() changes p.data in place and never changes p.grad.
    """

    def __init__(self, params, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, lr)
        # <exercise>
        if momentum < 0:
            raise ValueError(f"Invalid momentum value: {momentum} (must be >= 0)")
        if weight_decay < 0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay} (must be >= 0)")
        if nesterov and momentum <= 0:
            raise ValueError("Nesterov momentum requires a momentum > 0")
        self.momentum = momentum
        self.nesterov = nesterov
        self.weight_decay = weight_decay
        # One velocity per parameter, created on the first step (v = g there, as in PyTorch).
        self.velocities = [None] * len(self.params)
        # </exercise>

    def step(self):
        """One update of every parameter from its current p.grad (see the class docstring)."""
        # <exercise>
        for i, p in enumerate(self.params):
            g = p.grad
            if self.weight_decay != 0:
                # A new array, not `g += ...`: p.grad belongs to the model and must stay dL/dw.
                g = g + self.weight_decay * p.data
            if self.momentum == 0:
                update = g
            else:
                if self.velocities[i] is None:
                    # A copy: the next backward pass refills p.grad in place, which would also
                    # overwrite a velocity that shared its memory.
                    self.velocities[i] = g.copy()
                else:
                    self.velocities[i] = self.momentum * self.velocities[i] + g
                v = self.velocities[i]
                update = g + self.momentum * v if self.nesterov else v
            # In place (not `p.data = p.data - ...`): everything holding this array (a layer, code
            # that kept `w = layer.W.data`, a weight tied between two layers) sees the new values,
            # and a float32 parameter stays float32.
            p.data -= self.lr * update
        # </exercise>


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with bias correction, like torch.optim.Adam (amsgrad=False).

    Per parameter w, at step t = 1, 2, ...:
        g = dL/dw + weight_decay * w
        m = b1 * m + (1 - b1) * g                m_hat = m / (1 - b1^t)
        v = b2 * v + (1 - b2) * g^2              v_hat = v / (1 - b2^t)
        w -= lr * m_hat / (sqrt(v_hat) + eps)
    m and v start at zeros of p's shape and dtype. betas = (b1, b2), each in [0, 1).

    Raises ValueError for lr < 0, eps < 0, a beta outside [0, 1), weight_decay < 0.
    step() changes p.data in place and never changes p.grad.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        # <exercise>
        if eps < 0:
            raise ValueError(f"Invalid epsilon value: {eps} (must be >= 0)")
        for index, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {index}: {beta} (must be in [0, 1))")
        if weight_decay < 0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay} (must be >= 0)")
        self.betas = tuple(betas)
        self.eps = eps
        self.weight_decay = weight_decay
        self.t = 0
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]
        # </exercise>

    def step(self):
        """One Adam update of every parameter from its current p.grad (see the class docstring)."""
        # <exercise>
        self.t += 1
        b1, b2 = self.betas
        for i, p in enumerate(self.params):
            g = p.grad
            if self.weight_decay != 0:
                # L2 on the loss, so it goes through the moments (AdamW would subtract lr*wd*w apart).
                g = g + self.weight_decay * p.data
            self.m[i] = b1 * self.m[i] + (1 - b1) * g
            self.v[i] = b2 * self.v[i] + (1 - b2) * g * g
            m_hat = self.m[i] / (1 - b1 ** self.t)
            v_hat = self.v[i] / (1 - b2 ** self.t)
            p.data -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        # </exercise>

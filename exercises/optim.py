# Your exercise file: replace each `raise NotImplementedError(...)` with your code.
# `make check EX=optim` runs its tests; `make reset EX=optim` puts this original stub back.
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
        raise NotImplementedError('optim: Optimizer.__init__ is not implemented yet. Run `make check EX=optim`.')

    def zero_grad(self):
        """Set every parameter's gradient to zero, in place (so every reference to p.grad sees zeros)."""
        raise NotImplementedError('optim: Optimizer.zero_grad is not implemented yet. Run `make check EX=optim`.')

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
        raise NotImplementedError('optim: SGD.__init__ is not implemented yet. Run `make check EX=optim`.')

    def step(self):
        """One update of every parameter from its current p.grad (see the class docstring)."""
        raise NotImplementedError('optim: SGD.step is not implemented yet. Run `make check EX=optim`.')


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
        raise NotImplementedError('optim: Adam.__init__ is not implemented yet. Run `make check EX=optim`.')

    def step(self):
        """One Adam update of every parameter from its current p.grad (see the class docstring)."""
        raise NotImplementedError('optim: Adam.step is not implemented yet. Run `make check EX=optim`.')

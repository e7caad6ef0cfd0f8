"""Exercise 7, written independently: the state lives in dicts keyed by the parameter's position."""

import numpy as np


class Optimizer:
    def __init__(self, params, lr):
        self.params = [p for p in params]
        if len(self.params) == 0:
            raise ValueError("no parameters to optimise")
        if lr < 0:
            raise ValueError(f"learning rate must be >= 0, got {lr}")
        self.lr = lr

    def zero_grad(self):
        for p in self.params:
            p.grad.fill(0)

    def step(self):
        raise NotImplementedError(f"{type(self).__name__} must implement step()")


class SGD(Optimizer):
    def __init__(self, params, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, lr)
        if momentum < 0 or weight_decay < 0:
            raise ValueError(f"momentum and weight_decay must be >= 0, got {momentum} and {weight_decay}")
        if nesterov and not momentum > 0:
            raise ValueError("nesterov needs a positive momentum")
        self.momentum, self.nesterov, self.weight_decay = momentum, nesterov, weight_decay
        self.buffers = {}

    def step(self):
        for index, p in enumerate(self.params):
            g = p.grad + self.weight_decay * p.data if self.weight_decay else p.grad.copy()
            if self.momentum:
                if index in self.buffers:
                    self.buffers[index] = self.buffers[index] * self.momentum + g
                else:
                    self.buffers[index] = g.copy()
                v = self.buffers[index]
                g = g + self.momentum * v if self.nesterov else v
            np.subtract(p.data, self.lr * g, out=p.data, casting="unsafe")


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        if eps < 0 or weight_decay < 0 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"invalid Adam settings: betas={betas}, eps={eps}, weight_decay={weight_decay}")
        self.b1, self.b2 = betas
        self.eps, self.weight_decay = eps, weight_decay
        self.first = [np.zeros_like(p.data) for p in self.params]
        self.second = [np.zeros_like(p.data) for p in self.params]
        self.count = 0

    def step(self):
        self.count += 1
        for p, m, v in zip(self.params, self.first, self.second):
            g = p.grad + self.weight_decay * p.data
            m *= self.b1
            m += (1 - self.b1) * g
            v *= self.b2
            v += (1 - self.b2) * g * g
            corrected_m = m / (1 - self.b1 ** self.count)
            corrected_v = v / (1 - self.b2 ** self.count)
            np.subtract(p.data, self.lr * corrected_m / (np.sqrt(corrected_v) + self.eps), out=p.data,
                        casting="unsafe")

import numpy as np


class Optimizer:
    def __init__(self, params, lr):
        self.params = list(params)
        if not self.params:
            raise ValueError("the optimizer got an empty parameter list")
        if lr < 0:
            raise ValueError(f"invalid learning rate {lr}: it must be >= 0")
        self.lr = lr

    def zero_grad(self):
        for p in self.params:
            p.grad.fill(0)


class SGD:
    def __init__(self, params, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
        if momentum < 0:
            raise ValueError(f"invalid momentum {momentum}")
        if weight_decay < 0:
            raise ValueError(f"invalid weight_decay {weight_decay}")
        if nesterov and momentum == 0:
            raise ValueError("nesterov momentum needs momentum > 0")
        self.momentum, self.nesterov, self.weight_decay = momentum, nesterov, weight_decay
        self.velocity = {}

    def step(self):
        for p in self.params:
            g = p.grad + self.weight_decay * p.data if self.weight_decay else p.grad
            if self.momentum:
                key = id(p)
                if key in self.velocity:
                    self.velocity[key] = self.momentum * self.velocity[key] + g
                else:
                    self.velocity[key] = np.array(g, copy=True)
                v = self.velocity[key]
                g = g + self.momentum * v if self.nesterov else v
            p.data -= self.lr * g


class Adam:
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        b1, b2 = betas
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise ValueError(f"invalid betas {betas}: each must be in [0, 1)")
        if eps < 0 or weight_decay < 0:
            raise ValueError(f"eps ({eps}) and weight_decay ({weight_decay}) must be >= 0")
        self.b1, self.b2, self.eps, self.weight_decay = b1, b2, eps, weight_decay
        self.t = 0
        self.moments = {id(p): (np.zeros_like(p.data), np.zeros_like(p.data)) for p in self.params}

    def step(self):
        self.t += 1
        for p in self.params:
            g = p.grad + self.weight_decay * p.data
            m, v = self.moments[id(p)]
            m *= self.b1
            m += (1 - self.b1) * g
            v *= self.b2
            v += (1 - self.b2) * g * g
            m_hat = m / (1 - self.b1 ** self.t)
            v_hat = v / (1 - self.b2 ** self.t)
            p.data -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

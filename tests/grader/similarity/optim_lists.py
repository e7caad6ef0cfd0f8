import numpy as np


class Optimizer:
    def __init__(self, params, lr):
        params = [p for p in params]
        if len(params) == 0:
            raise ValueError("no parameters to optimise")
        if not lr >= 0:
            raise ValueError("lr must be non-negative, got %r" % (lr,))
        self.params, self.lr = params, lr

    def zero_grad(self):
        for param in self.params:
            param.grad[...] = 0


class SGD:
    def __init__(self, params, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
        for name, value in (("lr", lr), ("momentum", momentum), ("weight_decay", weight_decay)):
            if value < 0:
                raise ValueError("%s must be non-negative, got %r" % (name, value))
        if nesterov and not momentum > 0:
            raise ValueError("Nesterov momentum requires a positive momentum")
        self.momentum = momentum
        self.nesterov = nesterov
        self.weight_decay = weight_decay
        self.buffers = [None] * len(self.params)

    def step(self):
        for i, param in enumerate(self.params):
            grad = param.grad
            if self.weight_decay != 0:
                grad = grad + self.weight_decay * param.data
            if self.momentum != 0:
                buf = self.buffers[i]
                buf = grad.copy() if buf is None else self.momentum * buf + grad
                self.buffers[i] = buf
                update = grad + self.momentum * buf if self.nesterov else buf
            else:
                update = grad
            param.data -= self.lr * update


class Adam:
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        if lr < 0:
            raise ValueError("lr must be non-negative, got %r" % (lr,))
        if eps < 0:
            raise ValueError("eps must be non-negative, got %r" % (eps,))
        if weight_decay < 0:
            raise ValueError("weight_decay must be non-negative, got %r" % (weight_decay,))
        for beta in betas:
            if beta < 0 or beta >= 1:
                raise ValueError("each beta must lie in [0, 1), got %r" % (beta,))
        self.betas, self.eps, self.weight_decay = tuple(betas), eps, weight_decay
        self.first = [np.zeros_like(param.data) for param in self.params]
        self.second = [np.zeros_like(param.data) for param in self.params]
        self.steps = 0

    def step(self):
        beta1, beta2 = self.betas
        self.steps += 1
        correction1 = 1 - beta1 ** self.steps
        correction2 = 1 - beta2 ** self.steps
        for param, m, v in zip(self.params, self.first, self.second):
            grad = param.grad if self.weight_decay == 0 else param.grad + self.weight_decay * param.data
            m[...] = beta1 * m + (1 - beta1) * grad
            v[...] = beta2 * v + (1 - beta2) * np.square(grad)
            param.data -= self.lr * (m / correction1) / (np.sqrt(v / correction2) + self.eps)

"""Exercise 2, written independently."""

import numpy as np

from .layers import Layer


class ReLU(Layer):
    def __init__(self):
        super().__init__()
        self.positive = None

    def forward(self, x):
        self.positive = x > 0
        return np.where(self.positive, x, np.zeros_like(x))

    def backward(self, grad_out):
        return np.where(self.positive, grad_out, np.zeros_like(grad_out))


class Sigmoid(Layer):
    def __init__(self):
        super().__init__()
        self.out = None

    def forward(self, x):
        small = np.exp(-np.abs(x))
        one = np.ones_like(small)
        self.out = np.where(x >= 0, one, small) / (one + small)
        return self.out

    def backward(self, grad_out):
        return grad_out * (self.out - self.out * self.out)


class Tanh(Layer):
    def __init__(self):
        super().__init__()
        self.out = None

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, grad_out):
        return grad_out - grad_out * self.out * self.out

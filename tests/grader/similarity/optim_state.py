import numpy as np


def _require(condition, message):
    if not condition:
        raise ValueError(message)


class Optimizer:
    def __init__(self, params, lr):
        self.params = list(params)
        _require(len(self.params) > 0, "optimizer got an empty parameter list")
        _require(lr >= 0, f"lr={lr} is negative")
        self.lr = lr

    def zero_grad(self):
        for p in self.params:
            np.copyto(p.grad, 0)


class SGD:
    def __init__(self, params, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
        _require(momentum >= 0, f"momentum={momentum} is negative")
        _require(weight_decay >= 0, f"weight_decay={weight_decay} is negative")
        _require(not nesterov or momentum > 0, "nesterov=True needs momentum > 0")
        self.momentum = momentum
        self.nesterov = nesterov
        self.weight_decay = weight_decay
        self.state = [{} for _ in self.params]

    def step(self):
        for p, state in zip(self.params, self.state):
            d_p = p.grad + p.data * self.weight_decay
            if self.momentum > 0:
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = d_p.copy()
                else:
                    state["momentum_buffer"] = state["momentum_buffer"] * self.momentum + d_p
                buf = state["momentum_buffer"]
                if self.nesterov:
                    d_p = d_p + buf * self.momentum
                else:
                    d_p = buf
            np.subtract(p.data, self.lr * d_p, out=p.data)


class Adam:
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        _require(eps >= 0, f"eps={eps} is negative")
        _require(all(0 <= b < 1 for b in betas), f"betas={betas} must each be in [0, 1)")
        _require(weight_decay >= 0, f"weight_decay={weight_decay} is negative")
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.state = [{"step": 0, "exp_avg": np.zeros_like(p.data), "exp_avg_sq": np.zeros_like(p.data)}
                      for p in self.params]

    def step(self):
        for p, state in zip(self.params, self.state):
            state["step"] += 1
            t = state["step"]
            grad = p.grad + p.data * self.weight_decay
            state["exp_avg"] = self.beta1 * state["exp_avg"] + (1 - self.beta1) * grad
            state["exp_avg_sq"] = self.beta2 * state["exp_avg_sq"] + (1 - self.beta2) * grad ** 2
            denom = np.sqrt(state["exp_avg_sq"] / (1 - self.beta2 ** t)) + self.eps
            np.subtract(p.data, self.lr * (state["exp_avg"] / (1 - self.beta1 ** t)) / denom, out=p.data)

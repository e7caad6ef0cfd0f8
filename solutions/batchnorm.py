"""Stretch exercise: batch normalisation for fully connected (N, C) and convolutional (N, C, H, W) inputs.

For each channel c, over the m values it has in the batch (m = N for (N, C); m = N H W for (N, C, H, W)):

    mu = (1/m) sum x            var = (1/m) sum (x - mu)^2          (biased: divide by m)
    x_hat = (x - mu) / sqrt(var + eps)
    y = gamma * x_hat + beta                                         gamma, beta: Parameters of shape (C,)

Training mode normalises with the batch's own mu and var and updates running averages, like PyTorch:

    running_mean <- (1 - momentum) running_mean + momentum mu
    running_var  <- (1 - momentum) running_var  + momentum var * m / (m - 1)   (unbiased estimate)

Eval mode normalises with running_mean and running_var instead, so a sample's output no longer depends
on the rest of its batch.

Backward in training mode. Write g = dL/dy, g_hat = dL/dx_hat = g * gamma, s = 1 / sqrt(var + eps),
and sums over the m values of a channel. x enters x_hat directly, through mu and through var, so

    dL/dx = s g_hat + (dL/dmu) (1/m) + (dL/dvar) (2/m)(x - mu)
    dL/dvar = -(1/2) s^3 sum g_hat (x - mu),    dL/dmu = -s sum g_hat   (the (x - mu) term sums to 0)

and substituting (x - mu) s = x_hat gives the compact form

    dL/dx = (s / m) (m g_hat - sum g_hat - x_hat sum(g_hat x_hat)),
    dL/dgamma = sum g x_hat,    dL/dbeta = sum g.

The second term removes the gradient's mean (the mean of x does not affect x_hat), the third its
component along x_hat (neither does the scale of x); so the x-gradient of each channel sums to zero.
In eval mode mu and var are constants and dL/dx = s g_hat.
"""

import numpy as np

from .layers import Layer, Parameter


class BatchNorm1d(Layer):
    """Batch normalisation of (N, C) inputs: statistics per feature c over the batch axis 0.

    num_features: C.  eps: added to the variance before the square root.
    momentum: the weight of the new batch in the running averages (PyTorch's convention, 0.1).
    self.gamma: Parameter (C,), ones.     self.beta: Parameter (C,), zeros.
    self.running_mean: array (C,), zeros.  self.running_var: array (C,), ones (plain arrays, not
    Parameters: they are estimated, never trained).
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, *, dtype=np.float64):
        # <exercise>
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.gamma = Parameter(np.ones(num_features, dtype=dtype))
        self.beta = Parameter(np.zeros(num_features, dtype=dtype))
        self.running_mean = np.zeros(num_features, dtype=dtype)
        self.running_var = np.ones(num_features, dtype=dtype)
        self._cache = None
        # </exercise>

    def _axes(self, x):
        """The axes a channel's statistics are taken over: (0,) for (N, C)."""
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm1d({self.num_features}) expects input of shape (N, "
                             f"{self.num_features}), got {x.shape}")
        return (0,)

    def forward(self, x):
        """y = gamma x_hat + beta, with x_hat normalised per channel; y has x's shape.

        axes = self._axes(x) are the axes a channel's m values lie along; reduce over them with
        keepdims=True so that the per-channel statistics broadcast against x, and reshape gamma and beta
        (and, in eval mode, the running averages) to the same (1, C, ...) shape.
        Training mode: mu and the biased var of the batch; update the running averages (unbiased var,
        m / (m - 1)); keep what backward needs. Eval mode: mu = running_mean, var = running_var.
        """
        # <exercise>
        axes = self._axes(x)
        shape = [1] * x.ndim
        shape[1] = self.num_features
        if self.training:
            m = x.size // self.num_features
            if m < 2:
                raise ValueError("BatchNorm needs more than one value per channel in training mode")
            mean = x.mean(axis=axes, keepdims=True)
            # The biased variance normalises this batch; the unbiased one estimates the population's.
            var = x.var(axis=axes, keepdims=True)
            self.running_mean = (1.0 - self.momentum) * self.running_mean + self.momentum * mean.reshape(-1)
            self.running_var = (1.0 - self.momentum) * self.running_var + self.momentum * var.reshape(-1) * m / (m - 1)
        else:
            mean = self.running_mean.reshape(shape)
            var = self.running_var.reshape(shape)
        inv_std = 1.0 / np.sqrt(var + self.eps)
        x_hat = (x - mean) * inv_std
        self._cache = (x_hat, inv_std, axes, self.training)
        return self.gamma.data.reshape(shape) * x_hat + self.beta.data.reshape(shape)
        # </exercise>

    def backward(self, grad_out):
        """Gradients of y = gamma x_hat + beta; grad_out = dL/dy has x's shape, returns dL/dx.

        With g_hat = grad_out * gamma, s = 1 / sqrt(var + eps), sums over a channel's m values (the
        axes of forward, keepdims=True for the dL/dx formula):
            dL/dgamma = sum(grad_out * x_hat)   (C,)      dL/dbeta = sum(grad_out)   (C,)
            training: dL/dx = (s / m) (m g_hat - sum(g_hat) - x_hat sum(g_hat x_hat))
            eval:     dL/dx = s g_hat          (the running statistics do not depend on x)
        Add into gamma.grad and beta.grad; see the module docstring for the derivation.
        """
        # <exercise>
        x_hat, inv_std, axes, used_batch_statistics = self._cache
        shape = inv_std.shape
        self.gamma.grad += (grad_out * x_hat).sum(axis=axes).reshape(-1)
        self.beta.grad += grad_out.sum(axis=axes).reshape(-1)
        g_hat = grad_out * self.gamma.data.reshape(shape)
        if not used_batch_statistics:
            return g_hat * inv_std
        m = grad_out.size // self.num_features
        sum_g = g_hat.sum(axis=axes, keepdims=True)
        sum_gx = (g_hat * x_hat).sum(axis=axes, keepdims=True)
        return inv_std / m * (m * g_hat - sum_g - x_hat * sum_gx)
        # </exercise>


class BatchNorm2d(BatchNorm1d):
    """Batch normalisation of (N, C, H, W) inputs: one mean and variance per channel c, taken over the
    N H W values of that channel (every image of the batch, every position). Same parameters, running
    averages, forward and backward as BatchNorm1d: only the axes differ.
    """

    def _axes(self, x):
        """The axes a channel's statistics are taken over: (0, 2, 3) for (N, C, H, W)."""
        if x.ndim != 4 or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm2d({self.num_features}) expects input of shape (N, "
                             f"{self.num_features}, H, W), got {x.shape}")
        return (0, 2, 3)

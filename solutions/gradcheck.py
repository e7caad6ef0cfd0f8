"""Exercise 4: numerical gradient checking, the test every backward pass must pass.

The central difference
    df/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)
has error O(eps^2) (the eps^2 f''' / 6 term of the Taylor series), while the forward difference
(f(x + eps e_i) - f(x)) / eps has error O(eps) (eps f'' / 2). With eps = 1e-6 in float64 the central
difference agrees with a correct analytic gradient to about 1e-8 relative error, so anything above
1e-5 is a bug. In float32 (about 7 significant digits) eps = 1e-6 is lost in rounding: always check
in float64.
"""

import numpy as np


def numerical_gradient(f, x, eps=1e-6):
    """Central-difference gradient of a scalar function with respect to an array.

    f: a function of no arguments returning a float; it reads x, which is perturbed *in place*.
    x: float array of any shape. Every entry is restored exactly before returning.
    Returns an array of x's shape: grad[i] = (f() at x_i + eps - f() at x_i - eps) / (2 eps).
    """
    # <exercise>
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        f_plus = f()
        x[index] = original - eps
        f_minus = f()
        # Restore the saved value rather than adding eps back: (v - eps) + eps != v in floating point.
        x[index] = original
        grad[index] = (f_plus - f_minus) / (2.0 * eps)
    return grad
    # </exercise>


def relative_error(a, b):
    """||a - b|| / max(||a||, ||b||) with Euclidean norms over all entries; 0.0 when both are zero.

    Scale-free (1e-8 means eight matching digits whatever the size of the gradient) and at most 2.
    """
    # <exercise>
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    scale = max(np.linalg.norm(a), np.linalg.norm(b))
    if scale == 0.0:
        return 0.0
    return float(np.linalg.norm(a - b) / scale)
    # </exercise>


def check_layer_gradients(layer, x, *, seed=0):
    """Compare a layer's backward with central differences; returns {name: relative error}.

    x: float64 input of the layer. The scalar checked is L = sum(layer.forward(x) * G) with G a random
    upstream gradient drawn from numpy.random.default_rng(seed): dL/dy = G, so backward(G) must return
    dL/dx. Keys: "x" for the input, then each name of layer.named_parameters() (parameter gradients
    are read from p.grad after zero_grad, forward, backward).
    Raises ValueError unless x is float64: in float32 a step of 1e-6 is lost in rounding.
    """
    # <exercise>
    if np.asarray(x).dtype != np.float64:
        raise ValueError("check gradients in float64: in float32 a step of 1e-6 is lost in rounding")
    rng = np.random.default_rng(seed)
    # A random upstream gradient, not ones: ones would hide a wrong sum axis or a missing term.
    upstream = rng.standard_normal(layer.forward(x).shape)

    def loss():
        return float(np.sum(layer.forward(x) * upstream))

    layer.zero_grad()
    layer.forward(x)
    grad_x = layer.backward(upstream)
    errors = {"x": relative_error(grad_x, numerical_gradient(loss, x))}
    for name, p in layer.named_parameters():
        analytic = p.grad.copy()
        errors[name] = relative_error(analytic, numerical_gradient(loss, p.data))
    return errors
    # </exercise>

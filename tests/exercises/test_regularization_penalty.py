"""Stretch exercise (regularization), the L2 weight penalty: its value against PyTorch's, its gradient against
finite differences, added into p.grad (dropout and how these tests are judged: test_regularization.py).
"""

import numpy as np

from grader.feedback import oracle
from grader.feedback.checks import check_close, check_that, check_unchanged
from grader.feedback.oracle import check_close_ref
from helpers import numerical_gradient, random_upstream


def pytorch_l2(arrays, lam):
    """PyTorch's (lam / 2) sum ||W||^2 and its gradient with respect to each array (judge only)."""
    tensors = [oracle.torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    penalty = 0.5 * lam * sum(oracle.torch.sum(t ** 2) for t in tensors)
    return penalty.item(), [g.numpy() for g in oracle.torch.autograd.grad(penalty, tensors)]


def make_params(pkg, rng):
    """Two Parameters of different shapes, so a penalty that forgets one of them shows."""
    return [pkg.layers.Parameter(rng.standard_normal((4, 3))), pkg.layers.Parameter(rng.standard_normal(5))]


def penalty(params, lam):
    """(lam / 2) * sum of the squared entries of every parameter: the docstring's R, the function whose
    finite differences the gradient must match (the learner's own l2_penalty is not the judge's oracle)."""
    return lam / 2 * sum(float(np.vdot(p.data, p.data)) for p in params)


def test_l2_penalty_is_half_lambda_times_the_sum_of_squared_weights(ex, pkg, rng):
    params = make_params(pkg, rng)
    lam = 0.37
    squares = [float(np.sum(p.data ** 2)) for p in params]
    value = ex.l2_penalty(params, lam)

    def is_one_float(v):
        return isinstance(v, float) or (isinstance(v, np.ndarray) and v.shape == () and v.dtype.kind == "f")

    def kind(v):
        return f"an array of shape {v.shape}" if isinstance(v, np.ndarray) else type(v).__name__

    check_that("the type of l2_penalty's result", value, is_one_float,
               lambda v: f"l2_penalty returned {kind(v)}; return one number (a float) to add to the loss.")
    data = [p.data.copy() for p in params]
    check_close_ref("l2_penalty", value, lambda: pytorch_l2(data, lam)[0], factors={"lam": lam}, alternatives=lambda: [
        (lam * sum(squares), "lam * sum ||W||^2 without the 1/2: the penalty is (lam / 2) ||W||^2, so that "
                             "its gradient is lam * W."),
        (0.5 * lam * sum(float(np.sum(w.T @ w)) for w in data), "(lam / 2) times the sum of every entry of W^T W, "
         "a matrix product (cross terms included): square W's entries element-wise, np.sum(W ** 2)."),
        (0.5 * lam * sum(float(np.sum(w)) ** 2 for w in data), "(lam / 2) (sum W)^2, the square of the sum: sum "
                                                                "the squares, np.sum(W ** 2)."),
        (0.5 * lam * sum(s / w.size for s, w in zip(squares, data)), "(lam / 2) times the MEAN of the squares: "
                                                                     "the penalty sums them, np.sum(W ** 2)."),
        (0.5 * lam * sum(np.sqrt(squares)), "(lam / 2) * sum ||W||: the norms must be squared."),
        (0.5 * lam * sum(float(np.sum(np.abs(w))) for w in data), "(lam / 2) times the sum of |W|, the L1 penalty: "
                                                                   "L2 sums the squares, np.sum(W ** 2)."),
        (lam * sum(float(np.sum(np.abs(w))) for w in data), "lam times the sum of |W|, the L1 penalty: L2 is "
                                                             "(lam / 2) times the sum of the squares."),
        (0.5 * lam * squares[0], "the penalty of the first parameter only: sum over every parameter."),
        (0.5 * lam * squares[-1], "the penalty of the last parameter only (each one overwrote the one before): "
                                  "add every parameter's penalty up (+=)."),
    ])
    check_close("l2_penalty with lam = 0", ex.l2_penalty(params, 0.0), 0.0)


def not_added(w):
    """The explanation of a p.grad the penalty never reached."""
    return ("p.grad unchanged: the penalty's gradient never reached it. Add lam * W into every parameter's p.grad in "
            "place, with += on the parameter's own grad array (a local g = g + ... only rebinds a name)"
            + (", the 1-D ones (biases) too." if np.ndim(w) == 1 else "."))


def test_l2_penalty_backward_matches_finite_differences(ex, pkg, ref, rng):
    params = make_params(pkg, rng)
    lam = 0.37
    for p in params:
        p.grad[...] = 0.0
    ex.l2_penalty_backward(params, lam)
    for index, p in enumerate(params):
        check_close(f"l2_penalty_backward: gradient of parameter {index} (in p.grad)", p.grad,
                    lambda p=p: numerical_gradient(ref, lambda: penalty(params, lam), p.data), factors={"lam": lam},
                    alternatives=lambda p=p: [(lam * np.sign(p.data),
                                               "lam * sign(W): that is the L1 penalty's gradient."),
                                              (lam * p.data / p.data.size, f"lam * W divided by the number of "
                                               f"entries ({p.data.size}, p.size): the penalty sums the squares, so "
                                               "its gradient is lam * W, per entry."),
                                              (0.5 * lam * p.data, "(lam / 2) * W: the derivative of (lam / 2) W^2 "
                                                                   "is lam * W."),
                                              (np.zeros_like(p.data), not_added(p.data))])


def test_l2_penalty_backward_adds_lambda_w_into_existing_gradients(ex, pkg, rng):
    params = make_params(pkg, rng)
    lam = 0.37
    before = [random_upstream(rng, p.shape) for p in params]
    data_before = [p.data.copy() for p in params]
    for p, g in zip(params, before):
        p.grad[...] = g
    ex.l2_penalty_backward(params, lam)
    for index, (p, g, w) in enumerate(zip(params, before, data_before)):
        check_unchanged("l2_penalty_backward (on p.data)", w, p.data)
        check_close_ref(f"p.grad of parameter {index} after l2_penalty_backward", p.grad,
                        lambda g=g, w=w: g + pytorch_l2([w], lam)[1][0],
                        alternatives=lambda g=g, w=w: [(lam * w, "lam * W alone: add the penalty's gradient into "
                                                                 "p.grad (+=); p.grad already holds the data loss's "
                                                                 "gradient."), (g, not_added(w))])
    ex.l2_penalty(params, lam)
    for w, p in zip(data_before, params):
        check_unchanged("l2_penalty (on p.data)", w, p.data)

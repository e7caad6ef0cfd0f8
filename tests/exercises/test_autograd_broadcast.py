"""Stretch exercise (autograd), shapes: operands broadcast against each other, unbroadcast itself, matrix
products of matrices, vectors and stacks, and indexing with repeated indices (the operations one by one are in
test_autograd.py, whose helpers these tests share).
"""

import numpy as np
import pytest

from grader.feedback import oracle
from grader.feedback.oracle import check_close_ref
from helpers import shape_errors_explained
from test_autograd import check_operation, positive, signed


# ----- broadcasting -----

BROADCASTS = [
    ("(3,1) + (1,4)", lambda a, b: a + b, (3, 1), (1, 4)),
    ("(5,4) * (4,)", lambda a, b: a * b, (5, 4), (4,)),
    ("(5,4) - (5,1)", lambda a, b: a - b, (5, 4), (5, 1)),
    ("(4,) / (2,3,4)", lambda a, b: a / b, (4,), (2, 3, 4)),
    ("(3,4) * scalar", lambda a, b: a * b, (3, 4), ()),
    ("(4,) * (5,4)", lambda a, b: a * b, (4,), (5, 4)),
    ("(5,1) - (5,4)", lambda a, b: a - b, (5, 1), (5, 4)),
    ("(2,3,4) / (3,1)", lambda a, b: a / b, (2, 3, 4), (3, 1)),
]


@pytest.mark.parametrize("case", BROADCASTS, ids=[c[0] for c in BROADCASTS])
def test_a_broadcast_operand_gets_its_gradient_summed_over_the_broadcast_axes(ex, ref, rng, case):
    name, fn, shape_a, shape_b = case
    arrays = [signed(rng, shape_a), positive(rng, shape_b)]
    check_operation(ex, ref, rng, name, fn, fn, arrays)


UNBROADCAST = ("unbroadcast(grad, shape): NumPy lines shapes up from the LAST axis and prepends the missing ones, so "
               "sum over grad's first grad.ndim - len(shape) axes, then (keepdims=True) over each axis where shape "
               "has length 1 and grad does not.")


def test_unbroadcast_sums_added_and_stretched_axes(ex, rng):
    g = rng.standard_normal((2, 3, 4))
    for shape in ((3, 1), (), (2, 3, 4), (4,), (2, 1, 4)):
        with shape_errors_explained(f"unbroadcast(g of shape (2, 3, 4), {shape})", advice=UNBROADCAST):
            got = ex.unbroadcast(g, shape)
        check_close_ref(f"unbroadcast(g of shape (2, 3, 4), {shape})", got,
                        lambda shape=shape: pytorch_unbroadcast(g, shape))


def pytorch_unbroadcast(g, shape):
    """The gradient PyTorch's autograd gives an operand of `shape` broadcast into g's shape (judge only)."""
    torch = oracle.torch
    operand = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    (operand + torch.zeros(g.shape, dtype=torch.float64)).backward(torch.tensor(g))
    return operand.grad.numpy()


# ----- matmul shapes, indexing -----

MATMULS = [((3, 4), (4, 5)), ((3, 4), (4,)), ((4,), (4, 5)), ((4,), (4,)), ((2, 3, 4), (4, 5)),
           ((2, 3, 4), (2, 4, 5))]


@pytest.mark.parametrize("shapes", MATMULS, ids=[f"{a}@{b}" for a, b in MATMULS])
def test_matmul_gradients_for_matrices_vectors_and_stacks(ex, ref, rng, shapes):
    arrays = [signed(rng, s) for s in shapes]
    check_operation(ex, ref, rng, f"{shapes[0]} @ {shapes[1]}", lambda a, b: a @ b, lambda a, b: a @ b, arrays)


def test_indexing_with_repeated_indices_adds_every_contribution(ex, ref, rng):
    x = signed(rng, (4, 3))
    index = np.array([0, 2, 0, 0])

    def overwritten(arrays, g):
        wrong = np.zeros_like(arrays[0])
        wrong[index] = g
        return {0: [(wrong, "the gradient with each repeated row counted once (grad[index] = g overwrites): "
                           "use np.add.at, which adds once per selection, so that every repeated row adds its share.")]}

    check_operation(ex, ref, rng, "x[[0, 2, 0, 0]]", lambda a: a[index], lambda a: a[oracle.torch.tensor(index)],
                    [x], alternatives=overwritten)

"""Stretch exercise (performance), the fast steps: FastMLP and FastCNN compute what the textbook steps compute.

The judge's textbook (the reference layers in float64, with known mistakes built in on demand) and the
inputs are in test_performance.py, whose docstring says how these steps are judged.
"""

import time

import numpy as np
import pytest

from grader.feedback.checks import check_close, check_equal, check_that, check_unchanged
from helpers import once
from test_performance import (ATOL, CNN_MISTAKES, LR, MLP_MISTAKES, MOMENTUM, RTOL, check_steps, cnn_batches,
                              cnn_params, cnn_runs, explain_profiled_sums, mlp_batches, mlp_params, mlp_runs,
                              parameter_names)


def check_first_loss(what, loss, runs, ref, start, batch, batch_size):
    """The loss of a fast model's first step against the judge's textbook run from the same float64 start:
    what the tests of copies and layouts judge beside the facts they check."""
    check_close(f"{what}: the loss of its first step", np.asarray(loss, dtype=np.float64),
                lambda: runs(ref, start, [batch], batch_size)["textbook"][0][0], rtol=RTOL, atol=ATOL)


# ---------------------------------------------------------------------------------------------------
# The fast MLP


@pytest.mark.part("mlp")
def test_mlp_steps_compute_what_the_textbook_steps_compute(ex, ref, rng):
    sizes, batch_size = (24, 16, 12, 5), 8
    params = mlp_params(rng, sizes)
    batches = mlp_batches(rng, sizes[0], sizes[-1], (8, 8, 8, 5))
    start = [p.astype(np.float64) for p in params]
    fast = ex.FastMLP([p.copy() for p in params], lr=LR, momentum=MOMENTUM, batch_size=batch_size)
    runs = once(lambda: mlp_runs(ref, start, batches, batch_size))
    check_steps("FastMLP 24-16-12-5, batches of 8, 8, 8, then 5", fast, start, batches, runs, MLP_MISTAKES)


@pytest.mark.part("mlp")
def test_mlp_of_other_depths_computes_what_the_textbook_computes(ex, ref, rng):
    for sizes in ((10, 6, 3), (12, 8, 8, 8, 4)):
        params = mlp_params(rng, sizes)
        batches = mlp_batches(rng, sizes[0], sizes[-1], (6, 6, 6))
        start = [p.astype(np.float64) for p in params]
        fast = ex.FastMLP([p.copy() for p in params], lr=LR, momentum=MOMENTUM, batch_size=6)
        runs = once(lambda start=start, batches=batches: mlp_runs(ref, start, batches, 6))
        check_steps(f"FastMLP {'-'.join(map(str, sizes))}", fast, start, batches, runs, MLP_MISTAKES)


@pytest.mark.part("mlp")
def test_mlp_copies_its_parameters_and_leaves_the_batch_alone(ex, ref, rng):
    sizes = (9, 7, 4)
    params = mlp_params(rng, sizes)
    given = [p.copy() for p in params]
    fast = ex.FastMLP(params, lr=LR, momentum=MOMENTUM, batch_size=5)
    (x, labels), = mlp_batches(rng, sizes[0], sizes[-1], (5,))
    x_before = x.copy()
    loss = fast.step(x, labels)
    for name, before, after in zip(parameter_names(len(params)), given, params):
        check_unchanged(f"FastMLP (the float32 {name} it was given; copy it in __init__)", before, after)
    check_unchanged("FastMLP.step (its batch x)", x_before, x)
    check_first_loss("FastMLP 9-7-4", loss, mlp_runs, ref, [p.astype(np.float64) for p in given], (x_before, labels), 5)


@pytest.mark.part("mlp")
def test_mlp_keeps_float32_and_the_textbook_layouts(ex, ref, rng):
    sizes = (9, 7, 4)
    params = [p.astype(np.float64) for p in mlp_params(rng, sizes)]
    fast = ex.FastMLP(params, lr=LR, momentum=MOMENTUM, batch_size=5)
    final = fast.parameters()
    check_equal("dtypes of FastMLP.parameters() (built from float64 arrays)", [str(p.dtype) for p in final],
                ["float32"] * len(params), lambda got: (
                    f"parameters() gave dtypes {got}: a fast step keeps float32 end to end (half the bytes of "
                    "float64 through every product and copy); convert the given arrays once, in __init__."))
    for name, given, back in zip(parameter_names(len(params)), params, final):
        check_close(f"FastMLP.parameters() {name} before any step", back, given.astype(np.float32), rtol=0, atol=0)
    (x, labels), = mlp_batches(rng, sizes[0], sizes[-1], (5,))
    check_first_loss("FastMLP 9-7-4 built from float64 arrays", fast.step(x.copy(), labels), mlp_runs, ref,
                     [p.astype(np.float32).astype(np.float64) for p in params], (x, labels), 5)


@pytest.mark.part("mlp")
def test_mlp_profiled_step_adds_up_to_the_step(ex, rng):
    sizes = (16, 12, 8, 4)
    fast = ex.FastMLP(mlp_params(rng, sizes), lr=LR, momentum=MOMENTUM, batch_size=8)
    batches = mlp_batches(rng, sizes[0], sizes[-1], (8,) * 5)
    profiler = ex.Profiler()
    steps = []
    for x, labels in batches:
        started = time.thread_time()
        profiler.start()
        fast.step(x, labels, profiler)
        profiler.stop()
        steps.append((len(profiler.records[-1]), sum(profiler.records[-1].values()), time.thread_time() - started))
    check_that("the parts of a profiled FastMLP step", [count for count, _, _ in steps],
               lambda counts: min(counts) >= 4, lambda counts: (
                   f"a profiled step has {min(counts)} parts: call profiler.lap(name) after each part of the "
                   "step (each layer's forward and backward, the loss, the update) so that the profile says "
                   "where the time goes."))
    check_that("the sum of a profiled FastMLP step's parts against the step measured around it",
               [(total, outside) for _, total, outside in steps],
               lambda pairs: any(0.5 * outside <= total <= outside for total, outside in pairs),
               explain_profiled_sums)


# ---------------------------------------------------------------------------------------------------
# The fast CNN


@pytest.mark.part("cnn")
def test_cnn_steps_compute_what_the_textbook_steps_compute(ex, ref, rng):
    shape, (c1, c2, k, classes), batch_size = (1, 8, 8), (3, 4, 3, 5), 20
    params = cnn_params(rng, shape[0], c1, c2, k, shape[1], shape[2], classes)
    batches = cnn_batches(rng, shape, classes, (20, 20, 20, 13))
    start = [p.astype(np.float64) for p in params]
    fast = ex.FastCNN([p.copy() for p in params], lr=LR, momentum=MOMENTUM, batch_size=batch_size,
                      image_shape=shape)
    runs = once(lambda: cnn_runs(ref, start, batches, batch_size))
    check_steps("FastCNN on 1 x 8 x 8 images (3x3 kernels, 3 and 4 channels), batches of 20, 20, 20, then 13",
                fast, start, batches, runs, CNN_MISTAKES)


@pytest.mark.part("cnn")
def test_cnn_with_two_input_channels_and_5x5_kernels_computes_what_the_textbook_computes(ex, ref, rng):
    shape, (c1, c2, k, classes), batch_size = (2, 12, 8), (2, 3, 5, 4), 3
    params = cnn_params(rng, shape[0], c1, c2, k, shape[1], shape[2], classes)
    batches = cnn_batches(rng, shape, classes, (3, 3, 2))
    start = [p.astype(np.float64) for p in params]
    fast = ex.FastCNN([p.copy() for p in params], lr=LR, momentum=MOMENTUM, batch_size=batch_size,
                      image_shape=shape)
    runs = once(lambda: cnn_runs(ref, start, batches, batch_size))
    check_steps("FastCNN on 2 x 12 x 8 images (5x5 kernels, 2 and 3 channels)", fast, start, batches, runs,
                CNN_MISTAKES)


@pytest.mark.part("cnn")
def test_cnn_gives_back_the_parameters_it_was_given_in_their_layouts(ex, ref, rng):
    shape = (2, 8, 12)
    params = cnn_params(rng, shape[0], 3, 4, 3, shape[1], shape[2], 5)
    fast = ex.FastCNN([p.astype(np.float64) for p in params], lr=LR, momentum=MOMENTUM, batch_size=4,
                      image_shape=shape)
    final = fast.parameters()
    check_equal("dtypes of FastCNN.parameters() (built from float64 arrays)", [str(p.dtype) for p in final],
                ["float32"] * 6, lambda got: f"parameters() gave dtypes {got}: keep float32 end to end.")
    for name, given, back in zip(parameter_names(6), params, final):
        check_close(f"FastCNN.parameters() {name} before any step (your layouts converted back to the "
                    "textbook's)", back, given, rtol=0, atol=0)
    (x, labels), = cnn_batches(rng, shape, 5, (4,))
    check_first_loss("FastCNN on 2 x 8 x 12 images", fast.step(x.copy(), labels), cnn_runs, ref,
                     [p.astype(np.float32).astype(np.float64) for p in params], (x, labels), 4)


@pytest.mark.part("cnn")
def test_cnn_copies_its_parameters_and_leaves_the_batch_alone(ex, ref, rng):
    shape = (1, 8, 8)
    params = cnn_params(rng, shape[0], 2, 3, 3, shape[1], shape[2], 4)
    given = [p.copy() for p in params]
    fast = ex.FastCNN(params, lr=LR, momentum=MOMENTUM, batch_size=3, image_shape=shape)
    (x, labels), = cnn_batches(rng, shape, 4, (3,))
    x_before = x.copy()
    loss = fast.step(x, labels)
    for name, before, after in zip(parameter_names(6), given, params):
        check_unchanged(f"FastCNN (the float32 {name} it was given; copy it in __init__)", before, after)
    check_unchanged("FastCNN.step (its batch x)", x_before, x)
    check_first_loss("FastCNN on 1 x 8 x 8 images", loss, cnn_runs, ref, [p.astype(np.float64) for p in given],
                     (x_before, labels), 3)


@pytest.mark.part("cnn")
def test_cnn_profiled_step_adds_up_to_the_step(ex, rng):
    shape = (1, 8, 8)
    fast = ex.FastCNN(cnn_params(rng, shape[0], 3, 4, 3, shape[1], shape[2], 5), lr=LR, momentum=MOMENTUM,
                      batch_size=4, image_shape=shape)
    profiler = ex.Profiler()
    steps = []
    for x, labels in cnn_batches(rng, shape, 5, (4,) * 5):
        started = time.thread_time()
        profiler.start()
        fast.step(x, labels, profiler)
        profiler.stop()
        steps.append((len(profiler.records[-1]), sum(profiler.records[-1].values()), time.thread_time() - started))
    check_that("the parts of a profiled FastCNN step", [count for count, _, _ in steps],
               lambda counts: min(counts) >= 6, lambda counts: (
                   f"a profiled step has {min(counts)} parts: call profiler.lap(name) after each part of the "
                   "step (each convolution's im2col and product, pooling, their backward, the update)."))
    check_that("the sum of a profiled FastCNN step's parts against the step measured around it",
               [(total, outside) for _, total, outside in steps],
               lambda pairs: any(0.5 * outside <= total <= outside for total, outside in pairs),
               explain_profiled_sums)

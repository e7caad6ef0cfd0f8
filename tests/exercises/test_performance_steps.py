"""Stretch exercise (performance), the fast steps: FastMLP and FastCNN compute what the textbook steps compute.

The judge's textbook (the reference layers in float64) and the slips it recognises are in
test_performance_textbook.py, whose docstring says how these steps are judged.
"""

import traceback

import numpy as np
import pytest

from grader.feedback.checks import check_close, check_equal, check_that, check_unchanged
from grader.feedback.diagnose import explain_error
from helpers import once
from test_performance_textbook import (ATOL, LR, MOMENTUM, RTOL, cnn_slips, mlp_slips, textbook_cnn, textbook_mlp,
                                       textbook_run)


def parameter_names(count):
    return [f"{'Wb'[index % 2]}{index // 2 + 1}" for index in range(count)]


def runs(ref, build, params, batches, batch_size, slips=None):
    """The judge's textbook run (losses, trajectory, logits) of the model `build` makes from params; with slips,
    (run, what it says, whether one parameter can make it alone) of every slip that runs on these shapes."""
    if slips is None:
        return textbook_run(ref, *build(ref, params), batches, batch_size=batch_size)
    found = []
    for change, options, text in slips:
        layers, parameters = build(ref, params)
        options = dict(options)
        own = options.pop("per_parameter", False)  # a slip one parameter's update can make on its own
        try:
            found.append((textbook_run(ref, change(layers), parameters, batches, batch_size=batch_size, **options),
                          text, own))
        except Exception:  # noqa: BLE001 - a slip these shapes (or these textbook layers) cannot take explains nothing
            continue
    return found


def check_first_loss(what, loss, build, ref, start, batch, batch_size, slips):
    """The loss of a fast model's first step against the judge's textbook run from the same float64 start:
    what the tests of copies and layouts judge beside the facts they check."""
    check_close(f"{what}: the loss of its first step", np.asarray(loss, dtype=np.float64),
                lambda: runs(ref, build, start, [batch], batch_size)[0][0], rtol=RTOL, atol=ATOL,
                alternatives=lambda: [(run[0][0], text) for run, text, _ in runs(ref, build, start, [batch], batch_size,
                                                                                  slips)]
                + [(run[0], text) for run, text in loss_slips(runs(ref, build, start, [batch], batch_size), [batch])])


# ---------------------------------------------------------------------------------------------------
# Checking a fast step against the judge's runs


class Laps:
    """Stands in for a Profiler in a step: keeps the names of the parts lapped, to say where an error arose."""

    def __init__(self):
        self.names = []

    def lap(self, name):
        self.names.append(name)

    def start(self):
        pass

    stop = start


def error_text(error, laps=None):
    """An exception raised in the learner's step, with its line and the part it arose in: 'ValueError: ...
    (performance.py line 12), in the part after 'layer 1 forward''."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.endswith("/performance.py")]
    where = f" (performance.py line {frames[-1].lineno})" if frames else ""
    after = "" if laps is None else f", in the part after {laps.names[-1]!r}" if laps.names else \
        ", before the step's first lap"
    return f"{type(error).__name__}: {error}{where}{after}"


def step_failure(got, sizes, batch_size):
    """Why a step raised (the error, its line, the part of the step it arose in), and what that suggests."""
    ran, error = got
    n = sizes[ran] if ran < len(sizes) else None
    text = f"step {ran + 1} (a batch of {n}, batch_size {batch_size}) raised {error}."
    if n is not None and n < batch_size and all(size == batch_size for size in sizes[:ran]):
        return text + (f" The {ran} steps before it, on full batches of {batch_size}, ran: on the short last batch use "
                       "the first n rows of every buffer made for batch_size rows (buf[:n]), in every product, mask "
                       "and sum of the step, and a batch of n for every count (the ones of 1^T G too).")
    return text + (f" {explanation}" if (explanation := explain_error(error)) else "")


def loss_slips(run, batches):
    """Slips of the fused loss, from the textbook's losses L and logits z: with s = z - (the row's maximum), the
    label's entry read after exp overwrote z in place gives L + mean(s_y - exp(s_y)), and the label's logit taken
    before the maximum was subtracted gives L - mean(max)."""
    shifted = [(z - z.max(axis=1, keepdims=True))[np.arange(len(z)), labels] for z, (_, labels) in zip(run[2], batches)]
    return [(run[0] + np.array([np.mean(s - np.exp(s)) for s in shifted]), "the loss with the label's entry read "
             "AFTER exp overwrote z in place (exp(z_y) where z_y belongs): take what you need from a buffer before an "
             "in-place operation overwrites it."),
            (run[0] - np.array([np.mean(z.max(axis=1)) for z in run[2]]), "the loss with the label's logit taken "
             "before the row's maximum was subtracted, while the log-sum-exp used the shifted logits: subtract the "
             "maximum from both (it cancels).")]


def take_steps(fast, batches):
    """(losses, [copies of the parameters after each step], the error that stopped a step or "", the arrays
    parameters() returned after step 1)."""
    losses, trajectory, returned = [], [], []
    for index, (x, labels) in enumerate(batches):
        laps = Laps()
        try:
            losses.append(fast.step(x, labels, laps))
            returned = returned or list(fast.parameters())
            trajectory.append([np.array(p, dtype=np.float64) for p in (returned if index == 0 else fast.parameters())])
        except NotImplementedError:
            raise
        except Exception as error:  # noqa: BLE001 - which step raised, and how, is the observation
            return losses[:len(trajectory)], trajectory, error_text(error, laps), returned
    return losses, trajectory, "", returned


def built(what, make):
    """The fast model make() builds; an error its __init__ raises fails a check that explains it."""
    failure, fast = "", None
    try:
        fast = make()
    except NotImplementedError:
        raise
    except Exception as error:  # noqa: BLE001 - the error is the observation
        failure = error_text(error)
    check_equal(f"{what}: building it", failure, "", lambda got: f"{what}: __init__ raised {got}. " + (
        "An axis of a shape was asked for that the array lacks: a 1-D bias taken for a 2-D weight? The params come "
        "interleaved, [W1, b1, W2, b2, ...]: W_k = params[2k], b_k = params[2k + 1] (params[0::2], params[1::2])."
        if "IndexError: tuple index out of range" in got else explain_error(got) or ""))
    if fast is None:
        raise RuntimeError(f"{what} could not be built")  # the worker's run ends here; the check above decides
    return fast


def judged(ref, build, start, batches, batch_size, slips):
    """(expected, slipped): the judge's textbook run and its slipped runs, each computed once, when first needed."""
    return (once(lambda: runs(ref, build, start, batches, batch_size)),
            once(lambda: runs(ref, build, start, batches, batch_size, slips)))


def check_steps(what, fast, start, batches, expected, slips, *, batch_size):
    """Run the fast step on the batches; check each parameter's change in each step, then the losses, against
    the judge's textbook run (expected: a callable returning runs(...)); slips: a callable returning the slipped
    runs that explain a difference. Step by step, parameter by parameter: a wrong gradient shows in its own
    parameter's row (in `make compare` too), and a slip that first shows in a later step (the velocity, a
    buffer never cleared, the short last batch) matches its slipped run from there on."""
    losses, trajectory, failure, returned = take_steps(fast, batches)
    sizes = [len(x) for x, _ in batches]
    check_equal(f"{what}: the steps that ran, and the error that stopped the others", [len(trajectory), failure],
                [len(batches), ""], lambda got: step_failure(got, sizes, batch_size))
    if not trajectory:
        raise RuntimeError(f"{what}: no step ran")  # the worker's run ends here; the check above decides
    names = parameter_names(len(start))
    check_equal(f"{what}: parameters() gives one array per parameter", len(trajectory[-1]), len(start),
                lambda got: f"{what}: parameters() returned {got} arrays; expected {len(start)}, one per "
                            "parameter in the textbook order [W1, b1, W2, b2, ...].")
    check_that(f"{what}: the arrays parameters() returned after step 1, read again after the last step",
               [returned, trajectory[0]], lambda pair: all(np.array_equal(a, b) for a, b in zip(*pair)),
               f"{what}: the arrays parameters() returned after step 1 changed during the later steps: they are the "
               "model's own arrays (or views of them), which every step updates in place; parameters() returns "
               "copies (a.copy()).")
    trajectory = [start] + trajectory
    factors = {"lr": LR, "momentum": MOMENTUM, "1 - momentum": 1 - MOMENTUM}
    passed = []  # (step, change) checked so far, all right: a slip that changes one of them did not happen

    def candidates(pick, now=None):  # a slip one parameter makes alone must agree with the earlier steps only
        return lambda: [(pick(run), text) for run, text, own in slips() if all(
            np.allclose(change(run), change(expected()), rtol=RTOL, atol=ATOL) for step, change in passed
            if not own or step != now)]

    for step in range(1, len(trajectory)):
        for index, name in enumerate(names):
            def change(run, step=step, index=index):
                return run[1][step][index] - run[1][step - 1][index]

            given = {} if step == 1 else {f"the change of {name} in step {step - 1}": change((None, trajectory)),
                                          f"{name} before step {step}": trajectory[step - 1][index]}
            check_close(f"{what}: the change of {name} in step {step}" + (
                f" (-lr dL/d{name}: the velocity starts at zero)" if step == 1 else ""),
                change((None, trajectory)), lambda change=change: change(expected()), rtol=RTOL, atol=ATOL,
                batch_size=sizes[step - 1], factors=factors, given=given,
                alternatives=candidates(change, step))
            passed.append((step, change))
    ns = np.array(sizes, dtype=np.float64)
    check_close(f"{what}: the losses returned by {len(batches)} steps", np.array(losses, dtype=np.float64),
                lambda: expected()[0], rtol=1e-4, atol=1e-5, alternatives=lambda: candidates(lambda run: run[0])() + [
                    (expected()[0] * ns, "the SUM of the examples' losses: a step returns their MEAN over the batch.")]
                + loss_slips(expected(), batches))


# ---------------------------------------------------------------------------------------------------
# Inputs


def mlp_params(rng, sizes):
    """float32 parameters [W1, b1, ...] of an MLP of these sizes, non-zero biases."""
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        params.append((rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)).astype(np.float32))
        params.append((0.1 * rng.standard_normal(n_out)).astype(np.float32))
    return params


def mlp_batches(rng, n_in, classes, sizes):
    """Batches whose first features, and a few others that differ from batch to batch, are zero in every row
    (like MNIST's border pixels and the pixels no digit of a batch touches)."""
    batches = []
    for n in sizes:
        x = rng.random((n, n_in)).astype(np.float32)
        x[:, :n_in // 4] = 0.0
        x[:, rng.choice(np.arange(n_in // 4, n_in), n_in // 8, replace=False)] = 0.0
        x[x < 0.3] = 0.0
        batches.append((x, rng.integers(0, classes, n)))
    return batches


def cnn_params(rng, c0, c1, c2, k, height, width, classes):
    """float32 parameters in build_mnist_cnn's layouts; the first biases positive, so that flat regions of
    an image give tied maxima that survive the ReLU."""
    features = c2 * (height // 4) * (width // 4)
    return [(rng.standard_normal((c1, c0, k, k)) * np.sqrt(2.0 / (c0 * k * k))).astype(np.float32),
            rng.uniform(0.1, 0.5, c1).astype(np.float32),
            (rng.standard_normal((c2, c1, k, k)) * np.sqrt(2.0 / (c1 * k * k))).astype(np.float32),
            (0.1 * rng.standard_normal(c2)).astype(np.float32),
            (rng.standard_normal((features, classes)) * np.sqrt(1.0 / features)).astype(np.float32),
            (0.1 * rng.standard_normal(classes)).astype(np.float32)]


def cnn_batches(rng, shape, classes, sizes):
    """Images with a flat zero region (like MNIST's background): max-pooling windows there are tied."""
    c0, height, width = shape
    batches = []
    for n in sizes:
        x = rng.random((n, c0, height, width)).astype(np.float32)
        x[:, :, : height // 2, : width // 2] = 0.0
        batches.append((x, rng.integers(0, classes, n)))
    return batches


# ---------------------------------------------------------------------------------------------------
# The fast MLP


@pytest.mark.part("mlp")
def test_mlp_steps_compute_what_the_textbook_steps_compute(ex, ref, rng):
    sizes, batch_size = (24, 16, 12, 5), 8
    params = mlp_params(rng, sizes)
    batches = mlp_batches(rng, sizes[0], sizes[-1], (8, 8, 8, 5))
    start = [p.astype(np.float64) for p in params]
    fast = built("FastMLP 24-16-12-5", lambda: ex.FastMLP([p.copy() for p in params], lr=LR, momentum=MOMENTUM,
                                                           batch_size=batch_size))
    check_steps("FastMLP 24-16-12-5, batches of 8, 8, 8, then 5", fast, start, batches,
                *judged(ref, textbook_mlp, start, batches, batch_size, mlp_slips(3)), batch_size=batch_size)


@pytest.mark.part("mlp")
def test_mlp_of_other_depths_computes_what_the_textbook_computes(ex, ref, rng):
    for sizes in ((10, 6, 3), (12, 8, 8, 8, 4)):
        params = mlp_params(rng, sizes)
        batches = mlp_batches(rng, sizes[0], sizes[-1], (6, 6, 6))
        start = [p.astype(np.float64) for p in params]
        fast = ex.FastMLP([p.copy() for p in params], lr=LR, momentum=MOMENTUM, batch_size=6)
        check_steps(f"FastMLP {'-'.join(map(str, sizes))}", fast, start, batches,
                    *judged(ref, textbook_mlp, start, batches, 6, mlp_slips(len(sizes) - 1)), batch_size=6)


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
    check_first_loss("FastMLP 9-7-4", loss, textbook_mlp, ref, [p.astype(np.float64) for p in given],
                     (x_before, labels), 5, mlp_slips(2))


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
    check_first_loss("FastMLP 9-7-4 built from float64 arrays", fast.step(x.copy(), labels), textbook_mlp, ref,
                     [p.astype(np.float32).astype(np.float64) for p in params], (x, labels), 5, mlp_slips(2))


# ---------------------------------------------------------------------------------------------------
# The fast CNN


@pytest.mark.part("cnn")
def test_cnn_steps_compute_what_the_textbook_steps_compute(ex, ref, rng):
    shape, (c1, c2, k, classes), batch_size = (1, 8, 8), (3, 4, 3, 5), 20
    params = cnn_params(rng, shape[0], c1, c2, k, shape[1], shape[2], classes)
    batches = cnn_batches(rng, shape, classes, (20, 20, 20, 13))
    start = [p.astype(np.float64) for p in params]
    fast = built("FastCNN on 1 x 8 x 8 images", lambda: ex.FastCNN([p.copy() for p in params], lr=LR, momentum=MOMENTUM,
                                                                  batch_size=batch_size, image_shape=shape))
    check_steps("FastCNN on 1 x 8 x 8 images (3x3 kernels, 3 and 4 channels), batches of 20, 20, 20, then 13",
                fast, start, batches, *judged(ref, textbook_cnn, start, batches, batch_size, cnn_slips(shape)),
                batch_size=batch_size)


@pytest.mark.part("cnn")
def test_cnn_with_two_input_channels_and_5x5_kernels_computes_what_the_textbook_computes(ex, ref, rng):
    shape, (c1, c2, k, classes), batch_size = (2, 12, 8), (2, 3, 5, 4), 3
    params = cnn_params(rng, shape[0], c1, c2, k, shape[1], shape[2], classes)
    batches = cnn_batches(rng, shape, classes, (3, 3, 2))
    start = [p.astype(np.float64) for p in params]
    fast = ex.FastCNN([p.copy() for p in params], lr=LR, momentum=MOMENTUM, batch_size=batch_size,
                      image_shape=shape)
    check_steps("FastCNN on 2 x 12 x 8 images (5x5 kernels, 2 and 3 channels)", fast, start, batches,
                *judged(ref, textbook_cnn, start, batches, batch_size, cnn_slips(shape)), batch_size=batch_size)


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
    check_first_loss("FastCNN on 2 x 8 x 12 images", fast.step(x.copy(), labels), textbook_cnn, ref,
                     [p.astype(np.float32).astype(np.float64) for p in params], (x, labels), 4, cnn_slips(shape))


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
    check_first_loss("FastCNN on 1 x 8 x 8 images", loss, textbook_cnn, ref, [p.astype(np.float64) for p in given],
                     (x_before, labels), 3, cnn_slips(shape))

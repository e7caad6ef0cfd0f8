"""Exercise 8 (training), fit (its history, callbacks and step_decay) and the MNIST model. Shared models and data
come from test_training.py, the PyTorch loop from test_training_loop.py.
"""

import copy

import numpy as np
import pytest

from grader.data import mnist
from grader.feedback.checks import check_raises, check_that
from grader.feedback.oracle import check_close_ref, torch
from helpers import once, own_rng
from test_training import accuracy_of, blobs, diverging_model, mlp, predictions, raised_message
from test_training_loop import pytorch_fit


# ----------------------------------------------------------------------------------------------------
# fit

HISTORY_KEYS = ["grad_norms", "loss", "test_accuracy", "train_accuracy"]


def test_fit_records_one_entry_per_epoch(ex, pkg, rng):
    X, y = blobs(rng, n=80)
    X_test, y_test = blobs(rng, n=40, spread=2.0)
    model = mlp(pkg, rng)
    untrained = copy.deepcopy(model)
    optimizer = pkg.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    history = ex.fit(model, pkg.losses.SoftmaxCrossEntropy(), optimizer, X, y, X_test, y_test,
                     epochs=3, batch_size=16, rng=own_rng(4))
    # The docstrings fix every step: the learner's run must match PyTorch's on the same data and order (in the
    # judge, `history` and `model` are the reference's run, which `make test` checks against PyTorch's).
    expected = once(lambda: pytorch_fit(untrained, X, y, X_test, y_test, 16, own_rng(4), 3, lr=0.05, momentum=0.9))
    keys = sorted(str(key) for key in history) if isinstance(history, dict) else None
    check_that("the keys of the history fit returns", keys, lambda keys: keys is not None and set(HISTORY_KEYS) <= set(keys),
               lambda keys: f"fit must return a dict with the lists {HISTORY_KEYS}; got "
                            f"{keys if keys is not None else 'no dict'}.")
    lengths = [len(history[key]) for key in HISTORY_KEYS]
    check_that(f"the lengths of the lists {HISTORY_KEYS} after 3 epochs", lengths,
               lambda lengths: list(lengths) == [3, 3, 3, 3],
               lambda lengths: f"after 3 epochs the history lists {HISTORY_KEYS} have lengths {lengths}; "
                               "expected 3 each.")
    names = [name for name, _ in model.named_parameters()]
    entries = [sorted(map(str, g)) if isinstance(g, dict) else None for g in history["grad_norms"]]
    check_that("the names in each history['grad_norms'] entry", entries,
               lambda entries: all(entry == sorted(names) for entry in entries),
               f"each grad_norms entry must be gradient_norms(model), a dict over {names}.")
    check_close_ref("history['loss'] (the mean training loss of each epoch)", np.array(history["loss"], dtype=float),
                    lambda: np.array(expected()["loss"]), alternatives=lambda: [
                        (np.array(expected()["train_eval_loss"]), "the loss evaluate returns on the training data "
                         "after each epoch: history['loss'] is the mean training loss train_epoch returns."),
                        (np.array(expected()["train_accuracy"]), "the training accuracy: history['loss'] is the mean "
                                                                 "training loss train_epoch returns.")])
    check_close_ref("history['train_accuracy']", np.array(history["train_accuracy"], dtype=float),
                    lambda: np.array(expected()["train_accuracy"]),
                    alternatives=lambda: [(np.array(history["test_accuracy"]), (
                        "the test accuracy: train and test accuracies swapped, or both measured on the test data? "
                        "train_accuracy is measured on the training data.")),
                        (np.array(history["loss"]), "the epoch's loss: train_accuracy is the accuracy, the second "
                                                    "value evaluate returns."),
                        (np.array(expected()["train_eval_loss"]), "the loss evaluate returns on the training data "
                                                                  "(its first value), not an accuracy: train_accuracy "
                                                                  "is evaluate(...)[1].")])
    check_close_ref("history['test_accuracy']", np.array(history["test_accuracy"], dtype=float),
                    lambda: np.array(expected()["test_accuracy"]),
                    alternatives=lambda: [(np.array(history["train_accuracy"]), (
                        "the training accuracy: train and test accuracies swapped, or both measured on the training "
                        "data? test_accuracy is measured on (X_test, y_test)."))])
    norms = np.array([[entry[name] for name in names] for entry in history["grad_norms"]], dtype=float)
    check_close_ref("history['grad_norms'] (each entry's norms, in the order of named_parameters())", norms,
                    lambda: np.array(expected()["grad_norms"]), alternatives=lambda: [
                        (np.array(expected()["param_norms"]), "the norms of the parameters' values p.data: each "
                                                              "entry is gradient_norms(model), the norms of p.grad.")])
    for name, p in model.named_parameters():
        check_close_ref(f"parameter {name} after fit (3 epochs)", p.data, lambda name=name: expected()["params"][name])
    check_that("history['loss']", np.array(history["loss"], dtype=float), lambda loss: loss[-1] < loss[0],
               lambda loss: f"the training loss did not decrease: {loss.tolist()}")


def test_fit_calls_the_callback_after_each_epoch_and_stops_when_it_returns_true(ex, pkg, rng):
    X, y = blobs(rng, n=40)
    model = mlp(pkg, rng)
    calls = []

    def callback(epoch, history):
        calls.append([int(epoch), len(history["loss"])])
        return epoch == 2

    history = ex.fit(model, pkg.losses.SoftmaxCrossEntropy(), pkg.optim.SGD(model.parameters(), lr=0.05),
                     X, y, X, y, epochs=5, batch_size=10, rng=own_rng(), callback=callback)
    check_that("the callback's calls as (epoch, entries in history['loss'])", calls,
               lambda calls: [list(call) for call in calls] == [[1, 1], [2, 2]],
               lambda calls: f"callback was called as (epoch, entries in history) = {calls}; expected "
                             "[(1, 1), (2, 2)]: call it after each epoch's entries are appended, epochs numbered "
                             "from 1, and stop when it returns True.")
    check_that("the number of epochs in the history", len(history["loss"]), lambda epochs: epochs == 2,
               lambda epochs: f"training went on for {epochs} epochs after the callback said stop.")


@pytest.mark.fact
def test_fit_names_the_epoch_where_training_diverges(ex, pkg, rng):
    X, y = blobs(rng, n=32)
    model, optimizer = diverging_model(pkg, rng, after_steps=2)  # 2 batches per epoch: epoch 2, batch 1
    with np.errstate(all="ignore"):
        check_raises("fit on a model whose loss becomes inf in its third training batch", FloatingPointError,
                     lambda: ex.fit(model, pkg.losses.SoftmaxCrossEntropy(), optimizer, X, y, X, y, epochs=3,
                                    batch_size=16, rng=own_rng()),
                     match=r"epoch 2\b(?s:.*)batch 1\b|batch 1\b(?s:.*)epoch 2\b",
                     message=raised_message(
                         "FloatingPointError",
                         "the loss became inf in the first batch of epoch 2 and fit went on: train_epoch must "
                         "raise TrainingDiverged, and fit must let it through.",
                         lambda text: f"with 2 batches per epoch the third training batch is epoch 2, batch 1; the "
                                      f"message was {text!r}. Pass the epoch number (from 1) to train_epoch."))


def test_fit_with_step_decay_multiplies_lr_by_the_factor_once_after_its_epoch(ex, pkg, rng):
    X, y = blobs(rng, n=40)
    model = mlp(pkg, rng)
    optimizer = pkg.optim.SGD(model.parameters(), lr=0.5)
    decay = ex.step_decay(optimizer, at_epoch=3, factor=0.1)  # what the mnist milestone gives fit
    rates = []

    def callback(epoch, history):
        stop = decay(epoch, history)
        rates.append(float(optimizer.lr))
        return stop

    ex.fit(model, pkg.losses.SoftmaxCrossEntropy(), optimizer, X, y, X, y, epochs=6, batch_size=20, rng=own_rng(),
           callback=callback)
    check_close_ref("optimizer.lr after each of epochs 1 to 6 with step_decay(at_epoch=3, factor=0.1), from lr = 0.5",
                    np.array(rates), pytorch_step_decay, alternatives=[
                    (np.array([0.5, 0.05, 0.05, 0.05, 0.05, 0.05]),
                     "the rate decayed one epoch early, after epoch 2: decay after epoch at_epoch itself."),
                    (np.array([0.5, 0.5, 0.05, 0.005, 0.0005, 0.00005]),
                     "the rate decayed after epoch 3 and again after every later epoch: multiply by the factor "
                     "once, when epoch == at_epoch (not epoch >= at_epoch).")])


def pytorch_step_decay():
    """The rates of torch.optim.lr_scheduler.MultiStepLR(milestones=[3], gamma=0.1) from lr 0.5, read after
    each of 6 epochs (judge only)."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    schedule = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[3], gamma=0.1)
    rates = []
    for _ in range(6):
        optimizer.step()
        schedule.step()
        rates.append(optimizer.param_groups[0]["lr"])
    return np.array(rates)


# ----------------------------------------------------------------------------------------------------
# the MNIST model

@pytest.mark.fact  # shapes, dtypes and a None, free in size: the accuracy below is the judged quantity
def test_build_mnist_model_maps_784_pixels_to_10_float32_logits(ex, pkg, rng):
    model = ex.build_mnist_model(own_rng())
    x = rng.random((5, 784), dtype=np.float32)
    out = model.forward(x)
    check_that("the MNIST model's output for 5 images", out,
               lambda out: out.shape == (5, 10) and out.dtype == np.float32,
               lambda out: f"the MNIST model maps (5, 784) float32 pixels to {getattr(out, 'shape', out)} "
                           f"{getattr(out, 'dtype', '')}; expected (5, 10) float32 logits: pass dtype=np.float32 "
                           "to every Linear, float32 trains about twice as fast.")
    params = [p.data for p in model.parameters()]
    check_that("the shapes of the MNIST model's weight matrices", [list(a.shape) for a in params if a.ndim == 2],
               lambda shapes: 2 <= len(shapes) <= 3,
               lambda shapes: f"the MNIST model has {len(shapes)} weight matrices ({shapes}); build a 2-3 layer MLP.")
    check_that("the MNIST model's parameters", params, lambda arrays: all(a.dtype == np.float32 for a in arrays),
               lambda arrays: f"the MNIST model's parameters have dtypes {sorted({str(a.dtype) for a in arrays})}, "
                              "not float32: pass dtype=np.float32 to Linear; float32 trains about twice as fast.")
    model.zero_grad()
    try:
        returned = model.backward(rng.standard_normal((5, 10)).astype(np.float32))
    except Exception as error:  # noqa: BLE001 - a None reaching a later layer: said below
        returned = f"{type(error).__name__}: {error}"
    check_that("what the MNIST model's backward returns (dL/d(pixels))", returned, lambda value: value is None,
               lambda value: "the MNIST model's backward computes dL/d(pixels), which nothing uses: set "
                             "input_gradient = False on its first Linear (a sixth of the backward pass)."
               if value is not None and not isinstance(value, str) else
               f"the MNIST model's backward raised {value}: set input_gradient = False on the first layer only "
               "(a later layer needs the gradient of its input).")


def test_build_mnist_model_is_he_initialised(ex):
    model = ex.build_mnist_model(own_rng())
    weights = [p.data for p in model.parameters() if p.data.ndim == 2]
    stds = [float(np.std(w)) for w in weights]

    def he(std, w):  # He: std sqrt(2 / fan_in), normal or uniform; five standard errors of a sample's std, and 1%
        return abs(std / np.sqrt(2.0 / w.shape[0]) - 1) < 5 / np.sqrt(2 * w.size) + 0.01

    def message(stds):
        parts = []
        for k, (std, w) in enumerate(zip(stds, weights)):
            fan_in, fan_out = w.shape
            if not he(std, w):
                xavier = abs(std / np.sqrt(2.0 / (fan_in + fan_out)) - 1) < 5 / np.sqrt(2 * w.size) + 0.01
                parts.append(f"layer {k} ({fan_in} -> {fan_out}) has weights of std {std:.4g}, where He gives "
                             f"sqrt(2 / {fan_in}) = {np.sqrt(2 / fan_in):.4g}" + (
                                 f": that is Xavier (Glorot) initialisation, sqrt(2 / ({fan_in} + {fan_out})), made "
                                 "for tanh; ReLU layers need He init." if xavier else "."))
        return "The MNIST model must be He-initialised (the docstring): " + " ".join(parts)

    check_that("the standard deviation of each weight matrix of the MNIST model", stds,
               lambda stds: len(stds) == len(weights) and all(he(std, w) for std, w in zip(stds, weights)), message)
    again = [p.data for p in ex.build_mnist_model(own_rng()).parameters() if p.data.ndim == 2]
    check_that("the weights of two MNIST models built with generators of the same seed", [weights, again],
               lambda pair: len(pair[0]) == len(pair[1]) and all(np.array_equal(a, b) for a, b in zip(*pair)),
               "two MNIST models built with generators of the same seed have different weights: pass rng to every "
               "Linear (a layer made without rng draws from a fresh generator), so a seed reproduces the run.")


def test_build_mnist_model_learns_a_2000_image_subset_of_mnist(ex, pkg, rng):
    settings = ex.MNIST_SETTINGS
    needed = ["batch_size", "epochs", "lr", "momentum"]
    keys = sorted(str(key) for key in settings) if isinstance(settings, dict) else None
    check_that("the keys of MNIST_SETTINGS", keys, lambda keys: keys is not None and set(needed) <= set(keys),
               lambda keys: f"MNIST_SETTINGS has the keys {keys}; it needs at least {needed}.")
    # Training images only (the worker never needs the test set's labels): 2000 to train on, 1000 others to
    # measure the accuracy on images the model never saw. The judge computes it from the raw logits.
    images, labels = mnist.load("train")
    chosen = rng.choice(len(images), size=3000, replace=False)
    X, y = images[chosen[:2000]], labels[chosen[:2000]]
    X_test, y_test = images[chosen[2000:]], labels[chosen[2000:]]
    model = ex.build_mnist_model(own_rng())
    optimizer = pkg.optim.SGD(model.parameters(), lr=settings["lr"], momentum=settings["momentum"])
    loss_fn = pkg.losses.SoftmaxCrossEntropy()
    shuffling = own_rng(1)
    for epoch in range(1, 6):
        ex.train_epoch(model, loss_fn, optimizer, X, y, batch_size=settings["batch_size"], rng=shuffling,
                       epoch=epoch)
    logits = predictions(model, X_test)
    check_that("the trained MNIST model's logits on 1000 other images", logits,
               lambda logits: accuracy_of(logits, y_test) > 0.85,
               lambda logits: f"5 epochs on 2000 MNIST images gave a test accuracy of {accuracy_of(logits, y_test):.3f} "
                              "on 1000 other images (a 784-256-128-10 MLP reaches 0.9 to 0.92): check the model and "
                              "MNIST_SETTINGS.")
    check_that("the dtype of those logits", logits, lambda logits: logits.dtype == np.float32,
               lambda logits: f"the MNIST model trained in {logits.dtype} on float32 images: keep it float32 end to "
                              "end (dtype=np.float32 in every Linear).")

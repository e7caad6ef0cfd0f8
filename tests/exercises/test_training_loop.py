"""Exercise 8 (training), the loop: train_epoch, evaluate, fit (with its callbacks and step_decay) and the MNIST model.

Shared models and data come from test_training.py, whose docstring says how these tests are judged: the
learner's half trains with the learner's code, the judge's half with the reference, on the same data.
"""

import copy

import numpy as np
import pytest

from grader.data import mnist
from grader.feedback.checks import check_equal, check_raises, check_that, check_unchanged
from grader.feedback.oracle import F, check_close_ref, expected, torch
from helpers import once, own_rng
from test_training import (accuracy_of, blobs, diverging_model, linear, mlp, mode_layer, predictions, raised_message,
                           torch_loss_and_accuracy, torch_network)


# ----------------------------------------------------------------------------------------------------
# train_epoch

def written_out_epoch(pkg, model, X, y, batch_size, seed, *, zero_grad=True, shuffle=True, drop_last=False,
                      momentum=0.9):
    """The training loop of the docstring, step by step, with SGD(lr=0.1, momentum): returns (model, weighted
    mean, unweighted mean)."""
    optimizer = pkg.optim.SGD(model.parameters(), lr=0.1, momentum=momentum)
    loss_fn = pkg.losses.SoftmaxCrossEntropy()
    model.train()
    n = len(X)
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    losses, sizes = [], []
    for index in np.split(order, np.arange(batch_size, n, batch_size)):  # consecutive batches, the last maybe short
        if drop_last and len(index) < batch_size:
            break
        if zero_grad:
            optimizer.zero_grad()
        losses.append(loss_fn.forward(model.forward(X[index]), y[index]))
        model.backward(loss_fn.backward())
        optimizer.step()
        sizes.append(len(index))
    return model, float(np.dot(losses, sizes) / n), float(np.mean(losses))


def pytorch_epoch(model, X, y, batch_size, seed, momentum=0.9):
    """PyTorch's run of the same loop (torch.optim.SGD, F.cross_entropy) on a copy of `model`'s weights: returns
    ({parameter name: values after the epoch}, weighted mean loss). Judge only."""
    params = pytorch_fit(model, X, y, X, y, batch_size, np.random.default_rng(seed), 1, lr=0.1, momentum=momentum)
    return params["params"], params["loss"][0]


def pytorch_fit(model, X, y, X_test, y_test, batch_size, shuffling, epochs, *, lr, momentum):
    """PyTorch's run of fit's loop on a copy of `model`'s weights (torch.optim.SGD, F.cross_entropy), each epoch's
    order drawn as shuffling.permutation(N), as minibatches' docstring says (NumPy's generator has no PyTorch
    counterpart): fit's history lists, and "params", {name: values after the last epoch}. Judge only."""
    params, forward = torch_network(model)
    optimizer = torch.optim.SGD(list(params.values()), lr=lr, momentum=momentum)
    n = len(X)
    history = {"loss": [], "train_accuracy": [], "test_accuracy": [], "grad_norms": []}
    for _ in range(epochs):
        total = 0.0
        order = shuffling.permutation(n)
        for index in np.split(order, np.arange(batch_size, n, batch_size)):
            optimizer.zero_grad()
            loss = F.cross_entropy(forward(X[index], training=True), torch.tensor(y[index]))
            loss.backward()
            optimizer.step()
            total += loss.item() * len(index)
        history["loss"].append(total / n)
        history["grad_norms"].append([torch.linalg.norm(p.grad).item() for p in params.values()])
        with torch.no_grad():
            for key, inputs, labels in (("train_accuracy", X, y), ("test_accuracy", X_test, y_test)):
                history[key].append(float((forward(inputs).argmax(dim=1).numpy() == labels).mean()))
    return dict(history, params={name: p.detach().numpy() for name, p in params.items()})


EPOCH_MISTAKES = {
    "zero_grad": (dict(zero_grad=False), "training without optimizer.zero_grad() before each batch: the "
                                         "layers add into p.grad, so gradients pile up from batch to batch."),
    "shuffle": (dict(shuffle=False), "training on the batches in the original order: pass rng to minibatches "
                                     "so every epoch is shuffled."),
    "drop_last": (dict(drop_last=True), "training without the short last batch: every example must be used "
                                        "once per epoch."),
}


def test_train_epoch_runs_the_training_loop_of_the_docstring(ex, pkg, rng):
    X, y = blobs(rng, n=50)
    model = mlp(pkg, rng)
    untrained = copy.deepcopy(model)  # the judge trains copies of it with the loop written out above
    optimizer = pkg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss = ex.train_epoch(model, pkg.losses.SoftmaxCrossEntropy(), optimizer, X, y, batch_size=16,
                          rng=np.random.default_rng(3))
    expected = once(lambda: pytorch_epoch(untrained, X, y, 16, 3))
    mistaken = once(lambda: {name: written_out_epoch(pkg, copy.deepcopy(untrained), X, y, 16, 3, **options)[0]
                             for name, (options, _) in EPOCH_MISTAKES.items()})
    for name, p in model.named_parameters():
        check_close_ref(f"parameter {name} after one train_epoch (SGD, lr 0.1, momentum 0.9, batch 16, N = 50)",
                        p.data, lambda name=name: expected()[0][name],
                        alternatives=lambda name=name: [(dict(mistaken()[m].named_parameters())[name].data,
                                                         EPOCH_MISTAKES[m][1]) for m in EPOCH_MISTAKES])
    check_close_ref("the mean loss returned by train_epoch", loss, lambda: expected()[1],
                    alternatives=lambda: [(written_out_epoch(pkg, copy.deepcopy(untrained), X, y, 16, 3)[2], (
                        "the plain mean of the batch losses: weight each batch's mean by its size and divide by N, "
                        "so the short last batch (2 of 50 examples) does not count as much as a full one."))])


def test_train_epoch_lowers_the_loss_on_separable_data(ex, pkg, rng):
    X, y = blobs(rng, n=200)
    model = mlp(pkg, rng)
    untrained = copy.deepcopy(model)
    optimizer = pkg.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = pkg.losses.SoftmaxCrossEntropy()
    shuffling = own_rng(2)
    losses = [ex.train_epoch(model, loss_fn, optimizer, X, y, batch_size=20, rng=shuffling) for _ in range(5)]
    check_that("the mean losses train_epoch returned for five epochs", losses,
               lambda losses: losses[-1] < 0.5 * losses[0],
               lambda losses: f"five epochs on well separated clusters gave mean losses "
                              f"{np.round(np.asarray(losses, dtype=float), 4).tolist()}: the loss should at least "
                              "halve. Check the order zero_grad, forward, loss, backward, step.")
    # The same property computed by the judge: the loss of the trained model's logits against its untrained
    # copy's, and against uniform predictions (zero logits, ln 3), which any model can give untrained.
    start = once(lambda: min(mean_cross_entropy(pkg, predictions(untrained, X), y), np.log(3)))
    check_that("the trained model's logits on its 200 training examples", predictions(model, X),
               lambda logits: mean_cross_entropy(pkg, logits, y) < 0.5 * start(),
               lambda logits: f"after five epochs the loss of the model's own logits is "
                              f"{mean_cross_entropy(pkg, logits, y):.4g}, from {start():.4g} before training (or "
                              "for uniform predictions, if lower): it should at least halve.")


def mean_cross_entropy(pkg, logits, y):
    """The judge's mean loss of raw logits (nan for anything but (N, classes) logits): the reference loss's, which
    the maintainer's suite checks against PyTorch's."""
    try:
        logits = np.asarray(logits, dtype=np.float64)
        if logits.shape != (len(y), logits.shape[-1]) or not np.all(np.isfinite(logits)):
            return float("nan")
        return expected(lambda: pkg.losses.SoftmaxCrossEntropy().forward(logits, y),
                        lambda: F.cross_entropy(torch.tensor(logits), torch.tensor(y)).item())()
    except (TypeError, ValueError, IndexError, RuntimeError):
        return float("nan")


def test_train_epoch_memorises_50_examples(ex, pkg, rng):
    X = rng.standard_normal((50, 10))
    y = rng.integers(0, 3, size=50)  # random labels: only memorising can fit them
    model = mlp(pkg, rng, sizes=(10, 64, 3))
    optimizer = pkg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = pkg.losses.SoftmaxCrossEntropy()
    shuffling = own_rng(2)
    for epoch in range(1, 201):
        ex.train_epoch(model, loss_fn, optimizer, X, y, batch_size=10, rng=shuffling, epoch=epoch)
        if accuracy_of(predictions(model, X), y) == 1.0:
            break
    check_that("the trained model's logits on its 50 training examples (at most 200 epochs)",
               predictions(model, X), lambda logits: accuracy_of(logits, y) == 1.0,
               lambda logits: f"after 200 epochs on 50 examples the training accuracy is {accuracy_of(logits, y):.2f}, "
                              "not 1.0: a 10-64-3 MLP can memorise them; is every step applied to every batch?")


def test_train_epoch_trains_in_training_mode(ex, pkg, rng):
    X, y = blobs(rng, n=20)
    probe = mode_layer(pkg)
    model = pkg.network.Sequential(linear(pkg, rng), probe)
    model.eval()
    untrained = copy.deepcopy(model)
    loss = ex.train_epoch(model, pkg.losses.SoftmaxCrossEntropy(), pkg.optim.SGD(model.parameters(), lr=0.1),
                          X, y, batch_size=10, rng=own_rng())
    check_that("the training flag of every forward call during train_epoch", probe.modes,
               lambda modes: len(modes) > 0 and all(modes),
               lambda modes: f"during train_epoch the layers saw training={modes}: call model.train() first (a "
                             "model may come from evaluate or from eval()).")
    check_close_ref("the mean loss train_epoch returned (SGD, lr 0.1, batch 10, N = 20)", loss,
                    lambda: pytorch_epoch(untrained, X, y, 10, 0, momentum=0.0)[1])


@pytest.mark.fact  # an exception's class and words, and parameters that stay finite (zeros are)
def test_train_epoch_names_the_epoch_and_batch_where_the_loss_becomes_nan(ex, pkg, rng):
    X, y = blobs(rng, n=40)
    model, optimizer = diverging_model(pkg, rng, after_steps=2)  # batch 3's loss is inf
    with np.errstate(all="ignore"):
        check_raises("train_epoch(..., epoch=4) on a model whose loss becomes inf in batch 3", FloatingPointError,
                     lambda: ex.train_epoch(model, pkg.losses.SoftmaxCrossEntropy(), optimizer, X, y,
                                            batch_size=10, rng=own_rng(), epoch=4),
                     match=r"epoch 4\b(?s:.*)batch 3\b|batch 3\b(?s:.*)epoch 4\b",
                     message=raised_message(
                         "FloatingPointError",
                         "the loss became NaN in batch 3 and train_epoch went on: raise "
                         "TrainingDiverged(epoch, batch, n_batches, loss) when the loss is not finite.",
                         lambda text: f"the divergence message {text!r} must name epoch 4 and batch 3 (numbered "
                                      "from 1)."))
    check_that("the parameters after the divergence", [p.data for p in model.parameters()],
               lambda arrays: all(np.all(np.isfinite(a)) for a in arrays),
               "the parameters contain NaN: stop before backward and step of the batch whose loss is not finite.")


# ----------------------------------------------------------------------------------------------------
# evaluate

def test_evaluate_returns_the_mean_loss_and_the_accuracy(ex, pkg, rng):
    n, batch_size = 103, 20
    X, y = blobs(rng, n=n, spread=3.0)  # overlapping clusters: an accuracy strictly between 0 and 1
    model = mlp(pkg, rng)
    model_before = copy.deepcopy(model)
    logits = once(lambda: predictions(copy.deepcopy(model_before), X))
    loss, acc = ex.evaluate(model, pkg.losses.SoftmaxCrossEntropy(), X, y, batch_size=batch_size)

    def batch_losses():
        reference_loss = pkg.losses.SoftmaxCrossEntropy()
        return [reference_loss.forward(logits()[s:s + batch_size], y[s:s + batch_size])
                for s in range(0, n, batch_size)]

    check_close_ref("the loss returned by evaluate", loss, lambda: torch_loss_and_accuracy(model_before, X, y)[0],
                    alternatives=lambda: [(np.mean(batch_losses()), (
                        "the plain mean of the batch losses: weight each batch by its size (the last holds 3 of 103 "
                        "examples)."))])
    correct = lambda: np.argmax(logits(), axis=1) == y  # noqa: E731
    check_close_ref("the accuracy returned by evaluate", acc, lambda: torch_loss_and_accuracy(model_before, X, y)[1],
                    alternatives=lambda: [(correct().sum(), "the number of correct predictions: divide by N for a "
                                                            "fraction in [0, 1]."),
                                          (1 - correct().mean(), "the error rate, 1 - accuracy.")])


def test_evaluate_runs_in_eval_mode_and_restores_the_mode(ex, pkg, rng):
    X, y = blobs(rng, n=30, spread=2.0)
    layer = linear(pkg, rng)
    probe = mode_layer(pkg)
    model = pkg.network.Sequential(layer, probe)
    W, b = layer.W.data.copy(), layer.b.data.copy()
    model.train()
    loss, _ = ex.evaluate(model, pkg.losses.SoftmaxCrossEntropy(), X, y, batch_size=8)
    modes, training_after = list(probe.modes), model.training
    check_close_ref("the loss returned by evaluate", loss,
                    lambda: F.cross_entropy(F.linear(*map(torch.tensor, (X, W.T, b))), torch.tensor(y)).item(),
                    alternatives=lambda: [(pkg.losses.SoftmaxCrossEntropy().forward(0.5 * (X @ W + b), y), (
                        "the loss in training mode: call model.eval() before the forward passes (dropout and batch "
                        "norm behave differently)."))])
    check_that("the training flag of every forward call during evaluate", modes,
               lambda modes: len(modes) > 0 and not any(modes),
               lambda modes: f"during evaluate the layers saw training={modes}: call model.eval() before the "
                             "forward passes.")
    check_equal("model.training after evaluate of a model in training mode", training_after, True,
                "evaluate left the model in eval mode although it was training: restore the previous mode at "
                "the end.")


def test_evaluate_changes_neither_parameters_nor_gradients(ex, pkg, rng):
    X, y = blobs(rng, n=30)
    model = mlp(pkg, rng)
    for p in model.parameters():
        p.grad[...] = rng.standard_normal(p.grad.shape)
    before = [(p.data.copy(), p.grad.copy()) for p in model.parameters()]
    model_before = copy.deepcopy(model)
    loss, _ = ex.evaluate(model, pkg.losses.SoftmaxCrossEntropy(), X, y)
    check_close_ref("the loss returned by evaluate", loss, lambda: torch_loss_and_accuracy(model_before, X, y)[0])
    for (name, p), (data, grad) in zip(model.named_parameters(), before):
        check_unchanged(f"evaluate ({name} values)", data, p.data)
        check_unchanged(f"evaluate ({name} gradient: no backward pass in evaluate)", grad, p.grad)


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
                    lambda: np.array(expected()["loss"]))
    check_close_ref("history['train_accuracy']", np.array(history["train_accuracy"], dtype=float),
                    lambda: np.array(expected()["train_accuracy"]),
                    alternatives=lambda: [(np.array(history["test_accuracy"]), (
                        "the test accuracy: train_accuracy is measured on the training data."))])
    check_close_ref("history['test_accuracy']", np.array(history["test_accuracy"], dtype=float),
                    lambda: np.array(expected()["test_accuracy"]),
                    alternatives=lambda: [(np.array(history["train_accuracy"]), (
                        "the training accuracy: test_accuracy is measured on (X_test, y_test)."))])
    norms = np.array([[entry[name] for name in names] for entry in history["grad_norms"]], dtype=float)
    check_close_ref("history['grad_norms'] (each entry's norms, in the order of named_parameters())", norms,
                    lambda: np.array(expected()["grad_norms"]))
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


@pytest.mark.fact
def test_train_epoch_treats_an_infinite_loss_as_diverged(ex, pkg, rng):
    X, y = blobs(rng, n=40)

    class InfiniteInBatch3(pkg.losses.SoftmaxCrossEntropy):
        """The reference loss, except that batch 3's value is +inf (its gradient stays finite)."""
        calls = 0

        def forward(self, logits, labels):
            self.calls += 1
            loss = super().forward(logits, labels)
            return float("inf") if self.calls == 3 else loss

    model = pkg.network.Sequential(linear(pkg, rng))
    optimizer = pkg.optim.SGD(model.parameters(), lr=0.1)
    check_raises("train_epoch on a loss that is +inf in batch 3", FloatingPointError,
                 lambda: ex.train_epoch(model, InfiniteInBatch3(), optimizer, X, y, batch_size=10, rng=own_rng()),
                 message="the loss was +inf in batch 3 and train_epoch went on: an infinite loss has diverged too "
                         "(the docstring says NaN or infinite); test np.isfinite(loss), not only np.isnan.")

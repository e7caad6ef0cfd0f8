"""Exercise 8 (training), the loop: train_epoch and evaluate (fit and the MNIST model: test_training_fit.py).

Shared models and data come from test_training.py, whose docstring says how these tests are judged: the
learner's half trains with the learner's code, the judge's half with the reference, on the same data.
"""

import copy

import numpy as np
import pytest

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
    mean, unweighted mean, every batch weighted by batch_size, the batch losses)."""
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
    return (model, float(np.dot(losses, sizes) / n), float(np.mean(losses)), float(np.sum(losses) * batch_size / n),
            losses)


def pytorch_epoch(model, X, y, batch_size, seed, momentum=0.9):
    """PyTorch's run of the same loop (torch.optim.SGD, F.cross_entropy) on a copy of `model`'s weights: returns
    ({parameter name: values after the epoch}, weighted mean loss). Judge only."""
    params = pytorch_fit(model, X, y, X, y, batch_size, np.random.default_rng(seed), 1, lr=0.1, momentum=momentum)
    return params["params"], params["loss"][0]


def pytorch_fit(model, X, y, X_test, y_test, batch_size, shuffling, epochs, *, lr, momentum):
    """PyTorch's run of fit's loop on a copy of `model`'s weights (torch.optim.SGD, F.cross_entropy), each epoch's
    order drawn as shuffling.permutation(N), as minibatches' docstring says (NumPy's generator has no PyTorch
    counterpart): fit's history lists, "train_eval_loss" (evaluate's loss on the training data after each epoch),
    "param_norms" (of the values, for diagnoses) and "params", {name: values after the last epoch}. Judge only."""
    params, forward = torch_network(model)
    optimizer = torch.optim.SGD(list(params.values()), lr=lr, momentum=momentum)
    n = len(X)
    history = {"loss": [], "train_accuracy": [], "test_accuracy": [], "grad_norms": [], "train_eval_loss": [],
               "param_norms": []}
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
        history["param_norms"].append([torch.linalg.norm(p).item() for p in params.values()])
        with torch.no_grad():
            for key, inputs, labels in (("train_accuracy", X, y), ("test_accuracy", X_test, y_test)):
                history[key].append(float((forward(inputs).argmax(dim=1).numpy() == labels).mean()))
            history["train_eval_loss"].append(F.cross_entropy(forward(X), torch.tensor(y)).item())
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
    means = once(lambda: written_out_epoch(pkg, copy.deepcopy(untrained), X, y, 16, 3))
    check_close_ref("the mean loss returned by train_epoch", loss, lambda: expected()[1],
                    alternatives=lambda: [(means()[2], (
                        "the plain mean of the batch losses: weight each batch's mean by its size and divide by N, "
                        "so the short last batch (2 of 50 examples) does not count as much as a full one.")),
                        (means()[3], "the batch losses each weighted by batch_size, the short last batch too: weigh "
                                     "each by what it holds, len(X_batch) (2 of 50 examples in the last)."),
                        (means()[1] * 50 / 64, "the summed loss divided by n_batches * batch_size = 64: divide by N "
                                               "= 50, the examples there are (the last batch is short)."),
                        (means()[4][-1], "the last batch's loss only: add every batch's loss (times its size) up "
                                         "and divide by N once the epoch is over."),
                        (means()[1] * 50, "the total over the examples, not divided by N = 50: return the mean."),
                        (float(np.sum(means()[4])), "the sum of the batch losses: weight each by its size and "
                                                    "divide by N.")])


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
    X, y = blobs(rng, n=45)  # 5 batches of 10, the last holding 5
    model, optimizer = diverging_model(pkg, rng, after_steps=2)  # batch 3's loss is inf
    with np.errstate(all="ignore"):
        check_raises("train_epoch(..., epoch=4) on a model whose loss becomes inf in batch 3", FloatingPointError,
                     lambda: ex.train_epoch(model, pkg.losses.SoftmaxCrossEntropy(), optimizer, X, y,
                                            batch_size=10, rng=own_rng(), epoch=4),
                     match=r"epoch 4\b(?s:.*)batch 3 of 5\b|batch 3 of 5\b(?s:.*)epoch 4\b",
                     message=raised_message(
                         "FloatingPointError",
                         "the loss became NaN in batch 3 and train_epoch went on: raise "
                         "TrainingDiverged(epoch, batch, n_batches, loss) when the loss is not finite.",
                         lambda text: f"the divergence message {text!r} must name epoch 4 and batch 3 of 5 "
                                      "(numbered from 1; N = 45 in batches of 10 makes ceil(45 / 10) = 5 batches, "
                                      "the short last batch counted: round up, not N // batch_size)."))
    check_that("the parameters after the divergence", [p.data for p in model.parameters()],
               lambda arrays: all(np.all(np.isfinite(a)) for a in arrays),
               "the parameters contain NaN: the update of the batch whose loss is not finite was applied. Check the "
               "loss as soon as it is computed, before the update (backward and step), and raise there.")


def test_train_epoch_draws_a_new_order_from_its_rng_every_epoch(ex, pkg, rng):
    X, y = blobs(rng, n=30)
    X[:, 0] = np.arange(30)  # the first input is the example's index: a probe reads the order off it

    class Probe(pkg.layers.Layer):
        """The identity, recording the example indices of every training batch."""
        def __init__(self):
            super().__init__()
            self.seen = []

        def forward(self, x):
            if self.training:
                self.seen.append(x[:, 0].copy())
            return x

        def backward(self, grad_out):
            return grad_out

    probe = Probe()
    model = pkg.network.Sequential(probe, linear(pkg, rng))
    optimizer = pkg.optim.SGD(model.parameters(), lr=0.001)
    shuffling = np.random.default_rng(5)
    orders = []
    for epoch in (1, 2):
        probe.seen = []
        ex.train_epoch(model, pkg.losses.SoftmaxCrossEntropy(), optimizer, X, y, batch_size=8, rng=shuffling,
                       epoch=epoch)
        orders.append(np.concatenate(probe.seen) if probe.seen else np.zeros(0))
    check_that("the example orders of two epochs of train_epoch with one generator", orders,
               lambda pair: len(pair[0]) == len(pair[1]) == 30 and not np.array_equal(pair[0], pair[1]),
               lambda pair: "two epochs with the same generator saw the same order of examples: draw each epoch's "
                            "order from the rng passed in (it advances from epoch to epoch), not from a generator "
                            "seeded anew every epoch or a fixed seed." if np.array_equal(pair[0], pair[1]) else
                            f"the epochs saw {len(pair[0])} and {len(pair[1])} examples of 30.")
    permutations = once(lambda: [(g := np.random.default_rng(5)).permutation(30), g.permutation(30)])
    for epoch, order in enumerate(orders, start=1):
        check_close_ref(f"the example order of epoch {epoch} (rng=np.random.default_rng(5) passed to train_epoch)",
                        order, lambda epoch=epoch: permutations()[epoch - 1].astype(float), alternatives=lambda: [
                            (np.arange(30), "the original order: pass rng to minibatches so every epoch is "
                                            "shuffled.")])


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
                        "examples).")),
                        (batch_losses()[-1], "the last batch's loss only: add every batch's loss (times its size) "
                                             "up and divide by N."),
                        (float(np.sum(batch_losses())), "the sum of the batch losses: weight each by its size and "
                                                        "divide by N."),
                        (float(np.dot(batch_losses(), [len(y[s:s + batch_size]) for s in range(0, n, batch_size)])),
                         "the total over the examples, not divided by N: return the mean.")])
    correct = lambda: np.argmax(logits(), axis=1) == y  # noqa: E731
    check_close_ref("the accuracy returned by evaluate", acc, lambda: torch_loss_and_accuracy(model_before, X, y)[1],
                    alternatives=lambda: [(correct().sum(), "the number of correct predictions: divide by N for a "
                                                            "fraction in [0, 1]."),
                                          (1 - correct().mean(), "the error rate, 1 - accuracy."),
                                          (correct()[n - n % batch_size:].sum() / n, "the last batch's correct "
                                           "predictions only, over N: add (+=) every batch's count, not assign (=)."),
                                          (correct().sum() // n, "the count divided with // (floor division), which "
                                                                 "rounds the accuracy down to 0: divide with /."),
                                          (np.mean(np.max(logits(), axis=1) == y), "the largest logit's VALUE "
                                           "compared with the labels (max instead of argmax): compare its index, "
                                           "np.argmax(logits, axis=1), with y."),
                                          (np.mean(np.concatenate([
                                              np.argmax(logits()[s:s + batch_size]) == y[s:s + batch_size]
                                              for s in range(0, n, batch_size)])),
                                           "np.argmax without axis=1, an index into the whole flattened batch: take "
                                           "the argmax of each row, np.argmax(logits, axis=1).")])


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
    model.eval()
    ex.evaluate(model, pkg.losses.SoftmaxCrossEntropy(), X, y, batch_size=8)
    check_equal("model.training after evaluate of a model in eval mode", model.training, False,
                "evaluate put a model that was in eval mode into training mode: restore the mode it had "
                "(model.train() only if it was training), not always training mode.")


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

"""Exercise 8 (training): mini-batches, train_epoch, evaluate, fit, gradient norms and their health.

Expected values come from closed forms (accuracy = mean of argmax == label, Frobenius norms), from a
training loop written out in this file with the reference optimiser and loss (the same steps the
docstrings prescribe), and from the reference loss on the whole data set at once. Known-wrong
alternatives (no zero_grad, unweighted means, no shuffling...) are simulated here as well.
"""

import copy

import numpy as np
import pytest

from grader.data import mnist
from grader.feedback.diagnose import check_close
from helpers import assert_unchanged


# ----------------------------------------------------------------------------------------------------
# Small models and data, all built from `pkg` (the reference for every module except training).

def mlp(pkg, rng, sizes=(4, 16, 3), activation="ReLU", init="he", dtype=np.float64):
    layers = []
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if k:
            layers.append(getattr(pkg.activations, activation)())
        layers.append(pkg.layers.Linear(n_in, n_out, rng=rng, init=init, dtype=dtype))
    return pkg.network.Sequential(*layers)


def blobs(rng, n=60, dim=4, classes=3, spread=0.5):
    """Well separated Gaussian clusters: a problem any MLP learns quickly."""
    centers = 3.0 * rng.standard_normal((classes, dim))
    y = rng.integers(0, classes, size=n)
    X = centers[y] + spread * rng.standard_normal((n, dim))
    return X, y


def accuracy(model, X, y):
    """Closed form: the fraction of rows whose largest logit is at the label (model in eval mode)."""
    model.eval()
    result = float(np.mean(np.argmax(model.forward(X), axis=1) == y))
    model.train()
    return result


def mode_layer(pkg):
    """A parameter-free layer that halves its input in training mode and is the identity in eval mode
    (like dropout, it behaves differently in the two modes); it records the mode of every call."""

    class HalvesWhileTraining(pkg.layers.Layer):
        def __init__(self):
            super().__init__()
            self.modes = []

        def forward(self, x):
            self.modes.append(self.training)
            return 0.5 * x if self.training else x

        def backward(self, grad_out):
            return 0.5 * grad_out if self.training else grad_out

    return HalvesWhileTraining()


def blow_up_layer(pkg, at_call):
    """Identity, except that its `at_call`-th forward in training mode returns inf (a diverged net)."""

    class BlowsUp(pkg.layers.Layer):
        def __init__(self):
            super().__init__()
            self.calls = 0

        def forward(self, x):
            if self.training:
                self.calls += 1
                if self.calls == at_call:
                    return np.full_like(x, np.inf)
            return x

        def backward(self, grad_out):
            return grad_out

    return BlowsUp()


def ids_data(rng, n):
    """X whose first column is the example's index, y = the index too: batches show which rows they hold."""
    X = np.column_stack([np.arange(n, dtype=np.float64), rng.standard_normal((n, 2))])
    return X, np.arange(n)


def collect(batches):
    batches = list(batches)
    xs = [xb for xb, _ in batches]
    ys = [yb for _, yb in batches]
    return xs, ys


# ----------------------------------------------------------------------------------------------------
# minibatches

def test_minibatches_hold_every_example_once_with_a_short_last_batch(ex, rng):
    n, batch_size = 23, 5
    X, y = ids_data(rng, n)
    xs, ys = collect(ex.minibatches(X, y, batch_size, rng=np.random.default_rng(1)))
    sizes = [len(b) for b in ys]
    assert sum(sizes) != n - n % batch_size, (
        f"the batches have sizes {sizes} and hold {sum(sizes)} of the {n} examples: the last "
        f"{n % batch_size} examples (N mod batch_size) are missing; keep the short last batch."
    )
    assert sizes == [5, 5, 5, 5, 3], f"batch sizes {sizes}; expected [5, 5, 5, 5, 3] for N = 23, batch_size = 5."
    seen = np.concatenate(ys)
    assert sorted(seen.tolist()) == list(range(n)), (
        f"over one epoch some examples appear twice and others never ({len(set(seen.tolist()))} distinct "
        "of 23): take consecutive slices of one permutation, do not draw indices with replacement."
    )
    for xb, yb in zip(xs, ys):
        assert np.array_equal(xb[:, 0], yb), (
            "a batch pairs inputs with the labels of other examples: X and y were shuffled with different "
            "orders. Index both with the same indices."
        )


def test_minibatches_follow_one_permutation_from_the_rng(ex, rng):
    n = 40
    X, y = ids_data(rng, n)
    _, ys = collect(ex.minibatches(X, y, 8, rng=np.random.default_rng(7)))
    order = np.concatenate(ys)
    check_close("the order of the examples over one epoch (shuffle=True)", order,
                np.random.default_rng(7).permutation(n),
                alternatives=[(np.arange(n), "the original order although shuffle=True: shuffle the indices "
                                             "with rng.permutation(N).")])
    _, again = collect(ex.minibatches(X, y, 8, rng=np.random.default_rng(7)))
    assert np.array_equal(np.concatenate(again), order), "the same seed must give the same batches."


def test_minibatches_without_shuffle_keep_the_original_order(ex, rng):
    X, y = ids_data(rng, 10)
    xs, ys = collect(ex.minibatches(X, y, 4, shuffle=False))
    assert [b.tolist() for b in ys] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]], (
        f"with shuffle=False the batches are {[b.tolist() for b in ys]}; expected consecutive slices "
        "[0..3], [4..7], [8, 9] in the original order."
    )
    check_close("the inputs of the batches without shuffling", np.concatenate(xs), X)


def test_minibatches_leave_the_data_unchanged(ex, rng):
    X, y = ids_data(rng, 30)
    X_before, y_before = X.copy(), y.copy()
    for _ in ex.minibatches(X, y, 7, rng=rng):
        pass
    assert_unchanged("minibatches (X)", X_before, X)
    assert_unchanged("minibatches (y)", y_before, y)


def test_minibatches_batch_larger_than_the_data_is_one_batch(ex, rng):
    X, y = ids_data(rng, 6)
    _, ys = collect(ex.minibatches(X, y, 100, rng=rng))
    assert len(ys) == 1 and len(ys[0]) == 6, f"batch_size 100 > N = 6 gave batches of sizes {[len(b) for b in ys]}."


def test_minibatches_reject_mismatched_data(ex, rng):
    X, y = ids_data(rng, 6)
    with pytest.raises(ValueError):
        list(ex.minibatches(X, y[:5], 2, rng=rng))


# ----------------------------------------------------------------------------------------------------
# gradient norms and their health

def test_gradient_norms_are_the_frobenius_norm_of_each_gradient(ex, pkg, rng):
    model = mlp(pkg, rng)
    for p in model.parameters():
        p.grad[...] = rng.standard_normal(p.grad.shape)
    got = ex.gradient_norms(model)
    names = [name for name, _ in model.named_parameters()]
    assert isinstance(got, dict) and list(got) == names, (
        f"gradient_norms returned keys {list(got) if isinstance(got, dict) else type(got).__name__}; "
        f"expected a dict with the names of model.named_parameters(): {names}."
    )
    for name, p in model.named_parameters():
        assert isinstance(got[name], float), f"gradient_norms()[{name!r}] is a {type(got[name]).__name__}, not a float."
        check_close(f"gradient_norms()[{name!r}]", got[name], np.linalg.norm(p.grad),
                    alternatives=[(np.sum(p.grad ** 2), "the squared norm: take the square root."),
                                  (np.linalg.norm(p.data), "the norm of the parameter's values p.data, not of "
                                                           "its gradient p.grad.")])


def backward_once(pkg, model, X, y):
    model.zero_grad()
    loss = pkg.losses.SoftmaxCrossEntropy()
    loss.forward(model.forward(X), y)
    model.backward(loss.backward())
    return {name: float(np.linalg.norm(p.grad)) for name, p in model.named_parameters()}


def flagged(warnings, word):
    return [w.split(":")[0] for w in warnings if word in w]


def test_gradient_health_flags_vanishing_gradients_in_a_deep_sigmoid_net(ex, pkg, rng):
    tiny = lambda fan_in, fan_out, r: 0.01 * r.standard_normal((fan_in, fan_out))  # noqa: E731
    model = mlp(pkg, rng, sizes=(16,) + (32,) * 7 + (3,), activation="Sigmoid", init=tiny)
    X, y = blobs(rng, n=32, dim=16)
    norms = backward_once(pkg, model, X, y)
    warnings = ex.check_gradient_health(norms)
    vanishing = flagged(warnings, "vanishing")
    assert "0.W" in vanishing, (
        f"in an 8-layer sigmoid net with weights of std 0.01 the first layer's gradient norm is "
        f"{norms['0.W']:.2g}, yet check_gradient_health flagged {vanishing or 'nothing'} as vanishing "
        f"(warnings: {warnings})."
    )
    last = list(norms)[-2]
    assert last not in vanishing, (
        f"the last layer's gradient ({norms[last]:.2g}) is healthy but was flagged as vanishing."
    )


def test_gradient_health_flags_exploding_gradients_with_huge_weights_and_unscaled_inputs(ex, pkg, rng):
    huge = lambda fan_in, fan_out, r: 3.0 * r.standard_normal((fan_in, fan_out))  # noqa: E731
    model = mlp(pkg, rng, sizes=(16, 64, 64, 64, 3), init=huge)
    X, y = blobs(rng, n=32, dim=16)
    norms = backward_once(pkg, model, 255.0 * X, y)  # pixels left in 0..255 instead of [0, 1]
    warnings = ex.check_gradient_health(norms)
    exploding = flagged(warnings, "exploding")
    assert "0.W" in exploding, (
        f"with weights of std 3 and inputs times 255 the first layer's gradient norm is {norms['0.W']:.3g}, "
        f"yet check_gradient_health flagged {exploding or 'nothing'} as exploding (warnings: {warnings})."
    )


def test_gradient_health_accepts_a_healthy_network(ex, pkg, rng):
    model = mlp(pkg, rng, sizes=(16, 64, 64, 3))
    X, y = blobs(rng, n=32, dim=16)
    norms = backward_once(pkg, model, X / np.abs(X).max(), y)
    warnings = ex.check_gradient_health(norms)
    assert warnings == [], f"a He-initialised ReLU net on inputs in [-1, 1] (norms {norms}) was flagged: {warnings}"


def test_gradient_health_uses_the_given_thresholds_and_flags_non_finite_norms(ex):
    norms = {"a": 0.5, "b": 5.0, "c": 50.0, "d": float("nan"), "e": float("inf")}
    warnings = ex.check_gradient_health(norms, vanishing=1.0, exploding=10.0)
    assert isinstance(warnings, list) and all(isinstance(w, str) for w in warnings), (
        "check_gradient_health must return a list of strings."
    )
    assert flagged(warnings, "not finite") == ["d", "e"], (
        f"NaN and inf norms must be reported as 'not finite' (got {warnings}); NaN compares False with "
        "every threshold, so test np.isfinite first."
    )
    assert flagged(warnings, "vanishing") == ["a"], f"with vanishing=1.0, norms {norms} gave {warnings}"
    assert flagged(warnings, "exploding") == ["c"], f"with exploding=10.0, norms {norms} gave {warnings}"


# ----------------------------------------------------------------------------------------------------
# train_epoch

def written_out_epoch(pkg, model, X, y, batch_size, seed, *, zero_grad=True, shuffle=True, drop_last=False):
    """The training loop of the docstring, step by step: returns (model, weighted mean, unweighted mean)."""
    optimizer = pkg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = pkg.losses.SoftmaxCrossEntropy()
    model.train()
    n = len(X)
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    losses, sizes = [], []
    for start in range(0, n, batch_size):
        index = order[start:start + batch_size]
        if drop_last and len(index) < batch_size:
            break
        if zero_grad:
            optimizer.zero_grad()
        losses.append(loss_fn.forward(model.forward(X[index]), y[index]))
        model.backward(loss_fn.backward())
        optimizer.step()
        sizes.append(len(index))
    return model, float(np.dot(losses, sizes) / n), float(np.mean(losses))


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
    copies = {name: copy.deepcopy(model) for name in ["expected", *EPOCH_MISTAKES]}
    optimizer = pkg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss = ex.train_epoch(model, pkg.losses.SoftmaxCrossEntropy(), optimizer, X, y, batch_size=16,
                          rng=np.random.default_rng(3))
    expected, weighted, unweighted = written_out_epoch(pkg, copies["expected"], X, y, 16, 3)
    alternatives = {name: written_out_epoch(pkg, copies[name], X, y, 16, 3, **options)[0]
                    for name, (options, _) in EPOCH_MISTAKES.items()}
    for (name, p), (_, q) in zip(model.named_parameters(), expected.named_parameters()):
        check_close(f"parameter {name} after one train_epoch (SGD, lr 0.1, momentum 0.9, batch 16, N = 50)",
                    p.data, q.data,
                    alternatives=[(dict(alternatives[m].named_parameters())[name].data, EPOCH_MISTAKES[m][1])
                                  for m in EPOCH_MISTAKES])
    check_close("the mean loss returned by train_epoch", loss, weighted,
                alternatives=[(unweighted, "the plain mean of the batch losses: weight each batch's mean by its "
                                           "size and divide by N, so the short last batch (2 of 50 examples) "
                                           "does not count as much as a full one.")])


def test_train_epoch_lowers_the_loss_on_separable_data(ex, pkg, rng):
    X, y = blobs(rng, n=200)
    model = mlp(pkg, rng)
    optimizer = pkg.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = pkg.losses.SoftmaxCrossEntropy()
    losses = [ex.train_epoch(model, loss_fn, optimizer, X, y, batch_size=20, rng=rng) for _ in range(5)]
    assert losses[-1] < 0.5 * losses[0], (
        f"five epochs on well separated clusters gave mean losses {np.round(losses, 4).tolist()}: the loss "
        "should at least halve. Check the order zero_grad, forward, loss, backward, step."
    )


def test_train_epoch_memorises_50_examples(ex, pkg, rng):
    X = rng.standard_normal((50, 10))
    y = rng.integers(0, 3, size=50)  # random labels: only memorising can fit them
    model = mlp(pkg, rng, sizes=(10, 64, 3))
    optimizer = pkg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = pkg.losses.SoftmaxCrossEntropy()
    for epoch in range(1, 201):
        ex.train_epoch(model, loss_fn, optimizer, X, y, batch_size=10, rng=rng, epoch=epoch)
        if accuracy(model, X, y) == 1.0:
            return
    raise AssertionError(f"after 200 epochs on 50 examples the training accuracy is {accuracy(model, X, y):.2f}, "
                         "not 1.0: a 10-64-3 MLP can memorise them; is every step applied to every batch?")


def test_train_epoch_trains_in_training_mode(ex, pkg, rng):
    X, y = blobs(rng, n=20)
    probe = mode_layer(pkg)
    model = pkg.network.Sequential(pkg.layers.Linear(4, 3, rng=rng), probe)
    model.eval()
    ex.train_epoch(model, pkg.losses.SoftmaxCrossEntropy(), pkg.optim.SGD(model.parameters(), lr=0.1),
                   X, y, batch_size=10, rng=rng)
    assert probe.modes and all(probe.modes), (
        f"during train_epoch the layers saw training={probe.modes}: call model.train() first (a model may "
        "come from evaluate or from eval())."
    )


def test_train_epoch_names_the_epoch_and_batch_where_the_loss_becomes_nan(ex, pkg, rng):
    X, y = blobs(rng, n=40)
    model = pkg.network.Sequential(pkg.layers.Linear(4, 3, rng=rng), blow_up_layer(pkg, at_call=3))
    optimizer = pkg.optim.SGD(model.parameters(), lr=0.1)
    with np.errstate(all="ignore"):
        try:
            ex.train_epoch(model, pkg.losses.SoftmaxCrossEntropy(), optimizer, X, y, batch_size=10, rng=rng,
                           epoch=4)
        except FloatingPointError as error:
            message = str(error)
        else:
            raise AssertionError("the loss became NaN in batch 3 and train_epoch went on: raise "
                                 "TrainingDiverged(epoch, batch, n_batches, loss) when the loss is not finite.")
    assert "epoch 4" in message and "batch 3" in message, (
        f"the divergence message {message!r} must name epoch 4 and batch 3 (numbered from 1)."
    )
    assert all(np.all(np.isfinite(p.data)) for p in model.parameters()), (
        "the parameters contain NaN: stop before backward and step of the batch whose loss is not finite."
    )


# ----------------------------------------------------------------------------------------------------
# evaluate

def test_evaluate_returns_the_mean_loss_and_the_accuracy(ex, pkg, rng):
    n, batch_size = 103, 20
    X, y = blobs(rng, n=n, spread=3.0)  # overlapping clusters: an accuracy strictly between 0 and 1
    model = mlp(pkg, rng)
    reference_loss = pkg.losses.SoftmaxCrossEntropy()
    model.eval()
    logits = model.forward(X)
    expected_loss = reference_loss.forward(logits, y)
    correct = np.argmax(logits, axis=1) == y
    batch_losses = [reference_loss.forward(logits[s:s + batch_size], y[s:s + batch_size])
                    for s in range(0, n, batch_size)]
    model.train()
    loss, acc = ex.evaluate(model, pkg.losses.SoftmaxCrossEntropy(), X, y, batch_size=batch_size)
    check_close("the loss returned by evaluate", loss, expected_loss,
                alternatives=[(np.mean(batch_losses), "the plain mean of the batch losses: weight each batch "
                                                      "by its size (the last holds 3 of 103 examples).")])
    check_close("the accuracy returned by evaluate", acc, correct.mean(),
                alternatives=[(correct.sum(), "the number of correct predictions: divide by N for a fraction "
                                              "in [0, 1]."),
                              (1 - correct.mean(), "the error rate, 1 - accuracy.")])


def test_evaluate_runs_in_eval_mode_and_restores_the_mode(ex, pkg, rng):
    X, y = blobs(rng, n=30, spread=2.0)
    probe = mode_layer(pkg)
    model = pkg.network.Sequential(pkg.layers.Linear(4, 3, rng=rng), probe)
    model.eval()
    eval_loss = pkg.losses.SoftmaxCrossEntropy().forward(model.forward(X), y)
    model.train()
    train_loss = pkg.losses.SoftmaxCrossEntropy().forward(model.forward(X), y)
    probe.modes.clear()
    loss, _ = ex.evaluate(model, pkg.losses.SoftmaxCrossEntropy(), X, y, batch_size=8)
    check_close("the loss returned by evaluate", loss, eval_loss,
                alternatives=[(train_loss, "the loss in training mode: call model.eval() before the forward "
                                           "passes (dropout and batch norm behave differently).")])
    assert probe.modes and not any(probe.modes), f"during evaluate the layers saw training={probe.modes}."
    assert model.training, ("evaluate left the model in eval mode although it was training: restore the "
                            "previous mode at the end.")


def test_evaluate_changes_neither_parameters_nor_gradients(ex, pkg, rng):
    X, y = blobs(rng, n=30)
    model = mlp(pkg, rng)
    for p in model.parameters():
        p.grad[...] = rng.standard_normal(p.grad.shape)
    before = [(p.data.copy(), p.grad.copy()) for p in model.parameters()]
    ex.evaluate(model, pkg.losses.SoftmaxCrossEntropy(), X, y)
    for (name, p), (data, grad) in zip(model.named_parameters(), before):
        assert_unchanged(f"evaluate ({name} values)", data, p.data)
        assert_unchanged(f"evaluate ({name} gradient: no backward pass in evaluate)", grad, p.grad)


# ----------------------------------------------------------------------------------------------------
# fit

def test_fit_records_one_entry_per_epoch(ex, pkg, rng):
    X, y = blobs(rng, n=80)
    X_test, y_test = blobs(rng, n=40)
    model = mlp(pkg, rng)
    optimizer = pkg.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    history = ex.fit(model, pkg.losses.SoftmaxCrossEntropy(), optimizer, X, y, X_test, y_test,
                     epochs=3, batch_size=16, rng=rng)
    keys = {"loss", "train_accuracy", "test_accuracy", "grad_norms"}
    assert isinstance(history, dict) and keys <= set(history), (
        f"fit must return a dict with the lists {sorted(keys)}; got {sorted(history) if isinstance(history, dict) else history}."
    )
    lengths = {key: len(history[key]) for key in keys}
    assert set(lengths.values()) == {3}, f"after 3 epochs the history lists have lengths {lengths}; expected 3 each."
    names = [name for name, _ in model.named_parameters()]
    assert all(isinstance(g, dict) and list(g) == names for g in history["grad_norms"]), (
        f"each grad_norms entry must be gradient_norms(model), a dict over {names}."
    )
    check_close("history['train_accuracy'][-1]", history["train_accuracy"][-1], accuracy(model, X, y),
                alternatives=[(accuracy(model, X_test, y_test), "the test accuracy: train_accuracy is measured "
                                                                "on the training data.")])
    check_close("history['test_accuracy'][-1]", history["test_accuracy"][-1], accuracy(model, X_test, y_test))
    assert history["loss"][-1] < history["loss"][0], f"the training loss did not decrease: {history['loss']}"


def test_fit_calls_the_callback_after_each_epoch_and_stops_when_it_returns_true(ex, pkg, rng):
    X, y = blobs(rng, n=40)
    model = mlp(pkg, rng)
    calls = []

    def callback(epoch, history):
        calls.append((epoch, len(history["loss"])))
        return epoch == 2

    history = ex.fit(model, pkg.losses.SoftmaxCrossEntropy(), pkg.optim.SGD(model.parameters(), lr=0.05),
                     X, y, X, y, epochs=5, batch_size=10, rng=rng, callback=callback)
    assert calls == [(1, 1), (2, 2)], (
        f"callback was called as (epoch, entries in history) = {calls}; expected [(1, 1), (2, 2)]: call it "
        "after each epoch's entries are appended, epochs numbered from 1, and stop when it returns True."
    )
    assert len(history["loss"]) == 2, f"training went on for {len(history['loss'])} epochs after the callback said stop."


def test_fit_names_the_epoch_where_training_diverges(ex, pkg, rng):
    X, y = blobs(rng, n=32)
    model = pkg.network.Sequential(pkg.layers.Linear(4, 3, rng=rng), blow_up_layer(pkg, at_call=3))
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError) as error:
        ex.fit(model, pkg.losses.SoftmaxCrossEntropy(), pkg.optim.SGD(model.parameters(), lr=0.1),
               X, y, X, y, epochs=3, batch_size=16, rng=rng)
    assert "epoch 2" in str(error.value) and "batch 1" in str(error.value), (
        f"with 2 batches per epoch the third training batch is epoch 2, batch 1; the message was {str(error.value)!r}. "
        "Pass the epoch number (from 1) to train_epoch."
    )


# ----------------------------------------------------------------------------------------------------
# the MNIST model

def test_build_mnist_model_maps_784_pixels_to_10_float32_logits(ex, rng):
    model = ex.build_mnist_model(rng)
    out = model.forward(rng.random((5, 784), dtype=np.float32))
    assert out.shape == (5, 10), f"the MNIST model maps (5, 784) to {out.shape}; expected (5, 10) logits."
    weights = [p for p in model.parameters() if p.data.ndim == 2]
    assert 2 <= len(weights) <= 3, f"the MNIST model has {len(weights)} weight matrices; build a 2-3 layer MLP."
    not_float32 = [name for name, p in model.named_parameters() if p.data.dtype != np.float32]
    assert not not_float32 and out.dtype == np.float32, (
        f"parameters {not_float32} (output {out.dtype}) are not float32: pass dtype=np.float32 to Linear; "
        "float32 trains about twice as fast."
    )


def test_build_mnist_model_learns_a_2000_image_subset_of_mnist(ex, pkg, rng):
    settings = ex.MNIST_SETTINGS
    assert {"epochs", "batch_size", "lr", "momentum"} <= set(settings), f"MNIST_SETTINGS is {settings}"
    # Both subsets from the smaller test file (10,000 images load 6 times faster than 60,000); they do
    # not overlap, so the accuracy is still measured on images the model never saw.
    images, labels = mnist.load("test")
    X, y = images[:2000], labels[:2000]
    X_test, y_test = images[5000:6000], labels[5000:6000]
    model = ex.build_mnist_model(rng)
    optimizer = pkg.optim.SGD(model.parameters(), lr=settings["lr"], momentum=settings["momentum"])
    loss_fn = pkg.losses.SoftmaxCrossEntropy()
    for epoch in range(1, 6):
        ex.train_epoch(model, loss_fn, optimizer, X, y, batch_size=settings["batch_size"], rng=rng, epoch=epoch)
    test_accuracy = accuracy(model, X_test, y_test)
    assert test_accuracy > 0.85, (
        f"5 epochs on 2000 MNIST images gave a test accuracy of {test_accuracy:.3f} on 1000 other images "
        "(a 784-256-128-10 MLP reaches 0.9 to 0.92): check the model and MNIST_SETTINGS."
    )

"""Exercise 8 (training): mini-batches, train_epoch, evaluate, fit, gradient norms and their health.

Each test runs twice on the same data: the learner's half trains with the learner's code, the judge's
half with the reference. What the docstrings fix exactly is judged exactly: the order of the batches
drawn from a given generator, the parameters after an epoch on given batches (against a training loop
written out in this file with the reference optimiser and loss), the history fit returns (against the
reference's run). What is only a property (a loss that halves, 50 examples memorised, an accuracy on
MNIST) is judged from the raw losses or predictions, the accuracy computed by the judge from the
predictions and the labels. The learner's functions get generators of their own (`own_rng`) for
everything random by design; the test's `rng` draws the data. Known-wrong alternatives (no zero_grad,
unweighted means, no shuffling, the global generator...) are simulated by the judge.
"""

import copy

import numpy as np
import pytest

from grader.data import mnist
from grader.feedback.checks import check_close, check_equal, check_raises, check_that, check_unchanged
from helpers import once, own_rng



# ----------------------------------------------------------------------------------------------------
# Small models and data, all built from `pkg` (the reference for every module except training).

def mlp(pkg, rng, sizes=(4, 16, 3), activation="ReLU", std=None, dtype=np.float64):
    """An MLP whose weights come from the test's generator: He-scaled (std sqrt(2 / fan_in)) unless `std`
    is given; biases stay zero."""
    layers = []
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if k:
            layers.append(getattr(pkg.activations, activation)())
        layer = pkg.layers.Linear(n_in, n_out, rng=own_rng(), dtype=dtype)
        scale = np.sqrt(2.0 / n_in) if std is None else std
        layer.W.data[...] = scale * rng.standard_normal((n_in, n_out))
        layers.append(layer)
    return pkg.network.Sequential(*layers)


def linear(pkg, rng, n_in=4, n_out=3):
    layer = pkg.layers.Linear(n_in, n_out, rng=own_rng())
    layer.W.data[...] = rng.standard_normal((n_in, n_out))
    layer.b.data[...] = rng.standard_normal(n_out)
    return layer


def blobs(rng, n=60, dim=4, classes=3, spread=0.5):
    """Well separated Gaussian clusters: a problem any MLP learns quickly."""
    centers = 3.0 * rng.standard_normal((classes, dim))
    y = rng.integers(0, classes, size=n)
    X = centers[y] + spread * rng.standard_normal((n, dim))
    return X, y


def accuracy_of(logits, y):
    """The fraction of rows whose largest logit is at the label (the judge's, from raw predictions)."""
    logits = np.asarray(logits)
    return float(np.mean(np.argmax(logits, axis=1) == y))


def predictions(model, X):
    """The model's logits on X in eval mode (the model's mode is restored)."""
    was_training = model.training
    model.eval()
    logits = model.forward(X)
    if was_training:
        model.train()
    return logits


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


def counting_sgd(pkg, params, lr):
    """The reference SGD, counting its steps."""

    class CountingSGD(pkg.optim.SGD):
        steps = 0

        def step(self):
            super().step()
            self.steps += 1

    return CountingSGD(params, lr=lr)


def blow_up_layer(pkg, optimizer, after_steps):
    """Identity, except in training mode while `optimizer` has made exactly `after_steps` steps: then it
    returns inf, so the loss of training batch number after_steps + 1 is not finite (a diverged net).
    Counting steps rather than forward calls keeps the batch the same whatever else runs forward in
    between (an evaluation that forgot model.eval(), for instance)."""

    class BlowsUp(pkg.layers.Layer):
        def forward(self, x):
            if self.training and optimizer.steps == after_steps:
                return np.full_like(x, np.inf)
            return x

        def backward(self, grad_out):
            return grad_out

    return BlowsUp()


def diverging_model(pkg, rng, after_steps):
    """(model, optimizer): a Linear layer followed by a blow-up layer, trained by a counting SGD."""
    layer = linear(pkg, rng)
    optimizer = counting_sgd(pkg, layer.parameters(), lr=0.1)
    return pkg.network.Sequential(layer, blow_up_layer(pkg, optimizer, after_steps)), optimizer


def ids_data(rng, n):
    """X whose first column is the example's index, y = the index too: batches show which rows they hold."""
    X = np.column_stack([np.arange(n, dtype=np.float64), rng.standard_normal((n, 2))])
    return X, np.arange(n)


def collect(batches):
    batches = list(batches)
    xs = [xb for xb, _ in batches]
    ys = [yb for _, yb in batches]
    return xs, ys


def raised_message(expected_kind, not_raised, wrong_text):
    """A check_raises message (a callable of the observed outcome): `not_raised` when nothing was raised,
    else what was raised and `wrong_text`."""

    def message(outcome):
        raised = outcome.get("raised") if isinstance(outcome, dict) else None
        text = str(outcome.get("message", ""))[:300] if isinstance(outcome, dict) else ""
        if not raised:
            return not_raised
        if expected_kind not in raised:
            return f"it raised {raised[0]} ({text}); expected {expected_kind}."
        return wrong_text(text)

    return message


# ----------------------------------------------------------------------------------------------------
# minibatches

def test_minibatches_hold_every_example_once_with_a_short_last_batch(ex, rng):
    n, batch_size = 23, 5
    X, y = ids_data(rng, n)
    xs, ys = collect(ex.minibatches(X, y, batch_size, rng=own_rng(1)))
    sizes = [len(b) for b in ys]

    def sizes_message(sizes):
        if sum(sizes) == n - n % batch_size:
            return (f"the batches have sizes {sizes} and hold {sum(sizes)} of the {n} examples: the last "
                    f"{n % batch_size} examples (N mod batch_size) are missing; keep the short last batch.")
        return f"batch sizes {sizes}; expected [5, 5, 5, 5, 3] for N = 23, batch_size = 5."

    check_that("the batch sizes for N = 23, batch_size = 5", sizes, lambda s: list(s) == [5, 5, 5, 5, 3],
               sizes_message)
    seen = np.concatenate(ys)
    check_that("the labels of one epoch's batches, together", seen,
               lambda seen: sorted(seen.tolist()) == list(range(n)),
               lambda seen: f"over one epoch some examples appear twice and others never "
                            f"({len(set(np.asarray(seen).tolist()))} distinct of {n}): take consecutive slices of "
                            "one permutation, do not draw indices with replacement.")
    pairs = np.stack([np.concatenate([xb[:, 0] for xb in xs]), seen.astype(np.float64)])
    check_that("each batch's inputs (first column: the example's index) beside its labels", pairs,
               lambda pairs: pairs.shape[0] == 2 and np.array_equal(pairs[0], pairs[1]),
               "a batch pairs inputs with the labels of other examples: X and y were shuffled with different "
               "orders. Index both with the same indices.")


def test_minibatches_follow_one_permutation_from_the_rng(ex, rng):
    n = 40
    X, y = ids_data(rng, n)
    # NumPy's global generator gets a known seed for the call, so that an order drawn from it instead of
    # from the generator passed in can be recognised (and the global state is put back afterwards).
    global_seed = int(rng.integers(2**31 - 1))
    saved = np.random.get_state()
    np.random.seed(global_seed)
    try:
        _, ys = collect(ex.minibatches(X, y, 8, rng=np.random.default_rng(7)))
        _, again = collect(ex.minibatches(X, y, 8, rng=np.random.default_rng(7)))
    finally:
        np.random.set_state(saved)
    order = np.concatenate(ys)
    check_close("the example order of minibatches(X, y, 8, rng=np.random.default_rng(7)) (expected: "
                "rng.permutation(40))", order, lambda: np.random.default_rng(7).permutation(n),
                alternatives=lambda: [
                    (np.arange(n), "the original order although shuffle=True: shuffle the indices with "
                                   "rng.permutation(N)."),
                    (np.random.RandomState(global_seed).permutation(n), (
                        "np.random.permutation(N), from NumPy's global generator: draw from the generator "
                        "passed in, rng.permutation(N), so that the caller's seed decides the batches."))])
    check_that("the orders of two epochs drawn with generators of the same seed", [order, np.concatenate(again)],
               lambda pair: np.array_equal(pair[0], pair[1]),
               "the same seed must give the same batches: draw the order from the rng passed in, not from "
               "np.random or a new generator.")


def test_minibatches_without_shuffle_keep_the_original_order(ex, rng):
    X, y = ids_data(rng, 10)
    xs, ys = collect(ex.minibatches(X, y, 4, shuffle=False))
    expected = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    check_that("the labels of each batch with shuffle=False", ys,
               lambda ys: [np.asarray(b).tolist() for b in ys] == expected,
               lambda ys: f"with shuffle=False the batches are {[np.asarray(b).tolist() for b in ys]}; expected "
                          "consecutive slices [0..3], [4..7], [8, 9] in the original order.")
    check_close("the inputs of the batches without shuffling, together", np.concatenate(xs), lambda: X)


def test_minibatches_leave_the_data_unchanged(ex, rng):
    X, y = ids_data(rng, 30)
    X_before, y_before = X.copy(), y.copy()
    for _ in ex.minibatches(X, y, 7, rng=own_rng()):
        pass
    check_unchanged("minibatches (X)", X_before, X)
    check_unchanged("minibatches (y)", y_before, y)


def test_minibatches_batch_larger_than_the_data_is_one_batch(ex, rng):
    X, y = ids_data(rng, 6)
    _, ys = collect(ex.minibatches(X, y, 100, rng=own_rng()))
    sizes = [len(b) for b in ys]
    check_that("the batch sizes for N = 6, batch_size = 100", sizes, lambda sizes: list(sizes) == [6],
               lambda sizes: f"batch_size 100 > N = 6 gave batches of sizes {sizes}; expected one batch of 6.")


@pytest.mark.fact
def test_minibatches_reject_mismatched_data_and_empty_batches(ex, rng):
    X, y = ids_data(rng, 6)
    check_raises("minibatches(X with 6 rows, y with 5)", ValueError, lambda: list(ex.minibatches(X, y[:5], 2,
                                                                                                rng=own_rng())))
    check_raises("minibatches(..., batch_size=0)", ValueError, lambda: list(ex.minibatches(X, y, 0, rng=own_rng())))


# ----------------------------------------------------------------------------------------------------
# gradient norms and their health

def test_gradient_norms_are_the_frobenius_norm_of_each_gradient(ex, pkg, rng):
    model = mlp(pkg, rng)
    for p in model.parameters():
        p.grad[...] = rng.standard_normal(p.grad.shape)
    got = ex.gradient_norms(model)
    names = [name for name, _ in model.named_parameters()]
    keys = list(got) if isinstance(got, dict) else type(got).__name__
    check_equal("the keys of gradient_norms(model)", keys, names, lambda keys: (
        f"gradient_norms returned keys {keys}; expected a dict with the names of model.named_parameters(): "
        f"{names}."))
    for name, p in model.named_parameters():
        g = p.grad.copy()
        check_that(f"the type of gradient_norms()[{name!r}]", got[name], is_a_float,
                   lambda value: f"gradient_norms()[{name!r}] is {kind_of(value)}, not a float: convert it with "
                                 "float(...).")
        check_close(f"gradient_norms()[{name!r}]", got[name], lambda g=g: np.linalg.norm(g),
                    alternatives=lambda g=g, p=p: [
                        (np.sum(g ** 2), "the squared norm: take the square root."),
                        (np.sqrt(np.mean(g ** 2)), "the root of the MEAN of the squares (the RMS): the norm is "
                                                   "the square root of the SUM of the squares of all entries."),
                        (np.mean(g ** 2), "the mean of the squares: the norm is the square root of the SUM of "
                                          "the squares of all entries."),
                        (np.linalg.norm(p.data), "the norm of the parameter's values p.data, not of its "
                                                 "gradient p.grad.")])


def is_a_float(value):
    """A Python float, or a NumPy float64 scalar (a subclass of float; it arrives as a 0-d array)."""
    return isinstance(value, float) or (isinstance(value, np.ndarray) and value.shape == ()
                                        and value.dtype == np.float64)


def kind_of(value):
    if isinstance(value, np.ndarray):
        return f"a NumPy {value.dtype} scalar" if value.shape == () else f"an array of shape {value.shape}"
    return f"a {type(value).__name__}"


def backward_once(pkg, model, X, y):
    model.zero_grad()
    loss = pkg.losses.SoftmaxCrossEntropy()
    loss.forward(model.forward(X), y)
    model.backward(loss.backward())
    return {name: float(np.sqrt(np.sum(p.grad ** 2))) for name, p in model.named_parameters()}


def flagged(warnings, word):
    """The names at the start of the warnings that contain `word`."""
    if not isinstance(warnings, (list, tuple)):
        return []
    return [str(w).split(":")[0] for w in warnings if word in str(w)]


def test_gradient_health_flags_vanishing_gradients_in_a_deep_sigmoid_net(ex, pkg, rng):
    model = mlp(pkg, rng, sizes=(16,) + (32,) * 7 + (3,), activation="Sigmoid", std=0.01)
    X, y = blobs(rng, n=32, dim=16)
    norms = backward_once(pkg, model, X, y)
    warnings = ex.check_gradient_health(norms)
    check_that("check_gradient_health's warnings for an 8-layer sigmoid net with weights of std 0.01", warnings,
               lambda warnings: "0.W" in flagged(warnings, "vanishing"),
               lambda warnings: f"in an 8-layer sigmoid net with weights of std 0.01 the first layer's gradient "
                                f"norm is {norms['0.W']:.2g}, yet check_gradient_health flagged "
                                f"{flagged(warnings, 'vanishing') or 'nothing'} as vanishing (warnings: {warnings}).")
    last = list(norms)[-2]
    check_that("check_gradient_health's warnings for the last layer of that net", warnings,
               lambda warnings: last not in flagged(warnings, "vanishing"),
               f"the last layer's gradient ({norms[last]:.2g}) is healthy but was flagged as vanishing.")


def test_gradient_health_flags_exploding_gradients_with_huge_weights_and_unscaled_inputs(ex, pkg, rng):
    model = mlp(pkg, rng, sizes=(16, 64, 64, 64, 3), std=3.0)
    X, y = blobs(rng, n=32, dim=16)
    norms = backward_once(pkg, model, 255.0 * X, y)  # pixels left in 0..255 instead of [0, 1]
    warnings = ex.check_gradient_health(norms)
    check_that("check_gradient_health's warnings for weights of std 3 and inputs times 255", warnings,
               lambda warnings: "0.W" in flagged(warnings, "exploding"),
               lambda warnings: f"with weights of std 3 and inputs times 255 the first layer's gradient norm is "
                                f"{norms['0.W']:.3g}, yet check_gradient_health flagged "
                                f"{flagged(warnings, 'exploding') or 'nothing'} as exploding (warnings: {warnings}).")


def test_gradient_health_accepts_a_healthy_network(ex, pkg, rng):
    model = mlp(pkg, rng, sizes=(16, 64, 64, 3))
    X, y = blobs(rng, n=32, dim=16)
    norms = backward_once(pkg, model, X / np.abs(X).max(), y)
    warnings = ex.check_gradient_health(norms)
    check_that("check_gradient_health's warnings for a healthy network", warnings,
               lambda warnings: isinstance(warnings, list) and warnings == [],
               lambda warnings: f"a He-initialised ReLU net on inputs in [-1, 1] (norms {norms}) was flagged: "
                                f"{warnings}")


def test_gradient_health_uses_the_given_thresholds_and_flags_non_finite_norms(ex):
    norms = {"a": 0.5, "b": 5.0, "c": 50.0, "d": float("nan"), "e": float("inf")}
    warnings = ex.check_gradient_health(norms, vanishing=1.0, exploding=10.0)
    check_that("the type of check_gradient_health's result", warnings,
               lambda warnings: isinstance(warnings, list) and all(isinstance(w, str) for w in warnings),
               "check_gradient_health must return a list of strings.")
    check_that("the warnings that say 'not finite'", warnings,
               lambda warnings: flagged(warnings, "not finite") == ["d", "e"],
               lambda warnings: f"NaN and inf norms must be reported as 'not finite' (got {warnings}); NaN "
                                "compares False with every threshold, so test np.isfinite first.")
    check_that("the warnings that say 'vanishing'", warnings,
               lambda warnings: flagged(warnings, "vanishing") == ["a"],
               lambda warnings: f"with vanishing=1.0, norms {norms} gave {warnings}")
    check_that("the warnings that say 'exploding'", warnings,
               lambda warnings: flagged(warnings, "exploding") == ["c"],
               lambda warnings: f"with exploding=10.0, norms {norms} gave {warnings}")


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
    expected = once(lambda: written_out_epoch(pkg, copy.deepcopy(untrained), X, y, 16, 3))
    mistaken = once(lambda: {name: written_out_epoch(pkg, copy.deepcopy(untrained), X, y, 16, 3, **options)[0]
                             for name, (options, _) in EPOCH_MISTAKES.items()})
    for name, p in model.named_parameters():
        check_close(f"parameter {name} after one train_epoch (SGD, lr 0.1, momentum 0.9, batch 16, N = 50)",
                    p.data, lambda name=name: dict(expected()[0].named_parameters())[name].data,
                    alternatives=lambda name=name: [(dict(mistaken()[m].named_parameters())[name].data,
                                                     EPOCH_MISTAKES[m][1]) for m in EPOCH_MISTAKES])
    check_close("the mean loss returned by train_epoch", loss, lambda: expected()[1],
                alternatives=lambda: [(expected()[2], (
                    "the plain mean of the batch losses: weight each batch's mean by its size and divide by N, "
                    "so the short last batch (2 of 50 examples) does not count as much as a full one."))])


def test_train_epoch_lowers_the_loss_on_separable_data(ex, pkg, rng):
    X, y = blobs(rng, n=200)
    model = mlp(pkg, rng)
    optimizer = pkg.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = pkg.losses.SoftmaxCrossEntropy()
    shuffling = own_rng(2)
    losses = [ex.train_epoch(model, loss_fn, optimizer, X, y, batch_size=20, rng=shuffling) for _ in range(5)]
    check_that("the mean losses train_epoch returned for five epochs", losses,
               lambda losses: losses[-1] < 0.5 * losses[0],
               lambda losses: f"five epochs on well separated clusters gave mean losses "
                              f"{np.round(np.asarray(losses, dtype=float), 4).tolist()}: the loss should at least "
                              "halve. Check the order zero_grad, forward, loss, backward, step.")


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
    ex.train_epoch(model, pkg.losses.SoftmaxCrossEntropy(), pkg.optim.SGD(model.parameters(), lr=0.1),
                   X, y, batch_size=10, rng=own_rng())
    check_that("the training flag of every forward call during train_epoch", probe.modes,
               lambda modes: len(modes) > 0 and all(modes),
               lambda modes: f"during train_epoch the layers saw training={modes}: call model.train() first (a "
                             "model may come from evaluate or from eval()).")


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
    logits = once(lambda: predictions(copy.deepcopy(model), X))
    loss, acc = ex.evaluate(model, pkg.losses.SoftmaxCrossEntropy(), X, y, batch_size=batch_size)

    def batch_losses():
        reference_loss = pkg.losses.SoftmaxCrossEntropy()
        return [reference_loss.forward(logits()[s:s + batch_size], y[s:s + batch_size])
                for s in range(0, n, batch_size)]

    check_close("the loss returned by evaluate", loss,
                lambda: pkg.losses.SoftmaxCrossEntropy().forward(logits(), y),
                alternatives=lambda: [(np.mean(batch_losses()), (
                    "the plain mean of the batch losses: weight each batch by its size (the last holds 3 of 103 "
                    "examples)."))])
    correct = lambda: np.argmax(logits(), axis=1) == y  # noqa: E731
    check_close("the accuracy returned by evaluate", acc, lambda: correct().mean(),
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
    check_close("the loss returned by evaluate", loss,
                lambda: pkg.losses.SoftmaxCrossEntropy().forward(X @ W + b, y),
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
    ex.evaluate(model, pkg.losses.SoftmaxCrossEntropy(), X, y)
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
    optimizer = pkg.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    history = ex.fit(model, pkg.losses.SoftmaxCrossEntropy(), optimizer, X, y, X_test, y_test,
                     epochs=3, batch_size=16, rng=own_rng(4))
    # In the judge, `history` and `model` are the reference's run on the same data and the same
    # generator: the learner's run must match it (the docstrings fix every step).
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
    check_close("history['loss'] (the mean training loss of each epoch)", np.array(history["loss"], dtype=float),
                lambda: np.array(history["loss"]))
    check_close("history['train_accuracy']", np.array(history["train_accuracy"], dtype=float),
                lambda: np.array(history["train_accuracy"]),
                alternatives=lambda: [(np.array(history["test_accuracy"]), (
                    "the test accuracy: train_accuracy is measured on the training data."))])
    check_close("history['test_accuracy']", np.array(history["test_accuracy"], dtype=float),
                lambda: np.array(history["test_accuracy"]),
                alternatives=lambda: [(np.array(history["train_accuracy"]), (
                    "the training accuracy: test_accuracy is measured on (X_test, y_test)."))])
    norms = np.array([[entry[name] for name in names] for entry in history["grad_norms"]], dtype=float)
    check_close("history['grad_norms'] (each entry's norms, in the order of named_parameters())", norms,
                lambda: np.array([[entry[name] for name in names] for entry in history["grad_norms"]]))
    for name, p in model.named_parameters():
        check_close(f"parameter {name} after fit (3 epochs)", p.data, lambda p=p: p.data)
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
    check_close("optimizer.lr after each of epochs 1 to 6 with step_decay(at_epoch=3, factor=0.1), from lr = 0.5",
                np.array(rates), np.array([0.5, 0.5, 0.05, 0.05, 0.05, 0.05]), alternatives=[
                    (np.array([0.5, 0.05, 0.05, 0.05, 0.05, 0.05]),
                     "the rate decayed one epoch early, after epoch 2: decay after epoch at_epoch itself."),
                    (np.array([0.5, 0.5, 0.05, 0.005, 0.0005, 0.00005]),
                     "the rate decayed after epoch 3 and again after every later epoch: multiply by the factor "
                     "once, when epoch == at_epoch (not epoch >= at_epoch).")])


# ----------------------------------------------------------------------------------------------------
# the MNIST model

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

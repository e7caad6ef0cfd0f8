"""Exercise 8 (training): mini-batches, and the small models and data every training test shares (gradient norms
and their health are in test_training_health.py, train_epoch and evaluate in test_training_loop.py, fit and the
MNIST model in test_training_fit.py).

Each test runs twice on the same data: the learner's half trains with the learner's code, the judge's half
with the reference. What the docstrings fix exactly is judged exactly: the order of the batches drawn from a
given generator, the parameters after an epoch on given batches and the history fit returns (against the
reference's run, which `make test` checks against PyTorch's run of the same loop in test_training_loop.py).
What is only a property (a loss that halves, 50 examples memorised, an accuracy on MNIST) is judged from the
raw losses or predictions, the accuracy computed by the judge from the predictions and the labels. The
learner's functions get generators of their own (`own_rng`) for everything random by design; the test's `rng`
draws the data. Known-wrong alternatives (no zero_grad, unweighted means, no shuffling, the
global generator...) are simulated by the judge.
"""

import numpy as np
import pytest

from grader.feedback.checks import check_raises, check_that, check_unchanged
from grader.feedback.oracle import F, check_close_ref, torch
from helpers import own_rng


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


def torch_network(model):
    """PyTorch's copy of a Sequential of Linear, ReLU/Sigmoid/Tanh and mode layers (judge only): (its parameters
    by the names of model.named_parameters(), as float64 leaf tensors; forward(X, training) -> logits)."""
    params = {name: torch.tensor(np.asarray(p.data, dtype=np.float64), requires_grad=True)
              for name, p in model.named_parameters()}
    steps = []
    for index, layer in enumerate(model.layers):
        kind = type(layer).__name__
        if kind == "Linear":
            steps.append(lambda h, training, i=index: F.linear(h, params[f"{i}.W"].T, params[f"{i}.b"]))
        elif kind in ("ReLU", "Sigmoid", "Tanh"):
            steps.append(lambda h, training, f=getattr(torch, kind.lower()): f(h))
        elif kind == "HalvesWhileTraining":
            steps.append(lambda h, training: 0.5 * h if training else h)
        else:
            raise RuntimeError(f"kata bug: torch_network has no PyTorch copy of a {kind} layer")

    def forward(X, training=False):
        h = torch.tensor(np.asarray(X, dtype=np.float64))
        for step in steps:
            h = step(h, training)
        return h

    return params, forward


def torch_loss_and_accuracy(model, X, y):
    """PyTorch's mean cross-entropy and accuracy of `model` on (X, y) in eval mode (judge only)."""
    _, forward = torch_network(model)
    with torch.no_grad():
        logits = forward(X)
        loss = F.cross_entropy(logits, torch.tensor(y)).item()
    return loss, float((logits.argmax(dim=1).numpy() == y).mean())


def pytorch_batches(X, y, batch_size, order=None):
    """(inputs, labels) of the batches of PyTorch's DataLoader over (X, y), each concatenated, taking the rows in
    `order` (None: the original order). The order itself is NumPy's rng.permutation(N), as the docstring says:
    NumPy's generator has no PyTorch counterpart. Judge only."""
    data = torch.utils.data.TensorDataset(torch.tensor(X), torch.tensor(y))
    sampler = None if order is None else [int(i) for i in order]
    batches = list(torch.utils.data.DataLoader(data, batch_size=batch_size, sampler=sampler, shuffle=False))
    return torch.cat([xb for xb, _ in batches]).numpy(), torch.cat([yb for _, yb in batches]).numpy()


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
        sizes = list(sizes)
        if sum(sizes) == n - n % batch_size:
            return (f"the batches have sizes {sizes} and hold {sum(sizes)} of the {n} examples: the last "
                    f"{n % batch_size} examples (N mod batch_size) are missing; keep the short last batch.")
        return f"batch sizes {sizes}; expected [5, 5, 5, 5, 3] for N = 23, batch_size = 5." + batch_sizes_cause(
            sizes, n, batch_size)

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


def batch_sizes_cause(sizes, n, batch_size):
    """What wrong batch sizes most likely mean (from the sizes alone), or ''."""
    if sizes and sizes[0] == batch_size and len(sizes) > 1 and not any(sizes[1:]):
        return (" Only the first batch holds examples and the later ones are empty: each slice must end at start + "
                "batch_size (order[start:start + batch_size]), not at batch_size.")
    if sizes and all(size == batch_size - 1 for size in sizes[:-1]):
        return (f" Every batch but the last holds batch_size - 1 = {batch_size - 1}: a slice that ends one early "
                "(an off-by-one); a slice [start:start + batch_size] holds batch_size entries.")
    if sum(sizes) > n:
        return (f" They hold {sum(sizes)} examples for N = {n}: some examples come twice, e.g. a second pass "
                "after the first (a missing return lets one branch fall through to the other).")
    return ""


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
    check_close_ref("the example order of minibatches(X, y, 8, rng=np.random.default_rng(7)) (expected: "
                    "rng.permutation(40))", order,
                    lambda: pytorch_batches(X, y, 8, np.random.default_rng(7).permutation(n))[1],
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
                          "consecutive slices [0..3], [4..7], [8, 9] in the original order." + (
                              " The ordered batches come first, then shuffled ones follow: return after yielding the "
                              "ordered batches (a missing return falls through to the shuffled branch, so every "
                              "example comes twice)." if [np.asarray(b).tolist() for b in ys][:3] == expected
                              and len(ys) > 3 else " They hold every example once, in a shuffled order: with "
                              "shuffle=False take the indices in order (np.arange(N)); check the flag." if sorted(
                                  np.concatenate([np.asarray(b) for b in ys]).tolist()) == list(range(10)) else
                              batch_sizes_cause([len(b) for b in ys], 10, 4)))
    check_close_ref("the inputs of the batches without shuffling, together", np.concatenate(xs),
                    lambda: pytorch_batches(X, y, 4)[0])


def test_minibatches_leave_the_data_unchanged(ex, rng):
    X, y = ids_data(rng, 30)
    X_before, y_before = X.copy(), y.copy()
    _, ys = collect(ex.minibatches(X, y, 7, rng=own_rng()))
    check_unchanged("minibatches (X)", X_before, X)
    check_unchanged("minibatches (y)", y_before, y)
    check_close_ref("the labels of the batches of minibatches(X, y, 7, rng=np.random.default_rng(0)), together",
                    np.concatenate(ys), lambda: pytorch_batches(X_before, y_before, 7,
                                                                np.random.default_rng(0).permutation(30))[1])


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

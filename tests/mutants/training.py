"""Known-wrong variants of solutions/training.py (spoilers: each quotes a line of the reference)."""

from grader.maintainer.mutation import Mutant

_SHUFFLED_LOOP = """    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        index = order[start:start + batch_size]
        yield X[index], y[index]"""

MUTANTS = [
    Mutant("minibatches_drop_the_last_batch", "drops the short last batch",
           "range(0, n, batch_size)", "range(0, n - batch_size + 1, batch_size)", count=2,
           diagnosis="keep the short last batch"),
    Mutant("minibatches_shuffle_labels_separately", "shuffles X and y with two different permutations",
           _SHUFFLED_LOOP,
           _SHUFFLED_LOOP.replace("    order = rng.permutation(n)\n",
                                  "    order = rng.permutation(n)\n    label_order = rng.permutation(n)\n")
           .replace("yield X[index], y[index]",
                    "yield X[index], y[label_order[start:start + batch_size]]"),
           diagnosis="shuffled with different orders"),
    Mutant("minibatches_ignore_shuffle", "never shuffles", "if not shuffle:", "if True:",
           diagnosis="original order although shuffle=True"),
    Mutant("train_epoch_without_zero_grad", "never clears the gradients between batches",
           "        optimizer.zero_grad()\n", "", diagnosis="gradients pile up"),
    Mutant("train_epoch_unweighted_mean", "averages the batch losses without weighting by batch size",
           "total += loss * len(X_batch)\n    return total / n\n", "total += loss\n    return total / n_batches\n",
           diagnosis="weight each batch's mean by its size"),
    Mutant("train_epoch_no_divergence_check", "goes on training when the loss is NaN",
           "if not np.isfinite(loss):", "if False:", diagnosis="raise TrainingDiverged"),
    Mutant("evaluate_in_training_mode", "evaluates without switching to eval mode",
           "    model.eval()\n", "", diagnosis="call model.eval()"),
    Mutant("evaluate_accuracy_as_count", "returns the number of correct predictions",
           "correct / len(X)", "correct", diagnosis="number of correct predictions"),
    Mutant("gradient_norms_of_the_weights", "takes the norm of p.data instead of p.grad",
           "np.linalg.norm(p.grad)", "np.linalg.norm(p.data)", diagnosis="not of its gradient"),
    Mutant("minibatches_global_generator", "shuffles with np.random.permutation, not the generator passed in",
           "order = rng.permutation(n)", "order = np.random.permutation(n)", diagnosis="np.random.permutation(N)"),
    Mutant("gradient_norms_from_the_mean_of_squares", "takes the root of the mean of the squares (the RMS)",
           "float(np.linalg.norm(p.grad))", "float(np.sqrt(np.mean(p.grad ** 2)))",
           diagnosis="root of the MEAN of the squares"),
    Mutant("build_mnist_model_keeps_the_input_gradient", "leaves input_gradient on in the first layer",
           "    first.input_gradient = False\n", "", diagnosis="input_gradient = False on its first Linear"),
    Mutant("build_mnist_model_in_float64", "builds the layers in float64 (dtype not passed)",
           ", dtype=np.float32)", ")", count=3, diagnosis="pass dtype=np.float32"),
    Mutant("gradient_health_misses_nan", "compares NaN with the thresholds (always False)",
           "if not np.isfinite(norm):", "if np.isnan(norm) and False:", diagnosis="test np.isfinite first"),
]

# Issue 19: step_decay (given code the mnist milestone calls) changed in the two ways no test caught before
# (test_fit_with_step_decay_multiplies_lr_by_the_factor_once_after_its_epoch).
MUTANTS += [
    Mutant("step_decay_one_epoch_early", "decays after epoch at_epoch - 1", "        if epoch == at_epoch:\n",
           "        if epoch == at_epoch - 1:\n", diagnosis="one epoch early"),
    Mutant("step_decay_every_epoch_after_the_mark", "decays after at_epoch and after every later epoch",
           "        if epoch == at_epoch:\n", "        if epoch >= at_epoch:\n", diagnosis="after every later epoch"),
    Mutant("evaluate_returns_accuracy_first", "returns (accuracy, loss) instead of (loss, accuracy) (issue 19: general)",
           "    return total_loss / len(X), correct / len(X)", "    return correct / len(X), total_loss / len(X)",
           diagnosis="checked after this one, is the expected value here"),
]

# Round seven: the batch count that forgets the short last batch, an epoch order from a generator seeded anew,
# evaluate that always leaves training mode on, and Xavier where the docstring says He.
MUTANTS += [
    Mutant("train_epoch_batch_count_floored", "counts the batches as n // batch_size, missing the short last one",
           "    n_batches = int(np.ceil(n / batch_size))\n", "    n_batches = n // batch_size\n",
           diagnosis="round up, not N // batch_size"),
    Mutant("train_epoch_same_order_every_epoch", "shuffles with a generator seeded anew at every epoch",
           "enumerate(minibatches(X, y, batch_size, rng=rng), start=1)",
           "enumerate(minibatches(X, y, batch_size, rng=np.random.default_rng(0)), start=1)",
           diagnosis="seeded anew every epoch"),
    Mutant("evaluate_always_back_to_training", "switches to training mode after evaluate whatever the mode was",
           "    if was_training:\n        model.train()\n", "    model.train()\n", diagnosis="not always training mode"),
    Mutant("build_mnist_model_xavier", "initialises the first layer of the ReLU network with Xavier instead of He",
           "    first = Linear(784, 256, rng=rng, dtype=np.float32)\n",
           "    first = Linear(784, 256, rng=rng, init=\"xavier\", dtype=np.float32)\n", diagnosis="Xavier (Glorot)"),
]
MUTANTS += [
    Mutant("mnist_second_layer_without_rng", "builds the second Linear without the rng",
           "Linear(256, 128, rng=rng, dtype=np.float32)", "Linear(256, 128, dtype=np.float32)",
           diagnosis="pass rng to every Linear"),
]

"""Second fresh bank for training, written after the diagnosis changes."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("shuffle_with_replacement", "draws indices with replacement",
           "order = rng.permutation(n)", "order = rng.integers(0, n, n)", diagnosis="permutation|replacement|each example|once"),
    Mutant("epoch_returns_the_last_loss", "returns the last batch's loss",
           "    return total / n\n", "    return loss\n", diagnosis="last batch|mean|every batch"),
    Mutant("train_epoch_in_eval_mode", "switches the model to eval mode",
           "    model.train()\n    n = len(X)", "    model.eval()\n    n = len(X)", diagnosis="training mode|train()"),
    Mutant("accuracy_over_batch_size", "divides the correct count by batch_size",
           "return total_loss / len(X), correct / len(X)", "return total_loss / len(X), correct / batch_size",
           diagnosis="len(X)|number of examples|count"),
    Mutant("norms_as_max_abs", "returns the largest absolute entry",
           "float(np.linalg.norm(p.grad))", "float(np.max(np.abs(p.grad)))", diagnosis="norm"),
    Mutant("zero_gradient_not_vanishing", "never warns about an exactly zero gradient",
           "elif norm < vanishing:", "elif 0 < norm < vanishing:", diagnosis="zero|0"),
    Mutant("callback_cannot_stop", "ignores the callback's True",
           "        if callback is not None and callback(epoch, history):\n            break",
           "        if callback is not None:\n            callback(epoch, history)", diagnosis="stop|True|break"),
    Mutant("epochs_from_zero", "numbers the epochs from 0",
           "for epoch in range(1, epochs + 1):", "for epoch in range(epochs):", diagnosis="epoch|from 1|off-by-one"),
    Mutant("relu_after_the_logits", "puts a ReLU after the last layer",
           "        Linear(128, 10, rng=rng, dtype=np.float32),\n", "        Linear(128, 10, rng=rng, dtype=np.float32), ReLU(),\n",
           diagnosis="relu|logits|negative"),
    Mutant("divergence_only_on_nan", "treats an infinite loss as fine",
           "if not np.isfinite(loss):", "if np.isnan(loss):", diagnosis="inf"),
]

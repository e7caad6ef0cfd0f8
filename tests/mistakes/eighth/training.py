"""Eighth fresh bank for training, written blind on 2026-12-07 in round eight AFTER round eight's diagnosis
changes were merged (commit 3a1f4a2); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("minibatches_drops_last_partial", "stops before the last partial batch",
           "    for start in range(0, n, batch_size):\n        index = order[start:start + batch_size]",
           "    for start in range(0, n - batch_size + 1, batch_size):\n        index = order[start:start + batch_size]",
           diagnosis="last batch|partial|remainder|drop|incomplete"),
    Mutant("minibatches_step_one", "advances the start by 1 instead of batch_size",
           "    for start in range(0, n, batch_size):\n        index = order[start:start + batch_size]",
           "    for start in range(0, n):\n        index = order[start:start + batch_size]",
           diagnosis="step|overlap|batch_size|range|stride"),
    Mutant("minibatches_unshuffled_ignores_rng_order", "shuffles even when shuffle=False",
           "    if not shuffle:\n", "    if False:\n",
           diagnosis="shuffle=false|shuffle|order|flag"),
    Mutant("diagnose_vanishing_boundary_inclusive", "calls a norm equal to the threshold vanishing (<= instead of <)",
           "elif norm < vanishing:", "elif norm <= vanishing:",
           diagnosis="boundary|<=|strict|threshold|equal"),
    Mutant("evaluate_accuracy_by_batches", "divides the number correct by the number of batches",
           "return total_loss / len(X), correct / len(X)", "return total_loss / len(X), correct / max(1, len(X) // batch_size)",
           diagnosis="batches|divid|count|accuracy above 1|len(x)"),
    Mutant("evaluate_argmax_axis0", "takes the argmax over the batch axis",
           "correct += int(np.count_nonzero(np.argmax(logits, axis=1) == y_batch))",
           "correct += int(np.count_nonzero(np.argmax(logits, axis=0)[:len(y_batch)] == y_batch))",
           diagnosis="axis|batch|class|column|row"),
    Mutant("train_epoch_total_overwritten", "assigns the running total instead of adding to it",
           "total += loss * len(X_batch)", "total = loss * len(X_batch)",
           diagnosis="accumulat|overwr|last batch|+=|running"),
    Mutant("minibatches_with_replacement", "draws the order with replacement, so some examples repeat",
           "order = rng.permutation(n)", "order = rng.integers(0, n, size=n)",
           diagnosis="replacement|repeat|permutation|each example once|duplicate"),
    Mutant("mnist_model_hidden_float64", "builds the middle layer in float64",
           "Linear(256, 128, rng=rng, dtype=np.float32)", "Linear(256, 128, rng=rng)",
           diagnosis="float64|float32|dtype|precision"),
]

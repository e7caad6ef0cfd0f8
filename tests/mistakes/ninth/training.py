"""Ninth fresh bank for training, written blind on 2026-12-07 in round nine AFTER round nine's diagnosis changes
were merged (commit eeff076); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("train_epoch_forward_on_whole_dataset", "runs the forward pass on all of X instead of the batch",
           "logits = model.forward(X_batch)\n        loss = loss_fn.forward(logits, y_batch)",
           "logits = model.forward(X)\n        loss = loss_fn.forward(logits, y_batch)",
           diagnosis="whole|x_batch|all of x|dataset|mini-batch"),
    Mutant("train_epoch_never_shuffles", "asks minibatches for the fixed order during training",
           "enumerate(minibatches(X, y, batch_size, rng=rng), start=1)",
           "enumerate(minibatches(X, y, batch_size, shuffle=False), start=1)",
           diagnosis="shuffl|same order|rng|same batches|fixed"),
    Mutant("evaluate_reads_the_mode_after_eval", "saves model.training after calling eval(), so training mode is never restored",
           "was_training = model.training\n    model.eval()", "model.eval()\n    was_training = model.training",
           diagnosis="training mode|restore|eval mode|was_training|left in"),
    Mutant("fit_loss_history_overwritten", "replaces the loss list by the last epoch's loss instead of appending",
           "history[\"loss\"].append(loss)", "history[\"loss\"] = [loss]",
           diagnosis="append|overwrit|only the last|history|one entry"),
    Mutant("health_warnings_reset_per_parameter", "creates the warnings list inside the loop, keeping only the last parameter's",
           "warnings = []\n    for name, norm in norms.items():", "for name, norm in norms.items():\n        warnings = []",
           diagnosis="reset|only the last|overwrit|inside the loop|missing warning"),
    Mutant("epoch_loss_divided_twice", "divides each batch's weighted loss by n and the total by n again",
           "total += loss * len(X_batch)\n    return total / n", "total += loss * len(X_batch) / n\n    return total / n",
           diagnosis="1/n|twice|divided|factor|too small"),
    Mutant("diverged_epoch_and_batch_swapped", "passes batch and epoch in the wrong order to TrainingDiverged",
           "raise TrainingDiverged(epoch, batch, n_batches, loss)", "raise TrainingDiverged(batch, epoch, n_batches, loss)",
           diagnosis="argument order|swapped|epoch|batch number|wrong order"),
    Mutant("evaluate_correct_overwritten", "assigns the batch's correct count instead of adding it",
           "correct += int(np.count_nonzero(np.argmax(logits, axis=1) == y_batch))",
           "correct = int(np.count_nonzero(np.argmax(logits, axis=1) == y_batch))",
           diagnosis="accumulat|overwrit|last batch|+=|only the last"),
    Mutant("batch_count_rounded", "rounds n / batch_size to the nearest integer instead of up",
           "n_batches = int(np.ceil(n / batch_size))", "n_batches = int(np.round(n / batch_size))",
           diagnosis="ceil|round|number of batches|partial|last batch"),
]

"""First fresh bank for training, written before any diagnosis change."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("labels_in_order", "shuffles the inputs but yields the labels in order",
           "yield X[index], y[index]", "yield X[index], y[start:start + batch_size]", diagnosis="label"),
    Mutant("epoch_loss_over_batches", "divides the summed loss by the number of batches",
           "    return total / n\n", "    return total / n_batches\n", diagnosis="batch"),
    Mutant("evaluate_leaves_eval_mode", "never switches the model back to training",
           "    if was_training:\n        model.train()\n", "", diagnosis="training mode|train()"),
    Mutant("norms_squared", "returns the sum of squares, not the norm",
           "float(np.linalg.norm(p.grad))", "float(np.sum(p.grad ** 2))", diagnosis="square"),
    Mutant("fit_tests_on_train", "measures test accuracy on the training set",
           "evaluate(model, loss_fn, X_test, y_test)", "evaluate(model, loss_fn, X_train, y_train)",
           diagnosis="test set|training set|X_test"),
    Mutant("no_optimizer_step", "never calls optimizer.step()",
           "        optimizer.step()\n", "", diagnosis="step"),
    Mutant("accuracy_over_axis_0", "takes argmax over the batch axis",
           "np.argmax(logits, axis=1)", "np.argmax(logits, axis=0)", diagnosis="axis"),
    Mutant("minibatches_ignore_rng", "always draws from a fresh generator",
           "rng = np.random.default_rng() if rng is None else rng", "rng = np.random.default_rng()",
           diagnosis="rng|generator|seed"),
    Mutant("model_without_first_relu", "leaves out the first ReLU",
           "        first, ReLU(),\n", "        first,\n", diagnosis="relu|non-linear|nonlinear"),
    Mutant("batches_counted_from_zero", "numbers the batches from 0 in TrainingDiverged",
           "enumerate(minibatches(X, y, batch_size, rng=rng), start=1)",
           "enumerate(minibatches(X, y, batch_size, rng=rng))", diagnosis="off-by-one|from 1|1-based"),
    Mutant("evaluate_loss_unweighted", "adds each batch's mean loss without its size",
           "total_loss += loss_fn.forward(logits, y_batch) * len(X_batch)",
           "total_loss += loss_fn.forward(logits, y_batch)", diagnosis="weight|batch size"),
]

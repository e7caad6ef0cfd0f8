"""Fifth fresh bank for training, written blind in round six (see tests/mistakes/README.md)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("minibatches_slice_to_batch_size", "slices the shuffled order as order[start:batch_size], empty after the first batch",
           "index = order[start:start + batch_size]", "index = order[start:batch_size]",
           diagnosis="start + batch_size|start:batch_size|empty batch|slice end|end of the slice"),
    Mutant("minibatches_ordered_branch_falls_through", "forgets the return after the ordered batches, so shuffle=False also yields shuffled ones",
           "            yield X[start:start + batch_size], y[start:start + batch_size]\n        return\n",
           "            yield X[start:start + batch_size], y[start:start + batch_size]\n",
           diagnosis=("falls through|missing return|forgot the return|every example twice|twice|also shuffl|"
                      "more than once")),
    Mutant("gradient_norms_l1", "takes the sum of absolute values (the L1 norm) instead of the Euclidean norm",
           "{name: float(np.linalg.norm(p.grad)) for name, p in model.named_parameters()}",
           "{name: float(np.abs(p.grad).sum()) for name, p in model.named_parameters()}",
           diagnosis="l1|absolute values|sum of the absolute|euclidean|l2 norm|2-norm"),
    Mutant("health_vanishing_against_exploding", "compares the norm with the exploding threshold in the vanishing test",
           "        elif norm < vanishing:\n", "        elif norm < exploding:\n",
           diagnosis="exploding threshold|wrong threshold|swapped|the other threshold"),
    Mutant("health_inf_counted_as_exploding", "checks only for NaN, so an infinite norm is reported as exploding",
           "        if not np.isfinite(norm):\n", "        if np.isnan(norm):\n",
           diagnosis="infinit|isnan|only nan|inf is|inf as"),
    Mutant("train_epoch_batch_count_floored", "counts the batches as n // batch_size, missing the short last one",
           "    n_batches = int(np.ceil(n / batch_size))\n", "    n_batches = n // batch_size\n",
           diagnosis="ceil|round up|rounds down|floor|short last batch|partial batch|last batch"),
    Mutant("train_epoch_weighs_by_batch_size", "weighs every batch's loss by batch_size, the short last one too",
           "        total += loss * len(X_batch)\n", "        total += loss * batch_size\n",
           diagnosis=("batch_size instead|short last batch|shorter last|last batch|actual size|what it holds|"
                      "len(x_batch)")),
    Mutant("train_epoch_same_order_every_epoch", "shuffles with a generator seeded anew at every epoch, so every epoch sees the same order",
           "enumerate(minibatches(X, y, batch_size, rng=rng), start=1)",
           "enumerate(minibatches(X, y, batch_size, rng=np.random.default_rng(0)), start=1)",
           diagnosis=("same order|every epoch|each epoch|reseed|re-seed|fixed seed|ignores rng|ignores the rng|"
                      "rng argument")),
    Mutant("evaluate_max_not_argmax", "compares the largest logit, not its index, with the labels",
           "np.argmax(logits, axis=1) == y_batch", "np.max(logits, axis=1) == y_batch",
           diagnosis="argmax|max instead|largest value|index of the largest|value instead of the index"),
    Mutant("evaluate_accuracy_floor_division", "divides the correct count with //, which rounds the accuracy down to 0",
           "return total_loss / len(X), correct / len(X)", "return total_loss / len(X), correct // len(X)",
           diagnosis="//|integer division|floor division|rounds down|rounded down"),
    Mutant("fit_accuracies_swapped", "records the test accuracy as the train accuracy and the other way round",
           "        history[\"train_accuracy\"].append(evaluate(model, loss_fn, X_train, y_train)[1])\n"
           "        history[\"test_accuracy\"].append(evaluate(model, loss_fn, X_test, y_test)[1])\n",
           "        history[\"train_accuracy\"].append(evaluate(model, loss_fn, X_test, y_test)[1])\n"
           "        history[\"test_accuracy\"].append(evaluate(model, loss_fn, X_train, y_train)[1])\n",
           diagnosis="swapped|train and test|the other way"),
    Mutant("build_mnist_model_xavier", "initialises the first layer of the ReLU network with Xavier instead of He",
           "    first = Linear(784, 256, rng=rng, dtype=np.float32)\n",
           "    first = Linear(784, 256, rng=rng, init=\"xavier\", dtype=np.float32)\n",
           diagnosis="xavier|he init|he_normal|he initiali"),
]

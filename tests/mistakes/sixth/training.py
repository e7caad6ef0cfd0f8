"""Sixth fresh bank for training, written blind on 2026-12-07 in round seven (see tests/mistakes/README.md)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("ordered_batches_extra_empty", "loops to n + 1 in the ordered branch, yielding an empty batch when batch_size divides n",
           "        for start in range(0, n, batch_size):\n            yield X[start:start + batch_size], y[start:start + batch_size]\n",
           "        for start in range(0, n + 1, batch_size):\n            yield X[start:start + batch_size], y[start:start + batch_size]\n",
           diagnosis="empty|extra batch|one batch too many|n + 1|zero examples"),
    Mutant("backward_of_the_logits", "passes the logits to model.backward instead of the loss's gradient",
           "        model.backward(loss_fn.backward())\n", "        model.backward(logits)\n",
           diagnosis="logits instead|loss_fn.backward|gradient of the loss|the loss's gradient|dl/dlogits"),
    Mutant("train_epoch_without_train_mode", "never calls model.train(), so a model left in eval mode trains in eval mode",
           "    model.train()\n    n = len(X)\n", "    n = len(X)\n",
           diagnosis="train()|training mode|eval mode"),
    Mutant("train_epoch_step_before_backward", "calls optimizer.step() before model.backward(), so each step uses zeroed gradients",
           "        model.backward(loss_fn.backward())\n        optimizer.step()\n",
           "        optimizer.step()\n        model.backward(loss_fn.backward())\n",
           diagnosis="before backward|step before|zeroed gradients|never learns|no update"),
    Mutant("evaluate_sums_batch_accuracies", "adds each batch's accuracy (a fraction) and then divides by N",
           "        correct += int(np.count_nonzero(np.argmax(logits, axis=1) == y_batch))\n",
           "        correct += float(np.mean(np.argmax(logits, axis=1) == y_batch))\n",
           diagnosis="per batch|fraction|count of correct|mean of each batch|batch accuracies|number correct"),
    Mutant("fit_epoch_not_passed", "never passes the epoch number to train_epoch, so a divergence always names epoch 1",
           "        loss = train_epoch(model, loss_fn, optimizer, X_train, y_train, batch_size=batch_size, rng=rng,\n"
           "                           epoch=epoch)\n",
           "        loss = train_epoch(model, loss_fn, optimizer, X_train, y_train, batch_size=batch_size, rng=rng)\n",
           diagnosis="epoch 1|epoch number|names the epoch|always 1|epoch=|which epoch"),
    Mutant("gradient_norms_per_entry", "divides each norm by the number of entries of the parameter",
           "{name: float(np.linalg.norm(p.grad)) for name, p in model.named_parameters()}",
           "{name: float(np.linalg.norm(p.grad) / p.grad.size) for name, p in model.named_parameters()}",
           diagnosis="number of entries|per entry|divided by|normalised by"),
    Mutant("health_inf_warned_twice", "checks 'exploding' with if instead of elif, so an infinite norm gets two warnings",
           "        elif norm > exploding:\n", "        if norm > exploding:\n",
           diagnosis="twice|two warnings|duplicate|elif|one warning"),
    Mutant("batch_count_plus_one", "counts the batches as n // batch_size + 1, one too many when batch_size divides n",
           "    n_batches = int(np.ceil(n / batch_size))\n", "    n_batches = n // batch_size + 1\n",
           diagnosis="number of batches|one too many|ceil|n_batches|off by one"),
    Mutant("minibatches_default_seed", "uses a generator seeded with 0 when rng is None, so every call shuffles the same way",
           "    rng = np.random.default_rng() if rng is None else rng\n    # One order",
           "    rng = np.random.default_rng(0) if rng is None else rng\n    # One order",
           diagnosis="seed|same order|same batches|fixed|every call"),
    Mutant("fit_loss_from_evaluate", "records the loss evaluated after the epoch instead of train_epoch's mean training loss",
           '        history["loss"].append(loss)\n',
           '        history["loss"].append(evaluate(model, loss_fn, X_train, y_train)[0])\n',
           diagnosis="train_epoch's|mean training loss|during the epoch|after the epoch|evaluate"),
    Mutant("evaluate_loss_weighted_by_batch_size", "weighs each batch's loss by batch_size, too much for a short last batch",
           "total_loss += loss_fn.forward(logits, y_batch) * len(X_batch)",
           "total_loss += loss_fn.forward(logits, y_batch) * batch_size",
           diagnosis="last batch|short batch|batch_size instead|weighted|len(x_batch)"),
    Mutant("mnist_model_widths_swapped", "builds 784-128-256-10 instead of 784-256-128-10",
           "    first = Linear(784, 256, rng=rng, dtype=np.float32)\n"
           "    # Nothing uses dL/d(pixels): skipping it saves a (N, 256) @ (256, 784) product per step, a sixth of\n"
           "    # the whole backward pass.\n"
           "    first.input_gradient = False\n"
           "    return Sequential(\n"
           "        first, ReLU(),\n"
           "        Linear(256, 128, rng=rng, dtype=np.float32), ReLU(),\n"
           "        Linear(128, 10, rng=rng, dtype=np.float32),\n",
           "    first = Linear(784, 128, rng=rng, dtype=np.float32)\n"
           "    # Nothing uses dL/d(pixels): skipping it saves a (N, 256) @ (256, 784) product per step, a sixth of\n"
           "    # the whole backward pass.\n"
           "    first.input_gradient = False\n"
           "    return Sequential(\n"
           "        first, ReLU(),\n"
           "        Linear(128, 256, rng=rng, dtype=np.float32), ReLU(),\n"
           "        Linear(256, 10, rng=rng, dtype=np.float32),\n",
           diagnosis="widths|hidden sizes|layer sizes|784-256-128-10|256 and 128|architecture"),
]

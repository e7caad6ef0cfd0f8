"""Fourth fresh bank for training, written after round five's diagnosis changes (see tests/mistakes/README.md)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("ordered_batches_one_short", "slices X[start:start + batch_size - 1] when not shuffling",
           "            yield X[start:start + batch_size], y[start:start + batch_size]",
           "            yield X[start:start + batch_size - 1], y[start:start + batch_size - 1]",
           diagnosis="off-by-one|off by one|one short|one index fewer|batch_size - 1|fewer"),
    Mutant("zero_grad_after_backward", "clears the gradients between backward and step",
           "        optimizer.zero_grad()\n        logits = model.forward(X_batch)\n"
           "        loss = loss_fn.forward(logits, y_batch)\n        if not np.isfinite(loss):\n"
           "            raise TrainingDiverged(epoch, batch, n_batches, loss)\n"
           "        model.backward(loss_fn.backward())\n        optimizer.step()",
           "        logits = model.forward(X_batch)\n"
           "        loss = loss_fn.forward(logits, y_batch)\n        if not np.isfinite(loss):\n"
           "            raise TrainingDiverged(epoch, batch, n_batches, loss)\n"
           "        model.backward(loss_fn.backward())\n        optimizer.zero_grad()\n        optimizer.step()",
           diagnosis="zero_grad|order|after backward|before the step|cleared|all zeros|never moved"),
    Mutant("evaluate_returns_accuracy_first", "returns (accuracy, loss) instead of (loss, accuracy)",
           "    return total_loss / len(X), correct / len(X)", "    return correct / len(X), total_loss / len(X)",
           diagnosis="swapped|order|other result|two results"),
    Mutant("norms_keyed_by_position", "keys the gradient norms by position instead of name",
           "return {name: float(np.linalg.norm(p.grad)) for name, p in model.named_parameters()}",
           "return {str(i): float(np.linalg.norm(p.grad)) for i, (name, p) in enumerate(model.named_parameters())}",
           diagnosis="name|key"),
    Mutant("health_returns_inside_the_loop", "returns the warnings from inside the loop (indentation)",
           "                            \"the weights further than their own size.\")\n    return warnings",
           "                            \"the weights further than their own size.\")\n        return warnings",
           diagnosis="only the first|every parameter|each parameter|indent|stopped early|first one"),
    Mutant("norms_recorded_before_the_epoch", "records the gradient norms before training the epoch",
           "        loss = train_epoch(model, loss_fn, optimizer, X_train, y_train, batch_size=batch_size, rng=rng,\n"
           "                           epoch=epoch)\n"
           "        # The gradients of the last batch are still in p.grad: read them before evaluate runs.\n"
           "        history[\"grad_norms\"].append(gradient_norms(model))\n",
           "        history[\"grad_norms\"].append(gradient_norms(model))\n"
           "        loss = train_epoch(model, loss_fn, optimizer, X_train, y_train, batch_size=batch_size, rng=rng,\n"
           "                           epoch=epoch)\n",
           diagnosis="previous|stale|before|one epoch|late"),
    Mutant("step_decay_one_epoch_late", "decays after epoch at_epoch + 1",
           "        if epoch == at_epoch:", "        if epoch == at_epoch + 1:",
           diagnosis="late|one epoch|off-by-one|off by one"),
    Mutant("shuffle_x_in_place", "shuffles the caller's X in place and yields y in order",
           "    order = rng.permutation(n)", "    rng.shuffle(X)\n    order = np.arange(n)",
           diagnosis="in place|caller|modif|labels|paired"),
]

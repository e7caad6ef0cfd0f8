"""Probe for `make compare EX=training`: batches, one epoch of training, evaluation and gradient norms.

Everything runs on a small fixed problem (float64), with the reference's layers, loss and optimiser
around the learner's training functions, so only the training code differs between the two runs.
"""

import numpy as np

N, BATCH = 26, 8


def probe(m, rng):
    X = rng.standard_normal((N, 4))
    y = rng.integers(0, 3, size=N)
    results = {}
    batches = list(m.training.minibatches(X, y, BATCH, rng=np.random.default_rng(5)))
    results["minibatches: batch sizes"] = np.array([len(yb) for _, yb in batches])
    results["minibatches: label order"] = np.concatenate([yb for _, yb in batches])
    results["minibatches: inputs in order"] = np.concatenate([xb for xb, _ in batches])

    model = m.network.Sequential(m.layers.Linear(4, 8, rng=rng), m.activations.ReLU(), m.layers.Linear(8, 3, rng=rng))
    loss_fn = m.losses.SoftmaxCrossEntropy()
    optimizer = m.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss = m.training.train_epoch(model, loss_fn, optimizer, X, y, batch_size=BATCH, rng=np.random.default_rng(6))
    results["train_epoch: mean loss"] = loss
    for name, p in model.named_parameters():
        results[f"after train_epoch: {name}"] = p.data.copy()
    norms = m.training.gradient_norms(model)
    results["gradient_norms"] = np.array([norms[name] for name, _ in model.named_parameters()])
    eval_loss, eval_accuracy = m.training.evaluate(model, loss_fn, X, y, batch_size=10)
    results["evaluate: loss"] = eval_loss
    results["evaluate: accuracy"] = eval_accuracy

    # A layer that behaves differently in training and eval mode (as dropout does), after the same model:
    # evaluate must run in eval mode, where it is the identity.
    modal = m.network.Sequential(*model.layers, _halves_while_training(m))
    modal.train()
    results["evaluate, dropout-like: loss"] = m.training.evaluate(modal, loss_fn, X, y, batch_size=10)[0]
    return results


def _halves_while_training(m):
    class HalvesWhileTraining(m.layers.Layer):
        def forward(self, x):
            return 0.5 * x if self.training else x

        def backward(self, grad_out):
            return 0.5 * grad_out if self.training else grad_out

    return HalvesWhileTraining()

"""Exercise 7 (optim), SGD under a learning-rate schedule: the rate read from optimizer.lr at every step, and
momentum that follows a change of rate as PyTorch's does (the shared machinery is in test_optim.py).
"""

import numpy as np
import pytest

from grader.feedback import oracle
from grader.feedback.oracle import check_close_ref
from helpers import once
from test_optim import gradient_sequence, make_params, run_updates, torch_updates


@pytest.mark.part("sgd")
def test_sgd_reads_the_learning_rate_from_its_lr_attribute_at_every_step(ex, pkg, rng):
    params = make_params(pkg, rng)
    grads = gradient_sequence(rng, steps=2)
    w0 = [p.data.copy() for p in params]
    optimizer = ex.SGD(params, lr=0.1)
    for step, deltas in run_updates(optimizer, params, grads):
        if step == 1:
            optimizer.lr = 0.01  # what a learning-rate schedule does between epochs
            continue
        # Without momentum a step's change depends on its own gradient and rate only: PyTorch's from the start.
        check_close_ref("the change of parameter 0 at step 2, after setting optimizer.lr = 0.01", deltas[0],
                        lambda: torch_updates("SGD", dict(lr=0.01), w0, grads[1:])[0][0],
                        alternatives=lambda: [(-0.1 * grads[1][0], (
                            "a step with the old rate 0.1: keep the rate in self.lr and read self.lr in step(), "
                            "so schedules can change it."))])


LR_FOLDED = ("the change of SGD with the rate folded into the velocity (v = mu * v + lr * g, w -= v): equal to "
             "PyTorch's while lr stays the same, but after optimizer.lr changes, the velocity still carries the old "
             "rate for several steps. Keep v = mu * v + g and multiply by the current self.lr in the step.")


def sgd_lr_changes(w0, grads, schedule, momentum, folded=False):
    """Deltas of momentum SGD whose rate is schedule[step - 1] at each step (the judge's simulation of the
    folded mistake; PyTorch gives the right ones)."""
    w, v, deltas = [x.copy() for x in w0], [np.zeros_like(x) for x in w0], []
    for lr, step_grads in zip(schedule, grads):
        deltas.append([])
        for i, g in enumerate(step_grads):
            v[i] = momentum * v[i] + (lr * g if folded else g)
            deltas[-1].append(-(v[i] if folded else lr * v[i]))
            w[i] = w[i] + deltas[-1][-1]
    return deltas


@pytest.mark.part("sgd")
def test_sgd_with_momentum_follows_a_change_of_lr_like_pytorch(ex, pkg, rng):
    params = make_params(pkg, rng)
    grads = gradient_sequence(rng, steps=6)
    schedule = [0.1, 0.1, 0.1, 0.01, 0.01, 0.01]  # a step decay after step 3, as fit's callback makes
    w0 = [p.data.copy() for p in params]

    def pytorch():
        torch = oracle.torch
        tensors = [torch.tensor(w.copy(), requires_grad=True) for w in w0]
        optimizer = torch.optim.SGD(tensors, lr=schedule[0], momentum=0.9)
        deltas = []
        for lr, step_grads in zip(schedule, grads):
            optimizer.param_groups[0]["lr"] = lr
            before = [t.detach().clone() for t in tensors]
            for t, g in zip(tensors, step_grads):
                t.grad = torch.tensor(g)
            optimizer.step()
            deltas.append([(t.detach() - b).numpy() for t, b in zip(tensors, before)])
        return deltas

    expected = once(pytorch)
    optimizer = ex.SGD(params, lr=schedule[0], momentum=0.9)
    for step, deltas in run_updates(optimizer, params, grads):
        if step < len(schedule):
            optimizer.lr = schedule[step]  # the rate of the next step, set between steps as a schedule does
        if step < 4:
            continue
        for i, delta in enumerate(deltas):
            check_close_ref(f"SGD(momentum=0.9): the change of parameter {i} at step {step}, after optimizer.lr went "
                            "from 0.1 to 0.01 before step 4", delta, lambda step=step, i=i: expected()[step - 1][i],
                            alternatives=lambda step=step, i=i: [
                                (sgd_lr_changes(w0, grads, schedule, 0.9, folded=True)[step - 1][i], LR_FOLDED)])

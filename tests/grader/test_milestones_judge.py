"""The judge half of a milestone: every step replayed, the accuracy computed from the weights, the time
measured from outside against PyTorch; the two halves exchange plain data (every message goes through the
wire here), and a worker that misses its deadline is stopped.
"""

from __future__ import annotations

import pytest

from grader.core.manifest import SOLUTIONS_DIR
from milestone_support import defective_copy, run_milestone

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


# ---------------------------------------------------------------------------------------------------
# the judge half: every step replayed, the accuracy from the weights, time from outside


def through_wire(value):
    import json

    from grader.core import wire

    packed = wire.encode_value(value)
    assert "__object__" not in json.dumps(packed.tree), f"not plain data: {packed.tree}"
    return wire.decode_value(packed)


def judged(tmp_path, *, tamper=None, multiple=None, name="autograd_mnist"):
    """The reference's learner half against a quick Judge in this process, every message through the
    wire; tamper(kind, data) may change what the learner's side sends. Returns (kinds sent, result)."""
    import importlib

    from grader.milestones import skeleton
    from grader.milestones.judge import Judge

    milestone = importlib.import_module(f"grader.milestones.{name}")
    judge = Judge(milestone, quick=True)
    if multiple is not None:
        judge.multiple = multiple
    kinds = []

    def send(kind, data):
        kinds.append(kind)
        data = tamper(kind, data) if tamper else data
        return through_wire(judge.on_event(kind, through_wire(data)))

    final = through_wire(skeleton.learn(milestone, SOLUTIONS_DIR, through_wire(judge.job()), send))
    return kinds, judge.verdict(final, tmp_path)


@pytest.mark.nightly
def test_the_judge_replays_every_checkpoint_and_computes_the_accuracy_from_the_weights(tmp_path):
    kinds, result = judged(tmp_path)
    assert result["status"] == "passed", result["reason"]
    assert kinds[0] == "start" and set(kinds[1:]) == {"checkpoint"} and len(kinds) > 3, kinds
    assert result["steps_verified"] == 2 * 40 and result["ratio"] > 0, result
    assert result["replay_drift_max"] < 0.01 and result["test_accuracy"] == result["history"][-1]["test_accuracy"]


@pytest.mark.nightly
def test_weights_that_are_not_the_replay_of_the_steps_are_refused_with_the_step_and_the_losses(tmp_path):
    def nudged(kind, data):
        if kind == "checkpoint" and data["step"] == 20:
            data = {**data, "weights": [w * 1.5 for w in data["weights"]]}
        return data

    _, result = judged(tmp_path, tamper=nudged)
    assert result["status"] == "failed", result
    assert result["reason"].startswith("your checkpoint 2 is not what 10 steps from checkpoint 1 give (step 20: loss"), \
        result["reason"]


@pytest.mark.nightly
def test_the_judge_fails_a_run_slower_than_its_multiple_of_pytorch_and_says_so(tmp_path):
    import time

    def slow(kind, data):
        time.sleep(0.3 if kind == "checkpoint" else 0)
        return data

    _, result = judged(tmp_path, tamper=slow, multiple=0.2)
    assert result["status"] == "failed" and result["too_slow"], result
    assert "PyTorch" in result["reason"] and "too slow" in result["reason"], result["reason"]


@pytest.mark.nightly
def test_the_judge_stops_a_worker_that_misses_its_deadline(tmp_path):
    import numpy as np

    from grader.milestones import autograd_mnist
    from grader.milestones.judge import Judge

    judge = Judge(autograd_mnist, quick=True)
    assert judge.deadline() is None, "no deadline before training starts"
    shapes = [[784, 256], [256], [256, 128], [128], [128, 10], [10]]
    initial = judge.on_event("start", {"settings": {}, "record": {}, "steps_per_epoch": 36, "shapes": shapes})["initial"]
    assert judge.budget() < judge.deadline() <= 1.1 * judge.budget() + 5, "PyTorch's first steps set a budget"
    rows = [np.arange(128 * i, 128 * (i + 1)) for i in range(3)]
    weights, previous, losses = judge.replay.run(initial, None, None, rows, [0.05] * 3)  # PyTorch as the learner
    reply = judge.on_event("checkpoint", {"step": 3, "weights": weights, "previous": previous, "batches": rows,
                                          "lrs": np.full(3, 0.05), "losses": losses, "grad_norms": np.ones((3, 6))})
    assert reply["stop"] is None and judge.budget() < judge.deadline() <= 1.1 * judge.budget() + 5
    result = judge.interrupted(tmp_path)
    assert result["status"] == "failed" and result["too_slow"] and "budget" in result["reason"], result


@pytest.mark.nightly
def test_a_training_step_that_never_ends_is_interrupted_at_the_judges_deadline(tmp_path):
    target = defective_copy(tmp_path, "training", (
        "def fit(*args, **kwargs):\n"
        "    import time\n"
        "    while True:\n"
        "        time.sleep(0.05)\n"))
    result, output = run_milestone("mnist", target, tmp_path)
    assert result["status"] == "failed" and result["too_slow"], result
    assert "did not report back within its budget" in result["reason"], result["reason"]
    assert result["train_seconds"] < 60, "interrupted at the deadline, not at the milestone's TIME_LIMIT"

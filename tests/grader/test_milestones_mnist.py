"""The MNIST milestone in quick mode: it passes with the reference, is locked on the stubs, and fails with a
useful reason for code that diverges or cannot learn; the learner half's training loop, its progress lines,
and the cache of milestone results keyed by the files they use.

Each run is a child process started by milestone_support.run_milestone, as the grader starts it.
"""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest

from grader.core.manifest import DATA_DIR, SOLUTIONS_DIR
from grader.milestones import mnist as mnist_milestone
from grader.milestones import skeleton
from milestone_support import assert_pngs, defective_copy, run_milestone

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


# ---------------------------------------------------------------------------------------------------
# mnist


@pytest.mark.nightly
def test_mnist_quick_run_passes_with_the_reference_and_records_what_it_measured(tmp_path):
    result, output = run_milestone("mnist", "solutions", tmp_path)
    assert result["status"] == "passed", f"{result.get('reason')}\n{output[-2000:]}"
    assert result["quick"] is True and "quick" in result["reason"].lower(), result["reason"]
    assert result["test_accuracy"] > result["threshold"], result
    assert result["epochs"] == 1 and result["steps_verified"] == 36 and result["replay_drift_max"] < 0.01, result
    expected_sums = {line.split()[-1]: line.split()[0]
                     for line in (DATA_DIR / "mnist" / "SHA256SUMS").read_text().splitlines()
                     if line.strip() and not line.startswith("#")}
    assert result["data_sha256"] == expected_sums
    assert_pngs(result, "curve", "gradient_flow")
    assert result["torch_step_ms"] > 0 and result["budget_seconds"] == pytest.approx(
        result["multiple"] * result["torch_seconds"], rel=1e-3), "the budget is a multiple of PyTorch's time"
    for words in ("sanity 1/3", "sanity 2/3", "sanity 3/3", "epoch 1/1", "Training curve summary", "budget",
                  "judged: test accuracy"):
        assert words in output, f"{words!r} missing from the milestone's output:\n{output}"


def test_mnist_is_locked_on_the_stubs(tmp_path):
    result, output = run_milestone("mnist", "exercises", tmp_path)
    assert result["status"] == "locked", f"{result}\n{output[-1500:]}"


@pytest.mark.nightly
def test_weights_far_too_large_fail_the_first_sanity_check_naming_the_init_scale(tmp_path):
    target = defective_copy(tmp_path, "layers", (
        "_he = INITIALIZERS['he']\n"
        "INITIALIZERS['he'] = lambda fan_in, fan_out, rng: 30.0 * _he(fan_in, fan_out, rng)\n"))
    result, output = run_milestone("mnist", target, tmp_path)
    assert result["status"] == "failed", result
    assert "initial loss" in result["reason"] and "init scale" in result["reason"], result["reason"]
    assert "sanity 2/3" not in output, "the ladder must stop at the first failed check"


@pytest.mark.nightly
def test_an_optimiser_that_never_updates_fails_the_overfit_check(tmp_path):
    target = defective_copy(tmp_path, "optim", "SGD.step = lambda self: None\n")
    result, _ = run_milestone("mnist", target, tmp_path)
    assert result["status"] == "failed", result
    assert "memorise" in result["reason"] and "optimiser" in result["reason"], result["reason"]


@pytest.mark.nightly
def test_a_diverging_loss_stops_the_run_with_advice(tmp_path):
    target = defective_copy(tmp_path, "training", "MNIST_SETTINGS = {**MNIST_SETTINGS, 'lr': 1e6}\n")
    result, output = run_milestone("mnist", target, tmp_path)
    assert result["status"] == "failed", result
    assert "diverged" in result["reason"] and "learning rate" in result["reason"], result["reason"]
    assert "Traceback" not in output, output[-2000:]


def test_a_nan_loss_is_reported_not_crashed_on():
    losses = []
    watched = mnist_milestone.Watched(_ConstantLoss(float("nan")), "forward", losses.append)
    assert str(watched.forward(None, None)) == "nan" and len(losses) == 1
    reason = mnist_milestone.diverged("during epoch 1", float("nan"))["reason"]
    assert "nan" in reason and "learning rate" in reason


class FakeJudge:
    """Replies to the learner half's events like a judge with an endless budget, and keeps them."""

    def __init__(self):
        self.events = []

    def __call__(self, kind, data):
        self.events.append((kind, data))
        return {"budget_seconds": 1e9, "spent_seconds": 0.0, "stop": None}


def small_session(m, *, n=256, epochs_of_data=None):
    """A learner-half Session on `n` random images, talking to a FakeJudge."""
    import numpy as np

    from grader.milestones import skeleton

    judge = FakeJudge()
    rng = np.random.default_rng(0)
    job = {"quick": True, "threads": 1, "multiple": 10.0, "every": 50}
    session = skeleton.Session(mnist_milestone.SPEC, m, job, judge)
    session.X_train, session.y_train = rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n)
    session.X_val, session.y_val = session.X_train[:64], session.y_train[:64]
    session.rows = skeleton.RowIndex(session.X_train)
    return session, judge


def test_a_loss_that_turns_nan_mid_training_stops_the_run_naming_the_epoch():
    from types import SimpleNamespace

    ref = skeleton.learner_modules(SOLUTIONS_DIR)

    class NanAfterFiveSteps(ref.losses.SoftmaxCrossEntropy):
        calls = 0

        def forward(self, logits, labels):
            NanAfterFiveSteps.calls += 1
            value = super().forward(logits, labels)
            return float("nan") if NanAfterFiveSteps.calls > 5 else value

    m = SimpleNamespace(training=ref.training, optim=ref.optim,
                        losses=SimpleNamespace(SoftmaxCrossEntropy=NanAfterFiveSteps))
    session, _ = small_session(m, n=640)
    with pytest.raises(skeleton.Stop) as stopped:
        mnist_milestone.train(session)
    result = stopped.value.result
    assert result["status"] == "failed" and "nan" in result["reason"], result
    assert "during epoch 1 (after 5 steps)" in result["reason"], result["reason"]


def test_the_step_decay_of_the_settings_is_applied_after_its_epoch_and_reported_per_step():
    from types import SimpleNamespace

    ref = skeleton.learner_modules(SOLUTIONS_DIR)
    settings = {"lr": 0.1, "momentum": 0.9, "epochs": 2, "batch_size": 128, "lr_drop_epoch": 1,
                "lr_drop_factor": 0.1}
    training = SimpleNamespace(**{name: getattr(ref.training, name) for name in
                                  ("fit", "train_epoch", "build_mnist_model", "step_decay")},
                               MNIST_SETTINGS=settings)
    m = SimpleNamespace(training=training, optim=ref.optim, losses=ref.losses)
    session, judge = small_session(m)
    session.quick = False  # two epochs, as the settings say
    mnist_milestone.train(session)
    assert session.record["final_lr"] == pytest.approx(0.01), session.record
    epochs = [data for kind, data in judge.events if kind == "checkpoint"]
    assert [kind for kind, _ in judge.events] == ["start", "checkpoint", "checkpoint"], judge.events
    assert list(epochs[0]["lrs"]) == [0.1, 0.1] and list(epochs[1]["lrs"]) == pytest.approx([0.01, 0.01])
    assert epochs[0]["grad_norms"].shape == (2, 6) and "epoch" in epochs[0] and epochs[1]["step"] == 4
    rows = np.concatenate(epochs[0]["batches"])
    assert sorted(rows) == list(range(256)), "the batches' indices in the training images, each once an epoch"
    assert "test" not in str(judge.events[0][1]) and set(epochs[0]) >= {"grad_names", "grad_shapes", "weights"}


class _ConstantLoss:
    def __init__(self, value):
        self.value = value

    def forward(self, logits, labels):
        return self.value

    def backward(self):
        return None


def test_progress_writes_one_line_per_epoch_when_not_a_terminal():
    stream = io.StringIO()
    progress = skeleton.Progress(epochs=2, steps_per_epoch=5, stream=stream)
    for epoch in range(2):
        for _ in range(5):
            progress.step(1.0)
        progress.end_epoch("loss 1.0000")
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue() and len(lines) == 2, lines
    assert lines[0].startswith("epoch 1/2: loss 1.0000") and lines[1].startswith("epoch 2/2")


# ---------------------------------------------------------------------------------------------------
# the cache of milestone results


def test_a_cached_result_is_reused_until_a_file_the_milestone_uses_changes(tmp_path, monkeypatch):
    from grader.core import milestone_cache as cache

    monkeypatch.setattr(cache, "CACHE_DIR", tmp_path / "cache")
    target = tmp_path / "target"
    shutil.copytree(SOLUTIONS_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    assert cache.cached("mnist", target) is None
    assert cache.store("mnist", target, {"status": "passed", "reason": "fine"})
    assert cache.cached("mnist", target) == {"status": "passed", "reason": "fine", "cached": True}
    assert cache.cached("mnist", target, quick=True) is None, "quick is another key"
    (target / "batchnorm.py").write_text((target / "batchnorm.py").read_text() + "\n# an unrelated edit\n")
    assert cache.cached("mnist", target) is not None, "mnist does not use batchnorm"
    (target / "layers.py").write_text((target / "layers.py").read_text() + "\n# an edit\n")
    assert cache.cached("mnist", target) is None, "mnist uses layers.py"


def test_the_cache_follows_relative_imports_and_keeps_no_machine_dependent_verdict(tmp_path, monkeypatch):
    from grader.core import milestone_cache as cache

    monkeypatch.setattr(cache, "CACHE_DIR", tmp_path / "cache")
    target = tmp_path / "target"
    shutil.copytree(SOLUTIONS_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    (target / "helpers_of_mine.py").write_text("X = 1\n")
    (target / "training.py").write_text((target / "training.py").read_text() + "\nfrom . import helpers_of_mine\n")
    assert target / "helpers_of_mine.py" in cache.learner_files("mnist", target)
    assert target / "conv.py" not in cache.learner_files("autograd_mnist", target)
    for result in ({"status": "failed", "too_slow": True, "reason": "slow"}, {"status": "locked"},
                   {"status": "not-run"}):
        assert not cache.store("mnist", target, result), result
    assert cache.store("mnist", target, {"status": "failed", "reason": "89% accuracy"})

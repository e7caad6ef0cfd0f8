"""The core milestones (`mnist`, `speed`) in quick mode: they pass with the reference, are locked on the
stubs, and fail with a useful reason for code that is slow, diverges or cannot learn.

Each run is a child process, exactly as the grader starts it (`python -m grader milestone NAME ...`),
against solutions/ or a copy of it with one deliberate defect appended to one module.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.core.manifest import DATA_DIR, ROOT, SOLUTIONS_DIR
from grader.milestones import mnist as mnist_milestone

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def run_milestone(name, target, tmp_path, *, extra_env=None, quick=True):
    """Run one milestone in a child process; return (result dict, combined output)."""
    out_dir = tmp_path / "out"
    result_file = tmp_path / f"{name}.json"
    command = [sys.executable, "-m", "grader", "milestone", name, "--target", str(target),
               "--out", str(out_dir), "--result", str(result_file)] + (["--quick"] if quick else [])
    # One BLAS/OpenMP thread on both sides, as the grader's test runner does: two threads per library
    # on a machine busy with other tests make timings erratic (a thread waiting at a barrier for a
    # descheduled partner), and the ratio is what is tested, not the absolute speed.
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1", **(extra_env or {}))
    completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=170)
    output = completed.stdout + completed.stderr
    assert result_file.exists(), f"the milestone wrote no result (exit {completed.returncode}):\n{output[-2000:]}"
    return json.loads(result_file.read_text()), output


def defective_copy(tmp_path, module, appended_code, name="defective"):
    """A copy of solutions/ with `appended_code` added at the end of `module`.py."""
    target = tmp_path / name
    shutil.copytree(SOLUTIONS_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    with open(target / f"{module}.py", "a", encoding="utf-8") as handle:
        handle.write("\n\n# --- defect added by tests/grader/test_milestones.py ---\n" + appended_code)
    return target


# ---------------------------------------------------------------------------------------------------
# mnist


def test_mnist_quick_run_passes_with_the_reference_and_records_what_it_measured(tmp_path):
    result, output = run_milestone("mnist", "solutions", tmp_path)
    assert result["status"] == "passed", f"{result.get('reason')}\n{output[-2000:]}"
    assert result["quick"] is True and "quick" in result["reason"].lower(), result["reason"]
    assert result["test_accuracy"] > result["threshold"], result
    assert result["epochs"] == 1 and result["seed"] == mnist_milestone.SEED
    expected_sums = {line.split()[-1]: line.split()[0]
                     for line in (DATA_DIR / "mnist" / "SHA256SUMS").read_text().splitlines()
                     if line.strip() and not line.startswith("#")}
    assert result["data_sha256"] == expected_sums
    plot = Path(result["plot"])
    assert plot.exists() and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", "the training curve PNG is missing"
    for words in ("sanity 1/3", "sanity 2/3", "sanity 3/3", "epoch 1/1", "Training curve summary", "budget"):
        assert words in output, f"{words!r} missing from the milestone's output:\n{output}"


def test_mnist_is_locked_on_the_stubs(tmp_path):
    result, output = run_milestone("mnist", "exercises", tmp_path)
    assert result["status"] == "locked", f"{result}\n{output[-1500:]}"


def test_weights_far_too_large_fail_the_first_sanity_check_naming_the_init_scale(tmp_path):
    target = defective_copy(tmp_path, "layers", (
        "_he = INITIALIZERS['he']\n"
        "INITIALIZERS['he'] = lambda fan_in, fan_out, rng: 30.0 * _he(fan_in, fan_out, rng)\n"))
    result, output = run_milestone("mnist", target, tmp_path)
    assert result["status"] == "failed", result
    assert "initial loss" in result["reason"] and "init scale" in result["reason"], result["reason"]
    assert "sanity 2/3" not in output, "the ladder must stop at the first failed check"


def test_an_optimiser_that_never_updates_fails_the_overfit_check(tmp_path):
    target = defective_copy(tmp_path, "optim", "SGD.step = lambda self: None\n")
    result, _ = run_milestone("mnist", target, tmp_path)
    assert result["status"] == "failed", result
    assert "memorise" in result["reason"] and "optimiser" in result["reason"], result["reason"]


def test_a_diverging_loss_stops_the_run_with_advice(tmp_path):
    target = defective_copy(tmp_path, "training", "MNIST_SETTINGS = {**MNIST_SETTINGS, 'lr': 1e6}\n")
    result, output = run_milestone("mnist", target, tmp_path)
    assert result["status"] == "failed", result
    assert "diverged" in result["reason"] and "learning rate" in result["reason"], result["reason"]
    assert "Traceback" not in output, output[-2000:]


def test_a_nan_loss_is_reported_not_crashed_on():
    losses = []
    watched = mnist_milestone.WatchedLoss(_ConstantLoss(float("nan")), on_value=losses.append)
    assert str(watched.forward(None, None)) == "nan" and len(losses) == 1
    reason = mnist_milestone.diverged("during epoch 1", float("nan"))["reason"]
    assert "nan" in reason and "learning rate" in reason


def test_a_loss_that_turns_nan_mid_training_stops_the_run_naming_the_epoch(tmp_path):
    from types import SimpleNamespace

    import numpy as np

    ref = mnist_milestone.learner_modules(SOLUTIONS_DIR)

    class NanAfterFiveSteps(ref.losses.SoftmaxCrossEntropy):
        calls = 0

        def forward(self, logits, labels):
            NanAfterFiveSteps.calls += 1
            value = super().forward(logits, labels)
            return float("nan") if NanAfterFiveSteps.calls > 5 else value

    m = SimpleNamespace(training=ref.training, optim=ref.optim,
                        losses=SimpleNamespace(SoftmaxCrossEntropy=NanAfterFiveSteps))
    rng = np.random.default_rng(0)
    X, y = rng.random((640, 784), dtype=np.float32), rng.integers(0, 10, 640)
    settings = {"lr": 0.1, "momentum": 0.9, "epochs": 2, "batch_size": 64}
    with pytest.raises(mnist_milestone.Stop) as stopped:
        mnist_milestone.train(m, settings, 2, 64, 60.0, X, y, X[:64], y[:64], tmp_path, {"quick": True})
    result = stopped.value.result
    assert result["status"] == "failed" and "nan" in result["reason"], result
    assert "during epoch 1 (after 5 steps)" in result["reason"], result["reason"]


def test_the_step_decay_of_the_settings_is_applied_after_its_epoch(tmp_path):
    import numpy as np

    ref = mnist_milestone.learner_modules(SOLUTIONS_DIR)
    rng = np.random.default_rng(0)
    X, y = rng.random((256, 784), dtype=np.float32), rng.integers(0, 10, 256)
    settings = {"lr": 0.1, "momentum": 0.9, "epochs": 2, "batch_size": 128, "lr_drop_epoch": 1,
                "lr_drop_factor": 0.1}
    result = mnist_milestone.train(ref, settings, 2, 128, 60.0, X, y, X[:64], y[:64], tmp_path,
                                   {"quick": True, "threshold": 0.0, "budget_seconds": 60.0, "epochs": 2})
    assert result["final_lr"] == pytest.approx(0.01), result


class _ConstantLoss:
    def __init__(self, value):
        self.value = value

    def forward(self, logits, labels):
        return self.value

    def backward(self):
        return None


def test_progress_writes_one_line_per_epoch_when_not_a_terminal():
    stream = io.StringIO()
    progress = mnist_milestone.Progress(epochs=2, steps_per_epoch=5, stream=stream)
    for epoch in range(2):
        for _ in range(5):
            progress.step(1.0)
        progress.end_epoch("loss 1.0000")
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue() and len(lines) == 2, lines
    assert lines[0].startswith("epoch 1/2: loss 1.0000") and lines[1].startswith("epoch 2/2")


# ---------------------------------------------------------------------------------------------------
# speed


def test_speed_quick_run_passes_with_the_reference(tmp_path):
    result, output = run_milestone("speed", "solutions", tmp_path)
    assert result["status"] == "passed", f"{result.get('reason')}\n{output[-2000:]}"
    assert 0 < result["ratio"] <= 3.0 and result["threads"] >= 1
    assert abs(result["first_loss"] - result["first_loss_torch"]) < 1e-4, "the two models must start equal"
    for words in ("Profile of your training step", "matmul", "element-wise", "forward", "backward",
                  "Why a framework is faster"):
        assert words in output, f"{words!r} missing from the speed milestone's output:\n{output}"


def test_a_per_sample_loop_fails_the_speed_ratio(tmp_path):
    target = defective_copy(tmp_path, "layers", (
        "def _forward_row_by_row(self, x):\n"
        "    self._x = x\n"
        "    return np.stack([row @ self.W.data + self.b.data for row in x])\n\n"
        "def _backward_row_by_row(self, grad_out):\n"
        "    for row, g in zip(self._x, grad_out):\n"
        "        self.W.grad += np.outer(row, g)\n"
        "        self.b.grad += g\n"
        "    return np.stack([g @ self.W.data.T for g in grad_out])\n\n"
        "Linear.forward = _forward_row_by_row\n"
        "Linear.backward = _backward_row_by_row\n"), name="slow")
    result, _ = run_milestone("speed", target, tmp_path)
    assert result["status"] == "failed", result
    assert result["ratio"] > 3.0 and "loop" in result["reason"], result


def test_speed_is_not_run_when_torch_cannot_be_imported(tmp_path):
    hidden = tmp_path / "no_torch" / "torch"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text("raise ImportError(\"No module named 'torch' (hidden by a test)\")\n")
    path = os.pathsep.join([str(tmp_path / "no_torch"), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    result, _ = run_milestone("speed", "solutions", tmp_path, extra_env={"PYTHONPATH": path})
    assert result["status"] == "not-run", result
    assert "PyTorch" in result["reason"], result["reason"]


def test_speed_is_locked_on_the_stubs(tmp_path):
    result, output = run_milestone("speed", "exercises", tmp_path)
    assert result["status"] == "locked", f"{result}\n{output[-1500:]}"


# ---------------------------------------------------------------------------------------------------
# make bench


def test_bench_skips_a_section_whose_module_does_not_exist_yet(capsys):
    from grader.maintainer import bench

    result = bench.run_section("grader.maintainer.benchmarks.no_such_section", quick=True)
    assert result["status"] == "skipped" and "does not exist" in capsys.readouterr().out
    assert bench.main(["--only", "no_such_section"]) == 2, "an unknown --only name must be refused"


# ---------------------------------------------------------------------------------------------------
# stretch milestones: autograd_mnist and stability

def test_autograd_mnist_quick_run_passes_with_the_reference_engine(tmp_path):
    result, output = run_milestone("autograd_mnist", "solutions", tmp_path)
    assert result["status"] == "passed", f"{result.get('reason')}\n{output[-2000:]}"


def test_autograd_mnist_is_locked_on_the_stubs(tmp_path):
    result, output = run_milestone("autograd_mnist", "exercises", tmp_path)
    assert result["status"] == "locked", f"{result}\n{output[-1500:]}"


def test_the_stability_table_passes_with_the_reference_and_shows_where_naive_formulas_break(tmp_path):
    result, output = run_milestone("stability", "solutions", tmp_path)
    assert result["status"] == "passed", f"{result.get('reason')}\n{output[-2000:]}"
    assert "float32" in output and "float64" in output, output[-2000:]


def test_a_textbook_sigmoid_posing_as_the_stable_one_fails_the_stability_milestone(tmp_path):
    target = defective_copy(tmp_path, "stability",
                            "def stable_sigmoid(x):\n    return 1.0 / (1.0 + np.exp(-x))\n")
    result, output = run_milestone("stability", target, tmp_path)
    assert result["status"] == "failed", f"{result}\n{output[-1500:]}"
    assert "stable_sigmoid" in result["reason"], result["reason"]


# ---------------------------------------------------------------------------------------------------
# stretch milestone: cnn

def test_cnn_quick_run_passes_with_the_reference(tmp_path):
    result, output = run_milestone("cnn", "solutions", tmp_path)
    assert result["status"] == "passed", f"{result.get('reason')}\n{output[-2000:]}"


def test_cnn_is_locked_on_the_stubs(tmp_path):
    result, output = run_milestone("cnn", "exercises", tmp_path)
    assert result["status"] == "locked", f"{result}\n{output[-1500:]}"

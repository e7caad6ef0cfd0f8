"""`make bench` and the performance milestones it shares its measurements with (fast_mlp, fast_cnn).

Quick mode only: full runs stay out of `make test`. Each run is a child process, as the grader or
`make bench` starts it, one BLAS thread.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.core.manifest import ROOT, SOLUTIONS_DIR
from grader.maintainer.benchmarks import reverse_mode

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _child(arguments, timeout=500):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", **ONE_THREAD)
    completed = subprocess.run([sys.executable, "-m", *arguments], cwd=ROOT, env=env, capture_output=True, text=True,
                               timeout=timeout)
    return completed, completed.stdout + completed.stderr


def run_milestone(name, target, tmp_path, quick=True):
    result_file = tmp_path / f"{name}.json"
    _, output = _child(["grader", "milestone", name, "--target", str(target), "--out", str(tmp_path / "out"),
                        "--result", str(result_file)] + (["--quick"] if quick else []))
    assert result_file.exists(), f"the milestone wrote no result:\n{output[-2000:]}"
    return json.loads(result_file.read_text()), output


@pytest.mark.nightly
def test_bench_quick_prints_every_variant_and_writes_ratios_by_workload_and_variant(tmp_path):
    ratios = tmp_path / "bench.json"
    completed, output = _child(["grader", "bench", "--quick", "--only", "training", "--ratios", str(ratios)])
    assert completed.returncode == 0, output[-3000:]
    written = json.loads(ratios.read_text())
    assert set(written) == {"mlp", "cnn", "autograd"}, written
    assert set(written["mlp"]) == set(written["cnn"]) == {"textbook", "performance"}, written
    assert set(written["autograd"]) == {"textbook"}, written
    assert all(value > 0 for variants in written.values() for value in variants.values()), written
    for words in ("peak extra MiB", "test acc %", "Where a textbook CNN step goes",
                  "Where a performance CNN step goes", "sum of parts"):
        assert words in output, f"{words!r} missing from the bench's output:\n{output[-3000:]}"


def test_reverse_mode_costs_a_few_passes_where_the_numerical_gradient_costs_2n():
    rows = reverse_mode.measure(reverse_mode.QUICK_WIDTHS, repeats=1)
    ratios = [row["numerical_s"] / row["reverse_s"] for row in rows]
    assert ratios[-1] > ratios[0] > 1, rows  # the gap grows with the number of parameters
    assert all(row["numerical_s"] > row["reverse_s"] for row in rows), rows


@pytest.mark.nightly
@pytest.mark.parametrize("name", ["fast_mlp", "fast_cnn"])
def test_performance_milestones_pass_quickly_with_the_reference(tmp_path, name):
    result, output = run_milestone(name, "solutions", tmp_path)
    assert result["status"] == "passed", f"{result.get('reason')}\n{output[-3000:]}"
    assert result["quick"] is True and "quick" in result["reason"]
    assert set(result["step_ms"]) == {"textbook", "fast", "torch"}
    assert all(v.get("peak_extra_mib", -1) >= 0 for v in result["memory"].values()), result["memory"]
    for words in ("Profile of your fast step", "sum of parts", "Peak memory above the level before training",
                  "one thread each"):
        assert words in output, f"{words!r} missing:\n{output[-3000:]}"


@pytest.mark.parametrize("name", ["fast_mlp", "fast_cnn"])
def test_performance_milestones_are_locked_on_the_stubs(tmp_path, name):
    result, output = run_milestone(name, "exercises", tmp_path)
    assert result["status"] == "locked", f"{result}\n{output[-1500:]}"


@pytest.mark.nightly
def test_a_textbook_step_posing_as_the_fast_one_fails_the_fast_mlp_milestone(tmp_path):
    """A FastMLP that is the textbook step in disguise computes the right thing but is not faster."""
    target = tmp_path / "textbook_as_fast"
    shutil.copytree(SOLUTIONS_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    with open(target / "performance.py", "a", encoding="utf-8") as handle:
        handle.write('''

# --- defect added by tests/grader/test_bench.py: the textbook step under FastMLP's name ---
from . import activations as _activations, layers as _layers, losses as _losses, network as _network
from . import optim as _optim


class FastMLP:
    def __init__(self, params, *, lr, momentum, batch_size):
        layers = []
        for index in range(0, len(params), 2):
            if index:
                layers.append(_activations.ReLU())
            layer = _layers.Linear(*np.shape(params[index]), dtype=np.float32)
            layer.W.data[...] = params[index]
            layer.b.data[...] = params[index + 1]
            layers.append(layer)
        self.model = _network.Sequential(*layers)
        self.loss_fn = _losses.SoftmaxCrossEntropy()
        self.optimizer = _optim.SGD(self.model.parameters(), lr=lr, momentum=momentum)

    def step(self, x, labels, profiler=None):
        self.optimizer.zero_grad()
        loss = self.loss_fn.forward(self.model.forward(x), labels)
        self.model.backward(self.loss_fn.backward())
        self.optimizer.step()
        return loss

    def parameters(self):
        return [p.data.copy() for p in self.model.parameters()]
''')
    result, output = run_milestone("fast_mlp", target, tmp_path, quick=False)
    assert result["status"] == "failed", f"{result.get('reason')}\n{output[-2000:]}"
    assert "speed-up over your textbook step is" in result["reason"], result["reason"]


@pytest.mark.nightly
def test_a_fast_step_that_stops_training_after_one_cycle_is_caught_by_its_losses(tmp_path):
    """The judge times the worker from outside, so a faster step could only be a skipped one: every
    reported loss must be PyTorch's loss of the same step (here the step replays its first cycle's)."""
    target = tmp_path / "replays"
    shutil.copytree(SOLUTIONS_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    with open(target / "performance.py", "a", encoding="utf-8") as handle:
        handle.write('''

# --- defect added by tests/grader/test_bench.py: trains one cycle of 8 batches, then replays its losses ---
_HonestFastMLP = FastMLP


class FastMLP(_HonestFastMLP):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen = []

    def step(self, x, labels, profiler=None):
        if len(self.seen) < 8:
            self.seen.append(super().step(x, labels, profiler))
            return self.seen[-1]
        self.seen.append(self.seen[len(self.seen) % 8])
        return self.seen[-1]
''')
    result, output = run_milestone("fast_mlp", target, tmp_path)
    assert result["status"] == "failed", f"{result.get('reason')}\n{output[-2000:]}"
    assert "agree with PyTorch's for 8 steps, then step 9" in result["reason"], result["reason"]

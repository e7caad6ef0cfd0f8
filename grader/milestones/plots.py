"""Plots shared by the milestones and the benchmarks: PNG files only, never a window.

matplotlib is switched to its Agg backend (pure raster, no display needed) before pyplot is imported,
so the grader works the same over ssh, in CI and in a container. Every function writes one PNG and
returns its path; callers print the path so the learner knows where to look.

A history is what `training.fit` returns: lists with one entry per epoch,
    {"loss": [...], "train_accuracy": [...], "test_accuracy": [...],
     "grad_norms": [{parameter name: ||dL/dp||}, ...]}
Missing keys are simply not drawn.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: a file backend, so no window ever opens

import matplotlib.pyplot as plt  # noqa: E402

DPI = 110


def _finite(values):
    """Replace NaN/inf with None so matplotlib leaves a gap instead of failing on a diverged run."""
    return [v if v is not None and math.isfinite(v) else None for v in values]


def grad_norm_series(grad_norms) -> dict[str, list[float]]:
    """{parameter name: [norm per epoch]} from a list of per-epoch {name: norm} dicts.

    Also accepts the transposed form {name: [norm per epoch]} (returned unchanged)."""
    if isinstance(grad_norms, dict):
        return {str(k): [float(x) for x in v] for k, v in grad_norms.items()}
    series: dict[str, list[float]] = {}
    for epoch in grad_norms or []:
        for name, value in dict(epoch).items():
            series.setdefault(str(name), []).append(float(value))
    return series


def training_curve(history: dict, path, *, title: str = "Training curve") -> Path:
    """Three panels side by side: loss per epoch; train and test accuracy; per-parameter gradient norms.

    The gradient norms use a log scale: vanishing (norms falling by orders of magnitude towards the
    first layers) or exploding gradients show up as a fan of lines spread far apart.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    loss = history.get("loss") or []
    epochs = list(range(1, len(loss) + 1))

    ax = axes[0]
    if loss:
        ax.plot(epochs, _finite(loss), marker="o", color="tab:red", label="training loss")
    ax.set_title("Loss (cross-entropy)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean loss over the epoch")
    ax.grid(alpha=0.3)

    ax = axes[1]
    for key, label, colour in (("train_accuracy", "train", "tab:blue"), ("test_accuracy", "test", "tab:green")):
        values = history.get(key) or []
        if values:
            ax.plot(range(1, len(values) + 1), [100 * v if v is not None else None for v in _finite(values)],
                    marker="o", color=colour, label=label)
    ax.set_title("Accuracy")
    ax.set_xlabel("epoch")
    ax.set_ylabel("% correct")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")

    ax = axes[2]
    series = grad_norm_series(history.get("grad_norms"))
    for name, values in series.items():
        positive = [v if v is not None and v > 0 else None for v in _finite(values)]
        ax.plot(range(1, len(values) + 1), positive, marker=".", label=name)
    ax.set_title("Gradient norms (last batch of each epoch)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("||dL/dp||")
    if series:
        ax.set_yscale("log")
        ax.legend(fontsize=7, ncol=2, loc="best")
    ax.grid(alpha=0.3, which="both")

    for ax in axes:
        if len(epochs) <= 20 and epochs:
            ax.set_xticks(epochs)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def loss_curves(curves: dict[str, list[float]], path, *, title: str = "Loss", xlabel: str = "step",
                ylabel: str = "training loss", log_y: bool = True, smooth: int = 1) -> Path:
    """One line per named curve (e.g. one per optimiser) on shared axes.

    smooth: width of a trailing moving average (1 = raw); mini-batch losses are noisy, and a short
    average makes the curves comparable by eye without hiding their trend.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(8, 4.8))
    for name, values in curves.items():
        values = _finite([float(v) for v in values])
        if smooth > 1:
            averaged, window = [], []
            for v in values:
                if v is not None:
                    window = (window + [v])[-smooth:]
                averaged.append(sum(window) / len(window) if window else None)
            values = averaged
        ax.plot(range(1, len(values) + 1), values, label=name, linewidth=1.4)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if log_y:
        ax.set_yscale("log")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path

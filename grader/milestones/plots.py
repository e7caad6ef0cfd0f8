"""Plots shared by the milestones and the benchmarks: each function writes one PNG and returns its path.

matplotlib's Agg backend (no display) works the same over ssh, in CI and in a container. The training
milestones draw from the judge's history (judge.py): one entry per epoch with the mean loss, the test
accuracy, the learning rate and, per parameter, the median, smallest and largest gradient norm.
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


def _lr_changes(history: list[dict]) -> list[tuple[float, float, float]]:
    """[(x between the two epochs, old lr, new lr)] wherever the learning rate changed between epochs
    (or inside an epoch: then at that epoch's middle)."""
    changes, previous = [], None
    for entry in history:
        lr = entry.get("lr") or {}
        low, high, median = lr.get("min", math.nan), lr.get("max", math.nan), lr.get("median", math.nan)
        if not math.isfinite(median):
            continue
        if previous is not None and not math.isclose(previous, lr.get("min", median), rel_tol=1e-6):
            changes.append((entry["epoch"] - 0.5, previous, lr.get("min", median)))
        if math.isfinite(low) and math.isfinite(high) and not math.isclose(low, high, rel_tol=1e-6):
            changes.append((entry["epoch"], low, high))
        previous = lr.get("max", median)
    return changes


def epoch_curves(history: list[dict], path, *, title: str = "Training curve", target: float | None = None) -> Path:
    """Three panels, one point per epoch: the mean training loss; the grader's test accuracy (and the
    learner's reported train / validation accuracy, if any) with `target` as a line; each parameter's
    gradient norm, the median over the epoch's steps in a band from the smallest to the largest (one
    batch's dip is a band edge, not an alarming point). Dashed lines mark learning-rate changes.

    history: the judge's entries, {"epoch", "loss", "test_accuracy", "lr": {"median", "min", "max"},
    "learner": {"train_accuracy", "validation_accuracy"}, "grad_norms": {name: {"median", "min", "max"}}}.
    """
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4))
    epochs = [entry["epoch"] for entry in history]

    ax = axes[0]
    ax.plot(epochs, _finite([e["loss"] for e in history]), marker="o", color="tab:red", label="training loss")
    ax.set(title="Loss (mean over the epoch's steps)", xlabel="epoch", ylabel="cross-entropy")

    ax = axes[1]
    ax.plot(epochs, [100 * v if v is not None else None for v in _finite([e["test_accuracy"] for e in history])],
            marker="o", color="tab:green", label="test (computed by the grader)")
    for key, label, colour in (("train_accuracy", "train (your evaluate)", "tab:blue"),
                               ("validation_accuracy", "validation (your evaluate)", "tab:purple")):
        values = [e["learner"].get(key) for e in history]
        if any(isinstance(v, float) for v in values):
            ax.plot(epochs, [100 * v if isinstance(v, float) else None for v in values], marker=".",
                    linestyle=":", color=colour, label=label)
    if target is not None:
        ax.axhline(100 * target, color="black", linestyle="--", linewidth=1, label=f"target {100 * target:g}%")
    ax.set(title="Accuracy", xlabel="epoch", ylabel="% correct")
    ax.margins(y=0.25)  # a point at the edge of the range (one epoch, say) must not hide under the legend
    ax.legend(loc="best", fontsize=8)

    _norm_bands(axes[2], history, epochs)
    changes = _lr_changes(history)
    for x, old, new in changes:
        for index, ax in enumerate(axes):
            ax.axvline(x, color="0.35", linestyle="--", linewidth=1,
                       label=f"learning rate {old:.3g} -> {new:.3g}" if index == 0 else None)
    if changes:
        axes[0].legend(loc="upper right", fontsize=8)
    for ax in axes:
        ax.grid(alpha=0.3, which="both")
        if 0 < len(epochs) <= 20:
            ax.set_xticks(epochs)
    return _save(fig, path, title)


def _norm_bands(ax, history: list[dict], epochs: list[int]) -> None:
    names = list(history[-1]["grad_norms"]) if history else []
    colours = plt.get_cmap("tab10")
    for index, name in enumerate(names):
        stats = [e["grad_norms"].get(name, {}) for e in history]
        median, low, high = ([_positive(s.get(key)) for s in stats] for key in ("median", "min", "max"))
        colour = colours(index % 10)
        if len(epochs) == 1 and all(v is not None for v in low + high + median):
            # A band needs two epochs: show the range as an error bar, side by side per parameter.
            x = [epochs[0] + 0.05 * (index - (len(names) - 1) / 2)]
            ax.errorbar(x, median, yerr=[[median[0] - low[0]], [high[0] - median[0]]], color=colour,
                        marker="o", markersize=4, capsize=3, linewidth=1, label=name)
            continue
        ax.plot(epochs, median, marker=".", color=colour, label=name)
        if all(v is not None for v in low + high):
            ax.fill_between(epochs, low, high, color=colour, alpha=0.10, linewidth=0)
    ax.set(title="Gradient norm of each parameter (whole tensor)", xlabel="epoch",
           ylabel="||dL/dp||: median of the epoch's steps,\nband from the smallest to the largest")
    ax.text(0.01, 0.01, "a norm grows with the tensor's size: the gradient-flow\nplot divides by sqrt(size) "
            "(RMS per entry) to compare layers", transform=ax.transAxes, fontsize=7, color="dimgray",
            va="bottom")
    if names:
        ax.set_yscale("log")
        ax.legend(fontsize=7, ncol=2, loc="best")


def _layer_of(name: str) -> str:
    """The layer a parameter belongs to: "0.W" -> "0", "encoder.1.b" -> "encoder.1", "W1" -> "1"."""
    return name.rsplit(".", 1)[0] if "." in name else (name.lstrip("Wwb_") or name)


def gradient_flow(history: list[dict], path, *, title: str = "Gradient flow") -> Path:
    """For each layer in forward order, the RMS gradient per entry of its weights (solid) and biases
    (dashed), ||dL/dp|| / sqrt(size), median over an epoch's steps; one line per epoch (dark = first), and
    the last epoch's range (a bias: one dimension; "grad_shapes" gives {name: shape}). Healthy: similar
    heights across layers; vanishing gradients fall towards the input side, exploding ones grow.
    """
    fig, ax = plt.subplots(figsize=(9, 4.8))
    shapes = (history[-1].get("grad_shapes") or {}) if history else {}
    names = list(history[-1]["grad_norms"]) if history else []
    layers = list(dict.fromkeys(_layer_of(n) for n in names))
    scale = {n: 1.0 / math.sqrt(max(1, math.prod(shapes.get(n, ())))) for n in names}
    kinds = {"weights": [n for n in names if len(shapes.get(n, ())) > 1],
             "biases": [n for n in names if len(shapes.get(n, ())) <= 1]}
    colours = plt.get_cmap("viridis")
    for index, entry in enumerate(history):
        colour = colours(index / max(1, len(history) - 1) * 0.9)
        last = index == len(history) - 1
        for kind, members in kinds.items():
            xs = [layers.index(_layer_of(n)) + (0.06 if kind == "biases" else 0.0) for n in members]
            stats = [entry["grad_norms"].get(n, {}) for n in members]
            ys = [_positive(s.get("median", math.nan) * scale[n]) for s, n in zip(stats, members)]
            label = f"epoch {entry['epoch']}, {kind}" if len(history) <= 2 or last else None
            ax.plot(xs, ys, marker="o" if kind == "weights" else "s", color=colour, markersize=4,
                    linestyle="-" if kind == "weights" else "--", label=label)
            if last and members:
                low, high = ([_positive(s.get(key, math.nan) * scale[n]) for s, n in zip(stats, members)]
                             for key in ("min", "max"))
                if all(v is not None for v in low + high + ys):
                    ax.errorbar(xs, ys, yerr=[[y - lo for y, lo in zip(ys, low)], [hi - y for y, hi in zip(ys, high)]],
                                fmt="none", ecolor=colour, capsize=3, linewidth=1)
    ax.set_xticks(range(len(layers)))
    ax.set_xticklabels([" / ".join(n for n in names if _layer_of(n) == layer) for layer in layers], fontsize=8)
    ax.set_xlabel("layer, input side -> output side (weights solid, biases dashed; bars: the last epoch's "
                  "smallest..largest step)", fontsize=9)
    ax.set_ylabel("RMS gradient per entry, ||dL/dp|| / sqrt(size)\n(the curve's panel shows ||dL/dp||: a big "
                  "layer\nhas a big norm, yet may have a small RMS)", fontsize=8)
    if names:
        ax.set_yscale("log")
        ax.legend(fontsize=8, loc="best")
    if len(history) > 2:
        epochs = [entry["epoch"] for entry in history]
        shown = matplotlib.colors.ListedColormap([colours(0.9 * i / 255) for i in range(256)])
        mappable = matplotlib.cm.ScalarMappable(matplotlib.colors.Normalize(min(epochs), max(epochs)), shown)
        bar = fig.colorbar(mappable, ax=ax, label="epoch", pad=0.02)
        bar.locator = matplotlib.ticker.MaxNLocator(integer=True)  # epochs are whole numbers
        bar.update_ticks()
    ax.grid(alpha=0.3, which="both")
    return _save(fig, path, title + ": gradient flow through the layers")


def filter_grid(weights, path, *, initial=None, title: str = "First-layer filters") -> Path:
    """The first convolution's kernels (first input channel) as images on one colour scale, red positive,
    blue negative. With `initial`, a second block shows trained - initial on its own scale: after a few
    epochs the filters keep much of their random start, and the change shows the strokes they learnt."""
    import numpy as np

    def first_channel(w):
        w = np.asarray(w, dtype=np.float64)
        return w[:, 0] if w.ndim == 4 else w

    kernels = first_channel(weights)
    count = len(kernels)
    blocks = [(f"{title}: the {count} first-layer filters ({kernels.shape[-2]}x{kernels.shape[-1]}) after "
               "training", kernels)]
    if initial is not None and np.shape(initial) == np.shape(weights):
        blocks.append(("what training changed: trained - initial filters (own colour scale)",
                       kernels - first_channel(initial)))
    columns = min(8, count)
    rows = math.ceil(count / columns)
    fig = plt.figure(figsize=(1.3 * columns + 1.6, (1.3 * rows + 0.5) * len(blocks)), layout="constrained")
    figures = fig.subfigures(len(blocks), 1, squeeze=False)[:, 0]
    for sub, (label, kernels) in zip(figures, blocks):
        axes = sub.subplots(rows, columns, squeeze=False)
        limit = float(np.max(np.abs(kernels))) or 1.0
        image = None
        for index, ax in enumerate(axes.flat):
            ax.set(xticks=[], yticks=[])
            if index < count:
                image = ax.imshow(kernels[index], cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
                ax.set_title(str(index), fontsize=8)
            else:
                ax.axis("off")
        trained = label == blocks[0][0]
        sub.colorbar(image, ax=axes.ravel().tolist(), shrink=0.85, label="weight" if trained else "change")
        sub.suptitle(label, fontsize=11 if trained else 10)
    return _save(fig, path)


def _positive(value):
    return value if value is not None and math.isfinite(value) and value > 0 else None


def _save(fig, path, title: str | None = None) -> Path:
    """Write the figure as a PNG at `path` (its folder made if need be), titled, and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if title is not None:
        fig.suptitle(title)
    if fig.get_layout_engine() is None:  # filter_grid's subfigures bring their own (constrained) layout
        fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def loss_curves(curves: dict[str, list[float]], path, *, title: str = "Loss", xlabel: str = "step",
                ylabel: str = "training loss", smooth: int = 1) -> Path:
    """One line per named curve (e.g. one per optimiser), on a log scale; smooth: the width of a trailing
    moving average (1 = raw), which makes noisy mini-batch losses comparable by eye."""
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
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel, yscale="log")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return _save(fig, path)

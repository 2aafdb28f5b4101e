"""The loss curve of a run: training and evaluation loss against the optimizer step, as a PNG.

Drawn with matplotlib's Agg backend (no display needed) from ``metrics.jsonl`` and written atomically.
Not covered: interactive plots and comparisons across runs (``fathom.evaluate`` reports).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fathom._manifest import save_figure

__all__ = ["plot_losses"]


def plot_losses(records: list[dict[str, Any]], path: str | Path, *, title: str = "Fine-tuning loss") -> Path:
    """Plot ``loss`` and ``eval_loss`` of ``metrics.jsonl`` records against ``step`` into ``path``.

    Args:
        records: log records (see :func:`fathom.train.read_metrics`).
        path: the PNG to write.
        title: the figure title.

    Returns:
        ``path``.
    """
    from matplotlib.figure import Figure

    path = Path(path)
    train = [(r["step"], r["loss"]) for r in records if r.get("loss") is not None]
    evals = [(r["step"], r["eval_loss"]) for r in records if r.get("eval_loss") is not None]
    fig = Figure(figsize=(7, 4), dpi=100)
    ax = fig.add_subplot()
    if train:
        ax.plot(*zip(*train, strict=True), label="train loss", color="tab:blue")
    if evals:
        ax.plot(*zip(*evals, strict=True), label="eval loss", color="tab:orange", marker="o")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (mean cross-entropy on assistant tokens)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if train or evals:
        ax.legend()
    return save_figure(fig, path)

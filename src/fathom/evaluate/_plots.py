"""Matplotlib figures for evaluation reports, returned as PNG bytes (Agg backend, no display)."""

from __future__ import annotations

import io
from typing import Any

__all__ = ["bars_with_ci", "histogram", "png_bytes"]


def png_bytes(fig: Any) -> bytes:
    """Render a figure to PNG bytes and close it."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _figure(width: float, height: float) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height))


def bars_with_ci(series: dict[str, dict[str, dict[str, Any]]], title: str, xlabel: str = "mean (95% CI)") -> bytes:
    """Horizontal grouped bars: ``series[run][metric] = {"mean", "ci_low", "ci_high"}``."""
    import numpy as np

    metrics = sorted({m for values in series.values() for m in values})
    runs = list(series)
    fig, ax = _figure(7.5, 0.45 * max(3, len(metrics) * max(1, len(runs))) + 1.0)
    height = 0.8 / max(1, len(runs))
    y = np.arange(len(metrics))
    for i, run in enumerate(runs):
        stats = [series[run].get(m, {}) for m in metrics]
        means = [s.get("mean") or 0.0 for s in stats]
        lo = [max(0.0, mean - (s.get("ci_low") or mean)) for s, mean in zip(stats, means, strict=True)]
        hi = [max(0.0, (s.get("ci_high") or mean) - mean) for s, mean in zip(stats, means, strict=True)]
        ax.barh(y + i * height, means, height, xerr=[lo, hi], capsize=3, label=run)
    ax.set_yticks(y + height * (len(runs) - 1) / 2, metrics)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    if len(runs) > 1:
        ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return png_bytes(fig)


def histogram(values: list[float], title: str, xlabel: str = "score") -> bytes:
    """A histogram of scores in [0, 1]."""
    fig, ax = _figure(6.0, 3.2)
    ax.hist(values, bins=20, range=(0, 1), color="#3b7dd8", edgecolor="white")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("examples")
    ax.set_title(title)
    return png_bytes(fig)

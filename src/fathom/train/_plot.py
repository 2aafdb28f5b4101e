"""The curves of a run as PNGs: SFT and continued pre-training loss (:func:`plot_losses`), RFT reward and
validation score (:func:`plot_rewards`), DPO loss and reward margin (:func:`plot_preferences`).

Drawn with matplotlib's Agg backend (no display needed) from ``metrics.jsonl`` and written atomically.
Not covered: interactive plots and comparisons across runs (``fathom.evaluate`` reports).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fathom._manifest import save_figure

__all__ = ["plot_losses", "plot_preferences", "plot_rewards"]


def plot_losses(records: list[dict[str, Any]], path: str | Path, *, title: str = "Fine-tuning loss",
                ylabel: str = "loss (mean cross-entropy on assistant tokens)") -> Path:
    """Plot ``loss`` and ``eval_loss`` of ``metrics.jsonl`` records against ``step`` into ``path``.

    Args:
        records: log records (see :func:`fathom.train.read_metrics`).
        path: the PNG to write.
        title: the figure title.
        ylabel: the label of the loss axis.

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
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if train or evals:
        ax.legend()
    return save_figure(fig, path)


def plot_rewards(records: list[dict[str, Any]], path: str | Path, *, title: str = "Reinforcement fine-tuning") -> Path:
    """Plot an RFT run's ``metrics.jsonl``: the rollouts' mean reward (with its spread within groups) and the
    validation score against the step, and below them the share of groups with no reward spread.

    Args:
        records: log records (see :func:`fathom.train.read_metrics`).
        path: the PNG to write.
        title: the figure title.

    Returns:
        ``path``.
    """
    from matplotlib.figure import Figure

    path = Path(path)
    train = [(r["step"], r["reward"], r.get("reward_std") or 0.0) for r in records if r.get("reward") is not None]
    evals = [(r["step"], r["eval_score"]) for r in records if r.get("eval_score") is not None]
    flat = [(r["step"], r["frac_reward_zero_std"]) for r in records if r.get("frac_reward_zero_std") is not None]
    fig = Figure(figsize=(7, 5.5), dpi=100)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    if train:
        steps, means, stds = zip(*train, strict=True)
        top.plot(steps, means, label="rollout reward (mean)", color="tab:blue")
        top.fill_between(steps, [m - s for m, s in zip(means, stds, strict=True)],
                         [m + s for m, s in zip(means, stds, strict=True)], color="tab:blue", alpha=0.15,
                         label="± reward std")
    if evals:
        top.plot(*zip(*evals, strict=True), label="validation score (greedy)", color="tab:orange", marker="o")
    top.set_ylabel("grader score")
    top.set_title(title)
    top.grid(alpha=0.3)
    if train or evals:
        top.legend(loc="lower right")
    if flat:
        bottom.plot(*zip(*flat, strict=True), color="tab:red")
    bottom.set_ylim(-0.05, 1.05)
    bottom.set_ylabel("groups with\nno spread")
    bottom.set_xlabel("step")
    bottom.grid(alpha=0.3)
    return save_figure(fig, path)



_PREFERENCE_CURVES = (("rewards/margins", "train reward margin", "tab:blue", None),
                      ("eval_rewards/margins", "eval reward margin", "tab:orange", "o"),
                      ("objective/scores_margin", "grader score gap (chosen - rejected)", "tab:green", None),
                      ("eval_score", "validation score (greedy)", "tab:red", "o"))


def plot_preferences(records: list[dict[str, Any]], path: str | Path, *,
                     title: str = "Preference optimisation") -> Path:
    """Plot a DPO run's ``metrics.jsonl``: train and eval loss above; below, the reward margin (how much more
    the model prefers the chosen answer than the reference does, ``beta`` x log-ratio difference) on training and
    held-out pairs, and for online DPO the grader's score gap between the two sampled answers and the validation
    score.

    Args:
        records: log records (see :func:`fathom.train.read_metrics`).
        path: the PNG to write.
        title: the figure title.

    Returns:
        ``path``.
    """
    from matplotlib.figure import Figure

    path = Path(path)
    fig = Figure(figsize=(7, 5.5), dpi=100)
    top, bottom = fig.subplots(2, 1, sharex=True)
    for key, label, color, marker in (("loss", "train loss", "tab:blue", None),
                                      ("eval_loss", "eval loss", "tab:orange", "o")):
        points = [(r["step"], r[key]) for r in records if r.get(key) is not None]
        if points:
            top.plot(*zip(*points, strict=True), label=label, color=color, marker=marker)
    top.set_ylabel("DPO loss")
    top.set_title(title)
    top.grid(alpha=0.3)
    if top.lines:
        top.legend()
    for key, label, color, marker in _PREFERENCE_CURVES:
        points = [(r["step"], r[key]) for r in records if r.get(key) is not None]
        if points:
            bottom.plot(*zip(*points, strict=True), label=label, color=color, marker=marker)
    bottom.axhline(0.0, color="grey", linewidth=0.8)
    bottom.set_ylabel("margin / score")
    bottom.set_xlabel("step")
    bottom.grid(alpha=0.3)
    if bottom.lines:
        bottom.legend(loc="upper left")
    return save_figure(fig, path)

"""What a fine-tuning run returns (:class:`SFTResult`, :class:`RFTResult`, :class:`DPOResult`,
:class:`CPTResult`) and keeps in ``OUT/result.json``."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["CPTResult", "DPOResult", "RFTResult", "SFTResult"]

_Result = TypeVar("_Result", bound="_StoredResult")


class _StoredResult:
    """What every run result does: a JSON-ready copy, and reading back ``OUT/result.json``."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        copy: dict[str, Any] = asdict(self)  # type: ignore[call-overload]
        return copy

    @classmethod
    def load(cls: type[_Result], out: str | Path) -> _Result:
        """Read ``OUT/result.json`` of a finished run."""
        data = json.loads((Path(out) / "result.json").read_text(encoding="utf-8"))
        return cls(**{f.name: data[f.name] for f in fields(cls)})  # type: ignore[arg-type]


@dataclass
class SFTResult(_StoredResult):
    """The outcome of :func:`fathom.train.train_sft`."""

    out: str
    """The run folder; it is also the model spec of the result (``fathom generate --model OUT``)."""
    kind: str
    """``"lora"`` (an adapter on ``base``) or ``"full"`` (a complete model)."""
    base: str
    """Model spec of the base model (what the adapter applies to, or what full training started from)."""
    steps: int
    """Optimizer steps done."""
    planned_steps: int
    """Steps the schedule planned; fewer were done when early stopping ended the run."""
    epochs: float
    """Passes over the training data done."""
    stopped_early: bool
    """True when early stopping ended the run."""
    train_loss: float | None
    """Last logged training loss."""
    first_train_loss: float | None
    """First logged training loss (compare with ``train_loss`` to see the fall)."""
    eval_loss: float | None
    """Evaluation loss of the final model (the best checkpoint's when evaluating)."""
    best_checkpoint: str | None
    """Checkpoint the final model came from (with eval data)."""
    resumed_from: str | None
    """Checkpoint this invocation resumed from."""
    gradient_checkpointing: bool
    """Whether activations were checkpointed (asked for, or chosen because the largest batch was big)."""
    train_examples: int
    """Training examples used (after dropping those with nothing to learn)."""
    train_tokens: int
    """Real (non-padding) tokens processed in training, over every epoch."""
    tokens_per_s: float | None
    """Training throughput of this invocation: real tokens per second of optimizer steps."""
    train_seconds: float
    """Wall time of ``trainer.train()`` in this invocation."""
    total_seconds: float
    """Wall time of the whole call (loading, tokenizing, training, saving)."""
    metrics: str
    """Path of ``metrics.jsonl``."""
    plot: str
    """Path of the loss-curve PNG."""
    manifest: str
    """Path of ``manifest.json``."""


@dataclass
class RFTResult(_StoredResult):
    """The outcome of :func:`fathom.train.train_rft`."""

    out: str
    """The run folder; it is also the model spec of the result (``fathom eval --model OUT``)."""
    kind: str
    """``"lora"`` (an adapter on ``base``) or ``"full"``."""
    base: str
    """Model spec of the base model."""
    algorithm: str
    """``"grpo"`` or ``"rloo"``."""
    steps: int
    """Optimizer steps done."""
    planned_steps: int
    """Steps the schedule planned; fewer were done when early stopping ended the run."""
    stopped_early: bool
    """True when early stopping ended the run."""
    first_reward: float | None
    """Mean reward of the first logged step's rollouts."""
    last_reward: float | None
    """Mean reward of the last logged step's rollouts."""
    zero_spread_share: float | None
    """Mean share of prompt groups whose completions all got the same reward (no learning signal)."""
    first_val_score: float | None
    """Validation score before training (step 0), when validating."""
    best_val_score: float | None
    """Validation score of the final model (the best checkpoint's)."""
    best_checkpoint: str | None
    """Checkpoint the final model came from (with eval data)."""
    resumed_from: str | None
    """Checkpoint this invocation resumed from."""
    reward_check: str | None
    """Advice of the reward check at the start (``ready``, ``hackable``...), None when skipped."""
    rollout_tokens_per_s: float | None
    """Completion tokens generated per second of rollout, over this invocation."""
    s_per_step: float | None
    """Seconds per optimizer step (rollouts, grading and update) over this invocation."""
    train_seconds: float
    """Wall time of ``trainer.train()`` in this invocation."""
    total_seconds: float
    """Wall time of the whole call."""
    metrics: str
    """Path of ``metrics.jsonl``."""
    plot: str
    """Path of the reward / validation-score curve PNG."""
    manifest: str
    """Path of ``manifest.json``."""


@dataclass
class DPOResult(_StoredResult):
    """The outcome of :func:`fathom.train.train_dpo`."""

    out: str
    """The run folder; it is also the model spec of the result (``fathom eval --model OUT``)."""
    kind: str
    """``"lora"`` (an adapter on ``base``) or ``"full"``."""
    base: str
    """Model spec of the base model."""
    mode: str
    """``"offline"`` (pairs from the data file) or ``"online"`` (pairs sampled and ranked by the grader)."""
    loss_type: list[str]
    """The preference loss(es)."""
    beta: float
    """The KL weight toward the reference."""
    steps: int
    """Optimizer steps done."""
    planned_steps: int
    """Steps the schedule planned; fewer were done when early stopping ended the run."""
    stopped_early: bool
    """True when early stopping ended the run."""
    first_train_loss: float | None
    """First logged training loss (``ln 2`` = 0.693 for the sigmoid loss: the model starts as its reference)."""
    train_loss: float | None
    """Last logged training loss."""
    first_margin: float | None
    """Reward margin (chosen minus rejected implicit reward) of the first logged step: 0 at the start."""
    last_margin: float | None
    """Reward margin of the last logged step; above 0, the model prefers the chosen answers more than the
    reference does."""
    last_accuracy: float | None
    """Share of the last logged step's pairs whose chosen answer has the higher implicit reward."""
    eval_loss: float | None
    """Offline, with held-out pairs: evaluation loss of the final model (the best checkpoint's)."""
    eval_margin: float | None
    """Offline, with held-out pairs: the final model's reward margin on them."""
    eval_accuracy: float | None
    """Offline, with held-out pairs: share of them the final model ranks right."""
    first_val_score: float | None
    """Online, with held-out prompts: the grader's score of greedy answers before training."""
    best_val_score: float | None
    """Online, with held-out prompts: the final model's (best checkpoint's) validation score."""
    best_checkpoint: str | None
    """Checkpoint the final model came from (with held-out data)."""
    resumed_from: str | None
    """Checkpoint this invocation resumed from."""
    train_pairs: int
    """Pairs trained on (offline; after dropping those whose prompt fills ``max_seq_len``), or prompts (online)."""
    dropped_pairs: int
    """Offline: pairs dropped because their prompt alone fills ``max_seq_len``."""
    train_seconds: float
    """Wall time of ``trainer.train()`` in this invocation."""
    total_seconds: float
    """Wall time of the whole call."""
    metrics: str
    """Path of ``metrics.jsonl``."""
    plot: str
    """Path of the loss and margin curve PNG."""
    manifest: str
    """Path of ``manifest.json``."""


@dataclass
class CPTResult(_StoredResult):
    """The outcome of :func:`fathom.train.train_cpt`."""

    out: str
    """The run folder; it is also the model spec of the result."""
    kind: str
    """``"lora"`` (an adapter on ``base``) or ``"full"``."""
    base: str
    """Model spec of the base model."""
    steps: int
    """Optimizer steps done."""
    planned_steps: int
    """Steps the schedule planned; fewer were done when early stopping ended the run."""
    stopped_early: bool
    """True when early stopping ended the run."""
    first_train_loss: float | None
    """First logged training loss (mean next-token cross-entropy over every token)."""
    train_loss: float | None
    """Last logged training loss."""
    perplexity: dict[str, dict[str, float | None]]
    """Held-out perplexity before and after training: ``{"domain": {"before", "after"}, "general": {"before",
    "after"}}`` (``general`` is None-valued without ``mix``)."""
    best_checkpoint: str | None
    """Checkpoint the final model came from (the lowest held-out domain loss)."""
    resumed_from: str | None
    """Checkpoint this invocation resumed from."""
    blocks: dict[str, dict[str, int]]
    """Packed blocks of ``max_seq_len`` tokens per source: ``{"domain": {"train", "heldout"}, PATH: {...}}``;
    a mix source's ``train`` counts the blocks drawn into the training mix."""
    train_tokens: int
    """Tokens processed in training, over every epoch."""
    tokens_per_s: float | None
    """Training throughput of this invocation: tokens per second of optimizer steps."""
    train_seconds: float
    """Wall time of ``trainer.train()`` in this invocation."""
    total_seconds: float
    """Wall time of the whole call."""
    metrics: str
    """Path of ``metrics.jsonl``."""
    plot: str
    """Path of the loss-curve PNG."""
    manifest: str
    """Path of ``manifest.json``."""

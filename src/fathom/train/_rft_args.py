"""The arguments of reinforcement fine-tuning (:class:`RFTArgs`), checked as a whole before anything loads.

Covers: every option of ``fathom train rft`` with its type, default and meaning; the algorithm's defaults
(GRPO or RLOO, as TRL 1.16 sets them) filled in where the user gave nothing; cross-field checks that name
the flag to change. Not covered: running the training (:mod:`fathom.train._rft`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from fathom.errors import Problem, did_you_mean
from fathom.train._args import SCHEDULERS, TrainArgs

__all__ = ["ALGORITHMS", "GRPO_LOSS_TYPES", "REWARD_CHECKS", "RFTArgs"]

ALGORITHMS = ("grpo", "rloo")
"""RFT algorithms (TRL's ``GRPOTrainer`` and ``RLOOTrainer``; TRL 1.16 has no PPO)."""
GRPO_LOSS_TYPES = ("dapo", "grpo", "dr_grpo", "bnpo", "cispo", "sapo", "luspo", "vespo")
"""GRPO loss normalisations (``trl.GRPOConfig.loss_type``)."""
REWARD_CHECKS = ("stop", "warn", "off")
"""What the reward check at the start of a run does: stop on a hackable or signal-free reward, only warn,
or skip the check."""
_SCALE_REWARDS = ("group", "batch", "none")
# TRL 1.16 defaults per algorithm, used when the field is left unset
_ALGORITHM_DEFAULTS: dict[str, dict[str, Any]] = {"grpo": {"beta": 0.0, "loss_type": "dapo"},
                                                  "rloo": {"beta": 0.05, "loss_type": None}}


@dataclass
class RFTArgs(TrainArgs):
    """Reinforcement fine-tuning: sample completions, grade them, move the weights toward the better ones.

    Every field is also a ``fathom train rft`` option; the shared ones (model, LoRA, precision...) are
    documented on :class:`~fathom.train.TrainArgs`. ``data`` holds prompts: chat examples whose last turn is
    the user's (plus the ``reference`` the grader needs), never an assistant answer.

    >>> args = RFTArgs(model="smollm2-135m", data="prompts.jsonl", out="runs/rft", grader="exact")
    >>> args.effective_beta(), args.effective_loss_type(), args.completions_per_step()
    (0.0, 'dapo', 16)
    >>> RFTArgs(model="m", data="d.jsonl", out="o", grader="exact", num_generations=1)
    Traceback (most recent call last):
    ...
    fathom.errors.ConfigError: invalid training arguments (1):
      - --num-generations: must be at least 2: GRPO learns from the spread of rewards within a group, got 1
    """

    data: str | os.PathLike[str]
    """Prompts: JSON Lines of Fathom chat examples ending in the user's turn, each with the ``reference`` the
    grader compares against (e.g. the shipping data stage's ``train_prompts.jsonl``)."""
    grader: str | dict[str, Any] = ""
    """The reward: a grader name or spec (``shipping``, ``{"name": "weighted", ...}``), the same object
    ``fathom eval`` scores with."""
    eval_data: str | os.PathLike[str] | None = None
    """Held-out prompts for validation with the grader (greedy decoding). With them, the final model is the
    checkpoint with the best validation score."""
    algorithm: str = "grpo"
    """``grpo`` (TRL GRPOTrainer) or ``rloo`` (RLOOTrainer, leave-one-out baseline)."""

    num_generations: int = 4
    """Completions sampled per prompt (the group whose reward spread is the learning signal); at least 2."""
    max_completion_length: int = 64
    """Most tokens per sampled completion (short completions keep CPU rollouts fast)."""
    temperature: float = 1.0
    """Sampling temperature of the rollouts (higher: more varied groups, noisier answers)."""
    top_p: float = 1.0
    """Nucleus sampling mass of the rollouts."""
    beta: float | None = None
    """KL weight toward the starting model (default: TRL's, 0 for GRPO, 0.05 for RLOO; above 0 keeps a
    reference model, costing memory and a forward pass)."""
    loss_type: str | None = None
    """GRPO loss (one of :data:`GRPO_LOSS_TYPES`; default ``dapo``). Not an RLOO option."""
    scale_rewards: str = "group"
    """GRPO advantage scaling: ``group`` (by each group's std), ``batch`` or ``none``."""

    learning_rate: float | None = None
    """Peak learning rate (default 2e-5 with LoRA, 1e-6 with ``full``; RL needs far smaller steps than SFT)."""
    lr_scheduler: str = "constant"
    """Learning-rate schedule (one of :data:`SCHEDULERS`)."""
    warmup: float = 0.0
    """Linear warm-up: a fraction of the total steps when below 1, else a number of steps."""
    epochs: float = 1.0
    """Passes over the prompts (ignored when ``max_steps`` is set)."""
    max_steps: int | None = None
    """Optimizer steps to run; overrides ``epochs``."""
    batch_size: int = 4
    """Prompts per optimizer step; each gets ``num_generations`` completions."""
    grad_accum: int = 1
    """Micro-batches of ``batch_size`` prompts whose gradients are summed before each step."""
    max_grad_norm: float = 1.0
    """Gradient clipping norm."""

    eval_steps: int = 20
    """Steps between validations (with ``eval_data``) and checkpoints."""
    eval_limit: int | None = None
    """Validate on the first N held-out prompts only (default: all)."""
    logging_steps: int = 1
    """Steps between log events (``metrics.jsonl`` lines with reward, reward spread and components)."""
    early_stopping_patience: int | None = None
    """Stop after this many validations without a better score (needs ``eval_data``; None: never)."""
    save_total_limit: int = 2
    """Checkpoints kept in ``out/checkpoints`` (the best one is always kept on top of these)."""

    reward_check: str = "stop"
    """The reward check run before training (written to ``reward_check.json``): ``stop`` refuses a reward a
    probe can game or one with no spread at all, ``warn`` only reports, ``off`` skips it."""
    reward_check_prompts: int = 8
    """Prompts the reward check samples (``num_generations`` completions each)."""
    use_vllm: bool = False
    """Generate rollouts with vLLM (TRL's colocated mode; needs ``pip install vllm`` and a GPU)."""

    def _problems(self) -> list[Problem]:
        problems = super()._problems()

        def bad(flag: str, message: str) -> None:
            problems.append(Problem(flag, message))

        if not self.grader:
            bad("--grader", "is required: name the grader that scores completions (see `fathom grader check`)")
        if self.algorithm not in ALGORITHMS:
            bad("--algorithm", f"unknown algorithm {self.algorithm!r}. {did_you_mean(self.algorithm, ALGORITHMS)} "
                               f"Choose one of: {', '.join(ALGORITHMS)} (TRL 1.16 has no PPO trainer)")
        if not isinstance(self.num_generations, int) or self.num_generations < 2:
            bad("--num-generations", f"must be at least 2: GRPO learns from the spread of rewards within a group, "
                                     f"got {self.num_generations}")
        for name in ("max_completion_length", "batch_size", "grad_accum", "eval_steps", "logging_steps",
                     "save_total_limit", "reward_check_prompts"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                bad(_flag(name), f"must be a whole number of at least 1, got {value!r}")
        for name in ("max_steps", "eval_limit", "early_stopping_patience"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                bad(_flag(name), f"must be a whole number of at least 1 (or left unset), got {value!r}")
        if self.temperature <= 0:
            bad("--temperature", f"must be above 0 (rollouts are sampled), got {self.temperature}")
        if not 0 < self.top_p <= 1:
            bad("--top-p", f"must be in (0, 1], got {self.top_p}")
        if self.beta is not None and self.beta < 0:
            bad("--beta", f"must be 0 or more, got {self.beta}")
        if self.loss_type is not None:
            if self.algorithm == "rloo":
                bad("--loss-type", "is a GRPO option; drop it with --algorithm rloo")
            elif self.loss_type not in GRPO_LOSS_TYPES:
                bad("--loss-type", f"unknown loss {self.loss_type!r}. {did_you_mean(self.loss_type, GRPO_LOSS_TYPES)} "
                                   f"Choose one of: {', '.join(GRPO_LOSS_TYPES)}")
        if self.scale_rewards not in _SCALE_REWARDS:
            bad("--scale-rewards", f"unknown scaling {self.scale_rewards!r}; "
                                   f"choose one of: {', '.join(_SCALE_REWARDS)}")
        if self.learning_rate is not None and not self.learning_rate > 0:
            bad("--learning-rate", f"must be above 0, got {self.learning_rate}")
        if self.lr_scheduler not in SCHEDULERS:
            hint = did_you_mean(self.lr_scheduler, SCHEDULERS)
            bad("--lr-scheduler", f"unknown schedule {self.lr_scheduler!r}. {hint} "
                                  f"Choose one of: {', '.join(SCHEDULERS)}")
        if self.warmup < 0:
            bad("--warmup", f"must be 0 or more (a fraction below 1, or a number of steps), got {self.warmup}")
        if self.max_steps is None and not self.epochs > 0:
            bad("--epochs", f"must be above 0, got {self.epochs}")
        if self.eval_data is None and self.early_stopping_patience is not None:
            bad("--early-stopping-patience", "needs held-out prompts to validate on; add --eval-data FILE")
        if self.reward_check not in REWARD_CHECKS:
            bad("--reward-check", f"unknown value {self.reward_check!r}; choose one of: {', '.join(REWARD_CHECKS)}")
        return problems

    def effective_beta(self) -> float:
        """The KL weight: as given, else TRL's default for the algorithm."""
        return self.beta if self.beta is not None else float(_ALGORITHM_DEFAULTS[self.algorithm]["beta"])

    def effective_loss_type(self) -> str | None:
        """The GRPO loss: as given, else ``dapo``; None for RLOO."""
        return self.loss_type or _ALGORITHM_DEFAULTS[self.algorithm]["loss_type"]

    def effective_learning_rate(self) -> float:
        """The learning rate, defaulting to 2e-5 for LoRA and 1e-6 (TRL's default) for full fine-tuning."""
        if self.learning_rate is not None:
            return self.learning_rate
        return 1e-6 if self.full else 2e-5

    def completions_per_step(self) -> int:
        """Completions sampled and graded per optimizer step (prompts x generations x accumulation)."""
        return self.batch_size * self.num_generations * self.grad_accum


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")



"""The pieces an RFT run is assembled from: the TRL config, the reward function and the reward check.

Covers: :func:`rft_config` (``trl.GRPOConfig`` / ``trl.RLOOConfig`` from :class:`~fathom.train.RFTArgs`),
:class:`TextReward` (the grader as a TRL reward for text prompts: each completion's ``<tool_call>`` blocks
are parsed into an OpenAI assistant message first, as generation does), and :func:`check_reward_first`
(the quick reward check written to ``reward_check.json`` before any step is spent).
Not covered: the run itself (:mod:`fathom.train._rft`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fathom._manifest import atomic_write_text
from fathom.errors import ConfigError, Problem, TrainingError
from fathom.graders import Grader, as_trl_reward
from fathom.train._rft_args import RFTArgs
from fathom.train._setup import precision

__all__ = ["REWARD_CHECK_FILE", "TextReward", "check_reward_first", "group_spread", "rft_config"]

REWARD_CHECK_FILE = "reward_check.json"


class TextReward:
    """A grader as a TRL reward function whose completions arrive as text.

    TRL passes the decoded completion of a text prompt; the grader gets the assistant message generation
    would have produced from it (tool calls parsed), and the example rebuilt from the row's JSON columns.
    Every grade component is logged per step through TRL's ``log_metric`` as ``<grader>/<component>``.
    """

    def __init__(self, grader: Grader, name: str | None = None):
        self.reward = as_trl_reward(grader, name=name)
        self.__name__ = self.reward.__name__

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float]:
        from fathom.backends import completion_from_text

        messages = [completion_from_text(c, finish_reason="stop", prompt_tokens=0, completion_tokens=0).message
                    if isinstance(c, str) else c for c in completions]
        scores = self.reward(prompts, messages, **kwargs)
        log_metric = kwargs.get("log_metric")
        if callable(log_metric):
            log_metric(f"{self.__name__}/group_std", group_spread(prompts, scores))
        return scores


def group_spread(prompts: Sequence[Any], scores: Sequence[float]) -> float:
    """Mean over prompt groups of the reward's standard deviation within the group: the signal GRPO learns
    from (TRL puts a prompt's completions next to each other in a batch)."""
    import statistics

    groups: list[list[float]] = []
    for i, score in enumerate(scores):
        if i and prompts[i] == prompts[i - 1]:
            groups[-1].append(score)
        else:
            groups.append([score])
    spreads = [statistics.pstdev(g) for g in groups if len(g) > 1]
    return sum(spreads) / len(spreads) if spreads else 0.0


def rft_config(args: RFTArgs, checkpoints: Path, device: str, *, evaluate: bool, checkpointing: bool) -> Any:
    """The ``trl.GRPOConfig`` (or ``RLOOConfig``) of a run; ``args.extra`` is passed through last."""
    _, bf16 = precision(args, device)
    options: dict[str, Any] = dict(
        output_dir=str(checkpoints.resolve()),
        num_train_epochs=args.epochs, max_steps=args.max_steps or -1,
        learning_rate=args.effective_learning_rate(), lr_scheduler_type=args.lr_scheduler,
        warmup_steps=args.warmup, max_grad_norm=args.max_grad_norm,
        # TRL counts completions per batch: batch_size prompts x num_generations completions each
        per_device_train_batch_size=args.batch_size * args.num_generations,
        per_device_eval_batch_size=args.num_generations, gradient_accumulation_steps=args.grad_accum,
        num_generations=args.num_generations, max_completion_length=args.max_completion_length,
        temperature=args.temperature, top_p=args.top_p, beta=args.effective_beta(),
        gradient_checkpointing=checkpointing,
        logging_steps=args.logging_steps, logging_first_step=True,
        eval_strategy="steps" if evaluate else "no", eval_steps=args.eval_steps, eval_on_start=evaluate,
        save_strategy="steps", save_steps=args.eval_steps, save_total_limit=args.save_total_limit,
        load_best_model_at_end=evaluate, metric_for_best_model="eval_score" if evaluate else None,
        greater_is_better=True if evaluate else None,
        seed=args.seed, data_seed=args.seed,
        bf16=bf16, fp16=False, use_cpu=not device.startswith("cuda"),
        dataloader_pin_memory=device.startswith("cuda"),
        use_vllm=args.use_vllm, vllm_mode="colocate",
        log_completions=False, report_to="none", disable_tqdm=True,
    )
    from trl.trainer.grpo_config import GRPOConfig
    from trl.trainer.rloo_config import RLOOConfig

    config: Any = GRPOConfig if args.algorithm == "grpo" else RLOOConfig
    if args.algorithm == "grpo":
        options.update(loss_type=args.effective_loss_type(), scale_rewards=args.scale_rewards)
    options.update(args.extra)
    try:
        return config(**options)
    except (TypeError, ValueError) as exc:
        raise ConfigError([Problem("extra", f"trl.{config.__name__} rejected the options: {exc}")],
                          title="invalid training arguments") from exc


def check_reward_first(args: RFTArgs, grader: Grader, prompts: Sequence[dict[str, Any]], model: Any,
                       tokenizer: Any, out: Path) -> str | None:
    """Sample ``num_generations`` completions of the first prompts, check the reward on them, write
    ``reward_check.json`` and print the verdict. Returns the advice (None with ``reward_check="off"``).

    Raises:
        TrainingError: with ``reward_check="stop"``, when a probe games the reward or no prompt's
            completions differ in reward (GRPO would have nothing to learn from).
    """
    if args.reward_check == "off":
        return None
    from fathom.backends import TransformersBackend
    from fathom.graders import run_reward_check

    backend = TransformersBackend(model, tokenizer=tokenizer, batch_size=args.batch_size * args.num_generations)
    was_training = model.training
    model.eval()
    try:
        check = run_reward_check(grader, list(prompts), limit=args.reward_check_prompts, backend=backend,
                                 n=args.num_generations, temperature=args.temperature,
                                 max_tokens=args.max_completion_length, seed=args.seed)
    finally:
        model.train(was_training)
    atomic_write_text(out / REWARD_CHECK_FILE, json.dumps(check.to_dict(), indent=2) + "\n")
    if args.progress:
        from rich.console import Console

        Console(stderr=True).print(check.render(), markup=False, highlight=False)
    no_signal = check.zero_spread_share >= 1.0
    if args.reward_check == "stop" and (check.advice == "hackable" or no_signal):
        why = check.advice_text if check.advice == "hackable" else (
            "every prompt's completions got the same reward, so GRPO has no signal to learn from")
        raise TrainingError(f"The reward check stopped the run before training: {why} (details in "
                            f"{out / REWARD_CHECK_FILE}). Fix the grader and start again in a new --out folder, or "
                            f"rerun with --resume --reward-check warn to train on this reward anyway.")
    return str(check.advice)

"""The pieces a DPO run is assembled from: the TRL configs and the two trainer classes.

Covers: :func:`dpo_config` (``trl.DPOConfig`` from :class:`~fathom.train.DPOArgs`), :func:`online_config`
(``trl.experimental.online_dpo.OnlineDPOConfig``), :func:`dpo_trainer_class` (TRL's ``DPOTrainer`` taking the
rows Fathom tokenized, :mod:`._dpo_data`) and :func:`online_trainer_class` (TRL's ``OnlineDPOTrainer`` validated
by the grader, like RFT). Not covered: the run itself (:mod:`fathom.train._dpo`).

Online DPO runs on a CPU in TRL 1.16: it samples two answers per prompt with ``model.generate``, the grader (the
same ``TextReward`` GRPO uses) ranks them, and the sigmoid or IPO loss is taken on the pair. It is experimental
in TRL (``trl.experimental``: the API may change without notice), so :func:`online_trainer_class` silences the
import warning only; a TRL without it fails with the version to install.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fathom.errors import ConfigError, MissingDependencyError, Problem
from fathom.train._dpo_args import DPOArgs
from fathom.train._rft_trainer import Validator
from fathom.train._setup import precision

__all__ = ["dpo_config", "dpo_trainer_class", "online_config", "online_trainer_class"]


def _loop_options(args: DPOArgs, checkpoints: Path, device: str, *, evaluate: bool, checkpointing: bool,
                  best: str, greater: bool) -> dict[str, Any]:
    """The ``TrainingArguments`` both DPO configs share."""
    _, bf16 = precision(args, device)
    return dict(
        output_dir=str(checkpoints.resolve()),
        num_train_epochs=args.epochs, max_steps=args.max_steps or -1,
        learning_rate=args.effective_learning_rate(), lr_scheduler_type=args.lr_scheduler,
        warmup_steps=args.warmup, weight_decay=args.weight_decay, max_grad_norm=args.max_grad_norm,
        per_device_train_batch_size=args.batch_size, per_device_eval_batch_size=args.batch_size,
        gradient_accumulation_steps=args.grad_accum, gradient_checkpointing=checkpointing,
        logging_steps=args.logging_steps, logging_first_step=True,
        eval_strategy="steps" if evaluate else "no", eval_steps=args.eval_steps,
        save_strategy="steps", save_steps=args.effective_save_steps(), save_total_limit=args.save_total_limit,
        load_best_model_at_end=evaluate, metric_for_best_model=best if evaluate else None,
        greater_is_better=greater if evaluate else None,
        seed=args.seed, data_seed=args.seed,
        bf16=bf16, fp16=False, use_cpu=not device.startswith("cuda"),
        dataloader_pin_memory=device.startswith("cuda"),
        beta=args.beta, report_to="none", disable_tqdm=True,
    )


def _build(config: Any, options: dict[str, Any], args: DPOArgs) -> Any:
    options.update(args.extra)
    try:
        return config(**options)
    except (TypeError, ValueError) as exc:
        raise ConfigError([Problem("extra", f"trl.{config.__name__} rejected the options: {exc}")],
                          title="invalid training arguments") from exc


def dpo_config(args: DPOArgs, checkpoints: Path, device: str, *, evaluate: bool, checkpointing: bool) -> Any:
    """The ``trl.DPOConfig`` of an offline run; ``args.extra`` is passed through last."""
    from trl.trainer.dpo_config import DPOConfig

    options = _loop_options(args, checkpoints, device, evaluate=evaluate, checkpointing=checkpointing,
                            best="eval_loss", greater=False)
    options.update(max_length=args.max_seq_len, loss_type=list(args.loss_type), loss_weights=args.loss_weights,
                   include_num_input_tokens_seen="non_padding")
    return _build(DPOConfig, options, args)


def online_config(args: DPOArgs, checkpoints: Path, device: str, *, evaluate: bool, checkpointing: bool) -> Any:
    """The ``OnlineDPOConfig`` of an online run (validation by the grader picks the best checkpoint)."""
    config = _online_classes()[0]
    options = _loop_options(args, checkpoints, device, evaluate=evaluate, checkpointing=checkpointing,
                            best="eval_score", greater=True)
    options.update(beta=[args.beta], loss_type=args.loss_type[0], max_length=args.max_seq_len,
                   max_new_tokens=args.effective_max_completion_length(), temperature=args.effective_temperature(),
                   missing_eos_penalty=args.missing_eos_penalty, eval_on_start=evaluate)
    return _build(config, options, args)


def dpo_trainer_class() -> type:
    """TRL's ``DPOTrainer`` for rows that arrive tokenized (``prompt_ids``, ``chosen_ids``, ``rejected_ids``).

    ``_prepare_dataset`` (TRL's chat-template and tokenizing step, a private method of TRL 1.16) passes the rows
    through: :func:`fathom.train._dpo_data.tokenize_pairs` already rendered them exactly as SFT does.
    """
    from trl.trainer.dpo_trainer import DPOTrainer

    class FathomDPOTrainer(DPOTrainer):
        def _prepare_dataset(self, dataset: Any, processing_class: Any, args: Any, dataset_name: str) -> Any:
            return dataset

    return FathomDPOTrainer


def _online_classes() -> tuple[Any, Any]:
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")  # we say it is experimental in the docs and --help
    try:
        from trl.experimental.online_dpo import OnlineDPOConfig, OnlineDPOTrainer
    except ImportError as exc:
        raise MissingDependencyError("trl.experimental.online_dpo (online DPO)", "pip install 'trl==1.16.*'") from exc
    return OnlineDPOConfig, OnlineDPOTrainer


def online_trainer_class() -> type:
    """TRL's ``OnlineDPOTrainer`` whose evaluation is the grader's score of greedy answers to held-out prompts
    (as in RFT: ``eval_score`` and ``eval_<component>``, which pick the best checkpoint and stop early)."""
    base: Any = _online_classes()[1]

    class FathomOnlineDPOTrainer(base):  # type: ignore[misc]
        validator: Validator | None = None

        def evaluate(self, eval_dataset: Any = None, ignore_keys: Any = None,
                     metric_key_prefix: str = "eval") -> dict[str, float]:
            if self.validator is None:
                return {}
            metrics = self.validator(self.model)
            self.log(dict(metrics))
            handler: Any = self.callback_handler
            self.control = handler.on_evaluate(self.args, self.state, self.control, metrics)  # type: ignore[has-type]
            return metrics

    return FathomOnlineDPOTrainer

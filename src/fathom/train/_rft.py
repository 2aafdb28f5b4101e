"""Reinforcement fine-tuning, top to bottom: :func:`train_rft`.

Read it as the method: check every input before anything loads (model spec, grader, prompts), open the
run folder (new, resumed or finished), load the model (a base model gets a new LoRA adapter; an SFT
adapter continues training), check the reward on sampled completions before a step is spent on it, then
run TRL's GRPO (or RLOO) trainer with the grader as the reward — the same grader object ``fathom eval``
scores with — validating with that grader at intervals, keeping the best checkpoint, and writing the
final model, metrics, reward curve and manifest. The pieces live next door: arguments
(:mod:`._rft_args`), prompts (:mod:`._rft_data`), config, reward and reward check (:mod:`._rft_setup`),
the trainer subclass (:mod:`._rft_trainer`), and the run folder shared with SFT (:mod:`._run_dir`).

Not covered: multi-turn tool-calling rollouts, reward models (``nn.Module`` rewards).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fathom._manifest import atomic_write_text, write_manifest
from fathom.train._callbacks import metrics_callback, read_metrics, run_callbacks, truncate_metrics
from fathom.train._plot import plot_rewards
from fathom.train._result import RFTResult
from fathom.train._rft_args import RFTArgs
from fathom.train._rft_data import prompt_rows, read_prompts
from fathom.train._rft_setup import TextReward, check_reward_first, rft_config
from fathom.train._rft_trainer import Validator, rft_trainer_class
from fathom.train._run_dir import CHECKPOINTS, RESULT_FILE, checkpoint_step, file_sha, save_final, start_run
from fathom.train._setup import (
    base_spec,
    check_model,
    is_peft,
    load_for_training,
    lora_config,
    quiet_libraries,
    use_checkpointing,
)

__all__ = ["RFT_ARGS_FILE", "train_rft"]

RFT_ARGS_FILE = "rft_args.json"
_PROGRESS_FIELDS = {"reward": "reward", "spread": "reward_std", "val": "eval_score", "rollout tok/s":
                    "rollout/tokens_per_s"}


def train_rft(args: RFTArgs, *, callbacks: Sequence[Any] = ()) -> RFTResult:
    """Reinforcement-fine-tune ``args.model`` on the prompts in ``args.data`` with ``args.grader`` as reward.

    Args:
        args: the run's arguments (see :class:`RFTArgs`; they were checked when it was built).
        callbacks: extra ``transformers.TrainerCallback`` objects (e.g. to stop a run from outside).

    Returns:
        Rewards, validation scores, step counts, rollout speed and paths. Calling it again with
        ``resume=True`` on a finished run returns the stored result without training.

    Raises:
        ConfigError: bad options, a missing file, an occupied ``out`` without ``resume``.
        UnknownGraderError: the grader is not registered (with a did-you-mean).
        DataError: prompts that are malformed or already end in an assistant answer (every one listed).
        TrainingError: the reward check found the reward hackable or without spread (``reward_check="stop"``).
    """
    from fathom.graders import build_grader

    started = time.perf_counter()
    out = Path(args.out).expanduser().resolve()

    # 1. Inputs, every one checked before a model loads: the model spec, the grader, the prompt files
    spec = check_model(args)
    grader = build_grader(args.grader)
    prompts = read_prompts(args.data)
    held_out = read_prompts(args.eval_data, flag="--eval-data")[:args.eval_limit] if args.eval_data else None

    # 2. The run folder: new, resumed from its latest complete checkpoint, or already finished
    run_config = {**args.to_dict(), "data_sha256": file_sha(args.data), "eval_data_sha256": file_sha(args.eval_data)}
    state, resume_from = start_run(out, run_config, resume=args.resume, args_name=RFT_ARGS_FILE)
    if state == "finished":
        return RFTResult.load(out)
    metrics_path = out / "metrics.jsonl"
    truncate_metrics(metrics_path, checkpoint_step(resume_from))

    from datasets import Dataset

    from fathom.models import default_device

    with quiet_libraries():
        # 3. Model and tokenizer: a base model gets a new adapter below; an adapter's own weights train on
        device = args.device or default_device()
        model, tokenizer = load_for_training(args, spec, device)

        # 4. Check the reward on sampled completions before spending steps on it (new runs only)
        advice = _earlier_advice(out)
        if resume_from is None:
            advice = check_reward_first(args, grader, prompts, model, tokenizer, out)

        # 5. The trainer: TRL's GRPO/RLOO, the grader as reward, validation by the grader on held-out prompts
        longest = max(len(tokenizer(r["prompt"], add_special_tokens=False)["input_ids"])
                      for r in prompt_rows(tokenizer, prompts[:64])) + args.max_completion_length
        checkpointing = use_checkpointing(args, model, args.batch_size * args.num_generations * longest, device)
        config = rft_config(args, out / CHECKPOINTS, device, evaluate=bool(held_out), checkpointing=checkpointing)
        metrics = metrics_callback(metrics_path)
        trainer_callbacks = run_callbacks(metrics, callbacks, fields=_PROGRESS_FIELDS,
                                          progress=f"RFT {Path(str(args.model)).name}" if args.progress else None,
                                          patience=args.early_stopping_patience)
        train_rows = Dataset.from_list(prompt_rows(tokenizer, prompts))
        eval_rows = Dataset.from_list(prompt_rows(tokenizer, held_out)) if held_out else None
        trainer = rft_trainer_class(args.algorithm)(
            model=model, reward_funcs=[TextReward(grader, name=_grader_name(args.grader))], args=config,
            train_dataset=train_rows, eval_dataset=eval_rows, processing_class=tokenizer,
            peft_config=None if is_peft(model) else lora_config(args, model), callbacks=trainer_callbacks)
        if held_out:
            trainer.validator = Validator(held_out, grader, tokenizer, max_tokens=args.max_completion_length)
        from transformers import PrinterCallback

        trainer.remove_callback(PrinterCallback)

        # 6. Train (from the checkpoint when resuming); the best checkpoint by validation score is reloaded
        train_started = time.perf_counter()
        trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
        train_seconds = time.perf_counter() - train_started

        # 7. The final model at the top of the run folder, with its tokenizer: the folder is a model spec
        lora = is_peft(trainer.model)
        base = base_spec(args.model)
        save_final(trainer, tokenizer, out, {"base": base} if lora else {"trained_from": base})

    # 8. Records: reward curve, manifest and result (written last: the run is finished)
    records = read_metrics(metrics_path)
    plot = plot_rewards(records, out / "reward.png", title=f"RFT ({args.algorithm.upper()}) of {args.model}")
    st = trainer.state
    result = RFTResult(
        out=str(out), kind="lora" if lora else "full", base=base, algorithm=args.algorithm,
        steps=st.global_step, planned_steps=st.max_steps, stopped_early=st.global_step < st.max_steps,
        **_reward_summary(records), best_val_score=st.best_metric if held_out else None,
        best_checkpoint=st.best_model_checkpoint, resumed_from=str(resume_from) if resume_from else None,
        reward_check=advice, **_speed(records, resume_from, metrics), train_seconds=round(train_seconds, 2),
        total_seconds=round(time.perf_counter() - started, 2), metrics=str(metrics_path), plot=str(plot),
        manifest=str(out / "manifest.json"))
    inputs = {"prompts": args.data, **({"eval": args.eval_data} if args.eval_data else {})}
    write_manifest(out, kind="rft", config=run_config, inputs=inputs, extra={"result": result.to_dict()})
    atomic_write_text(out / RESULT_FILE, json.dumps(result.to_dict(), indent=2) + "\n")
    return result


def _grader_name(spec: str | dict[str, Any]) -> str:
    """The name rewards are logged under (``rewards/<name>/mean``): the grader's registered name."""
    return str(spec.get("name", "reward") if isinstance(spec, dict) else spec)


def _earlier_advice(out: Path) -> str | None:
    """The advice of the reward check an interrupted run already made."""
    try:
        return str(json.loads((out / "reward_check.json").read_text(encoding="utf-8"))["advice"])
    except (OSError, ValueError, KeyError):
        return None


def _reward_summary(records: list[dict[str, Any]]) -> dict[str, float | None]:
    rewards = [r["reward"] for r in records if r.get("reward") is not None]
    flat = [r["frac_reward_zero_std"] for r in records if r.get("frac_reward_zero_std") is not None]
    scores = [r["eval_score"] for r in records if r.get("eval_score") is not None and r.get("step") == 0]
    return {"first_reward": rewards[0] if rewards else None, "last_reward": rewards[-1] if rewards else None,
            "zero_spread_share": round(sum(flat) / len(flat), 4) if flat else None,
            "first_val_score": scores[0] if scores else None}


def _speed(records: list[dict[str, Any]], resume_from: Path | None, metrics: Any) -> dict[str, float | None]:
    """Rollout tokens/s (mean of the logged steps) and seconds per optimizer step, over this invocation."""
    first = checkpoint_step(resume_from)
    rollouts = [r["rollout/tokens_per_s"] for r in records
                if r.get("step", 0) > first and r.get("rollout/tokens_per_s") is not None]
    per_step = metrics.seconds_per_step()
    return {"rollout_tokens_per_s": round(sum(rollouts) / len(rollouts), 1) if rollouts else None,
            "s_per_step": round(per_step, 2) if per_step else None}

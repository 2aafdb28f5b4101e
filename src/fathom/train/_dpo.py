"""Preference optimisation, top to bottom: :func:`train_dpo`.

Read it as the method: check every input before anything loads (model spec; pairs, or for ``online`` the
grader and prompts), open the run folder (new, resumed or finished), load the model (a base model gets a new
LoRA adapter and is its own reference with the adapter switched off; an SFT adapter continues and TRL keeps a
frozen copy of it as the reference; a full run keeps a frozen copy of the whole model), then run TRL's
``DPOTrainer`` on pairs tokenized exactly as SFT tokenizes answers — or, with ``online``, TRL's experimental
``OnlineDPOTrainer``, which samples two answers per prompt and lets the grader pick the chosen one — keeping
the best checkpoint (lowest held-out loss; online: best grader score on held-out prompts) and writing the final
model, metrics, loss/margin curve and manifest. The pieces live next door: arguments (:mod:`._dpo_args`), pairs
(:mod:`._dpo_data`), configs and trainer classes (:mod:`._dpo_setup`), and the run folder shared with SFT
(:mod:`._run_dir`). Mining pairs from a model's own samples is :mod:`._pairs` (``fathom data pairs``).

Not covered: PPO (TRL 1.16 has no PPO trainer: huggingface/trl#7020 deleted it; RFT's GRPO and RLOO are the
reinforcement methods), KTO/ORPO/CPO (``trl.experimental``), reward-model training.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fathom._manifest import atomic_write_text, write_manifest
from fathom.errors import DataError, Problem
from fathom.train._callbacks import metrics_callback, read_metrics, run_callbacks, truncate_metrics
from fathom.train._dpo_args import DPOArgs
from fathom.train._dpo_data import PairStats, read_pairs, tokenize_pairs
from fathom.train._dpo_setup import dpo_config, dpo_trainer_class, online_config, online_trainer_class
from fathom.train._plot import plot_preferences
from fathom.train._result import DPOResult
from fathom.train._rft_data import prompt_rows, read_prompts
from fathom.train._rft_setup import TextReward
from fathom.train._rft_trainer import Validator
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

__all__ = ["DPO_ARGS_FILE", "train_dpo"]

DPO_ARGS_FILE = "dpo_args.json"
_OFFLINE_FIELDS = {"loss": "loss", "margin": "rewards/margins", "acc": "rewards/accuracies", "eval": "eval_loss"}
_ONLINE_FIELDS = {"loss": "loss", "margin": "rewards/margins", "score": "objective/scores", "val": "eval_score"}


def train_dpo(args: DPOArgs, *, callbacks: Sequence[Any] = ()) -> DPOResult:
    """Preference-optimise ``args.model`` on the pairs in ``args.data`` (or, ``online``, on pairs it samples
    from the prompts there and ``args.grader`` ranks), writing the run into ``args.out``.

    Args:
        args: the run's arguments (see :class:`DPOArgs`; they were checked when it was built).
        callbacks: extra ``transformers.TrainerCallback`` objects (e.g. to stop a run from outside).

    Returns:
        Losses, reward margins, validation scores, step counts and paths. Calling it again with ``resume=True``
        on a finished run returns the stored result without training.

    Raises:
        ConfigError: bad options, a missing file, an occupied ``out`` without ``resume``.
        UnknownGraderError: (online) the grader is not registered.
        DataError: malformed pairs or prompts (every one listed with its line), or no pair that fits.
    """
    from fathom.graders import build_grader

    started = time.perf_counter()
    out = Path(args.out).expanduser().resolve()

    # 1. Inputs, every one checked before a model loads: the model spec, then pairs (or grader and prompts)
    spec = check_model(args)
    grader = build_grader(args.grader) if args.online else None
    read = read_prompts if args.online else read_pairs
    train_examples = read(args.data)
    held_out = read(args.eval_data, flag="--eval-data") if args.eval_data else None

    # 2. The run folder: new, resumed from its latest complete checkpoint, or already finished
    run_config = {**args.to_dict(), "data_sha256": file_sha(args.data), "eval_data_sha256": file_sha(args.eval_data)}
    state, resume_from = start_run(out, run_config, resume=args.resume, args_name=DPO_ARGS_FILE)
    if state == "finished":
        return DPOResult.load(out)
    metrics_path = out / "metrics.jsonl"
    truncate_metrics(metrics_path, checkpoint_step(resume_from))

    from fathom.models import default_device

    with quiet_libraries():
        # 3. Model and tokenizer: a base model gets a new adapter below; an adapter's own weights train on
        device = args.device or default_device()
        model, tokenizer = load_for_training(args, spec, device)

        # 4. The trainer: TRL's DPOTrainer on tokenized pairs, or OnlineDPOTrainer with the grader as the judge
        metrics = metrics_callback(metrics_path)
        trainer_callbacks = run_callbacks(metrics, callbacks, fields=_ONLINE_FIELDS if args.online else _OFFLINE_FIELDS,
                                          progress=f"DPO {Path(str(args.model)).name}" if args.progress else None,
                                          patience=args.early_stopping_patience)
        if grader is not None:
            trainer = _online_trainer(args, model, tokenizer, grader, train_examples, held_out, out, device,
                                      trainer_callbacks)
            stats = PairStats(pairs=len(train_examples))
        else:
            trainer, stats = _offline_trainer(args, model, tokenizer, train_examples, held_out, out, device,
                                              trainer_callbacks)
        from transformers import PrinterCallback

        trainer.remove_callback(PrinterCallback)

        # 5. Train (from the checkpoint when resuming); the best checkpoint is reloaded at the end
        train_started = time.perf_counter()
        trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
        train_seconds = time.perf_counter() - train_started

        # 6. The final model at the top of the run folder, with its tokenizer: the folder is a model spec
        lora = is_peft(trainer.model)
        base = base_spec(args.model)
        save_final(trainer, tokenizer, out, {"base": base} if lora else {"trained_from": base})
        _drop_reference_adapter(out)

    # 7. Records: loss and margin curve, manifest and result (written last: the run is finished)
    records = read_metrics(metrics_path)
    plot = plot_preferences(records, out / "dpo.png", title=f"{'Online ' if args.online else ''}DPO of {args.model}")
    st = trainer.state
    result = DPOResult(
        out=str(out), kind="lora" if lora else "full", base=base, mode="online" if args.online else "offline",
        loss_type=list(args.loss_type), beta=args.beta, steps=st.global_step, planned_steps=st.max_steps,
        stopped_early=st.global_step < st.max_steps, **_summary(records, st.best_model_checkpoint, args.online,
                                                              bool(held_out)),
        best_val_score=st.best_metric if args.online and held_out else None,
        best_checkpoint=st.best_model_checkpoint, resumed_from=str(resume_from) if resume_from else None,
        train_pairs=stats.pairs, dropped_pairs=stats.dropped, train_seconds=round(train_seconds, 2),
        total_seconds=round(time.perf_counter() - started, 2), metrics=str(metrics_path), plot=str(plot),
        manifest=str(out / "manifest.json"))
    inputs = {"train": args.data, **({"eval": args.eval_data} if args.eval_data else {})}
    write_manifest(out, kind="dpo", config=run_config, inputs=inputs,
                   extra={"result": result.to_dict(), "data": stats.__dict__})
    atomic_write_text(out / RESULT_FILE, json.dumps(result.to_dict(), indent=2) + "\n")
    return result


def _offline_trainer(args: DPOArgs, model: Any, tokenizer: Any, pairs: list[dict[str, Any]],
                     held_out: list[dict[str, Any]] | None, out: Path, device: str,
                     callbacks: list[Any]) -> tuple[Any, PairStats]:
    """TRL's DPOTrainer on the tokenized pairs (every pair whose prompt fills ``max_seq_len`` dropped)."""
    from datasets import Dataset

    train_rows, stats = tokenize_pairs(tokenizer, pairs, args.max_seq_len)
    eval_rows = tokenize_pairs(tokenizer, held_out, args.max_seq_len)[0] if held_out else []
    if not train_rows:
        raise DataError([Problem(str(args.data), f"the prompt of every one of the {len(pairs)} pairs fills "
                                                 f"--max-seq-len {args.max_seq_len}, leaving no answer token; raise "
                                                 f"--max-seq-len")])
    if held_out and not eval_rows:
        raise DataError([Problem(str(args.eval_data), f"the prompt of every held-out pair fills --max-seq-len "
                                                      f"{args.max_seq_len}")])
    longest = min(args.max_seq_len, max(len(r["prompt_ids"]) + max(len(r["chosen_ids"]), len(r["rejected_ids"]))
                                        for r in train_rows + eval_rows))
    checkpointing = use_checkpointing(args, model, 2 * args.batch_size * longest, device)  # chosen + rejected
    config = dpo_config(args, out / CHECKPOINTS, device, evaluate=bool(eval_rows), checkpointing=checkpointing)
    # LoRA needs no reference copy: TRL switches the new adapter off (or, continuing an adapter, keeps a frozen
    # copy of it as a second adapter). A full run compares against a frozen copy of the weights it starts from
    # (TRL would reload the model from its path, which for a merged SFT adapter is the base without the adapter).
    reference = None if is_peft(model) or not args.full else _frozen_copy(model)
    trainer = dpo_trainer_class()(
        model=model, ref_model=reference, args=config, train_dataset=Dataset.from_list(train_rows),
        eval_dataset=Dataset.from_list(eval_rows) if eval_rows else None, processing_class=tokenizer,
        peft_config=None if is_peft(model) else lora_config(args, model), callbacks=callbacks)
    return trainer, stats


def _online_trainer(args: DPOArgs, model: Any, tokenizer: Any, grader: Any, prompts: list[dict[str, Any]],
                    held_out: list[dict[str, Any]] | None, out: Path, device: str, callbacks: list[Any]) -> Any:
    """TRL's OnlineDPOTrainer: two sampled answers per prompt, the grader's better one is chosen."""
    from datasets import Dataset

    rows = prompt_rows(tokenizer, prompts)
    longest = max(len(tokenizer(r["prompt"], add_special_tokens=False)["input_ids"]) for r in rows[:64])
    longest = min(args.max_seq_len, longest + args.effective_max_completion_length())
    checkpointing = use_checkpointing(args, model, 2 * args.batch_size * longest, device)
    config = online_config(args, out / CHECKPOINTS, device, evaluate=bool(held_out), checkpointing=checkpointing)
    name = str(args.grader.get("name", "reward") if isinstance(args.grader, dict) else args.grader)
    trainer = online_trainer_class()(
        model=model, reward_funcs=[TextReward(grader, name=name)], args=config, train_dataset=Dataset.from_list(rows),
        eval_dataset=Dataset.from_list(prompt_rows(tokenizer, held_out)) if held_out else None,
        processing_class=tokenizer, peft_config=None if is_peft(model) else lora_config(args, model),
        callbacks=callbacks)
    if held_out:
        trainer.validator = Validator(held_out, grader, tokenizer, max_tokens=args.effective_max_completion_length())
    return trainer


def _frozen_copy(model: Any) -> Any:
    reference = copy.deepcopy(model).eval()
    reference.requires_grad_(False)
    return reference


def _drop_reference_adapter(out: Path) -> None:
    """Remove the frozen reference adapter PEFT saves beside the trained one (``out/ref/``) when an SFT adapter
    was continued: the run folder holds the trained adapter only."""
    import shutil

    ref = out / "ref"
    if (ref / "adapter_config.json").is_file():
        shutil.rmtree(ref)


def _summary(records: list[dict[str, Any]], best: str | None, online: bool, evaluated: bool) -> dict[str, Any]:
    """Losses and margins of the first and last logged steps, and the final model's held-out figures."""
    def series(key: str) -> list[float]:
        return [r[key] for r in records if r.get(key) is not None]

    losses, margins, accuracies = series("loss"), series("rewards/margins"), series("rewards/accuracies")
    evals = [r for r in records if r.get("eval_loss") is not None]
    chosen = ([r for r in evals if best and r["step"] == checkpoint_step(Path(best))] or evals[-1:]) if evals else []
    final = chosen[-1] if chosen else {}
    scores = [r["eval_score"] for r in records if r.get("eval_score") is not None and r.get("step") == 0]
    return {"first_train_loss": losses[0] if losses else None, "train_loss": losses[-1] if losses else None,
            "first_margin": margins[0] if margins else None, "last_margin": margins[-1] if margins else None,
            "last_accuracy": accuracies[-1] if accuracies else None,
            "eval_loss": final.get("eval_loss") if evaluated and not online else None,
            "eval_margin": final.get("eval_rewards/margins") if evaluated and not online else None,
            "eval_accuracy": final.get("eval_rewards/accuracies") if evaluated and not online else None,
            "first_val_score": scores[0] if online and scores else None}

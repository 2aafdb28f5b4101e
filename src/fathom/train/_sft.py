"""Supervised fine-tuning, top to bottom: :func:`train_sft`.

Read it as the method: check the run folder, read and tokenize chat examples with assistant-only
labels, load the model, wrap it with LoRA (or train it in full), run TRL's ``SFTTrainer`` with a loss
that applies the LM head only at labelled positions, keep the best checkpoint, and write the final
model, tokenizer, metrics, loss curve and manifest into the run folder. The pieces live next door:
arguments (:mod:`._args`), data (:mod:`._data`), loss (:mod:`._loss`), configs (:mod:`._setup`),
run folder and resume (:mod:`._run_dir`), callbacks (:mod:`._callbacks`), plot (:mod:`._plot`).

Not covered: preference or reinforcement fine-tuning, multi-GPU launch (``accelerate launch`` works on
the same function, untested here), merging adapters (:mod:`._merge`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fathom._manifest import atomic_write_text, write_manifest
from fathom.errors import DataError, Problem
from fathom.train._args import SFTArgs
from fathom.train._callbacks import metrics_callback, read_metrics, run_callbacks, truncate_metrics
from fathom.train._data import read_training_examples, tokenize_examples
from fathom.train._loss import sft_trainer_class
from fathom.train._plot import plot_losses
from fathom.train._result import SFTResult
from fathom.train._run_dir import CHECKPOINTS, RESULT_FILE, checkpoint_step, file_sha, save_final, start_run
from fathom.train._setup import (
    base_spec,
    check_model,
    is_peft,
    load_for_training,
    lora_config,
    quiet_libraries,
    sft_config,
    use_checkpointing,
)

__all__ = ["train_sft"]


def train_sft(args: SFTArgs, *, callbacks: Sequence[Any] = ()) -> SFTResult:
    """Fine-tune ``args.model`` on ``args.data`` and write the run into ``args.out``.

    Args:
        args: the run's arguments (see :class:`SFTArgs`; they were checked when it was built).
        callbacks: extra ``transformers.TrainerCallback`` objects (e.g. to stop a run from outside).

    Returns:
        Final metrics, paths, step counts and timings. Calling it again with ``resume=True`` on a finished
        run returns the stored result without training.

    Raises:
        ConfigError: bad options, a missing data file, an occupied ``out`` without ``resume``.
        DataError: malformed examples (every problem listed) or none with anything to learn.
        TrainingError: a chat template that marks no assistant tokens.
    """
    started = time.perf_counter()
    out = Path(args.out).expanduser().resolve()

    # 1. Inputs: the model spec, and every problem in the data files at once, before anything is written or loaded
    spec = check_model(args)
    train_examples = read_training_examples(args.data)
    eval_examples = read_training_examples(args.eval_data, flag="--eval-data") if args.eval_data else None

    # 2. The run folder: new, resumed from its latest complete checkpoint, or already finished
    run_config = {**args.to_dict(), "data_sha256": file_sha(args.data), "eval_data_sha256": file_sha(args.eval_data)}
    state, resume_from = start_run(out, run_config, resume=args.resume)
    if state == "finished":
        return SFTResult.load(out)
    metrics_path = out / "metrics.jsonl"
    truncate_metrics(metrics_path, checkpoint_step(resume_from))

    from datasets import Dataset

    from fathom.models import default_device

    with quiet_libraries():
        # 3. Model and tokenizer (the tokenizer carries the tool-aware template with generation markers)
        device = args.device or default_device()
        model, tokenizer = load_for_training(args, spec, device)

        # 4. Tokens and labels: the loss is taken on assistant text, tool calls and their end-of-turn token
        train_rows, train_stats = tokenize_examples(tokenizer, train_examples, args.max_seq_len)
        eval_rows, _ = tokenize_examples(tokenizer, eval_examples, args.max_seq_len) if eval_examples else ([], None)
        if not train_rows:
            raise DataError([Problem(str(args.data), f"none of the {len(train_examples)} examples has an assistant "
                                                     f"token left to learn within --max-seq-len {args.max_seq_len}")])
        if eval_examples is not None and not eval_rows:
            raise DataError([Problem(str(args.eval_data), "no example has an assistant token to evaluate on")])

        # 5. The trainer: TRL's SFTTrainer with LoRA (unless --full) and the labelled-positions loss
        checkpoints = out / CHECKPOINTS
        longest = max(len(row["input_ids"]) for row in train_rows + eval_rows)
        checkpointing = use_checkpointing(args, model, args.batch_size * longest, device)
        config = sft_config(args, checkpoints, device, evaluate=bool(eval_rows), checkpointing=checkpointing)
        metrics = metrics_callback(metrics_path)
        trainer_callbacks = run_callbacks(metrics, callbacks, patience=args.early_stopping_patience,
                                          progress=f"SFT {Path(str(args.model)).name}" if args.progress else None)
        trainer_cls = sft_trainer_class() if args.loss_positions_only else _plain_trainer_class()
        peft_config = None if is_peft(model) else lora_config(args, model)  # an adapter being continued has its own
        trainer = trainer_cls(model=model, args=config, train_dataset=Dataset.from_list(train_rows),
                              eval_dataset=Dataset.from_list(eval_rows) if eval_rows else None,
                              processing_class=tokenizer, peft_config=peft_config, callbacks=trainer_callbacks)
        from transformers import PrinterCallback

        trainer.remove_callback(PrinterCallback)

        # 6. Train (from the checkpoint when resuming); the best checkpoint is reloaded at the end
        train_started = time.perf_counter()
        trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
        train_seconds = time.perf_counter() - train_started

        # 7. The final model at the top of the run folder, with its tokenizer: the folder is a model spec
        lora = is_peft(trainer.model)
        base = base_spec(args.model)
        save_final(trainer, tokenizer, out, {"base": base} if lora else {"trained_from": base})

    # 8. Records: loss curve, manifest and result (written last: the run is finished)
    records = read_metrics(metrics_path)
    plot = plot_losses(records, out / "loss.png", title=f"SFT of {args.model}")
    st = trainer.state
    losses = [r["loss"] for r in records if r.get("loss") is not None]
    throughput = metrics.throughput()
    result = SFTResult(
        out=str(out), kind="lora" if lora else "full", base=base, steps=st.global_step, planned_steps=st.max_steps,
        epochs=round(st.epoch or 0.0, 4), stopped_early=st.global_step < st.max_steps,
        train_loss=losses[-1] if losses else None, first_train_loss=losses[0] if losses else None,
        eval_loss=st.best_metric if eval_rows else None, best_checkpoint=st.best_model_checkpoint,
        resumed_from=str(resume_from) if resume_from else None, gradient_checkpointing=checkpointing,
        train_examples=train_stats.examples,
        train_tokens=st.num_input_tokens_seen,
        tokens_per_s=round(throughput, 1) if throughput else None,
        train_seconds=round(train_seconds, 2), total_seconds=round(time.perf_counter() - started, 2),
        metrics=str(metrics_path), plot=str(plot), manifest=str(out / "manifest.json"))
    inputs = {"train": args.data, **({"eval": args.eval_data} if args.eval_data else {})}
    write_manifest(out, kind="sft", config=run_config, inputs=inputs,
                   extra={"result": result.to_dict(), "data": train_stats.__dict__})
    atomic_write_text(out / RESULT_FILE, json.dumps(result.to_dict(), indent=2) + "\n")
    return result


def _plain_trainer_class() -> type:
    from trl.trainer.sft_trainer import SFTTrainer

    return SFTTrainer

"""Continued pre-training, top to bottom: :func:`train_cpt`.

Read it as the method: read the domain corpus and every ``--mix`` source before anything loads, open the run
folder (new, resumed or finished), load the model, pack each corpus into blocks of ``max_seq_len`` tokens and
hold the end of each out, draw general blocks beside the domain ones by ratio, measure held-out perplexity
(domain and general) before training, run TRL's ``SFTTrainer`` with the plain next-token loss on every token
(LoRA unless ``full``), keep the checkpoint with the lowest held-out domain loss, measure perplexity again, and
write the final model, metrics, loss curve, manifest and result. The pieces live next door: arguments
(:mod:`._cpt_args`), corpora and blocks (:mod:`._cpt_data`), the SFT config and run folder (:mod:`._setup`,
:mod:`._run_dir`).

Perplexity is ``exp`` of the mean next-token cross-entropy over every predicted token of the held-out blocks.
Domain perplexity should fall; general perplexity rising is forgetting, which ``--mix`` is there to hold back.
Not covered: tokenizer extension for new vocabulary, multi-GPU launch (``accelerate launch`` works on the same
function, untested here), and evaluating forgetting on tasks (``fathom.evaluate``).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fathom._manifest import atomic_write_text, write_manifest
from fathom.train._callbacks import metrics_callback, read_metrics, run_callbacks, truncate_metrics
from fathom.train._cpt_args import CPTArgs
from fathom.train._cpt_data import Corpus, mix_blocks, read_corpus, split_blocks
from fathom.train._plot import plot_losses
from fathom.train._result import CPTResult
from fathom.train._run_dir import CHECKPOINTS, RESULT_FILE, checkpoint_step, save_final, start_run
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

__all__ = ["CPT_ARGS_FILE", "PERPLEXITY_BEFORE_FILE", "perplexity", "train_cpt"]

CPT_ARGS_FILE = "cpt_args.json"
PERPLEXITY_BEFORE_FILE = "perplexity_before.json"
_FIELDS = {"loss": "loss", "eval": "eval_loss", "tok/s": "tokens_per_s"}


def perplexity(model: Any, blocks: Sequence[Sequence[int]], *, batch_size: int = 2) -> float | None:
    """``exp`` of the mean next-token cross-entropy over every predicted token of ``blocks`` (None for none).

    Each block is scored on its own (no context from the block before), with the model in eval mode and no
    gradients; the mode is restored afterwards.
    """
    import torch

    if not blocks:
        return None
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        with torch.no_grad():
            for start in range(0, len(blocks), batch_size):
                batch = blocks[start:start + batch_size]
                width = max(len(b) for b in batch)
                ids = torch.zeros((len(batch), width), dtype=torch.long, device=device)
                mask = torch.zeros_like(ids)
                for row, block in enumerate(batch):
                    ids[row, :len(block)] = torch.tensor(list(block), device=device)
                    mask[row, :len(block)] = 1
                logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
                targets = ids[:, 1:].masked_fill(mask[:, 1:] == 0, -100)
                total += float(torch.nn.functional.cross_entropy(logits.transpose(1, 2), targets, ignore_index=-100,
                                                                 reduction="sum"))
                count += int((targets != -100).sum())
    finally:
        model.train(was_training)
    return round(math.exp(total / count), 4) if count else None


def train_cpt(args: CPTArgs, *, callbacks: Sequence[Any] = ()) -> CPTResult:
    """Continue pre-training ``args.model`` on the raw text of ``args.data`` (with ``args.mix`` general text
    mixed in) and write the run into ``args.out``.

    Args:
        args: the run's arguments (see :class:`CPTArgs`; they were checked when it was built).
        callbacks: extra ``transformers.TrainerCallback`` objects (e.g. to stop a run from outside).

    Returns:
        Perplexities before and after, losses, block counts, step counts and paths. Calling it again with
        ``resume=True`` on a finished run returns the stored result without training.

    Raises:
        ConfigError: bad options, a missing corpus or mix path, an occupied ``out`` without ``resume``.
        DataError: a corpus with no text, JSONL rows without ``text``, or a corpus too small for two blocks.
    """
    started = time.perf_counter()
    out = Path(args.out).expanduser().resolve()

    # 1. Inputs, every one checked before a model loads: the model spec, the domain corpus, every mix source
    spec = check_model(args)
    domain = read_corpus(args.data)
    general = [(path, ratio, read_corpus(path, flag="--mix")) for path, ratio in args.mix_ratios()]
    mixed_paths = {Path(path).expanduser().resolve() for path, _, _ in general}
    scored = [(str(Path(path).expanduser().resolve()), read_corpus(path, flag="--general-eval"))
              for path in args.general_eval if Path(path).expanduser().resolve() not in mixed_paths]

    # 2. The run folder: new, resumed from its latest complete checkpoint, or already finished
    run_config = {**args.to_dict(), "data_sha256": domain.sha256(), "mix_sha256": [c.sha256() for *_, c in general],
                  **({"general_eval_sha256": [c.sha256() for _, c in scored]} if scored else {})}
    state, resume_from = start_run(out, run_config, resume=args.resume, args_name=CPT_ARGS_FILE)
    if state == "finished":
        return CPTResult.load(out)
    metrics_path = out / "metrics.jsonl"
    truncate_metrics(metrics_path, checkpoint_step(resume_from))

    from fathom.models import default_device

    with quiet_libraries():
        # 3. Model and tokenizer; then every corpus as blocks of max_seq_len tokens, the end of each held out
        device = args.device or default_device()
        model, tokenizer = load_for_training(args, spec, device)
        blocks, train_blocks, held = _blocks(args, tokenizer, domain, general, scored)

        # 4. Perplexity on held-out domain and general text before any step (kept for a resumed run)
        before = _perplexity_before(out, model, held, args.batch_size)

        # 5. The trainer: TRL's SFTTrainer, plain next-token loss on every token, LoRA unless --full
        checkpointing = use_checkpointing(args, model, args.batch_size * args.max_seq_len, device)
        config = sft_config(args, out / CHECKPOINTS, device, evaluate=True, checkpointing=checkpointing)
        metrics = metrics_callback(metrics_path)
        trainer_callbacks = run_callbacks(metrics, callbacks, fields=_FIELDS, patience=args.early_stopping_patience,
                                          progress=f"CPT {Path(str(args.model)).name}" if args.progress else None)
        from trl.trainer.sft_trainer import SFTTrainer

        trainer = SFTTrainer(model=model, args=config, processing_class=tokenizer,
                             train_dataset=_rows(train_blocks), eval_dataset=_rows(held["domain"]),
                             peft_config=None if is_peft(model) else lora_config(args, model),
                             callbacks=trainer_callbacks)
        from transformers import PrinterCallback

        trainer.remove_callback(PrinterCallback)

        # 6. Train (from the checkpoint when resuming); the lowest held-out domain loss is reloaded at the end
        train_started = time.perf_counter()
        trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
        train_seconds = time.perf_counter() - train_started

        # 7. Perplexity after, then the final model at the top of the run folder: the folder is a model spec
        after = {name: perplexity(trainer.model, held[name], batch_size=args.batch_size) for name in held}
        lora = is_peft(trainer.model)
        base = base_spec(args.model)
        save_final(trainer, tokenizer, out, {"base": base} if lora else {"trained_from": base})

    # 8. Records: loss curve, manifest and result (written last: the run is finished)
    records = read_metrics(metrics_path)
    plot = plot_losses(records, out / "loss.png", title=f"Continued pre-training of {args.model}",
                       ylabel="loss (mean next-token cross-entropy)")
    st = trainer.state
    losses = [r["loss"] for r in records if r.get("loss") is not None]
    throughput = metrics.throughput()
    result = CPTResult(
        out=str(out), kind="lora" if lora else "full", base=base, steps=st.global_step, planned_steps=st.max_steps,
        stopped_early=st.global_step < st.max_steps, first_train_loss=losses[0] if losses else None,
        train_loss=losses[-1] if losses else None,
        perplexity={name: {"before": before.get(name), "after": after.get(name)} for name in ("domain", "general")},
        best_checkpoint=st.best_model_checkpoint, resumed_from=str(resume_from) if resume_from else None,
        blocks=blocks, train_tokens=st.num_input_tokens_seen,
        tokens_per_s=round(throughput, 1) if throughput else None, train_seconds=round(train_seconds, 2),
        total_seconds=round(time.perf_counter() - started, 2), metrics=str(metrics_path), plot=str(plot),
        manifest=str(out / "manifest.json"))
    inputs = {"train": args.data, **{f"mix{i}": path for i, (path, _, _) in enumerate(general)},
              **{f"general_eval{i}": path for i, (path, _) in enumerate(scored)}}
    write_manifest(out, kind="cpt", config=run_config, inputs=_file_inputs(inputs), extra={"result": result.to_dict()})
    atomic_write_text(out / RESULT_FILE, json.dumps(result.to_dict(), indent=2) + "\n")
    return result


def _blocks(args: CPTArgs, tokenizer: Any, domain: Corpus, general: list[tuple[str, float, Corpus]],
            scored: list[tuple[str, Corpus]]
            ) -> tuple[dict[str, dict[str, int]], list[list[int]], dict[str, list[list[int]]]]:
    """Block counts per source, the mixed training blocks, and the held-out blocks (``domain``, ``general``).

    ``scored`` general corpora (``--general-eval``) are split as a mix source would be, and only their held-out
    blocks are used.
    """
    limit = args.eval_limit
    domain_train, domain_held = split_blocks(tokenizer, domain, args.max_seq_len, args.heldout_fraction, args.seed,
                                             "--data")
    counts = {"domain": {"train": len(domain_train), "heldout": len(domain_held[:limit])}}
    sources, general_held = [], []
    for path, ratio, corpus in general:
        train, held = split_blocks(tokenizer, corpus, args.max_seq_len, args.heldout_fraction, args.seed, "--mix")
        sources.append((path, ratio, train))
        general_held.extend(held[:limit])
        counts[path] = {"available": len(train), "heldout": len(held[:limit])}
    for path, corpus in scored:
        _, held = split_blocks(tokenizer, corpus, args.max_seq_len, args.heldout_fraction, args.seed,
                               "--general-eval")
        general_held.extend(held[:limit])
        counts[path] = {"train": 0, "heldout": len(held[:limit])}
    mixed, drawn = mix_blocks(domain_train, sources, args.seed)
    for path, n in drawn.items():
        counts[path]["train"] = n
    held_out = {"domain": domain_held[:limit], **({"general": general_held} if general_held else {})}
    return counts, mixed, held_out


def _rows(blocks: list[list[int]]) -> Any:
    """A dataset of blocks whose labels are their own ids (the loss is taken on every token)."""
    from datasets import Dataset

    return Dataset.from_list([{"input_ids": b, "labels": b} for b in blocks])


def _perplexity_before(out: Path, model: Any, held: dict[str, list[list[int]]], batch_size: int) -> dict[str, Any]:
    """Held-out perplexity of the starting model, measured once and kept in ``perplexity_before.json``."""
    path = out / PERPLEXITY_BEFORE_FILE
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        pass
    before = {name: perplexity(model, blocks, batch_size=batch_size) for name, blocks in held.items()}
    atomic_write_text(path, json.dumps(before, indent=2) + "\n")
    return before


def _file_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    """The corpus inputs the manifest can hash (files; folders are fingerprinted in the run's arguments)."""
    return {name: path for name, path in inputs.items() if Path(path).is_file()}

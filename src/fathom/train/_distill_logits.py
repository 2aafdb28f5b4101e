"""On-policy logit distillation (``fathom distill --method logits``) and the KL figure that measures it.

:func:`train_logits` wraps TRL's ``DistillationTrainer`` (stable in TRL 1.16): the student samples answers
to the prompts, and its next-token distributions on them are pulled towards the teacher's by the generalised
Jensen-Shannon divergence (``beta`` 0 is forward KL, 0.5 JSD, 1 reverse KL). That needs the teacher's full
next-token distribution, so teacher and student must share a vocabulary: :func:`check_shared_vocabulary`
reads both configs (no weights) and says so before anything loads, pointing to SFT on the teacher's text
(or TRL's GOLD trainer) otherwise.

:func:`kl_to_teacher` is the figure ``result.json`` reports: the mean, over the assistant tokens of some
held-out teacher answers, of KL(teacher || student) of the next-token distributions (teacher-forced on the
teacher's own answer). Lower means the student predicts more like the teacher.

Not covered: teachers with another tokenizer, vLLM generation for the student (TRL's ``use_vllm``; add it
through ``config_options``), resuming a logits run part-way (a finished run is returned as it is; an
unfinished one starts again).
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

from fathom.errors import ConfigError, Problem

__all__ = ["check_shared_vocabulary", "kl_to_teacher", "shared_vocabulary", "train_logits", "vocabulary_size"]


def vocabulary_size(spec: str) -> int | None:
    """The vocabulary size of a local model spec, from its config (no weights load); None when not local."""
    from fathom.backends import RULE_PREFIX
    from fathom.models import AdapterSpec, BundledSpec, HubSpec, LocalSpec, is_remote, resolve_model

    if spec.startswith(RULE_PREFIX) or is_remote(spec):
        return None
    s = resolve_model(spec)
    if isinstance(s, AdapterSpec):
        return vocabulary_size(s.base)
    if isinstance(s, LocalSpec):
        folder = s.path
    elif isinstance(s, BundledSpec):
        from fathom.models import bundled_dir

        folder = bundled_dir(s.spec, quiet=True)
    elif isinstance(s, HubSpec):
        from transformers import AutoConfig

        return int(AutoConfig.from_pretrained(s.spec).get_text_config().vocab_size)
    else:
        return None
    config = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
    size = config.get("vocab_size") or (config.get("text_config") or {}).get("vocab_size")
    return int(size) if size else None


def shared_vocabulary(teacher: str, student: str) -> bool:
    """Whether both are local models with the same vocabulary size."""
    a, b = vocabulary_size(teacher), vocabulary_size(student)
    return a is not None and a == b


def check_shared_vocabulary(teacher: str, student: str) -> None:
    """Raise :class:`ConfigError` unless logit distillation from ``teacher`` into ``student`` can work."""
    size_t = vocabulary_size(teacher)
    if size_t is None:
        raise ConfigError([Problem("--teacher", f"{teacher!r} is not a local model (an endpoint or a rule-based "
                                                f"model gives text, not next-token distributions); logit "
                                                f"distillation needs local weights. Use --method sft to learn "
                                                f"from its answers")], title="cannot distil logits")
    size_s = vocabulary_size(student)
    if size_s is None:
        raise ConfigError([Problem("--student", f"{student!r} is not a local model")], title="cannot distil logits")
    from fathom.models import AdapterSpec, resolve_model

    if isinstance(resolve_model(student), AdapterSpec):
        raise ConfigError([Problem("--student", f"{student!r} is a LoRA adapter; logit distillation trains a new "
                                                f"adapter on a full model. Merge it first (fathom train merge) "
                                                f"and pass the merged folder")], title="cannot distil logits")
    if size_t != size_s:
        raise ConfigError([Problem("--teacher", f"has a vocabulary of {size_t} tokens, the student {size_s}: logit "
                                                f"distillation compares next-token distributions token by token, "
                                                f"so they must share one. Use --method sft (the teacher's text "
                                                f"works across tokenizers) or TRL's GOLD trainer")],
                          title="cannot distil logits")


def kl_to_teacher(teacher: str, student: str, examples: list[dict[str, Any]], *, device: str | None = None,
                  max_seq_len: int = 512) -> float:
    """Mean per-token KL(teacher || student) on the assistant tokens of ``examples`` (teacher-forced)."""
    import torch

    from fathom.models import load_model
    from fathom.train._data import IGNORE_INDEX, tokenize_example

    device = device or "cpu"
    t_model: Any
    s_model: Any
    t_model, tokenizer = load_model(teacher, device=device, dtype="float32")
    s_model, _ = load_model(student, device=device, dtype="float32")
    t_model.eval()
    s_model.eval()
    total, tokens = 0.0, 0
    with torch.no_grad():
        for example in examples:
            row = tokenize_example(tokenizer, example, max_seq_len)
            ids = torch.tensor([row["input_ids"]], device=device)
            # the logits at position i predict token i + 1: score the positions whose next token is the answer's
            mask = torch.tensor(row["labels"][1:], device=device) != IGNORE_INDEX
            if not bool(mask.any()):
                continue
            log_t = torch.log_softmax(t_model(ids).logits[0, :-1][mask].float(), dim=-1)
            log_s = torch.log_softmax(s_model(ids).logits[0, :-1][mask].float(), dim=-1)
            total += float((log_t.exp() * (log_t - log_s)).sum())
            tokens += int(mask.sum())
    del t_model, s_model
    return total / tokens if tokens else math.nan


def train_logits(*, student: str, teacher: str, data: str | os.PathLike[str], out: str | os.PathLike[str],
                 max_steps: int = 50, learning_rate: float = 5e-5, batch_size: int = 4,
                 max_completion_length: int = 64, beta: float = 0.5, temperature: float = 0.9,
                 lora_rank: int | None = 16, seed: int = 0, logging_steps: int = 5, device: str | None = None,
                 progress: bool = False, resume: bool = False,
                 config_options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Distil ``teacher``'s next-token distributions into ``student`` on the prompts of ``data`` (on-policy).

    Args:
        student, teacher: local model specs sharing a vocabulary (:func:`check_shared_vocabulary`).
        data: JSON Lines of examples (their prompts are used; a trailing assistant turn is left out).
        out: the student's folder (the final model, a model spec, and ``result.json``).
        max_steps, learning_rate, batch_size, seed, logging_steps: the training loop.
        max_completion_length: most tokens the student samples per prompt.
        beta: the generalised JSD's interpolation: 0 forward KL, 0.5 JSD, 1 reverse KL.
        temperature: sampling temperature of the student's answers (and of the divergence).
        lora_rank: LoRA rank (alpha twice it, every linear layer); None trains every weight.
        device: ``"cpu"``, ``"cuda"``... (default: a GPU when there is one).
        progress: a progress bar.
        resume: a finished run in ``out`` is returned as it is.
        config_options: more ``trl.DistillationConfig`` fields.

    Returns:
        ``{"out", "steps", "seconds", "losses", "lora_rank", "beta", ...}``, also written to ``out/result.json``.
    """
    from fathom._manifest import atomic_write_text
    from fathom.backends import prompt_messages
    from fathom.datasets import read_jsonl
    from fathom.models import default_device, load_model
    from fathom.train._run_dir import save_final
    from fathom.train._setup import base_spec

    problems = []
    if not isinstance(max_steps, int) or max_steps < 1:
        problems.append(Problem("max_steps", f"must be at least 1, got {max_steps!r}"))
    if not 0 <= beta <= 1:
        problems.append(Problem("beta", f"must be in [0, 1] (0 forward KL, 0.5 JSD, 1 reverse KL), got {beta!r}"))
    if not temperature > 0:
        problems.append(Problem("temperature", f"must be above 0, got {temperature!r}"))
    if problems:
        raise ConfigError(problems, title="invalid logit-distillation options")
    folder = Path(out)
    if resume and (folder / "result.json").is_file():
        stored: dict[str, Any] = json.loads((folder / "result.json").read_text(encoding="utf-8"))
        return stored
    started = time.perf_counter()
    device = device or default_device()
    from datasets import Dataset
    from trl.trainer.distillation_config import DistillationConfig
    from trl.trainer.distillation_trainer import DistillationTrainer

    rows = [{"prompt": prompt_messages(ex)} for ex in read_jsonl(data)]
    model, tokenizer = load_model(student, device=device, dtype="float32")
    teacher_model, _ = load_model(teacher, device=device, dtype="float32")
    peft_config = None
    if lora_rank is not None:
        from peft import LoraConfig

        peft_config = LoraConfig(r=lora_rank, lora_alpha=2 * lora_rank, target_modules="all-linear",
                                 task_type="CAUSAL_LM")
    config = DistillationConfig(
        output_dir=str(folder / "checkpoints"), max_steps=max_steps, learning_rate=learning_rate,
        per_device_train_batch_size=batch_size, max_completion_length=max_completion_length, beta=beta,
        temperature=temperature, seed=seed, logging_steps=logging_steps, save_strategy="no", report_to=[],
        use_cpu=device == "cpu", bf16=False, disable_tqdm=not progress, **(config_options or {}))
    trainer = DistillationTrainer(model=model, teacher_model=teacher_model, args=config,
                                  train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
                                  peft_config=peft_config)
    trainer.train()
    base = base_spec(student)
    save_final(trainer, tokenizer, folder, {"base": base} if lora_rank is not None else {"trained_from": base})
    losses = [round(float(r["loss"]), 6) for r in trainer.state.log_history if "loss" in r]
    result = {"out": str(folder), "steps": int(trainer.state.global_step), "seconds": round(time.perf_counter() -
                                                                                              started, 2),
              "losses": losses, "lora_rank": lora_rank, "beta": beta, "temperature": temperature,
              "max_completion_length": max_completion_length, "learning_rate": learning_rate, "teacher": teacher,
              "student": student}
    atomic_write_text(folder / "result.json", json.dumps(result, indent=2) + "\n")
    return result

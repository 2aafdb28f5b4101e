"""Building blocks of an SFT run: the model to train, its precision, the PEFT and TRL configs.

Covers: :func:`check_model` and :func:`load_for_training` (base models, and LoRA adapters that
continue training or are merged for full fine-tuning), :func:`precision`, :func:`lora_config`,
:func:`sft_config` (``trl.SFTConfig`` from :class:`~fathom.train.SFTArgs` or :class:`~fathom.train.CPTArgs`),
:func:`quiet_libraries`.
Not covered: the run itself (:mod:`fathom.train._sft`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fathom.errors import ConfigError, Problem
from fathom.train._args import LoopArgs, SFTArgs, TrainArgs

if TYPE_CHECKING:
    from peft import LoraConfig
    from trl.trainer.sft_config import SFTConfig

    from fathom.models import ModelSpec

__all__ = ["activation_memory", "base_spec", "check_model", "cpu_has_native_bf16", "free_memory", "is_peft",
           "load_for_training", "lora_config", "precision", "quiet_libraries", "sft_config", "use_checkpointing"]

_NOISY_LOGGERS = ("transformers", "trl", "peft", "accelerate", "datasets")


_NO_BF16_ISAS = {"DEFAULT", "SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI"}


def cpu_has_native_bf16() -> bool:
    """True when this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX), where bf16 matmuls run 2-3x
    faster than float32; older CPUs emulate bf16 and are better off in float32.

    Kernel caps count as the CPU: with ``ATEN_CPU_CAPABILITY=avx2`` (or ``default``) or a
    ``ONEDNN_MAX_CPU_ISA`` below AVX512-BF16, the answer is False, so an AVX2 machine can be emulated.
    """
    import torch

    if (os.environ.get("ATEN_CPU_CAPABILITY", "").upper() in _NO_BF16_ISAS
            or os.environ.get("ONEDNN_MAX_CPU_ISA", "").upper() in _NO_BF16_ISAS):
        return False

    # torch exposes these probes only as private helpers; a torch without them counts as "no"
    probes = [getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return any(probe() for probe in probes if probe is not None)


def precision(args: TrainArgs, device: str) -> tuple[str, bool]:
    """``(weight dtype, bf16 autocast)`` for a run.

    Weights stay float32 and matmuls run in bfloat16 under autocast where the hardware does bf16 natively
    (most GPUs, recent CPUs); on a GPU a LoRA base is loaded in bfloat16 outright. An explicit ``dtype``
    turns autocast off.
    """
    if args.dtype is not None:
        return args.dtype, False
    if not device.startswith("cuda"):
        return "float32", cpu_has_native_bf16()
    import torch

    bf16 = torch.cuda.is_bf16_supported()
    if args.full:
        return "float32", bf16
    return ("bfloat16" if bf16 else "float32"), False


def base_spec(spec: str) -> str:
    """The spec to record as an adapter's base: local folders become absolute paths, adapters their base."""
    from fathom.models import AdapterSpec, LocalSpec, resolve_model

    resolved = resolve_model(spec)
    if isinstance(resolved, AdapterSpec):
        return base_spec(resolved.base)
    if isinstance(resolved, LocalSpec):
        return str(resolved.path)
    return resolved.spec


def check_model(args: TrainArgs) -> ModelSpec:
    """Resolve ``args.model`` and check it can be trained with these arguments (nothing is loaded).

    Raises:
        ConfigError: a remote model, or LoRA settings given for an existing adapter (whose shape is fixed).
        UnknownModelError: a spec that names no model.
    """
    from fathom.models import AdapterSpec, RemoteSpec, resolve_model

    spec = resolve_model(args.model)
    if isinstance(spec, RemoteSpec):
        raise ConfigError([Problem("--model", f"{args.model!r} is a remote endpoint; fine-tuning needs local "
                                              f"weights (a bundled name, a hub id or a folder)")])
    if isinstance(spec, AdapterSpec) and not args.full:
        given = [n for n in ("lora_rank", "lora_alpha", "lora_dropout", "target_modules", "lora_layers")
                 if getattr(args, n) is not None]
        if given:
            raise ConfigError([Problem("--" + n.replace("_", "-"), f"cannot change the shape of the existing adapter "
                                                                   f"{args.model}; drop it to continue training "
                                                                   f"that adapter") for n in given])
    return spec


def load_for_training(args: TrainArgs, spec: ModelSpec, device: str) -> tuple[Any, Any]:
    """Load ``(model, tokenizer)`` to fine-tune (``spec`` from :func:`check_model`).

    A LoRA adapter continues training (its weights trainable), or with ``full`` is merged into its base first.
    """
    from fathom.models import AdapterSpec, load_model, set_chat_template

    dtype, _ = precision(args, device)
    model: Any
    if isinstance(spec, AdapterSpec) and not args.full:
        model, tokenizer = load_model(spec, device=device, dtype=dtype, trainable=True)
    else:
        model, tokenizer = load_model(spec, device=device, dtype=dtype)
        if isinstance(spec, AdapterSpec):
            model = model.merge_and_unload()
            model.requires_grad_(True)  # PEFT froze the base weights it loaded; a full run trains every one of them
    if args.chat_template is not None:  # saved with the model's tokenizer, so later loads render the same way
        set_chat_template(tokenizer, args.chat_template)
    return model, tokenizer


def is_peft(model: Any) -> bool:
    """True for a PEFT (LoRA) model."""
    from peft import PeftModel

    return isinstance(model, PeftModel)


def activation_memory(model_config: Any, tokens: int) -> int:
    """Rough bytes of activations a forward pass keeps for the backward pass, without checkpointing.

    ``layers x (16 x hidden + 6 x intermediate) x 4`` bytes per token: about 2.2 MB per token for SmolLM2-135M
    with bf16 autocast, which is what a 4-example batch of 1,956 padded tokens measured (4.3 GB peak).
    """
    text = model_config.get_text_config()
    hidden = int(text.hidden_size)
    intermediate = int(getattr(text, "intermediate_size", None) or 4 * hidden)
    return int(text.num_hidden_layers) * (16 * hidden + 6 * intermediate) * 4 * tokens


def free_memory(device: str) -> int | None:
    """Bytes free on ``device`` (``MemAvailable`` for the CPU), or None when unknown."""
    if device.startswith("cuda"):
        import torch

        return int(torch.cuda.mem_get_info(torch.device(device))[0])
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def use_checkpointing(args: TrainArgs, model: Any, batch_tokens: int, device: str) -> bool:
    """Whether to checkpoint activations: as asked, else only when the largest batch (``batch_tokens``:
    batch size x longest example) would not fit in half the free memory (checkpointing costs about 40% more
    time)."""
    if args.gradient_checkpointing is not None:
        return args.gradient_checkpointing
    free = free_memory(device)
    return free is not None and activation_memory(model.config, batch_tokens) > free // 2


def lora_config(args: TrainArgs, model: Any = None) -> LoraConfig | None:
    """The PEFT LoRA config of a LoRA run (None for full fine-tuning).

    With ``lora_layers`` the adapters go on the top layers only (``model`` gives the layer count).
    """
    settings = args.effective_lora()
    if settings is None:
        return None
    from peft import LoraConfig

    layers = None
    if "lora_layers" in settings:
        total = int(model.config.get_text_config().num_hidden_layers)
        if settings["lora_layers"] > total:
            raise ConfigError([Problem("--lora-layers", f"the model has {total} layers, got {settings['lora_layers']}; "
                                                        f"pass at most {total} (or leave it unset for every layer)")])
        layers = list(range(total - settings["lora_layers"], total))
        if settings["target_modules"] == "all-linear":  # PEFT takes layers_to_transform with named modules only
            settings["target_modules"] = _linear_names(model)
    return LoraConfig(r=settings["lora_rank"], lora_alpha=settings["lora_alpha"],
                      lora_dropout=settings["lora_dropout"], target_modules=settings["target_modules"],
                      layers_to_transform=layers, task_type="CAUSAL_LM")


def _linear_names(model: Any) -> list[str]:
    """Names of the linear projections inside the transformer layers (what PEFT's ``all-linear`` selects)."""
    import torch

    output = model.get_output_embeddings()
    return sorted({name.rsplit(".", 1)[-1] for name, module in model.named_modules()
                   if isinstance(module, torch.nn.Linear) and module is not output and ".layers." in f".{name}"})


def sft_config(args: LoopArgs, checkpoints: Path, device: str, *, evaluate: bool,
               checkpointing: bool) -> SFTConfig:
    """The ``trl.SFTConfig`` of a run on tokenized rows (SFT, continued pre-training); ``args.extra`` is passed
    through last."""
    from trl.trainer.sft_config import SFTConfig

    _, bf16 = precision(args, device)
    options: dict[str, Any] = dict(
        output_dir=str(checkpoints.resolve()),
        num_train_epochs=args.epochs, max_steps=args.max_steps or -1,
        learning_rate=args.effective_learning_rate(), lr_scheduler_type=args.lr_scheduler,
        warmup_steps=args.warmup, weight_decay=args.weight_decay, max_grad_norm=args.max_grad_norm,
        per_device_train_batch_size=args.batch_size, per_device_eval_batch_size=args.batch_size,
        gradient_accumulation_steps=args.grad_accum,
        train_sampling_strategy="group_by_length" if isinstance(args, SFTArgs) and args.group_by_length else "random",
        gradient_checkpointing=checkpointing,
        logging_steps=args.logging_steps, logging_first_step=True,
        eval_strategy="steps" if evaluate else "no", eval_steps=args.eval_steps,
        save_strategy="steps", save_steps=args.effective_save_steps(), save_total_limit=args.save_total_limit,
        load_best_model_at_end=evaluate, metric_for_best_model="eval_loss" if evaluate else None,
        greater_is_better=False if evaluate else None,
        seed=args.seed, data_seed=args.seed,
        bf16=bf16, fp16=False, use_cpu=not device.startswith("cuda"),
        dataloader_pin_memory=device.startswith("cuda"),
        # The rows arrive tokenized, masked and truncated (fathom.train._data, ._cpt_data), so TRL prepares nothing
        max_length=None, packing=False,
        include_num_input_tokens_seen="non_padding",
        report_to="none", disable_tqdm=True,
    )
    options.update(args.extra)
    try:
        return SFTConfig(**options)
    except (TypeError, ValueError) as exc:
        raise ConfigError([Problem("extra", f"trl.SFTConfig rejected the options: {exc}")],
                          title="invalid training arguments") from exc


@contextlib.contextmanager
def quiet_libraries() -> Iterator[None]:
    """Silence transformers/TRL/PEFT chatter (info logs, progress bars, deprecation and advice warnings)
    for a block, restoring the previous settings afterwards."""
    from fathom.models import no_progress_bars

    loggers = [logging.getLogger(name) for name in _NOISY_LOGGERS]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with no_progress_bars(), warnings.catch_warnings():
            for category in (FutureWarning, DeprecationWarning, UserWarning):
                warnings.filterwarnings("ignore", category=category, module=r"(transformers|trl|peft|accelerate|torch)")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)

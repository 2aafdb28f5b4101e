"""Loading models and tokenizers from a spec (transformers + PEFT).

Heavy imports happen inside the functions. Tokenizers always come back with a chat template that
renders tools (:func:`fathom.models.ensure_tool_template`).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from fathom.errors import ModelError
from fathom.models._bundled import bundled_dir
from fathom.models._hub import hub_source
from fathom.models._spec import (
    AdapterSpec,
    BundledSpec,
    GGUFSpec,
    HubSpec,
    LocalSpec,
    ModelSpec,
    RemoteSpec,
    resolve_model,
)
from fathom.models._template import ensure_tool_template

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = ["default_device", "load_model", "load_tokenizer", "model_folder"]


def default_device() -> str:
    """``"cuda"`` when a GPU is visible, else ``"cpu"``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def model_folder(spec: str | ModelSpec) -> str:
    """A string transformers' ``from_pretrained`` accepts for a bundled, hub or local model."""
    s = resolve_model(spec) if isinstance(spec, str) else spec
    if isinstance(s, BundledSpec):
        return str(bundled_dir(s.spec))
    if isinstance(s, LocalSpec):
        return str(s.path)
    if isinstance(s, HubSpec):
        return hub_source(s.spec)  # its cached folder when offline; a ModelError at once if not cached
    raise ModelError(f"{s.spec!r} is a {s.kind} model and has no single weights folder; "
                     f"use load_model() (adapters, GGUF files) or an HTTP backend (remote).")


def load_tokenizer(spec: str | ModelSpec) -> PreTrainedTokenizerBase:
    """The tokenizer for a model spec, with a tool-aware chat template and a pad token."""
    from transformers import AutoTokenizer

    s = resolve_model(spec) if isinstance(spec, str) else spec
    if isinstance(s, GGUFSpec):  # transformers reads the tokenizer and chat template from the GGUF metadata
        with no_progress_bars():
            tokenizer = AutoTokenizer.from_pretrained(s.path.parent, gguf_file=s.path.name)
    else:
        if isinstance(s, AdapterSpec):
            source = str(s.path) if (s.path / "tokenizer_config.json").exists() else model_folder(s.base)
        else:
            source = model_folder(s)
        tokenizer = AutoTokenizer.from_pretrained(source)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    ensure_tool_template(tokenizer)  # in place: it returns the same tokenizer, typed Any
    return tokenizer


def load_model(spec: str | ModelSpec, *, device: str | None = None, dtype: str | None = None,
               trainable: bool = False) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load ``(model, tokenizer)`` for a bundled, hub or local model, a GGUF file, or a PEFT adapter on its base.

    Args:
        spec: a model spec (see :func:`fathom.models.resolve_model`).
        device: ``"cpu"``, ``"cuda"``... (default: a GPU when there is one).
        dtype: ``"float32"``, ``"bfloat16"``, ``"float16"`` (default: float32 on CPU, bfloat16 on GPU).
        trainable: for adapters, load the LoRA weights trainable (to continue training).
    """
    import torch
    from transformers import AutoModelForCausalLM

    s = resolve_model(spec) if isinstance(spec, str) else spec
    device = device or default_device()
    torch_dtype = getattr(torch, dtype) if dtype else (torch.bfloat16 if device.startswith("cuda") else torch.float32)
    if isinstance(s, RemoteSpec):
        raise ModelError(f"{s.spec!r} is a remote endpoint; it has no local weights. "
                         f"Use fathom.backends.load_backend({s.spec!r}) to generate with it.")
    if isinstance(s, AdapterSpec):
        from peft import PeftModel

        base, _ = load_model(s.base, device=device, dtype=dtype)
        with warnings.catch_warnings():  # PEFT probes a property transformers 5 deprecated; not ours to fix
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
            model: Any = PeftModel.from_pretrained(base, str(s.path), is_trainable=trainable)
    elif isinstance(s, GGUFSpec):  # dequantised by transformers' GGUF loader (llama.cpp runs it as it is)
        with no_progress_bars():
            model = AutoModelForCausalLM.from_pretrained(s.path.parent, gguf_file=s.path.name, dtype=torch_dtype)
        model.hf_quantizer = None
        model.to(device)
    else:
        with no_progress_bars():  # a 0.1 s load needs no "Loading weights" bar in the middle of our own
            model = AutoModelForCausalLM.from_pretrained(model_folder(s), dtype=torch_dtype)
        model.to(device)
    model.eval()
    return model, load_tokenizer(s)




@contextlib.contextmanager
def no_progress_bars() -> Iterator[None]:
    """Turn transformers' progress bars ("Loading weights") off for a block, then restore them."""
    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()  # type: ignore[no-untyped-call]

"""Models: resolve a spec, load weights and tokenizer, the bundled SmolLM2, the tool-aware template.

Covers: bundled GGUF models (dequantised once, cached as safetensors under ``$FATHOM_HOME``), Hugging
Face hub ids, local folders (full models and PEFT adapters on their base), GGUF files, remote endpoint
specs; writing GGUF for llama.cpp (:func:`export_gguf`, :func:`export_gguf_adapter`, and the cached
conversions the llama.cpp backend runs, :func:`gguf_for`, :func:`adapter_gguf_for`).
Not covered: generation (``fathom.backends``) and training (``fathom.train``).
"""

from __future__ import annotations

from fathom.models._bundled import BUNDLED, bundled_dir, bundled_gguf, is_cached
from fathom.models._catalog import list_models, pull_model
from fathom.models._gguf import (
    GGUF_TYPES,
    GGUFExport,
    adapter_gguf_for,
    export_gguf,
    export_gguf_adapter,
    gguf_chat_template,
    gguf_for,
)
from fathom.models._load import default_device, load_model, load_tokenizer, model_folder, no_progress_bars
from fathom.models._spec import (
    AdapterSpec,
    BundledSpec,
    GGUFSpec,
    HubSpec,
    LocalSpec,
    ModelSpec,
    RemoteSpec,
    is_remote,
    resolve_model,
)
from fathom.models._template import (
    CHAT_TEMPLATES,
    SMOLLM2_TOOL_CARD_TEMPLATE,
    SMOLLM2_TOOL_TEMPLATE,
    ensure_tool_template,
    prepare_messages,
    set_chat_template,
    template_handles_tools,
)
from fathom.models._tiny import make_tiny_model

__all__ = [
    "BUNDLED",
    "CHAT_TEMPLATES",
    "GGUF_TYPES",
    "SMOLLM2_TOOL_CARD_TEMPLATE",
    "SMOLLM2_TOOL_TEMPLATE",
    "AdapterSpec",
    "BundledSpec",
    "GGUFExport",
    "GGUFSpec",
    "HubSpec",
    "LocalSpec",
    "ModelSpec",
    "RemoteSpec",
    "adapter_gguf_for",
    "bundled_dir",
    "bundled_gguf",
    "default_device",
    "ensure_tool_template",
    "export_gguf",
    "export_gguf_adapter",
    "gguf_chat_template",
    "gguf_for",
    "is_cached",
    "is_remote",
    "list_models",
    "load_model",
    "load_tokenizer",
    "make_tiny_model",
    "model_folder",
    "no_progress_bars",
    "prepare_messages",
    "pull_model",
    "resolve_model",
    "set_chat_template",
    "template_handles_tools",
]

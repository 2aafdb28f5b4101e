"""Merging a LoRA adapter into its base model: a complete model folder with the tokenizer.

The merged folder loads without PEFT, converts to GGUF and serves anywhere a full model does. Its
outputs equal the adapter's (up to float rounding). Not covered: merging several adapters, quantising.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fathom._files import atomic_dir
from fathom._manifest import write_manifest
from fathom.errors import ConfigError, Problem

__all__ = ["merge_adapter"]


def merge_adapter(adapter: str | Path, out: str | Path, *, dtype: str | None = None, overwrite: bool = False) -> Path:
    """Merge the LoRA adapter in ``adapter`` into its base model and save the result in ``out``.

    Args:
        adapter: an adapter folder (``adapter_config.json``; its base comes from ``fathom.json``).
        out: the folder to write: weights, config, tokenizer (with its chat template), ``fathom.json``
            and ``manifest.json``.
        dtype: weight dtype to save (default: the base model's dtype on CPU, float32).
        overwrite: replace ``out`` when it already holds files.

    Returns:
        ``out``.

    Raises:
        ConfigError: ``adapter`` is not an adapter folder, or ``out`` holds files and ``overwrite`` is false.
    """
    from fathom.models import AdapterSpec, load_model, resolve_model

    spec = resolve_model(str(adapter))
    if not isinstance(spec, AdapterSpec):
        raise ConfigError([Problem("ADAPTER", f"{adapter} is a {spec.kind} model, not a LoRA adapter folder "
                                              f"(adapter_config.json); only adapters can be merged")])
    out = Path(out).expanduser().resolve()
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise ConfigError([Problem("--out", f"{out} already holds files; choose an empty folder or pass --overwrite")])
    model: Any
    model, tokenizer = load_model(spec, device="cpu", dtype=dtype)
    merged = model.merge_and_unload()
    with atomic_dir(out, exists="replace") as tmp:  # out is empty, or overwrite was asked for
        merged.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "fathom.json").write_text(json.dumps({"merged_from": str(spec.path), "base": spec.base}) + "\n")
        write_manifest(tmp, kind="merge", config={"adapter": str(spec.path), "base": spec.base, "dtype": dtype},
                       inputs={"adapter_weights": spec.path / "adapter_model.safetensors"} if spec.path else None)
    return out

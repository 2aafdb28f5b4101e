"""Model specs: one string names a model, whatever its kind.

* ``smollm2-135m``: a bundled model (:mod:`fathom.models._bundled`).
* ``org/name``: a Hugging Face hub id (downloaded by transformers; needs network once).
* ``./path``: a local folder holding a full model, or a PEFT adapter (loaded onto its base).
* ``http://host:port/v1`` (optionally ``...#model-name``): an OpenAI-compatible endpoint.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from fathom.errors import UnknownModelError, did_you_mean
from fathom.models._bundled import BUNDLED

__all__ = ["ModelSpec", "resolve_model"]

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True)
class ModelSpec:
    """A resolved model spec."""

    spec: str
    """The string as given."""
    kind: Literal["bundled", "hub", "local", "adapter", "remote"]
    path: Path | None = None
    """Folder for local models and adapters."""
    base: str | None = None
    """For adapters: the spec of the base model."""
    url: str | None = None
    """For remote endpoints: the base URL (ending in ``/v1``)."""
    remote_model: str | None = None
    """For remote endpoints: the model name to request (after ``#``)."""


def _adapter_base(folder: Path) -> str:
    meta = folder / "fathom.json"
    if meta.exists():
        base = json.loads(meta.read_text()).get("base")
        if base:
            return str(base)
    config = json.loads((folder / "adapter_config.json").read_text())
    return str(config["base_model_name_or_path"])


def resolve_model(spec: str) -> ModelSpec:
    """Work out what a model spec names, without loading anything.

    >>> resolve_model("smollm2-135m").kind
    'bundled'
    >>> resolve_model("http://127.0.0.1:8000/v1#judge").remote_model
    'judge'
    """
    if spec in BUNDLED:
        return ModelSpec(spec, "bundled")
    if spec.startswith(("http://", "https://")):
        url, _, name = spec.partition("#")
        return ModelSpec(spec, "remote", url=url.rstrip("/"), remote_model=name or None)
    path = Path(spec).expanduser()
    if path.is_dir():
        if (path / "adapter_config.json").exists():
            return ModelSpec(spec, "adapter", path=path.resolve(), base=_adapter_base(path))
        if (path / "config.json").exists():
            return ModelSpec(spec, "local", path=path.resolve())
        raise UnknownModelError(
            f"{spec!r} is a folder but holds neither a model (config.json) nor a PEFT adapter "
            f"(adapter_config.json). Point at the folder that `fathom train sft --out` wrote, or at a "
            f"saved Hugging Face model.")
    if _HUB_ID.match(spec) and not spec.startswith((".", "/")):
        return ModelSpec(spec, "hub")
    hint = did_you_mean(spec, BUNDLED) or "It is not a bundled model, an existing folder, a URL or a hub id (org/name)."
    raise UnknownModelError(
        f"Unknown model {spec!r}. {hint} Bundled models: {', '.join(BUNDLED)}. "
        f"See `fathom models list`.")

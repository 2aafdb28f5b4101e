"""Model specs: one string names a model, whatever its kind; each kind is a type.

* ``smollm2-135m``: a bundled model (:class:`BundledSpec`, :mod:`fathom.models._bundled`).
* ``org/name``: a Hugging Face hub id (:class:`HubSpec`; downloaded by transformers, needs network once).
* ``./path``: a local folder holding a full model (:class:`LocalSpec`), or a PEFT adapter loaded onto
  its base (:class:`AdapterSpec`).
* ``./model.gguf``: a llama.cpp GGUF file (:class:`GGUFSpec`; the ``llamacpp`` backend runs it).
* ``http://host:port/v1`` (optionally ``...#model-name``): an OpenAI-compatible endpoint (:class:`RemoteSpec`).

Each kind carries exactly the fields it has, so code dispatches with ``isinstance`` and needs no
``assert`` to narrow optional fields; a new kind is a new subclass of :class:`ModelSpec` plus its line
in :func:`resolve_model`. Not covered: loading anything (``fathom.models._load``, ``fathom.backends``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from fathom.errors import UnknownModelError, did_you_mean
from fathom.models._adapter import adapter_base
from fathom.models._bundled import BUNDLED

__all__ = ["AdapterSpec", "BundledSpec", "GGUFSpec", "HubSpec", "LocalSpec", "ModelSpec", "RemoteSpec", "is_remote",
           "resolve_model"]

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_URL_SCHEMES = ("http://", "https://")


@dataclass(frozen=True)
class ModelSpec:
    """A resolved model spec: the base of the kinds below (use :func:`resolve_model` to get one)."""

    spec: str
    """The string as given."""
    kind: ClassVar[str]
    """``"bundled"``, ``"hub"``, ``"local"``, ``"adapter"``, ``"gguf"`` or ``"remote"`` (for messages and listings)."""


@dataclass(frozen=True)
class BundledSpec(ModelSpec):
    """A model shipped inside a Python package (see :data:`fathom.models.BUNDLED`)."""

    kind: ClassVar[str] = "bundled"


@dataclass(frozen=True)
class HubSpec(ModelSpec):
    """A Hugging Face hub id (``org/name``)."""

    kind: ClassVar[str] = "hub"


@dataclass(frozen=True)
class LocalSpec(ModelSpec):
    """A local folder holding a full model (``config.json``)."""

    path: Path
    """The folder, resolved to an absolute path."""
    kind: ClassVar[str] = "local"


@dataclass(frozen=True)
class AdapterSpec(ModelSpec):
    """A local folder holding a PEFT adapter (``adapter_config.json``), loaded onto its base."""

    path: Path
    """The adapter folder, resolved to an absolute path."""
    base: str
    """The spec of the base model."""
    kind: ClassVar[str] = "adapter"


@dataclass(frozen=True)
class GGUFSpec(ModelSpec):
    """A llama.cpp GGUF file (a whole model; adapters in GGUF form are given to the backend separately)."""

    path: Path
    """The file, resolved to an absolute path."""
    kind: ClassVar[str] = "gguf"


@dataclass(frozen=True)
class RemoteSpec(ModelSpec):
    """An OpenAI-compatible endpoint."""

    url: str
    """The base URL (ending in ``/v1``), without the ``#model`` part."""
    remote_model: str | None = None
    """The model name to request (after ``#``); None lets the backend ask the server."""
    kind: ClassVar[str] = "remote"


def is_remote(spec: str) -> bool:
    """Whether a spec names an HTTP endpoint (``http://`` or ``https://``) rather than local weights.

    >>> is_remote("http://127.0.0.1:8000/v1#judge"), is_remote("smollm2-135m")
    (True, False)
    """
    return spec.startswith(_URL_SCHEMES)


def _adapter_base(folder: Path) -> str:
    return adapter_base(folder)  # a ModelError naming the file and key when the folder is damaged


def resolve_model(spec: str) -> ModelSpec:
    """Work out what a model spec names, without loading anything.

    >>> resolve_model("smollm2-135m")
    BundledSpec(spec='smollm2-135m')
    >>> resolve_model("http://127.0.0.1:8000/v1#judge").remote_model
    'judge'
    """
    if spec in BUNDLED:
        return BundledSpec(spec)
    if is_remote(spec):
        url, _, name = spec.partition("#")
        return RemoteSpec(spec, url=url.rstrip("/"), remote_model=name or None)
    path = Path(spec).expanduser()
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise UnknownModelError(f"{spec!r} looks like a GGUF file but there is no such file. Check the path, "
                                    f"or write one with `fathom export gguf MODEL --out {path.name}`.")
        return GGUFSpec(spec, path=path.resolve())
    if path.is_dir():
        if (path / "adapter_config.json").exists():
            return AdapterSpec(spec, path=path.resolve(), base=_adapter_base(path))
        if (path / "config.json").exists():
            return LocalSpec(spec, path=path.resolve())
        raise UnknownModelError(
            f"{spec!r} is a folder but holds neither a model (config.json) nor a PEFT adapter "
            f"(adapter_config.json). Point at the folder that `fathom train sft --out` wrote, or at a "
            f"saved Hugging Face model.")
    if _HUB_ID.match(spec) and not spec.startswith((".", "/")):
        return HubSpec(spec)
    hint = did_you_mean(spec, BUNDLED) or "It is not a bundled model, an existing folder, a URL or a hub id (org/name)."
    raise UnknownModelError(
        f"Unknown model {spec!r}. {hint} Bundled models: {', '.join(BUNDLED)}. "
        f"See `fathom models list`.")

"""Which LoRA adapters a backend serves: ``{name: folder}`` checked once, for every engine.

Covers: :func:`adapter_folders` (names unique, each a PEFT adapter folder trained on the backend's base,
every problem in one :class:`~fathom.errors.ConfigError`) and :func:`unknown_adapter` (the error for a
request naming an adapter nobody registered). Not covered: loading adapters (each engine does its own).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from fathom.errors import ConfigError, ModelError, Problem, did_you_mean

__all__ = ["adapter_folders", "unknown_adapter"]


def _base_key(spec: str) -> str:
    """What two base specs are compared by: a bundled model (by name, or its converted folder) and its hub id
    match; other folders compare as absolute paths, hub ids without case."""
    from fathom.models import BUNDLED, bundled_dir, is_cached

    if not spec:
        return ""
    if spec in BUNDLED:
        return BUNDLED[spec].hub_id.lower()
    path = Path(spec).expanduser()
    if not path.exists():
        return spec.lower()
    path = path.resolve()
    for name, bundled in BUNDLED.items():
        if is_cached(name) and bundled_dir(name).resolve() == path:
            return bundled.hub_id.lower()
    return str(path)


def adapter_folders(base: str | None, own: Mapping[str, Path], adapters: Mapping[str, str | Path]) -> dict[str, Path]:
    """``{name: folder}`` of every adapter to load (``own``, the spec's adapter, first); one ConfigError listing
    every name given twice, folder that is not a PEFT adapter, and adapter trained on another base than ``base``
    (``base=None``, a GGUF file whose origin is unknown: not compared; llama.cpp checks the shapes on loading)."""
    from fathom.models import AdapterSpec, resolve_model

    folders, problems = dict(own), []
    for name, path in adapters.items():
        where = f"adapters[{name!r}]"
        if not isinstance(name, str) or not name:
            problems.append(Problem(where, "adapter names must be non-empty strings"))
            continue
        if name in folders:
            problems.append(Problem(where, f"the name {name!r} is taken already (the model spec is the adapter folder "
                                           f"{folders[name]}); give this adapter another name"))
            continue
        if not Path(path).expanduser().is_dir():
            problems.append(Problem(where, f"{str(path)!r} is not a folder; give the adapter folder that "
                                           f"`fathom train sft --out` wrote"))
            continue
        try:
            spec = resolve_model(str(path))
        except ModelError as exc:
            problems.append(Problem(where, str(exc)))
            continue
        if not isinstance(spec, AdapterSpec):
            problems.append(Problem(where, f"{str(path)!r} is a {spec.kind} model, not a PEFT adapter folder "
                                           f"(adapter_config.json); give the folder `fathom train sft --out` wrote"))
        elif base is not None and _base_key(spec.base) != _base_key(base):
            problems.append(Problem(where, f"adapter {name!r} ({spec.path}) was trained on {spec.base!r}, but this "
                                           f"backend's base model is {base!r}; serve it from a backend on "
                                           f"{spec.base!r}"))
        else:
            folders[name] = spec.path
    if problems:
        raise ConfigError(problems, title="invalid adapters")
    return folders


def unknown_adapter(names: list[str], registered: list[str]) -> ConfigError:
    """The error for requests naming adapters that are not registered (with did-you-mean)."""
    valid = ", ".join(registered) or "none"
    return ConfigError([Problem("adapter", " ".join(filter(None, [f"unknown adapter {n!r}.",
                                                                did_you_mean(n, registered),
                                                                f"Registered: {valid}."])))
                        for n in names], title="invalid request")

"""Recipe stages by name.

A stage is a plain function ``stage(ctx: StageContext, **params) -> dict`` that reads its inputs,
writes into ``ctx.out_dir`` and returns its outputs (JSON-serialisable: paths, figures). Later stages
refer to them as ``${stage_name.key}``. Built-in stages are listed here as lazy references; domain
plug-ins add theirs (:class:`fathom._plugins.DomainPlugin.stages`); tests and user code can
:func:`register_stage`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fathom._plugins import domain_plugins, load_ref

__all__ = ["StageContext", "register_stage", "stage_function", "stage_names"]

_BUILTIN: dict[str, str] = {
    "sft": "fathom.recipes._core_stages:sft_stage",
    "eval": "fathom.recipes._core_stages:eval_stage",
    "compare": "fathom.recipes._core_stages:compare_stage",
}
_REGISTERED: dict[str, Callable[..., dict[str, Any]]] = {}


@dataclass
class StageContext:
    """What a stage gets besides its own parameters."""

    name: str
    """The stage's name in the recipe (its folder name)."""
    out_dir: Path
    """``runs/<recipe>/<stage>/``: everything the stage writes goes here."""
    recipe: str
    seed: int = 0
    resume: bool = False
    """True when an earlier attempt of this stage was interrupted: continue, don't restart."""
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Outputs of the stages that ran before (by stage name)."""
    quiet: bool = False


def register_stage(name: str) -> Callable[[Callable[..., dict[str, Any]]], Callable[..., dict[str, Any]]]:
    """Decorator registering a stage function under ``name``."""

    def deco(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        _REGISTERED[name] = fn
        return fn

    return deco


def _refs() -> dict[str, str | Callable[..., dict[str, Any]]]:
    refs: dict[str, str | Callable[..., dict[str, Any]]] = dict(_BUILTIN)
    for plugin in domain_plugins().values():
        refs.update(plugin.stages)
    refs.update(_REGISTERED)
    return refs


def stage_names() -> list[str]:
    """Every stage function name a recipe can use."""
    return sorted(_refs())


def stage_function(name: str) -> Callable[..., dict[str, Any]] | None:
    """The stage function called ``name``, or None when there is none."""
    ref = _refs().get(name)
    if ref is None:
        return None
    return load_ref(ref) if isinstance(ref, str) else ref


def _config_class(fn: Callable[..., Any]) -> Any:
    ref = getattr(fn, "config_class", None)
    return load_ref(ref) if isinstance(ref, str) else ref


def stage_parameters(fn: Callable[..., Any]) -> dict[str, inspect.Parameter]:
    """The keyword parameters a stage accepts (everything after ``ctx``).

    A stage that forwards its parameters to an arguments dataclass names it in
    ``fn.config_class`` (a class or a lazy ``"module:Class"``); that class's fields, less those in
    ``fn.runner_fields`` (set by the stage itself), are then its parameters.
    """
    config_class = _config_class(fn)
    if config_class is None:
        params = list(inspect.signature(fn).parameters.values())[1:]
    else:
        skip = set(getattr(fn, "runner_fields", ()))
        params = [p for p in inspect.signature(config_class).parameters.values() if p.name not in skip]
    return {p.name: p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def stage_type_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    """Type hints of a stage's parameters (of its ``config_class`` when it has one)."""
    import typing

    return typing.get_type_hints(_config_class(fn) or fn)

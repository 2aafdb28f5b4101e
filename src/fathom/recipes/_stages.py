"""Recipe stages by name.

A stage is a plain function ``stage(ctx: StageContext, **params) -> dict`` that reads its inputs,
writes into ``ctx.out_dir`` and returns its outputs (JSON-serialisable: paths, figures). Later stages
refer to them as ``${stage_name.key}``. Built-in stages are listed here as lazy references; domain
plug-ins add theirs (:class:`fathom._plugins.DomainPlugin.stages`); tests and user code can
:func:`register_stage`.

What a stage may declare, as attributes of its function, so a recipe is checked before anything runs:

* ``outputs``: the keys it returns (a tuple of names). ``${stage.key}`` references to it are then
  resolved up front, and the runner warns when the stage returns fewer. The runner adds ``dir``.
* ``check_args``: its own range and cross-field checks, ``check_args(known) -> list[Problem]``, where
  ``known`` holds every parameter whose value is known before running (given or default, references
  left out) and each problem's ``where`` is a parameter name.
* ``config_class`` and ``runner_fields``: see :func:`stage_parameters`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fathom._plugins import load_ref
from fathom._registry import Registry
from fathom.errors import Problem

__all__ = ["StageContext", "register_stage", "stage_argument_problems", "stage_function", "stage_names",
           "stage_outputs"]

_STAGES: Registry[Callable[..., dict[str, Any]]] = Registry("stage", {
    "sft": "fathom.recipes._core_stages:sft_stage",
    "eval": "fathom.recipes._core_stages:eval_stage",
    "compare": "fathom.recipes._core_stages:compare_stage",
    "rft": "fathom.recipes._core_stages:rft_stage",
    "grader_check": "fathom.recipes._core_stages:grader_check_stage",
    "pairs": "fathom.recipes._core_stages:pairs_stage",
    "dpo": "fathom.recipes._core_stages:dpo_stage",
    "cpt": "fathom.recipes._core_stages:cpt_stage",
    "distill": "fathom.recipes._core_stages:distill_stage",
    "general_text": "fathom.recipes._text_stage:general_text_stage",
    "synth": "fathom.recipes._synth_stage:synth_stage",
    "forgetting": "fathom.recipes._core_stages:forgetting_stage",
}, lambda plugin: plugin.stages)


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
    return _STAGES.register(name)


def stage_names() -> list[str]:
    """Every stage function name a recipe can use."""
    return _STAGES.names()


def stage_function(name: str) -> Callable[..., dict[str, Any]] | None:
    """The stage function called ``name``, or None when there is none."""
    return _STAGES.get(name)


def unknown_stage(name: str) -> str:
    """The message for a stage name nobody registered (with a did-you-mean and the names there are)."""
    return _STAGES.unknown(name)


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


def stage_outputs(fn: Callable[..., Any]) -> frozenset[str] | None:
    """The keys a stage declares it returns (``fn.outputs``, plus the runner's ``dir``), or None if undeclared."""
    declared = getattr(fn, "outputs", None)
    return None if declared is None else frozenset({"dir", *declared})


def stage_argument_problems(fn: Callable[..., Any], known: dict[str, Any]) -> list[Problem]:
    """The stage's own checks (``fn.check_args``) on the parameter values known before it runs."""
    check = getattr(fn, "check_args", None)
    return [] if check is None else list(check(known))

"""Checking a recipe before anything runs: every problem at once, and the typed values stages get.

Covers, per stage: its name; its parameters' names and types, coerced the way the stage will get
them (``"1e-3"`` -> ``0.001``; YAML reads ``1e-3`` as text); input paths that must exist; grader
names; model specs (parameters called ``model`` or ``*_model``), resolved without loading weights;
``${stage.key}`` references, against the keys each earlier stage declares it returns; and the
stage's own range and cross-field checks (its arguments dataclass, or its ``check_args``).
Not covered: reading YAML and ``--set`` (:mod:`fathom.recipes._recipe`), running
(:mod:`fathom.recipes._runner`); values only known at run time (``${...}``) are checked then.
"""

from __future__ import annotations

import inspect
import os
import typing
from pathlib import Path
from typing import Any

from fathom.errors import ConfigError, Problem, did_you_mean
from fathom.recipes._recipe import InputPath, Recipe, StageSpec, _refs_in
from fathom.recipes._stages import (
    _config_class,
    stage_argument_problems,
    stage_function,
    stage_outputs,
    stage_parameters,
    stage_type_hints,
    unknown_stage,
)

__all__ = ["check_recipe", "validate_recipe"]


def validate_recipe(recipe: Recipe, base_dir: Path | None = None) -> list[Problem]:
    """Every problem in a recipe: unknown stages, bad parameters, unknown graders and models, missing
    inputs, references to outputs no earlier stage produces, out-of-range and inconsistent values."""
    return check_recipe(recipe, base_dir)[0]


def check_recipe(recipe: Recipe, base_dir: Path | None = None) -> tuple[list[Problem], list[StageSpec]]:
    """Every problem in ``recipe``, and its stages with their parameters as validated, typed values."""
    problems: list[Problem] = []
    stages: list[StageSpec] = []
    produced: dict[str, frozenset[str] | None] = {}  # earlier stage -> the output keys it declares
    for stage in recipe.stages:
        where = f"stages.{stage.name}"
        fn = stage_function(stage.uses)
        params = stage.params
        if fn is None:
            problems.append(Problem(where, unknown_stage(stage.uses)))
        else:
            found, params = _check_stage(where, fn, stage.params, base_dir)
            problems += found
        problems += _check_refs(where, stage.params, produced)
        produced[stage.name] = None if fn is None else stage_outputs(fn)
        stages.append(StageSpec(stage.name, stage.uses, params))
    return problems, stages


def _check_stage(where: str, fn: Any, params: dict[str, Any],
                 base_dir: Path | None) -> tuple[list[Problem], dict[str, Any]]:
    """A stage's problems, and its parameters typed (references and unknown names left as they are)."""
    accepted = stage_parameters(fn)
    hints = stage_type_hints(fn)
    blocking = _name_problems(where, params, accepted)  # the stage's own checks cannot run past these
    problems: list[Problem] = []
    typed = dict(params)
    for key, value in params.items():
        if key not in accepted or _refs_in(value):
            continue
        at, hint = f"{where}.{key}", hints.get(key)
        if _is_input_path(key, hint):
            problems += _check_path(at, value, base_dir)
        elif "grader" in key and value is not None:
            problems += _check_grader(at, value)
        else:
            typed[key], problem = _typed(at, value, hint)
            if problem is not None:
                blocking.append(problem)
            elif _is_model_param(key) and isinstance(typed[key], str):
                problems += _check_model(at, typed[key])
    if not blocking:
        problems += _check_config_class(where, fn, typed) + _check_args(where, fn, typed, accepted)
    return blocking + problems, typed


def _name_problems(where: str, params: dict[str, Any], accepted: dict[str, inspect.Parameter]) -> list[Problem]:
    valid = ", ".join(accepted)
    problems = [Problem(f"{where}.{key}", f"unknown parameter. {did_you_mean(key, accepted)} Valid: {valid}.")
                for key in params if key not in accepted]
    problems += [Problem(f"{where}.{name}", "required parameter is missing")
                 for name, p in accepted.items() if p.default is p.empty and name not in params]
    return problems


def _typed(where: str, value: Any, hint: Any) -> tuple[Any, Problem | None]:
    """``value`` as ``hint`` says (pydantic's lax mode: ``"1e-3"`` -> ``0.001``).

    A value equal to its typed form keeps its own type (``2`` stays ``2`` for a float), so the
    fingerprints of stages that already ran do not change.
    """
    from pydantic import TypeAdapter, ValidationError

    if hint is None:
        return value, None
    try:
        typed = TypeAdapter(hint).validate_python(value)
    except ValidationError as exc:
        return value, Problem(where, f"{value!r} is not a valid {_type_name(hint)}: {exc.errors()[0]['msg']}")
    return (value if typed == value else typed), None


def _check_config_class(where: str, fn: Any, params: dict[str, Any]) -> list[Problem]:
    """Cross-field checks of a stage's arguments dataclass (e.g. ``save_steps`` against ``eval_steps``), run
    by building it with placeholders for ``${...}`` references and for the fields the runner sets."""
    config_class = _config_class(fn)
    if config_class is None:
        return []
    referenced = {k for k, v in params.items() if _refs_in(v)}
    trial = {k: ("${ref}" if k in referenced else v) for k, v in params.items()}
    trial.update({name: "${runner}" for name in getattr(fn, "runner_fields", ()) if name == "out"})
    try:
        config_class(**trial)
    except ConfigError as exc:
        found = [(p.where.lstrip("-").replace("-", "_"), p.message) for p in exc.problems]
        # a ${...} value is only known when the stage runs; its placeholder says nothing about it
        return [Problem(f"{where}.{key}", message) for key, message in found
                if key.split(" ")[0] not in referenced]  # "mix ${ref}": a problem of a referenced entry
    except TypeError:
        if not referenced:
            raise
        return []  # a check compared a placeholder with a number: it runs with the real value
    return []


def _check_args(where: str, fn: Any, params: dict[str, Any], accepted: dict[str, inspect.Parameter]) -> list[Problem]:
    """A plain stage's own range and cross-field checks, on every value known now (given or default)."""
    known = {name: params.get(name, p.default) for name, p in accepted.items()
             if (name in params or p.default is not p.empty) and not _refs_in(params.get(name))}
    return [Problem(f"{where}.{p.where}" if p.where else where, p.message) for p in stage_argument_problems(fn, known)]


def _check_refs(where: str, params: dict[str, Any], produced: dict[str, frozenset[str] | None]) -> list[Problem]:
    """Each ``${stage.key}`` must name an earlier stage and, where that stage declares its outputs, one of them."""
    problems = []
    for key, value in params.items():
        for stage, path in _refs_in(value):
            at = f"{where}.{key}"
            ref = f"${{{stage}.{path}}}" if path else f"${{{stage}}}"
            outputs = produced.get(stage)
            if stage not in produced:
                earlier = ", ".join(produced) or "none"
                problems.append(Problem(at, f"refers to {ref}, which is not an earlier stage. "
                                            f"{did_you_mean(stage, produced)} Earlier stages: {earlier}."))
            elif path and outputs is not None and path.split(".")[0] not in outputs:
                output, known = path.split(".")[0], ", ".join(sorted(outputs))
                problems.append(Problem(at, f"refers to {ref}, but stage {stage!r} has no output {output!r}. "
                                            f"{did_you_mean(output, outputs)} Its outputs: {known}."))
    return problems


def _is_input_path(name: str, hint: Any) -> bool:
    """Parameters typed :data:`InputPath`, or as path-like and not an output (``out...``), must exist."""
    args = typing.get_args(hint) or (hint,)
    if InputPath in args:
        return True
    return not name.startswith("out") and any(typing.get_origin(a) is os.PathLike or a is os.PathLike for a in args)


def _is_model_param(name: str) -> bool:
    return name == "model" or name.endswith("_model")


def _check_path(where: str, value: Any, base_dir: Path | None) -> list[Problem]:
    if value is not None and not _resolve_path(value, base_dir).exists():
        return [Problem(where, f"path {value!r} does not exist")]
    return []


def _check_grader(where: str, spec: Any) -> list[Problem]:
    from fathom.graders import grader_names

    name = spec.get("name") if isinstance(spec, dict) else spec
    names = grader_names()
    if name not in names:
        return [Problem(where, f"unknown grader {name!r}. {did_you_mean(str(name), names)} "
                               f"Available: {', '.join(names)}.")]
    return []


def _check_model(where: str, spec: str) -> list[Problem]:
    """The spec names a model we can load (bundled, folder, hub id, URL, a registered ``rule:NAME``); nothing is
    loaded."""
    from fathom.backends import RULE_PREFIX, rule_backend_names
    from fathom.errors import ModelError
    from fathom.models import resolve_model

    if isinstance(spec, str) and spec.startswith(RULE_PREFIX):
        name, names = spec[len(RULE_PREFIX):], rule_backend_names()
        if name in names:
            return []
        return [Problem(where, f"unknown rule-based model {spec!r}. {did_you_mean(name, names)} "
                               f"Registered: {', '.join(RULE_PREFIX + n for n in names) or 'none'}.")]
    try:
        resolve_model(spec)
    except ModelError as exc:
        return [Problem(where, str(exc))]
    return []


def _resolve_path(value: str, base_dir: Path | None) -> Path:
    path = Path(str(value)).expanduser()
    return path if path.is_absolute() or path.exists() or base_dir is None else base_dir / path


def _type_name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")

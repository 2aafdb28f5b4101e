"""Recipes: YAML files naming stages, loaded, overridden with ``--set`` and validated up front.

A recipe::

    name: shipping-forecast          # runs go to runs/<name>/<stage>/
    seed: 0
    stages:                          # run in this order
      data: {uses: shipping_data, days: 30}
      sft:  {uses: sft, model: smollm2-135m, data: "${data.train}"}

``uses`` names the stage function (default: the stage's own name); the other keys are its
parameters, checked against the function's signature. ``${stage.key}`` refers to an output of an
earlier stage, ``${stage}`` to all of its outputs. Validation reports every problem at once, with the key path and a did-you-mean,
before anything runs.
"""

from __future__ import annotations

import os
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NewType

import yaml

from fathom.errors import ConfigError, Problem, did_you_mean

__all__ = ["InputPath", "Recipe", "StageSpec", "apply_overrides", "load_recipe", "validate_recipe"]

InputPath = NewType("InputPath", str)
"""Annotate a stage parameter with this when it names a file or folder that must exist."""

_REF = re.compile(r"\$\{([A-Za-z_][\w-]*)(?:\.([\w.-]+))?\}")
_TOP_KEYS = {"name", "description", "seed", "runs_dir", "stages"}


@dataclass
class StageSpec:
    name: str
    uses: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Recipe:
    name: str
    stages: list[StageSpec]
    seed: int = 0
    runs_dir: str = "runs"
    path: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict)


def _parse_override(item: str) -> tuple[list[str], Any]:
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise ConfigError([Problem("--set", f"expected key=value, got {item!r} (e.g. --set sft.max_steps=20)")])
    return key.strip().split("."), yaml.safe_load(value) if value.strip() else ""


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``--set a.b=value`` overrides; ``stage.param`` is short for ``stages.stage.param``."""
    for item in overrides:
        keys, value = _parse_override(item)
        stages = raw.get("stages") or {}
        if keys[0] not in _TOP_KEYS and keys[0] in stages:
            keys = ["stages", *keys]
        node = raw
        for k in keys[:-1]:
            node = node.setdefault(k, {})
            if not isinstance(node, dict):
                raise ConfigError([Problem(f"--set {item}", f"{k!r} is not a mapping")])
        node[keys[-1]] = value
    return raw


def load_recipe(path: str | Path, overrides: list[str] | None = None) -> Recipe:
    """Read a recipe file, apply overrides and validate it (raises ConfigError listing every problem)."""
    path = Path(path)
    if not path.exists():
        raise ConfigError([Problem(str(path), "recipe file not found")])
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(str(path), f"not valid YAML: {exc}")]) from exc
    if not isinstance(raw, dict):
        raise ConfigError([Problem(str(path), f"expected a mapping at the top, got {type(raw).__name__}")])
    raw = apply_overrides(raw, overrides or [])
    problems: list[Problem] = []
    for key in raw:
        if key not in _TOP_KEYS:
            problems.append(Problem(key, f"unknown key. {did_you_mean(key, _TOP_KEYS)} Valid: {', '.join(sorted(_TOP_KEYS))}."))
    stages_raw = raw.get("stages")
    stages: list[StageSpec] = []
    if not isinstance(stages_raw, dict) or not stages_raw:
        problems.append(Problem("stages", "a recipe needs a non-empty mapping of stages"))
    else:
        for name, spec in stages_raw.items():
            spec = {} if spec is None else spec
            if not isinstance(spec, dict):
                problems.append(Problem(f"stages.{name}", f"expected a mapping of parameters, got {spec!r}"))
                continue
            params = dict(spec)
            stages.append(StageSpec(str(name), str(params.pop("uses", name)), params))
    recipe = Recipe(name=str(raw.get("name") or path.stem), stages=stages, seed=int(raw.get("seed", 0)),
                    runs_dir=str(raw.get("runs_dir", "runs")), path=path, raw=raw)
    problems += validate_recipe(recipe, base_dir=path.parent)
    if problems:
        raise ConfigError(problems, title=f"recipe {path} is invalid")
    return recipe


def validate_recipe(recipe: Recipe, base_dir: Path | None = None) -> list[Problem]:
    """Every problem in a recipe: unknown stages, bad parameters, unknown graders, missing inputs."""
    from fathom.recipes._stages import stage_function, stage_names, stage_parameters

    problems: list[Problem] = []
    seen: list[str] = []
    for stage in recipe.stages:
        where = f"stages.{stage.name}"
        fn = stage_function(stage.uses)
        if fn is None:
            problems.append(Problem(where, f"unknown stage {stage.uses!r}. {did_you_mean(stage.uses, stage_names())} "
                                           f"Available: {', '.join(stage_names())}."))
        else:
            found = _check_params(where, fn, stage.params, stage_parameters(fn), base_dir)
            problems += found or _check_config_class(where, fn, stage.params)
        for ref_stage, _ in _refs_in(stage.params):
            if ref_stage not in seen:
                problems.append(Problem(where, f"refers to ${{{ref_stage}...}}, which is not an earlier stage. "
                                               f"Earlier stages: {', '.join(seen) or 'none'}."))
        seen.append(stage.name)
    return problems


def _refs_in(value: Any) -> list[tuple[str, str]]:
    if isinstance(value, str):
        return _REF.findall(value)
    if isinstance(value, dict):
        return [r for v in value.values() for r in _refs_in(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs_in(v)]
    return []


def _check_params(where: str, fn: Any, params: dict[str, Any], accepted: dict[str, Any],
                  base_dir: Path | None) -> list[Problem]:
    from pydantic import TypeAdapter, ValidationError

    problems = []
    from fathom.recipes._stages import stage_type_hints

    hints = stage_type_hints(fn)
    for key in params:
        if key not in accepted:
            problems.append(Problem(f"{where}.{key}", f"unknown parameter. {did_you_mean(key, accepted)} "
                                                      f"Valid: {', '.join(accepted)}."))
    for name, p in accepted.items():
        if p.default is p.empty and name not in params:
            problems.append(Problem(f"{where}.{name}", "required parameter is missing"))
    for key, value in params.items():
        if key not in accepted or _refs_in(value):
            continue
        hint = hints.get(key)
        if _is_input_path(key, hint):
            if value is not None and not _resolve_path(value, base_dir).exists():
                problems.append(Problem(f"{where}.{key}", f"path {value!r} does not exist"))
            continue
        if "grader" in key and value is not None:
            problems += _check_grader(f"{where}.{key}", value)
            continue
        if hint is not None:
            try:
                TypeAdapter(hint).validate_python(value)
            except ValidationError as exc:
                problems.append(Problem(f"{where}.{key}", f"{value!r} is not a valid {_type_name(hint)}: "
                                                          f"{exc.errors()[0]['msg']}"))
    return problems


def _check_config_class(where: str, fn: Any, params: dict[str, Any]) -> list[Problem]:
    """Cross-field checks of a stage's arguments dataclass (e.g. ``save_steps`` against ``eval_steps``), run
    by building it with placeholders for ``${...}`` references and for the fields the runner sets."""
    from fathom.recipes._stages import _config_class

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
        return [Problem(f"{where}.{key}", message) for key, message in found if key not in referenced]
    return []


def _is_input_path(name: str, hint: Any) -> bool:
    """Parameters typed :data:`InputPath`, or as path-like and not an output (``out...``), must exist."""
    args = typing.get_args(hint) or (hint,)
    if InputPath in args:
        return True
    return not name.startswith("out") and any(typing.get_origin(a) is os.PathLike or a is os.PathLike for a in args)


def _check_grader(where: str, spec: Any) -> list[Problem]:
    from fathom.graders._registry import grader_names

    name = spec.get("name") if isinstance(spec, dict) else spec
    names = grader_names()
    if name not in names:
        return [Problem(where, f"unknown grader {name!r}. {did_you_mean(str(name), names)} Available: {', '.join(names)}.")]
    return []


def _resolve_path(value: str, base_dir: Path | None) -> Path:
    path = Path(str(value)).expanduser()
    return path if path.is_absolute() or path.exists() or base_dir is None else base_dir / path


def _type_name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def resolve_refs(value: Any, outputs: dict[str, dict[str, Any]]) -> Any:
    """Replace ``${stage.key}`` with earlier stages' outputs (a whole-string reference keeps its type)."""
    if isinstance(value, str):
        whole = _REF.fullmatch(value)
        if whole:
            return _lookup(outputs, whole.group(1), whole.group(2) or "")
        return _REF.sub(lambda m: str(_lookup(outputs, m.group(1), m.group(2) or "")), value)
    if isinstance(value, dict):
        return {k: resolve_refs(v, outputs) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_refs(v, outputs) for v in value]
    return value


def _lookup(outputs: dict[str, dict[str, Any]], stage: str, key: str) -> Any:
    node: Any = outputs.get(stage, {})
    for part in key.split(".") if key else []:
        if not isinstance(node, dict) or part not in node:
            raise ConfigError([Problem(f"${{{stage}.{key}}}", f"stage {stage!r} has no output {key!r}. "
                                       f"{did_you_mean(part, node if isinstance(node, dict) else [])} "
                                       f"Its outputs: {', '.join(outputs.get(stage, {})) or 'none'}.")])
        node = node[part]
    return node

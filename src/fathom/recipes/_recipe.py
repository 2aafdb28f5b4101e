"""Recipes: YAML files naming stages, loaded, overridden with ``--set`` and validated up front.

A recipe::

    name: shipping-forecast          # runs go to runs/<name>/<stage>/
    seed: 0
    stages:                          # run in this order
      data: {uses: shipping_data, days: 30}
      sft:  {uses: sft, model: smollm2-135m, data: "${data.train}"}

``uses`` names the stage function (default: the stage's own name); the other keys are its
parameters, checked against the function's signature. ``${stage.key}`` refers to an output of an
earlier stage, ``${stage}`` to all of its outputs. Validation (:mod:`fathom.recipes._check`) reports
every problem at once, with the key path and a did-you-mean, before anything runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NewType

import yaml

from fathom.errors import ConfigError, Problem, did_you_mean

__all__ = ["InputPath", "Recipe", "StageSpec", "apply_overrides", "load_recipe"]

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


def _yaml_message(exc: yaml.YAMLError, what: str) -> str:
    """One line for a YAML error in ``what``: what is wrong and where (line, column); tags get their own advice."""
    problem = str(getattr(exc, "problem", None) or exc).strip()
    mark = getattr(exc, "problem_mark", None)
    at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    tag = re.search(r"tag '(?:tag:yaml.org,2002:)?([^']+)'", problem)
    if isinstance(exc, yaml.constructor.ConstructorError) and tag:
        return (f"{what} uses the YAML tag !!{tag.group(1)}{at}, which is not allowed: recipes are read with YAML's "
                f"safe loader, which builds plain values only (text, numbers, true/false, lists, mappings); "
                f"remove the tag and write the plain value")
    return f"{what} is not valid YAML: {problem}{at}"


def _parse_override(item: str) -> tuple[list[str], Any]:
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError([Problem("--set", f"expected key=value, got {item!r} (e.g. --set sft.max_steps=20)")])
    try:
        parsed = yaml.safe_load(value) if value.strip() else ""
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(f"--set {item}", f"{_yaml_message(exc, 'the value')}; write a YAML value "
                                                    f"such as 20, 0.5, true, [a, b] or \"text\"")]) from exc
    return key.strip().split("."), parsed


def _apply_override(raw: dict[str, Any], item: str) -> None:
    keys, value = _parse_override(item)
    stages = raw.get("stages") or {}
    if keys[0] not in _TOP_KEYS and keys[0] in stages:
        keys = ["stages", *keys]
    node = raw
    for k in keys[:-1]:
        if node.get(k) is None:
            node[k] = {}
        node = node[k]
        if not isinstance(node, dict):
            raise ConfigError([Problem(f"--set {item}", f"{k!r} is not a mapping")])
    node[keys[-1]] = value


def _apply_overrides(raw: dict[str, Any], overrides: list[str]) -> list[Problem]:
    """Apply each override that can be applied; the problems of those that cannot."""
    problems: list[Problem] = []
    for item in overrides:
        try:
            _apply_override(raw, item)
        except ConfigError as exc:
            problems += exc.problems
    return problems


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``--set a.b=value`` overrides; ``stage.param`` is short for ``stages.stage.param``.

    Values are read as YAML (``20``, ``0.5``, ``[a, b]``, ``true``); every bad override is reported at once.
    """
    problems = _apply_overrides(raw, overrides)
    if problems:
        raise ConfigError(problems, title="invalid --set overrides")
    return raw


def _read_raw(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise ConfigError([Problem(str(path), "recipe file not found")])
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(str(path), _yaml_message(exc, "the recipe"))]) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(str(path), f"not a text file (byte {exc.start} is not UTF-8); "
                                              f"a recipe is a YAML text file")]) from exc
    if not isinstance(raw, dict):
        raise ConfigError([Problem(str(path), f"expected a mapping at the top, got {type(raw).__name__}")])
    return raw


def _top_level_problems(raw: dict[str, Any]) -> list[Problem]:
    """Unknown top-level keys, and ``name``, ``seed`` and ``runs_dir`` of the wrong type."""
    problems = [Problem(key, f"unknown key. {did_you_mean(str(key), _TOP_KEYS)} Valid: {', '.join(sorted(_TOP_KEYS))}.")
                for key in raw if key not in _TOP_KEYS]
    seed = raw.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        problems.append(Problem("seed", f"must be a whole number (e.g. seed: 0), got {seed!r}"))
    for key, example in (("name", "my-recipe"), ("runs_dir", "runs")):
        value = raw.get(key)
        if key not in raw or (key == "name" and value is None):
            continue  # the defaults: the file's own name, runs/
        if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
            problems.append(Problem(key, f"must be a non-empty folder name (e.g. {key}: {example}), got {value!r}"))
    return problems


def _stage_specs(raw: dict[str, Any]) -> tuple[list[StageSpec], list[Problem]]:
    stages_raw = raw.get("stages")
    if not isinstance(stages_raw, dict) or not stages_raw:
        return [], [Problem("stages", "a recipe needs a non-empty mapping of stages")]
    stages, problems = [], []
    for name, spec in stages_raw.items():
        spec = {} if spec is None else spec
        if not isinstance(spec, dict):
            problems.append(Problem(f"stages.{name}", f"expected a mapping of parameters, got {spec!r}"))
            continue
        params = dict(spec)
        stages.append(StageSpec(str(name), str(params.pop("uses", name)), params))
    return stages, problems


def load_recipe(path: str | Path, overrides: list[str] | None = None) -> Recipe:
    """Read a recipe file, apply overrides and validate it (raises ConfigError listing every problem).

    The stages of the recipe returned carry their parameters as validated, typed values (a
    ``learning_rate`` written ``1e-3``, which YAML reads as text, is the float ``0.001``).
    """
    from fathom.recipes._check import check_recipe

    path = Path(path)
    raw = _read_raw(path)
    problems = _apply_overrides(raw, overrides or [])
    problems += _top_level_problems(raw)
    stages, found = _stage_specs(raw)
    problems += found
    seed = raw.get("seed", 0)  # a wrong-typed one is a problem above: the recipe is not returned
    recipe = Recipe(name=str(raw.get("name") or path.stem), stages=stages, seed=seed if isinstance(seed, int) else 0,
                    runs_dir=str(raw.get("runs_dir", "runs")), path=path, raw=raw)
    found, recipe.stages = check_recipe(recipe, base_dir=path.parent)
    problems += found
    if problems:
        raise ConfigError(problems, title=f"recipe {path} is invalid")
    return recipe


def _refs_in(value: Any) -> list[tuple[str, str]]:
    if isinstance(value, str):
        return _REF.findall(value)
    if isinstance(value, dict):
        return [r for v in value.values() for r in _refs_in(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs_in(v)]
    return []


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

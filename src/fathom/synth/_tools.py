"""The tools examples may call and the categories that map to tool sequences, loaded and cross-checked.

Covers: :class:`ToolSet` (OpenAI tool schemas, each checked as a JSON Schema once, and argument
validation: required keys, declared types and enums, and no undeclared keys unless the schema sets
``additionalProperties`` itself, the rule the ``tool_call`` grader applies); :func:`load_tools` from a
JSON or YAML file (a list, or ``{"tools": [...]}``; a bare ``{name, description, parameters}`` is
wrapped into the OpenAI form) or from a Python reference (``"package.module:attr"`` naming a list of
schemas or a zero-argument callable returning one, such as a registry's bound ``schemas`` method);
:func:`load_categories` from ``{"categories": {name: {"description": str, "tools": [...]}}}``.
Not covered: running tools (``fathom.agent``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fathom.errors import ConfigError, Problem, did_you_mean
from fathom.synth._types import Category

__all__ = ["ToolSet", "load_categories", "load_tools", "read_structured"]


@dataclass(frozen=True)
class ToolSet:
    """Declared tools by name, with a validator for each one's arguments."""

    schemas: tuple[dict[str, Any], ...]
    _validators: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_schemas(cls, items: Iterable[Any], where: str = "tools") -> ToolSet:
        """Check and normalise OpenAI tool schemas.

        Raises:
            ConfigError: every problem (not an object, no name, a name declared twice, parameters
                that are not a valid object JSON Schema).
        """
        from jsonschema.exceptions import SchemaError
        from jsonschema.validators import Draft202012Validator, validator_for

        problems: list[Problem] = []
        schemas: list[dict[str, Any]] = []
        validators: dict[str, Any] = {}
        for i, item in enumerate(items):
            path = f"{where}[{i}]"
            fn = item.get("function", item) if isinstance(item, dict) else None
            name = fn.get("name") if isinstance(fn, dict) else None
            if not isinstance(fn, dict) or not isinstance(name, str) or not name.strip():
                problems.append(Problem(path, "expected an OpenAI tool {type: function, function: {name, description, "
                                              f"parameters}}, got {json.dumps(item, default=str)[:80]}"))
                continue
            if name in validators:
                problems.append(Problem(path, f"tool {name!r} is declared twice"))
                continue
            params = fn.get("parameters") or {"type": "object", "properties": {}}
            if not isinstance(params, dict) or params.get("type", "object") != "object":
                problems.append(Problem(f"{path}.parameters", f"tool {name!r}: parameters must be an object "
                                                              "JSON Schema ({\"type\": \"object\", ...})"))
                continue
            strict = {**params, "additionalProperties": params.get("additionalProperties", False)}
            try:
                validator_for(strict, default=Draft202012Validator).check_schema(strict)
            except SchemaError as exc:
                problems.append(Problem(f"{path}.parameters", f"tool {name!r}: not a valid JSON Schema: {exc.message}"))
                continue
            validators[name] = validator_for(strict, default=Draft202012Validator)(strict)
            function = {"name": name, "description": str(fn.get("description") or ""), "parameters": params}
            schemas.append({"type": "function", "function": function})
        if problems:
            raise ConfigError(problems, title="invalid tool schemas")
        return cls(tuple(schemas), validators)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s["function"]["name"] for s in self.schemas)

    def argument_problems(self, name: str, arguments: dict[str, Any]) -> list[str]:
        """Why ``arguments`` do not fit tool ``name`` (empty when they do); ``name`` must be declared."""
        errors = sorted(self._validators[name].iter_errors(arguments), key=lambda e: list(e.absolute_path))
        return [("/".join(str(p) for p in e.absolute_path) + ": " if e.absolute_path else "") + e.message
                for e in errors]


def read_structured(path: Path, what: str) -> Any:
    """A JSON or YAML file's content (YAML is a superset of JSON).

    Raises:
        ConfigError: the file is missing or does not parse, naming ``what`` it should hold.
    """
    if not path.is_file():
        raise ConfigError([Problem(what, f"{path} does not exist" if not path.exists() else f"{path} is not a file")])
    try:
        return yaml.safe_load(path.read_text("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(what, f"{path} is not valid JSON or YAML: {exc}")]) from exc


def load_tools(spec: str | os.PathLike[str] | Mapping[str, Any] | list[Any], base: Path | None = None) -> ToolSet:
    """Tools from a file path, a ``{"ref": "module:attr"}`` mapping, or a list of schemas.

    Raises:
        ConfigError: a missing or malformed file, a reference that does not import or does not give a
            list of schemas, or invalid schemas.
    """
    if isinstance(spec, Mapping) and "ref" in spec:
        return ToolSet.from_schemas(_from_ref(str(spec["ref"])), where="tools")
    if isinstance(spec, list):
        return ToolSet.from_schemas(spec)
    if isinstance(spec, Mapping):
        raise ConfigError([Problem("tools", f"expected a file path, a list of schemas or {{ref: \"module:attr\"}}, "
                                            f"got a mapping with keys {sorted(spec)}")])
    path = Path(spec)
    path = path if path.is_absolute() or base is None else base / path
    content = read_structured(path, "tools")
    if isinstance(content, dict) and isinstance(content.get("tools"), list):
        content = content["tools"]
    if not isinstance(content, list):
        raise ConfigError([Problem("tools", f"{path} must hold a list of OpenAI tool schemas (or {{tools: [...]}}), "
                                            f"got {type(content).__name__}")])
    return ToolSet.from_schemas(content, where=str(path))


def _from_ref(ref: str) -> list[Any]:
    from fathom._plugins import load_ref

    if ":" not in ref:
        raise ConfigError([Problem("tools.ref", f"expected \"package.module:attribute\", got {ref!r}")])
    try:
        obj = load_ref(ref)
    except (ImportError, AttributeError) as exc:
        raise ConfigError([Problem("tools.ref", f"cannot load {ref!r}: {type(exc).__name__}: {exc}")]) from exc
    if callable(obj):
        obj = obj()
    if not isinstance(obj, (list, tuple)):
        raise ConfigError([Problem("tools.ref", f"{ref!r} gave {type(obj).__name__}; it must be a list of OpenAI "
                                                "tool schemas or a zero-argument callable returning one")])
    return list(obj)


def load_categories(spec: str | os.PathLike[str] | Mapping[str, Any], tools: ToolSet,
                    base: Path | None = None) -> tuple[Category, ...]:
    """Categories from a file (``{"categories": {...}}``) or an inline ``{name: {description, tools}}``.

    Raises:
        ConfigError: every problem: no categories, a spec that is not ``{description, tools}``, and a tool
            that the tools file lacks (with did-you-mean).
    """
    where = "categories"
    if isinstance(spec, Mapping):
        raw: Any = spec
    else:
        path = Path(spec)
        path = path if path.is_absolute() or base is None else base / path
        content = read_structured(path, "categories")
        raw = content.get("categories") if isinstance(content, dict) else None
        where = str(path)
        if not isinstance(raw, dict):
            raise ConfigError([Problem(where, "expected {categories: {name: {description: ..., tools: [...]}}}, "
                                              f"got {json.dumps(content, default=str)[:80]}")])
    problems: list[Problem] = []
    categories = [c for name, item in raw.items() if (c := _category(str(name), item, tools, where, problems))]
    if not raw:
        problems.append(Problem(where, "no categories; declare at least one {name: {description, tools}}"))
    if problems:
        raise ConfigError(problems, title="invalid categories")
    return tuple(categories)


def _category(name: str, item: Any, tools: ToolSet, where: str, problems: list[Problem]) -> Category | None:
    path = f"{where}.{name}"
    if not isinstance(item, dict):
        problems.append(Problem(path, f"expected {{description: str, tools: [...]}}, got {item!r}"))
        return None
    unknown = sorted(set(item) - {"description", "tools"})
    for key in unknown:
        hint = did_you_mean(key, ["description", "tools"])
        problems.append(Problem(f"{path}.{key}", f"unknown key. {hint + ' ' if hint else ''}Valid keys: description, "
                                                 "tools"))
    description, names = item.get("description"), item.get("tools") or []
    if not isinstance(description, str) or not description.strip():
        problems.append(Problem(f"{path}.description", f"expected a non-empty string, got {description!r}"))
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        problems.append(Problem(f"{path}.tools", f"expected a list of tool names ([] for no tool), got {names!r}"))
        return None
    for tool in names:
        if tool not in tools.names:
            hint = did_you_mean(tool, tools.names)
            problems.append(Problem(f"{path}.tools", f"tool {tool!r} is not in the tools file. "
                                                     f"{hint + ' ' if hint else ''}Declared: "
                                                     f"{', '.join(tools.names) or 'none'}"))
    return Category(name=name, description=str(description or "").strip(), tools=tuple(names))

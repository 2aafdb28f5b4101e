"""A Python function's signature and Google-style docstring -> an OpenAI tool's JSON schema.

Covers: the types a tool may take (``str``, ``int``, ``float``, ``bool``, ``X | None``,
``Literal[...]``, ``list[X]``, ``dict[str, X]``, nested), defaults, and the checks that make a
function fit to be a tool: every parameter annotated and documented under ``Args:``, a summary line
and a ``Returns:`` section, no documented argument the function lacks. Every problem is collected,
so one :class:`~fathom.errors.ConfigError` lists them all.

The docstring is read with ``docstring_parser`` (maintained, typed, no dependencies), which knows
Google style's continuation lines and ``name (type):`` forms, rather than with a hand-written regex.

Not covered: calling the function or validating arguments (:mod:`fathom.agent._registry`).
"""

from __future__ import annotations

import inspect
import json
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import docstring_parser

__all__ = ["FunctionSpec", "function_spec"]

_PRIMITIVES: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}
_SUPPORTED = "str, int, float, bool, X | None, Literal[...], list[X], dict[str, X]"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # what the OpenAI API accepts as a function name


@dataclass(frozen=True)
class FunctionSpec:
    """What a function says about itself, once it passed every check."""

    name: str
    description: str
    parameters: dict[str, Any]


def function_spec(fn: Callable[..., Any], name: str | None = None) -> tuple[FunctionSpec | None, list[str]]:
    """The tool spec of ``fn`` and the problems that stop it being a tool (an empty list when fit).

    Each problem names the function and, where there is one, the argument.
    """
    label = getattr(fn, "__qualname__", None) or repr(fn)
    tool_name: str = name or str(getattr(fn, "__name__", ""))
    problems: list[str] = []
    if not _NAME.match(tool_name):
        problems.append(f"{label}: tool name {tool_name!r} must be 1-64 letters, digits, '_' or '-'; "
                        f"pass name='...' to choose another")
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        return None, [*problems, f"{label}: has no readable signature ({exc})"]
    try:
        hints = typing.get_type_hints(fn)
    except Exception as exc:  # a forward reference that does not resolve is the author's to fix
        return None, [*problems, f"{label}: its type hints do not resolve ({type(exc).__name__}: {exc})"]
    doc = docstring_parser.parse(inspect.getdoc(fn) or "", style=docstring_parser.DocstringStyle.GOOGLE)
    documented = {p.arg_name: (p.description or "").strip() for p in doc.params}
    summary = (doc.short_description or "").strip()
    returns = (doc.returns.description or "").strip() if doc.returns else ""
    if not summary:
        problems.append(f"{label}: has no docstring summary; its first line is the tool's description for the model")
    if not returns:
        problems.append(f"{label}: its docstring has no 'Returns:' section saying what the tool gives back")
    properties: dict[str, Any] = {}
    required: list[str] = []
    for param in signature.parameters.values():
        problems += _parameter_problems(label, param, hints, documented)
        if param.name not in hints or not documented.get(param.name) or param.kind in _VARIADIC:
            continue
        try:
            schema = type_schema(hints[param.name])
        except TypeError as exc:
            problems.append(f"{label}: argument {param.name!r} {exc}")
            continue
        schema["description"] = " ".join(documented[param.name].split())
        if param.default is inspect.Parameter.empty:
            required.append(param.name)
        elif _json_value(param.default):
            schema["default"] = param.default
        properties[param.name] = schema
    for extra in sorted(set(documented) - set(signature.parameters)):
        problems.append(f"{label}: its docstring documents argument {extra!r}, which the function does not have")
    if problems:
        return None, problems
    description = " ".join(part for part in (summary, doc.long_description or "") if part).strip()
    description = f"{description}\n\nReturns: {' '.join(returns.split())}"
    parameters = {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
    return FunctionSpec(tool_name, description, parameters), []


_VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def _parameter_problems(label: str, param: inspect.Parameter, hints: dict[str, Any],
                        documented: dict[str, str]) -> list[str]:
    if param.kind in _VARIADIC:
        return [f"{label}: argument {param.name!r} is *args or **kwargs; a tool takes named arguments only"]
    problems = []
    if param.kind is inspect.Parameter.POSITIONAL_ONLY:
        problems.append(f"{label}: argument {param.name!r} is positional-only; tools are called by keyword")
    if param.name not in hints:
        problems.append(f"{label}: argument {param.name!r} has no type hint; annotate it "
                        f"(supported: {_SUPPORTED})")
    if not documented.get(param.name):
        problems.append(f"{label}: argument {param.name!r} is not described in the docstring's 'Args:' section "
                        f"(add '{param.name}: what it is')")
    return problems


def type_schema(hint: Any) -> dict[str, Any]:
    """The JSON schema of one annotation; raises TypeError for a type a tool cannot take.

    >>> type_schema(int | None)
    {'type': ['integer', 'null']}
    >>> type_schema(Literal["low", "high"])
    {'type': 'string', 'enum': ['low', 'high']}
    >>> type_schema(dict[str, list[float]])
    {'type': 'object', 'additionalProperties': {'type': 'array', 'items': {'type': 'number'}}}
    """
    if hint in _PRIMITIVES:
        return {"type": _PRIMITIVES[hint]}
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Literal:
        return _literal_schema(args)
    if origin in (types.UnionType, typing.Union):
        members = [a for a in args if a is not type(None)]
        if len(members) != 1 or len(args) != 2:
            raise TypeError(f"has the union {hint!r}; only 'X | None' is supported (supported: {_SUPPORTED})")
        inner = type_schema(members[0])
        if isinstance(inner.get("type"), str) and set(inner) <= {"type", "enum"}:
            nullable = {**inner, "type": [inner["type"], "null"]}
            if "enum" in inner:
                nullable["enum"] = [*inner["enum"], None]
            return nullable
        return {"anyOf": [inner, {"type": "null"}]}
    if hint is list or origin is list:
        return {"type": "array", **({"items": type_schema(args[0])} if args else {})}
    if hint is dict or origin is dict:
        if args and args[0] is not str:
            raise TypeError(f"has the mapping {hint!r}; JSON object keys are strings, use dict[str, ...]")
        return {"type": "object", **({"additionalProperties": type_schema(args[1])} if args else {})}
    raise TypeError(f"has the type {hint!r}, which a tool cannot take (supported: {_SUPPORTED})")


def _literal_schema(values: tuple[Any, ...]) -> dict[str, Any]:
    kinds = {_PRIMITIVES.get(type(v)) for v in values}
    if None in kinds:
        raise TypeError(f"has Literal values {values!r}; only str, int, float and bool values are supported")
    schema: dict[str, Any] = {"enum": list(values)}
    return {"type": kinds.pop(), **schema} if len(kinds) == 1 else schema


def _json_value(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True

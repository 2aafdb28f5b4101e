"""Typed, documented Python functions as tools a model can call: :class:`Tool`, :func:`tool`, :class:`ToolRegistry`.

A tool is a plain function whose type hints and Google-style docstring (``Args:``, ``Returns:``)
become its OpenAI JSON schema (:mod:`fathom.agent._schema`). Registration refuses a function the
model could not be told how to call, listing every problem at once (:class:`~fathom.errors.ConfigError`).
A call validates the model's arguments against the schema (``jsonschema``) before the function runs.

Two kinds of error, kept apart (style.md, convention 13): what the model got wrong (an unknown tool,
arguments that fail the schema, an input the tool itself refuses) is a :class:`ToolError`, whose
message names the valid options so an agent loop can feed it back; anything else the function
raises is a bug and propagates unchanged.

Covers: building tools, the registry, schemas, validated calls. Not covered: the agent loop, traces,
MCP (later parts of :mod:`fathom.agent`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, overload

import jsonschema

from fathom.agent._schema import function_spec
from fathom.errors import ConfigError, DataError, FathomError, Problem, did_you_mean

__all__ = ["Tool", "ToolArgumentError", "ToolError", "ToolRegistry", "UnknownToolError", "tool"]


class ToolError(FathomError):
    """The model called a tool wrongly; the message says how to call it right (feed it back).

    Tools raise it themselves for an input the schema cannot rule out (an unknown device id).
    """

    exit_code = 2


class UnknownToolError(ToolError):
    """No tool of that name is registered (the message lists those that are)."""


class ToolArgumentError(ToolError, DataError):
    """The arguments fail the tool's schema; one problem per bad argument."""

    title = "invalid tool arguments"


@dataclass(frozen=True)
class Tool:
    """One callable tool: its name, the description and JSON schema the model sees, and the function."""

    name: str
    """Name the model calls it by (the function's name unless given)."""
    description: str
    """Docstring summary, details and ``Returns:``, as the model reads them."""
    parameters: dict[str, Any]
    """JSON schema (an object) of the keyword arguments."""
    function: Callable[..., Any]
    """The Python function (or bound method) that does the work."""

    @classmethod
    def from_function(cls, fn: Callable[..., Any], name: str | None = None) -> Tool:
        """Build a tool from a typed, documented function.

        Raises:
            ConfigError: a parameter lacks a type hint or an ``Args:`` description, the docstring lacks
                a summary or ``Returns:``, or a type cannot be expressed in JSON (every problem listed).
        """
        spec, problems = function_spec(fn, name)
        if spec is None:
            raise ConfigError(problems, title=f"not a valid tool: {getattr(fn, '__qualname__', fn)!r}")
        return cls(spec.name, spec.description, spec.parameters, fn)

    def schema(self) -> dict[str, Any]:
        """The OpenAI tool schema: ``{"type": "function", "function": {name, description, parameters}}``."""
        return {"type": "function",
                "function": {"name": self.name, "description": self.description, "parameters": self.parameters}}

    def validate(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """The arguments checked against the schema, whole floats given for integers made ints.

        Raises:
            ToolArgumentError: one problem per failing argument, naming the valid parameters or values.
        """
        validator = jsonschema.Draft202012Validator(self.parameters)
        problems = [_problem(self, error) for error in sorted(validator.iter_errors(dict(arguments)), key=str)]
        if problems:
            raise ToolArgumentError(problems, title=f"invalid arguments for tool {self.name!r}")
        return {key: _as_declared(self.parameters["properties"][key], value) for key, value in arguments.items()}

    def __call__(self, **arguments: Any) -> Any:
        """Call the function with validated arguments (see :meth:`validate`)."""
        return self.function(**self.validate(arguments))


def tool(fn: Callable[..., Any] | None = None, *, name: str | None = None) -> Any:
    """Decorator: the function becomes a :class:`Tool` (still callable with keyword arguments).

    >>> @tool
    ... def add(a: int, b: int = 1) -> int:
    ...     '''Add two numbers.
    ...
    ...     Args:
    ...         a: first number.
    ...         b: second number.
    ...
    ...     Returns:
    ...         The sum.
    ...     '''
    ...     return a + b
    >>> add(a=2), add.parameters["required"]
    (3, ['a'])
    """
    if fn is None:
        return lambda f: Tool.from_function(f, name)
    return Tool.from_function(fn, name)


class ToolRegistry:
    """Tools by name: register typed functions, list their schemas, call them with checked arguments.

    >>> registry = ToolRegistry()
    >>> @registry.register
    ... def echo(text: str) -> str:
    ...     '''Say it back.
    ...
    ...     Args:
    ...         text: what to say.
    ...
    ...     Returns:
    ...         The same text.
    ...     '''
    ...     return text
    >>> registry.call("echo", {"text": "hi"}), registry.names()
    ('hi', ['echo'])
    """

    def __init__(self, tools: Iterable[Callable[..., Any] | Tool] = ()):
        self._tools: dict[str, Tool] = {}
        for item in tools:
            self.register(item)

    @overload
    def register(self, fn: Callable[..., Any] | Tool, *, name: str | None = None) -> Tool: ...

    @overload
    def register(self, fn: None = None, *, name: str | None = None) -> Callable[[Callable[..., Any]], Tool]: ...

    def register(self, fn: Callable[..., Any] | Tool | None = None, *,
                 name: str | None = None) -> Tool | Callable[[Callable[..., Any]], Tool]:
        """Add a function (or a ready :class:`Tool`); usable as ``@registry.register`` or
        ``@registry.register(name="...")``.

        Raises:
            ConfigError: the function is not fit to be a tool (see :meth:`Tool.from_function`), or a
                tool of that name is already registered.
        """
        if fn is None:
            return lambda f: self.register(f, name=name)
        item = fn if isinstance(fn, Tool) and name is None else Tool.from_function(
            fn.function if isinstance(fn, Tool) else fn, name)
        if item.name in self._tools:
            raise ConfigError([f"a tool named {item.name!r} is already registered; pass name='...' to register "
                               f"{getattr(item.function, '__qualname__', item.name)!r} under another"],
                              title="duplicate tool")
        self._tools[item.name] = item
        return item

    def names(self) -> list[str]:
        """Registered tool names, in registration order."""
        return list(self._tools)

    def get(self, name: str) -> Tool:
        """The tool called ``name``.

        Raises:
            UnknownToolError: no such tool (did-you-mean and the list of tools).
        """
        found = self._tools.get(name)
        if found is None:
            hint = did_you_mean(str(name), self._tools)
            raise UnknownToolError(" ".join(part for part in (
                f"Unknown tool {name!r}.", hint, f"Available tools: {', '.join(self._tools) or 'none'}.") if part))
        return found

    def schemas(self) -> list[dict[str, Any]]:
        """Every tool's OpenAI schema, in registration order (the ``tools`` of a chat request)."""
        return [t.schema() for t in self._tools.values()]

    def call(self, name: str, arguments: Mapping[str, Any] | str | None = None) -> Any:
        """Call tool ``name`` with ``arguments`` (a mapping, or the JSON-object string a model writes).

        Raises:
            UnknownToolError: no tool of that name.
            ToolArgumentError: the arguments are not a JSON object or fail the schema.
            ToolError: the tool refused an input (its own message).
        """
        found = self.get(name)
        return found(**_arguments(found, arguments))

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)


def _arguments(found: Tool, arguments: Mapping[str, Any] | str | None) -> Mapping[str, Any]:
    if arguments is None:
        return {}
    parsed: Any = arguments
    if isinstance(arguments, str):
        try:
            parsed = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError as exc:
            raise ToolArgumentError([f"arguments are not valid JSON ({exc.msg} at character {exc.pos}): "
                                     f"{arguments[:200]!r}; send a JSON object"],
                                    title=f"invalid arguments for tool {found.name!r}") from None
    if not isinstance(parsed, Mapping):
        raise ToolArgumentError([f"arguments must be a JSON object of named arguments, got "
                                 f"{type(parsed).__name__} {parsed!r:.200}"],
                                title=f"invalid arguments for tool {found.name!r}")
    return parsed


def _problem(found: Tool, error: jsonschema.ValidationError) -> Problem:
    path = "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    where = f"arguments{path}"
    properties = found.parameters["properties"]
    if error.validator == "additionalProperties":
        unexpected = sorted(set(error.instance) - set(properties)) if isinstance(error.instance, dict) else []
        hints = " ".join(h for h in (did_you_mean(u, properties) for u in unexpected) if h)
        valid = ", ".join(properties) or "none"
        return Problem(where, f"unexpected argument(s) {', '.join(map(repr, unexpected))}. {hints} "
                              f"Valid parameters: {valid}.".replace("  ", " "))
    if error.validator == "required":
        return Problem(where, f"{error.message}; required: {', '.join(found.parameters['required'])}")
    return Problem(where, f"{error.message} (got {type(error.instance).__name__})"
                   if error.validator == "type" else error.message)


def _as_declared(schema: Mapping[str, Any], value: Any) -> Any:
    """A whole float where the schema says integer becomes an int (JSON has one number type)."""
    kinds = schema.get("type")
    integer = kinds == "integer" or (isinstance(kinds, list) and "integer" in kinds)
    if integer and isinstance(value, float) and value.is_integer():
        return int(value)
    return value

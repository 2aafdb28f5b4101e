"""Reading tool calls for the ``tool_call`` grader: the calls a completion made, the calls an example
expects, the tools it offers, and the rest of its reference (order mode, parallel groups, free
parameters).

Covers completions as OpenAI assistant messages (``tool_calls`` with JSON-string ``arguments``, which
may be invalid JSON), as text with SmolLM2 ``<tool_call>[...]</tool_call>`` lists or Hermes
``<tool_call>{...}</tool_call>`` blocks, or both. Blocks are parsed by
:func:`fathom.backends.parse_tool_calls_detailed`, the parser the backends use, so a malformed block
is seen the same way everywhere (backends leave it in the content; this module reports it).
Not covered: scoring (see :mod:`fathom.graders._toolcall_args` and :mod:`fathom.graders._toolcall`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fathom.errors import GraderError
from fathom.graders._common import last_assistant, ref_field
from fathom.graders._protocol import completion_message

__all__ = ["ORDERS", "Call", "Predicted", "expected_calls", "free_args", "gold_call", "offered_tools",
           "parallel_groups", "predicted_calls", "reference_order"]

ORDERS = ("ordered", "unordered", "parallel")
"""Order modes: LCS of names, equal name multisets, or free order inside declared groups."""

_TAG = "<tool_call>"


@dataclass(frozen=True)
class Call:
    """One tool call: ``args`` is None when the arguments did not decode to a JSON object."""

    name: str
    args: dict[str, Any] | None
    acceptable: dict[str, list[Any]] = field(default_factory=dict)
    """Gold calls only: extra acceptable values per parameter; ``""`` in a list marks it optional."""


@dataclass(frozen=True)
class Predicted:
    """What a completion called, and why its JSON was invalid (empty when valid)."""

    calls: list[Call]
    problems: list[str]
    container: bool
    """True when the completion holds a tool-call container (native ``tool_calls`` or a tag)."""


def _function(item: Any) -> tuple[dict[str, Any], str | None]:
    """The ``function`` part of an OpenAI tool call (or the flat ``{name, arguments}`` form) and its name."""
    function = item.get("function", item) if isinstance(item, dict) else None
    if not isinstance(function, dict):
        return {}, None
    name = function.get("name")
    return function, name if isinstance(name, str) and name else None


def _decode_args(raw: Any) -> tuple[dict[str, Any] | None, str | None]:
    if isinstance(raw, dict):
        return raw, None
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            return None, f"arguments are not valid JSON ({exc.msg} at column {exc.colno})"
        if isinstance(value, dict):
            return value, None
        return None, f"arguments decode to {type(value).__name__}, not an object"
    return None, f"arguments must be a JSON string or an object, got {type(raw).__name__}"


def predicted_calls(completion: dict[str, Any] | str) -> Predicted:
    """The calls in a completion: its native ``tool_calls`` or, without them, the ``<tool_call>`` blocks
    in its text. Malformed blocks are reported either way (backends leave them in the content).

    >>> p = predicted_calls({"role": "assistant", "content": None, "tool_calls": [
    ...     {"type": "function", "function": {"name": "f", "arguments": '{"x": 1'}}]})
    >>> p.calls
    [Call(name='f', args=None, acceptable={})]
    >>> p.problems
    ["call 1 ('f'): arguments are not valid JSON (Expecting ',' delimiter at column 8)"]
    """
    message = completion_message(completion)
    calls: list[Call] = []
    problems: list[str] = []
    native = message.get("tool_calls")
    for number, item in enumerate(native or [], 1):
        function, name = _function(item)
        if name is None:
            problems.append(f"call {number}: no string 'name'")
            continue
        args, problem = _decode_args(function.get("arguments", "{}"))
        if problem:
            problems.append(f"call {number} ({name!r}): {problem}")
        calls.append(Call(name, args))
    raw_content = message.get("content")
    content = raw_content if isinstance(raw_content, str) else ""
    if _TAG in content:
        from fathom.backends import parse_tool_calls_detailed

        parsed = parse_tool_calls_detailed(content)
        problems.extend(parsed.errors)
        if not native:  # with native calls, tags left in the content are the malformed blocks (or echoes)
            calls.extend(Call(c["function"]["name"], json.loads(c["function"]["arguments"]))
                         for c in parsed.tool_calls)
    raw_text = completion.get("text") if isinstance(completion, dict) and "message" in completion else None
    container = native is not None or _TAG in content or (isinstance(raw_text, str) and _TAG in raw_text)
    return Predicted(calls, problems, container)


def gold_call(item: Any, where: str) -> Call:
    """One gold call read from ``item`` (``where`` names it in errors).

    Raises:
        GraderError: the call has no name, its arguments do not decode, or ``acceptable`` is malformed.
    """
    function, name = _function(item)
    if name is None:
        raise GraderError(f"tool_call: {where} has no string 'name' (got {item!r}). Expected an OpenAI tool "
                          "call {'type': 'function', 'function': {'name': ..., 'arguments': '<JSON>'}}.")
    args, problem = _decode_args(function.get("arguments", "{}"))
    if problem:
        raise GraderError(f"tool_call: {where} ({name!r}): {problem}. Fix the example's gold call.")
    acceptable = item.get("acceptable") or {}
    if not isinstance(acceptable, dict) or not all(isinstance(v, list) for v in acceptable.values()):
        raise GraderError(f"tool_call: {where} ({name!r}): 'acceptable' must map parameter names to lists of "
                          f"acceptable values, got {acceptable!r}.")
    return Call(name, args, dict(acceptable))


def expected_calls(example: dict[str, Any]) -> list[Call]:
    """The gold calls: ``reference["tool_calls"]`` (``[]`` = no call expected) or, when absent, the
    ``tool_calls`` of the example's last assistant message.

    Raises:
        GraderError: no gold calls can be found, or one is malformed.

    >>> expected_calls({"reference": {"tool_calls": [{"name": "f", "arguments": {"x": 1}}]}})
    [Call(name='f', args={'x': 1}, acceptable={})]
    """
    gold = ref_field(example, "tool_calls")
    where = "reference.tool_calls"
    if gold is None:
        message = last_assistant(example)
        if message is None:
            raise GraderError("tool_call: the example has no reference.tool_calls and no assistant message. "
                              "Add reference.tool_calls ([] when no call is expected).")
        gold, where = message.get("tool_calls") or [], "the last assistant message's tool_calls"
    if not isinstance(gold, list):
        raise GraderError(f"tool_call: {where} must be a list, got {type(gold).__name__}.")
    return [gold_call(item, f"{where}[{i}]") for i, item in enumerate(gold)]


def offered_tools(example: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    """Tool name -> its parameters JSON Schema, from the example's ``tools`` (None when it offers none).

    >>> offered_tools({"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]})
    {'f': {'type': 'object'}}
    """
    tools = example.get("tools")
    if not tools:
        return None
    out: dict[str, dict[str, Any]] = {}
    for i, tool in enumerate(tools):
        function = tool.get("function", tool) if isinstance(tool, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise GraderError(f"tool_call: tools[{i}] is not a tool schema (got {tool!r}). Expected "
                              "{'type': 'function', 'function': {'name', 'description', 'parameters'}}.")
        parameters = function.get("parameters")
        out[function["name"]] = parameters if isinstance(parameters, dict) else {"type": "object", "properties": {}}
    return out


def reference_order(example: dict[str, Any], default: str) -> str:
    """``reference.order``, or ``default`` when the example does not set one.

    Raises:
        GraderError: the example's order is not one of :data:`ORDERS`.
    """
    order = ref_field(example, "order") or default
    if order not in ORDERS:
        raise GraderError(f"tool_call: reference.order {order!r} is not one of {list(ORDERS)}.")
    return str(order)


def parallel_groups(example: dict[str, Any], gold_count: int) -> list[int]:
    """The group of each gold call, from ``reference.groups`` (lists of gold indices); one group when absent.

    Raises:
        GraderError: the groups do not partition the gold call indices.

    >>> parallel_groups({"reference": {"groups": [[1], [0, 2]]}}, 3)
    [1, 0, 1]
    """
    groups = ref_field(example, "groups")
    if groups is None:
        return [0] * gold_count
    ok = isinstance(groups, list) and all(isinstance(g, list) for g in groups)
    flat = [j for group in groups for j in group] if ok else []
    ok = ok and all(isinstance(j, int) and not isinstance(j, bool) for j in flat)
    if not ok or sorted(flat) != list(range(gold_count)):
        raise GraderError(f"tool_call: reference.groups {groups!r} must partition the gold call indices "
                          f"0..{gold_count - 1}, each exactly once.")
    label = {j: g for g, group in enumerate(groups) for j in group}
    return [label[j] for j in range(gold_count)]


def free_args(example: dict[str, Any]) -> dict[str, frozenset[str]]:
    """``reference.free_args``: per tool, the parameters a call may set to any (schema-valid) value
    that the reference does not mention, without it counting as an unexpected argument.

    Raises:
        GraderError: it is not an object mapping tool names to lists of parameter names.

    >>> free_args({"reference": {"free_args": {"get_forecast": ["units"]}}})
    {'get_forecast': frozenset({'units'})}
    """
    free = ref_field(example, "free_args")
    if free is None:
        return {}
    if not isinstance(free, dict) or not all(
            isinstance(v, list) and all(isinstance(p, str) for p in v) for v in free.values()):
        raise GraderError(f"tool_call: reference.free_args must map tool names to lists of parameter names, "
                          f"e.g. {{\"get_forecast\": [\"units\"]}}; got {free!r}.")
    return {str(tool): frozenset(params) for tool, params in free.items()}

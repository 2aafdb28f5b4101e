"""Checking an example's tool-call reference against the example's own tools, before it grades anything.

A reference that breaks its tool's schema makes the ``tool_call`` grader fail every right answer
(the ``schema_valid`` gate rejects what the reference asks for) or reward a call no real tool
accepts. ``fathom data validate`` runs this check on every row; a data synthesiser runs it on
each example it writes.

Covers: ``reference.tool_calls`` (each call decodes, names an offered tool, and its arguments fit
that tool's schema as written: required keys present, types, enums, no undeclared keys; every
``acceptable`` value fits too, and ``""`` marks only parameters the schema does not require),
``reference.free_args`` (its tools are offered and its parameters declared), ``reference.order``
and ``reference.groups``. Values are checked with the gate's rules
(:mod:`fathom.graders._toolcall_rules`) but without string normalisation: a reference is what a
right call sends verbatim.
Not covered: the tool schemas themselves and assistant messages' tool calls (both are
:func:`fathom.datasets.validate_example`'s); a tool whose parameters are not a valid JSON Schema is
reported once and its calls are not checked further. Examples without ``tools`` get the shape
checks only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fathom.errors import GraderError, Problem, did_you_mean
from fathom.graders._toolcall_io import Call, free_args, gold_call, offered_tools, parallel_groups, reference_order
from fathom.graders._toolcall_rules import STRICT, argument_errors, schema_error, value_errors

__all__ = ["check_tool_references", "tool_reference_problems"]


def check_tool_references(examples: Iterable[Mapping[str, Any]]) -> list[Problem]:
    """Every problem in the tool-call references of ``examples``, each ``where`` starting with
    ``example N`` (N counts from 0 in the order given).

    Args:
        examples: Fathom examples (``tools`` plus ``reference.tool_calls``; others are skipped).

    Returns:
        Problems in example order; empty when every reference fits its tools.

    >>> tools = [{"type": "function", "function": {"name": "get_forecast", "parameters": {
    ...     "type": "object", "required": ["area"], "properties": {"area": {"type": "string"}}}}}]
    >>> def example(args):
    ...     return {"tools": tools, "reference": {"tool_calls": [{"name": "get_forecast", "arguments": args}]}}
    >>> for problem in check_tool_references([example({"area": "Viking"}), example({"area": 7})]):
    ...     print(problem)
    example 1 reference.tool_calls[0].arguments.area: does not fit tool 'get_forecast': 7 is not of type 'string'
    """
    problems: list[Problem] = []
    for index, example in enumerate(examples):
        if not isinstance(example, Mapping):
            problems.append(Problem(f"example {index}", f"expected an example object, got {type(example).__name__}"))
            continue
        problems.extend(Problem(f"example {index} {p.where}", p.message) for p in tool_reference_problems(example))
    return problems


def tool_reference_problems(example: Mapping[str, Any]) -> list[Problem]:
    """The problems of one example's tool-call reference; ``where`` is a field path in the example.

    Args:
        example: a Fathom example; one without ``reference`` has no reference problems.

    Returns:
        Problems in field order; empty when the reference fits the example's tools.

    >>> tools = [{"type": "function", "function": {"name": "get_forecast", "parameters": {
    ...     "type": "object", "properties": {"units": {"type": "string", "enum": ["kt", "mph"]}}}}}]
    >>> ref = {"tool_calls": [{"name": "get_forecast", "arguments": {"units": "knots"}}]}
    >>> [str(p) for p in tool_reference_problems({"tools": tools, "reference": ref})]
    ["reference.tool_calls[0].arguments.units: does not fit tool 'get_forecast': 'knots' is not one of ['kt', 'mph']"]
    """
    reference = example.get("reference")
    if not isinstance(reference, Mapping):
        return []
    problems: list[Problem] = []
    tools = _checkable_tools(example, problems)
    gold = reference.get("tool_calls")
    if gold is not None and not isinstance(gold, list):
        problems.append(Problem("reference.tool_calls", f"expected a list of tool calls ([] = no call expected), "
                                                        f"got {type(gold).__name__}"))
    for j, item in enumerate(gold if isinstance(gold, list) else []):
        where = f"reference.tool_calls[{j}]"
        try:
            call = gold_call(item, where)
        except GraderError as exc:
            problems.append(Problem(where, str(exc).removeprefix("tool_call: ")))
            continue
        if tools is not None:
            inner = f"{where}.function" if isinstance(item, dict) and isinstance(item.get("function"), dict) else where
            problems.extend(_call_problems(call, inner, where, tools))
    problems.extend(_field_problems(example, tools, len(gold) if isinstance(gold, list) else None))
    return problems


def _checkable_tools(example: Mapping[str, Any], problems: list[Problem]) -> dict[str, dict[str, Any] | None] | None:
    """Offered tool name -> its parameters schema, None for one that is not a valid schema (reported)."""
    try:
        tools = offered_tools(dict(example))
    except GraderError as exc:
        problems.append(Problem("tools", f"{str(exc).removeprefix('tool_call: ')}; the reference cannot be checked"))
        return None
    if tools is None:
        return None
    out: dict[str, dict[str, Any] | None] = {}
    for name, schema in tools.items():
        error = schema_error(schema)
        if error:
            problems.append(Problem("tools", f"the parameters of tool {name!r} are not a valid JSON Schema ({error}); "
                                             "calls to it are not checked"))
        out[name] = None if error else schema
    return out


def _call_problems(call: Call, inner: str, where: str, tools: dict[str, dict[str, Any] | None]) -> list[Problem]:
    if call.name not in tools:
        hint = did_you_mean(call.name, tools)
        return [Problem(f"{inner}.name", f"names tool {call.name!r}, which the example does not offer. {hint} "
                                         f"Offered: {', '.join(sorted(tools)) or 'none'}.".replace("  ", " "))]
    schema = tools[call.name]
    if schema is None or call.args is None:
        return []
    problems = []
    for path, message in argument_errors(call.name, call.args, schema, STRICT):
        at = f"{inner}.arguments" + ("" if path == "arguments" else "." + path.replace("/", "."))
        problems.append(Problem(at, f"does not fit tool {call.name!r}: {message}"))
    required = set(schema.get("required") or [])
    for key, values in call.acceptable.items():
        at = f"{where}.acceptable.{key}"
        for value in values:
            if value == "" and key in required:
                problems.append(Problem(at, f'"" marks {key!r} optional, but tool {call.name!r} requires it: the '
                                            "schema gate fails every call that leaves it out"))
            elif value != "" and (errors := value_errors(call.name, key, value, schema, STRICT)):
                problems.append(Problem(at, f"acceptable value {value!r} does not fit tool {call.name!r}: "
                                            + "; ".join(errors)))
    return problems


def _field_problems(example: Mapping[str, Any], tools: dict[str, dict[str, Any] | None] | None,
                    gold_count: int | None) -> list[Problem]:
    """``reference.order``, ``reference.groups`` and ``reference.free_args``."""
    problems = []
    ex = dict(example)
    try:
        reference_order(ex, "ordered")
    except GraderError as exc:
        problems.append(Problem("reference.order", str(exc).removeprefix("tool_call: ")))
    if gold_count is not None:
        try:
            parallel_groups(ex, gold_count)
        except GraderError as exc:
            problems.append(Problem("reference.groups", str(exc).removeprefix("tool_call: ")))
    try:
        free = free_args(ex)
    except GraderError as exc:
        return [*problems, Problem("reference.free_args", str(exc).removeprefix("tool_call: "))]
    for tool, params in sorted(free.items()):
        at = f"reference.free_args.{tool}"
        if tools is None:
            continue
        if tool not in tools:
            problems.append(Problem(at, f"names tool {tool!r}, which the example does not offer. "
                                        f"Offered: {', '.join(sorted(tools)) or 'none'}."))
            continue
        declared = (tools[tool] or {}).get("properties") or {}
        for param in sorted(params - set(declared)) if tools[tool] is not None else []:
            problems.append(Problem(at, f"{param!r} is not a parameter of tool {tool!r} "
                                        f"(declared: {', '.join(sorted(declared)) or 'none'})"))
    return problems

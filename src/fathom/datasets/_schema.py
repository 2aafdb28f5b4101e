"""The Fathom example schema and its validator.

An example is one JSON object::

    {"messages": [...],            # OpenAI chat: system?, user, assistant, tool
     "tools": [...],               # optional, OpenAI function tools with JSON Schema parameters
     "reference": ...,             # optional, anything a grader needs
     "meta": {"id": ..., "source": ..., ...}}   # optional

Assistant messages may carry ``tool_calls: [{id, type: "function", function: {name, arguments}}]``
where ``arguments`` is a JSON *string* holding an object, and then ``content`` may be null. Tool
messages answer one call each with ``tool_call_id`` and ``content``. A DPO row keeps the prompt in
``messages`` and adds ``chosen`` and ``rejected`` assistant messages (see
:mod:`fathom.datasets._messages`).

Covers: :func:`validate_example`, which returns every problem it finds with a JSON field path
such as ``messages[2].tool_calls[0].function.arguments``. Not covered: reading files
(:mod:`fathom.datasets._files`) and format conversion.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

from fathom.errors import DataError, Problem, did_you_mean

__all__ = ["ROLES", "TOP_LEVEL_KEYS", "ensure_valid", "validate_example"]

ROLES = ("system", "user", "assistant", "tool")
TOP_LEVEL_KEYS = ("messages", "tools", "reference", "meta", "chosen", "rejected", "parallel_tool_calls")
_MESSAGE_KEYS = {
    "system": ("role", "content", "name"),
    "user": ("role", "content", "name"),
    "assistant": ("role", "content", "name", "tool_calls", "weight"),
    "tool": ("role", "content", "tool_call_id", "name"),
}


@dataclass
class _Context:
    """What one validation pass has learned so far about an example."""

    tools: dict[str, dict[str, Any] | None] | None  # declared name -> parameters; None: no `tools`
    problems: list[Problem] = field(default_factory=list)
    call_ids: dict[str, str] = field(default_factory=dict)  # id -> path where it was first used

    def add(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))


def validate_example(obj: Any, *, needs_assistant: bool = True) -> list[Problem]:
    """Check one example against the Fathom schema and return every problem found.

    Args:
        obj: the decoded JSON object.
        needs_assistant: require at least one assistant message (training data). Set it to
            False for prompt files, whose rows end with the user turn a model should answer.

    Returns:
        Problems with ``where`` set to the JSON field path; an empty list when the example is valid.

    >>> validate_example({"messages": [{"role": "user", "content": "Hi"},
    ...                                {"role": "assistant", "content": "Hello"}]})
    []
    >>> [(p.where, p.message.split(";")[0]) for p in validate_example({"messages": [{"role": "assistant",
    ...                                                                              "content": "Hi"}]})]
    [('messages[0]', 'assistant message before any user message')]
    """
    if not isinstance(obj, dict):
        return [Problem("", f"expected a JSON object, got {type(obj).__name__}")]
    problems: list[Problem] = []
    ctx = _Context(tools=_check_tools(obj, problems), problems=problems)
    _check_top_keys(obj, ctx)
    _check_meta(obj.get("meta"), ctx)
    if "parallel_tool_calls" in obj and not isinstance(obj["parallel_tool_calls"], bool):
        ctx.add("parallel_tool_calls", f"expected true or false, got {_describe(obj['parallel_tool_calls'])}")
    messages = obj.get("messages")
    if "messages" not in obj:
        ctx.add("messages", "missing; every example needs a list of chat messages")
    elif not isinstance(messages, list) or not messages:
        ctx.add("messages", f"expected a non-empty list of messages, got {_describe(messages)}")
    else:
        for i, message in enumerate(messages):
            _check_message(message, f"messages[{i}]", ctx)
        _check_order(messages, ctx)
        if "chosen" in obj or "rejected" in obj:
            _check_dpo(obj, messages, ctx)
        elif needs_assistant and not any(_role(m) == "assistant" for m in messages):
            ctx.add("messages", "no assistant message; training data needs at least one (prompt files "
                                "are checked with needs_assistant=False, or `fathom data validate --prompts`)")
    return ctx.problems


def ensure_valid(example: Any, *, needs_assistant: bool = False) -> None:
    """Raise :class:`~fathom.errors.DataError` listing every problem when ``example`` is not valid.

    Converters call it before writing another format; prompt rows are allowed by default.
    """
    problems = validate_example(example, needs_assistant=needs_assistant)
    if problems:
        raise DataError(problems, title="not a valid Fathom example")


def _check_top_keys(obj: dict[str, Any], ctx: _Context) -> None:
    for key in obj:
        if key not in TOP_LEVEL_KEYS:
            hint = did_you_mean(key, TOP_LEVEL_KEYS)
            ctx.add(key, f"unknown field {key!r}. {hint + ' ' if hint else ''}Allowed: "
                         f"{', '.join(TOP_LEVEL_KEYS)} (put anything else under meta)")


def _check_meta(meta: Any, ctx: _Context) -> None:
    if meta is None:
        return
    if not isinstance(meta, dict):
        ctx.add("meta", f"expected an object, got {_describe(meta)}")
        return
    if "id" in meta and (isinstance(meta["id"], bool) or not isinstance(meta["id"], (str, int))):
        ctx.add("meta.id", f"expected a string or integer, got {_describe(meta['id'])}")
    if "source" in meta and meta["source"] is not None and not isinstance(meta["source"], str):
        ctx.add("meta.source", f"expected a string, got {_describe(meta['source'])}")


def _check_tools(obj: dict[str, Any], problems: list[Problem]) -> dict[str, dict[str, Any] | None] | None:
    tools = obj.get("tools")
    if tools is None:
        return None
    if not isinstance(tools, list):
        problems.append(Problem("tools", f"expected a list of tools, got {_describe(tools)}"))
        return None
    declared: dict[str, dict[str, Any] | None] = {}
    for i, tool in enumerate(tools):
        path = f"tools[{i}]"
        if not isinstance(tool, dict):
            problems.append(Problem(path, f"expected an object, got {_describe(tool)}"))
            continue
        if tool.get("type") != "function":
            problems.append(Problem(f"{path}.type", f"expected \"function\", got {_describe(tool.get('type'))}"))
        fn = tool.get("function")
        if not isinstance(fn, dict):
            problems.append(Problem(f"{path}.function", "expected an object with name, description, parameters, "
                                                        f"got {_describe(fn)}"))
            continue
        name = fn.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(Problem(f"{path}.function.name", f"expected a non-empty string, got {_describe(name)}"))
            continue
        if name in declared:
            problems.append(Problem(f"{path}.function.name", f"tool {name!r} is declared twice"))
        if "description" in fn and not isinstance(fn["description"], str):
            problems.append(Problem(f"{path}.function.description",
                                    f"expected a string, got {_describe(fn['description'])}"))
        declared[name] = _check_parameters(fn.get("parameters"), f"{path}.function.parameters", problems)
    return declared


def _check_parameters(params: Any, path: str, problems: list[Problem]) -> dict[str, Any] | None:
    if params is None:
        return None
    if not isinstance(params, dict):
        problems.append(Problem(path, f"expected a JSON Schema object, got {_describe(params)}"))
        return None
    if params.get("type", "object") != "object":
        problems.append(Problem(f"{path}.type", f"tool parameters must be an object schema (\"type\": "
                                                f"\"object\"), got {_describe(params.get('type'))}"))
        return None
    error = _schema_error(json.dumps(params, sort_keys=True))
    if error:
        problems.append(Problem(path, f"not a valid JSON Schema: {error}"))
        return None
    return params


@functools.lru_cache(maxsize=512)
def _schema_error(schema_json: str) -> str | None:
    """Why a JSON Schema is invalid, or None (memoised: files repeat the same tools on every line)."""
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import Draft202012Validator, validator_for

    schema = json.loads(schema_json)
    try:
        validator_for(schema, default=Draft202012Validator).check_schema(schema)
    except SchemaError as exc:
        return str(exc.message)
    return None


@functools.lru_cache(maxsize=512)
def _validator(schema_json: str) -> Any:
    """A validator for a (valid) schema, memoised like :func:`_schema_error`."""
    from jsonschema.validators import Draft202012Validator, validator_for

    schema = json.loads(schema_json)
    return validator_for(schema, default=Draft202012Validator)(schema)


def _check_message(message: Any, path: str, ctx: _Context) -> None:
    if not isinstance(message, dict):
        ctx.add(path, f"expected a message object, got {_describe(message)}")
        return
    role = message.get("role")
    if role not in ROLES:
        if "role" not in message:
            ctx.add(f"{path}.role", f"missing; use one of {', '.join(ROLES)}")
        else:
            hint = did_you_mean(role, ROLES) if isinstance(role, str) else ""
            ctx.add(f"{path}.role", f"unknown role {role!r}. {hint + ' ' if hint else ''}"
                                    f"Valid roles: {', '.join(ROLES)}")
        return
    for key in message:
        if key not in _MESSAGE_KEYS[role]:
            hint = did_you_mean(key, _MESSAGE_KEYS[role])
            ctx.add(f"{path}.{key}", f"unknown field in a {role} message. {hint + ' ' if hint else ''}"
                                     f"Allowed: {', '.join(_MESSAGE_KEYS[role])}")
    if "name" in message and not isinstance(message["name"], str):
        ctx.add(f"{path}.name", f"expected a string, got {_describe(message['name'])}")
    if role == "assistant":
        _check_assistant(message, path, ctx)
    else:
        _check_content(message, path, ctx, allow_empty=role == "tool")
    if role == "tool":
        tcid = message.get("tool_call_id")
        if not isinstance(tcid, str) or not tcid:
            ctx.add(f"{path}.tool_call_id", "expected the id of the tool call this result answers, "
                                            f"got {_describe(tcid)}")


def _check_content(message: dict[str, Any], path: str, ctx: _Context, *, allow_empty: bool) -> None:
    if "content" not in message:
        ctx.add(f"{path}.content", "missing; every message needs content (a string)")
        return
    content = message["content"]
    if not isinstance(content, str):
        hint = "; join text parts into one string" if isinstance(content, list) else ""
        ctx.add(f"{path}.content", f"expected a string, got {_describe(content)}{hint}")
    elif not allow_empty and not content.strip():
        ctx.add(f"{path}.content", "empty; a message must say something")


def _check_assistant(message: dict[str, Any], path: str, ctx: _Context) -> None:
    calls = message.get("tool_calls")
    if "weight" in message and message["weight"] not in (0, 1):
        ctx.add(f"{path}.weight", f"expected 0 or 1, got {_describe(message['weight'])}")
    if calls is not None:
        if not isinstance(calls, list) or not calls:
            ctx.add(f"{path}.tool_calls", f"expected a non-empty list of calls (omit the field when there are "
                                          f"none), got {_describe(calls)}")
        else:
            for j, call in enumerate(calls):
                _check_call(call, f"{path}.tool_calls[{j}]", ctx)
    if "content" not in message:
        ctx.add(f"{path}.content", "missing; use a string, or null when the assistant only calls tools")
        return
    content = message["content"]
    if content is not None and not isinstance(content, str):
        ctx.add(f"{path}.content", f"expected a string or null, got {_describe(content)}")
    elif not calls and not (content or "").strip():
        ctx.add(f"{path}.content", "empty assistant message: it has neither text nor tool calls")


def _check_call(call: Any, path: str, ctx: _Context) -> None:
    if not isinstance(call, dict):
        ctx.add(path, f"expected a tool call object {{id, type, function}}, got {_describe(call)}")
        return
    call_id = call.get("id")
    if not isinstance(call_id, str) or not call_id:
        ctx.add(f"{path}.id", f"expected a non-empty string, got {_describe(call_id)}")
    elif call_id in ctx.call_ids:
        ctx.add(f"{path}.id", f"duplicate tool call id {call_id!r} (first used at {ctx.call_ids[call_id]})")
    else:
        ctx.call_ids[call_id] = f"{path}.id"
    if call.get("type") != "function":
        ctx.add(f"{path}.type", f"expected \"function\", got {_describe(call.get('type'))}")
    fn = call.get("function")
    if not isinstance(fn, dict):
        ctx.add(f"{path}.function", f"expected an object {{name, arguments}}, got {_describe(fn)}")
        return
    name = fn.get("name")
    if not isinstance(name, str) or not name:
        ctx.add(f"{path}.function.name", f"expected a non-empty string, got {_describe(name)}")
    elif ctx.tools is not None and name not in ctx.tools:
        hint = did_you_mean(name, ctx.tools)
        declared = ", ".join(sorted(ctx.tools)) or "none"
        ctx.add(f"{path}.function.name", f"calls tool {name!r}, which is not in tools. "
                                         f"{hint + ' ' if hint else ''}Declared: {declared}")
    args = _check_arguments(fn, f"{path}.function.arguments", ctx)
    if args is not None and isinstance(name, str) and ctx.tools and ctx.tools.get(name):
        _check_against_schema(args, ctx.tools[name] or {}, name, f"{path}.function.arguments", ctx)


def _check_arguments(fn: dict[str, Any], path: str, ctx: _Context) -> dict[str, Any] | None:
    if "arguments" not in fn:
        ctx.add(path, "missing; use a JSON string such as \"{}\"")
        return None
    args = fn["arguments"]
    if not isinstance(args, str):
        ctx.add(path, f"expected a JSON string, got {_describe(args)}; encode it with json.dumps")
        return None
    try:
        value = json.loads(args)
    except json.JSONDecodeError as exc:
        ctx.add(path, f"not valid JSON ({exc.msg}, column {exc.colno}): {_preview(args)}")
        return None
    if not isinstance(value, dict):
        ctx.add(path, f"must decode to a JSON object, got {_describe(value)}")
        return None
    return value


def _check_against_schema(args: dict[str, Any], schema: dict[str, Any], name: str, path: str,
                          ctx: _Context) -> None:
    validator = _validator(json.dumps(schema, sort_keys=True))
    for error in sorted(validator.iter_errors(args), key=lambda e: list(e.absolute_path)):
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        ctx.add(path, f"does not fit the parameters of tool {name!r}: {error.message}"
                      + (f" (at {where.lstrip('.')})" if where else ""))


def _check_order(messages: list[Any], ctx: _Context) -> None:
    seen_user = False
    systems = 0
    pending: dict[str, int] = {}  # call id -> index of the assistant message awaiting its result
    issued: set[str] = set()
    answered: set[str] = set()
    for i, message in enumerate(messages):
        role = _role(message)
        path = f"messages[{i}]"
        if role == "system":
            systems += 1
            if systems > 1:
                ctx.add(path, "a second system message; merge it into the first one")
            elif i != 0:
                ctx.add(path, f"the system message must come first, found at position {i}")
        elif role == "user":
            seen_user = True
        elif role == "assistant" and not seen_user:
            ctx.add(path, "assistant message before any user message; a conversation starts with a user "
                          "turn (after an optional system message)")
        if role == "tool":
            _check_tool_result(message, path, pending, issued, answered, ctx)
            continue
        _report_unanswered(pending, path, ctx)
        pending = {}
        if role == "assistant":
            for call in message.get("tool_calls") or []:
                if isinstance(call, dict) and isinstance(call.get("id"), str):
                    pending[call["id"]] = i
                    issued.add(call["id"])


def _check_tool_result(message: dict[str, Any], path: str, pending: dict[str, int], issued: set[str],
                       answered: set[str], ctx: _Context) -> None:
    tcid = message.get("tool_call_id")
    if not isinstance(tcid, str) or not tcid:
        return  # reported by _check_message
    if tcid in pending:
        del pending[tcid]
        answered.add(tcid)
    elif tcid in answered:
        ctx.add(f"{path}.tool_call_id", f"tool call {tcid!r} already has a result")
    elif tcid in issued:
        ctx.add(f"{path}.tool_call_id", f"the result of tool call {tcid!r} must come right after the assistant "
                                        "message that made the call (with the other results)")
    else:
        waiting = ", ".join(repr(k) for k in pending) or "none"
        ctx.add(f"{path}.tool_call_id", f"no preceding assistant tool call has id {tcid!r} "
                                        f"(calls awaiting a result: {waiting})")


def _report_unanswered(pending: dict[str, int], before: str, ctx: _Context) -> None:
    if pending:
        ids = ", ".join(repr(k) for k in pending)
        ctx.add(f"messages[{next(iter(pending.values()))}].tool_calls",
                f"tool call(s) {ids} get no tool result before {before}")


def _check_dpo(obj: dict[str, Any], messages: list[Any], ctx: _Context) -> None:
    if _role(messages[-1]) not in ("user", "tool"):
        ctx.add(f"messages[{len(messages) - 1}]", "a DPO prompt must end with a user or tool message; "
                                                  "the answers belong in chosen and rejected")
    prompt_ids = dict(ctx.call_ids)
    for key in ("chosen", "rejected"):
        answer = obj.get(key)
        if key not in obj:
            ctx.add(key, "missing; a DPO row needs both chosen and rejected assistant messages")
            continue
        if not isinstance(answer, dict) or answer.get("role") != "assistant":
            ctx.add(key, f"expected an assistant message {{role: \"assistant\", content, tool_calls?}}, "
                         f"got {_describe(answer)}")
            continue
        ctx.call_ids = dict(prompt_ids)  # chosen and rejected are alternatives: ids may repeat across them
        _check_message(answer, key, ctx)
    if isinstance(obj.get("chosen"), dict) and obj.get("chosen") == obj.get("rejected"):
        ctx.add("rejected", "identical to chosen; a preference pair needs two different answers")


def _role(message: Any) -> Any:
    return message.get("role") if isinstance(message, dict) else None


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return f"{type(value).__name__} {_preview(json.dumps(value, ensure_ascii=False, default=str))}"
    return f"{type(value).__name__} {_preview(repr(value))}"


def _preview(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."

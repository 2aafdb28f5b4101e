"""Fathom examples to and from ShareGPT rows (LLaMA-Factory's tool-calling flavour).

A ShareGPT row is ``{"conversations": [{"from": ..., "value": ...}], "tools": "<JSON string>"}``:

* ``system``, ``human`` and ``gpt`` turns carry text;
* an assistant's tool calls become one ``function_call`` turn whose value is the JSON of
  ``{"id", "name", "arguments": {...}}`` (a list of them for parallel calls); ``id`` is a Fathom
  addition that LLaMA-Factory ignores and that keeps the round trip exact;
* each tool result becomes an ``observation`` turn; on reading, observations answer the
  pending calls of the last ``function_call`` turn in order;
* an assistant message with both text and calls becomes a ``gpt`` turn followed by a
  ``function_call`` turn; reading merges such a pair back into one message;
* ``tools`` is a JSON string holding the list of function schemas (``{name, description,
  parameters}``); reading also accepts a list and OpenAI-wrapped tools;
* ``meta`` and ``reference`` stay as top-level keys (unless ``keep_extra=False``); a DPO
  row's ``chosen`` and ``rejected`` become single turns ``{"from": "gpt" | "function_call", "value": ...}``.

Message ``name``/``weight``, tool ``strict`` and ``parallel_tool_calls`` have no ShareGPT form
and are dropped (:mod:`fathom.datasets._lossy`); an assistant turn with ``weight: 0`` is refused.

Reading accepts the aliases ``user``, ``assistant`` and ``tool``, and a top-level ``system``
string. Calls without an ``id`` get ``call_<turn>_<k>``.

Covers: :func:`to_sharegpt`, :func:`from_sharegpt` and the problem-returning cores. Not covered:
ShareGPT variants with ``role``/``content`` keys (they are OpenAI messages already).
"""

from __future__ import annotations

import json
from typing import Any

from fathom.datasets._lossy import weight_problems
from fathom.datasets._messages import is_dpo
from fathom.datasets._schema import ensure_valid
from fathom.errors import DataError, Problem

__all__ = ["from_sharegpt", "sharegpt_to_example", "to_sharegpt"]

_FROM = {"system": "system", "human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
         "function_call": "function_call", "observation": "tool", "tool": "tool"}
_EXTRA_KEYS = ("meta", "reference")


def to_sharegpt(example: dict[str, Any], *, keep_extra: bool = True) -> dict[str, Any]:
    """Convert a valid Fathom example (or DPO row) to a ShareGPT row.

    Args:
        example: a Fathom example that passes :func:`~fathom.datasets.validate_example`.
        keep_extra: keep ``meta`` and ``reference`` as top-level keys.

    Returns:
        The ShareGPT row.

    Raises:
        DataError: the example is not valid, or a DPO answer holds both text and tool calls (a
            ShareGPT answer is one turn).

    >>> to_sharegpt({"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]})
    {'conversations': [{'from': 'human', 'value': 'Hi'}, {'from': 'gpt', 'value': 'Hello'}]}
    """
    ensure_valid(example)
    row, problems = example_to_sharegpt(example, keep_extra=keep_extra)
    if problems:
        raise DataError(problems, title="cannot write this example as ShareGPT")
    return row


def from_sharegpt(row: dict[str, Any]) -> dict[str, Any]:
    """Convert a ShareGPT row to a Fathom example (or DPO row).

    The result is not validated; :func:`~fathom.datasets.validate_example` does that.

    Raises:
        DataError: unknown turn kinds, unparsable function calls, observations with no call.
    """
    example, problems = sharegpt_to_example(row)
    if problems:
        raise DataError(problems, title="cannot read this ShareGPT row")
    return example


def example_to_sharegpt(example: dict[str, Any], *, keep_extra: bool = True) -> tuple[dict[str, Any], list[Problem]]:
    """The ShareGPT form of a valid Fathom example, and problems that kept it from converting."""
    problems = weight_problems(example, "ShareGPT")
    turns: list[dict[str, Any]] = []
    for message in example["messages"]:
        turns.extend(_turns(message))
    row: dict[str, Any] = {"conversations": turns}
    if example.get("tools") is not None:
        row["tools"] = json.dumps([t["function"] for t in example["tools"]], ensure_ascii=False)
    if is_dpo(example):
        for key in ("chosen", "rejected"):
            answer = _turns(example[key])
            if len(answer) != 1:
                problems.append(Problem(key, "a ShareGPT preference answer is one turn: text or tool calls, "
                                             "not both"))
            else:
                row[key] = answer[0]
    if keep_extra:
        row.update({k: example[k] for k in _EXTRA_KEYS if k in example})
    return row, problems


def _turns(message: dict[str, Any]) -> list[dict[str, Any]]:
    role = message["role"]
    if role == "tool":
        return [{"from": "observation", "value": message["content"]}]
    if role != "assistant":
        return [{"from": "human" if role == "user" else "system", "value": message["content"]}]
    turns = [{"from": "gpt", "value": message["content"]}] if message.get("content") else []
    calls = [{"id": c["id"], "name": c["function"]["name"], "arguments": json.loads(c["function"]["arguments"])}
             for c in message.get("tool_calls") or []]
    if calls:
        value = calls[0] if len(calls) == 1 else calls
        turns.append({"from": "function_call", "value": json.dumps(value, ensure_ascii=False)})
    return turns


def sharegpt_to_example(row: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """The Fathom form of a ShareGPT row, and the problems that kept parts of it from converting."""
    problems: list[Problem] = []
    messages: list[dict[str, Any]] = []
    example: dict[str, Any] = {"messages": messages}
    if isinstance(row.get("system"), str) and row["system"]:
        messages.append({"role": "system", "content": row["system"]})
    tools = _read_tools(row.get("tools"), problems)
    if tools is not None:
        example["tools"] = tools
    turns = row.get("conversations")
    if not isinstance(turns, list) or not turns:
        problems.append(Problem("conversations", "expected a non-empty list of {from, value} turns"))
        return example, problems
    pending: list[str] = []
    for i, turn in enumerate(turns):
        pending = _read_turn(turn, i, f"conversations[{i}]", messages, pending, problems)
    if is_dpo(row):
        for key in ("chosen", "rejected"):
            answer: list[dict[str, Any]] = []
            _read_turn(row.get(key), 0, key, answer, [], problems, id_prefix=f"{key}_")
            if len(answer) == 1 and answer[0]["role"] == "assistant":
                example[key] = answer[0]
            else:
                problems.append(Problem(key, "expected one gpt or function_call turn"))
    example.update({k: row[k] for k in _EXTRA_KEYS if k in row})
    return example, problems


def _read_turn(turn: Any, index: int, path: str, messages: list[dict[str, Any]], pending: list[str],
               problems: list[Problem], id_prefix: str = "") -> list[str]:
    kind = _FROM.get(str(turn.get("from"))) if isinstance(turn, dict) else None
    value = turn.get("value") if isinstance(turn, dict) else None
    if kind is None or not isinstance(value, str):
        problems.append(Problem(path, "expected {\"from\": human|gpt|system|function_call|observation, "
                                      f"\"value\": string}}, got {json.dumps(turn, ensure_ascii=False)[:80]}"))
        return pending
    if kind == "tool":
        if not pending:
            problems.append(Problem(path, "an observation with no unanswered function_call before it"))
            return pending
        messages.append({"role": "tool", "tool_call_id": pending[0], "content": value})
        return pending[1:]
    if kind != "function_call":
        messages.append({"role": kind, "content": value})
        return []
    calls = _read_calls(value, f"{path}.value", f"call_{id_prefix}{index}", problems)
    last = messages[-1] if messages else None
    if last and last["role"] == "assistant" and "tool_calls" not in last and last["content"]:
        last["tool_calls"] = calls  # a gpt turn followed by its function_call: one message
    else:
        messages.append({"role": "assistant", "content": None, "tool_calls": calls})
    return [c["id"] for c in calls]


def _read_calls(value: str, path: str, id_stem: str, problems: list[Problem]) -> list[dict[str, Any]]:
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        problems.append(Problem(path, f"function_call value is not valid JSON ({exc.msg})"))
        return []
    items = parsed if isinstance(parsed, list) else [parsed]
    calls = []
    for k, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            problems.append(Problem(path, "expected {\"name\": ..., \"arguments\": {...}} (or a list of them)"))
            continue
        args = item.get("arguments", {})
        args_text = args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)
        calls.append({"id": str(item.get("id") or f"{id_stem}_{k}"), "type": "function",
                      "function": {"name": item["name"], "arguments": args_text}})
    return calls


def _read_tools(tools: Any, problems: list[Problem]) -> list[dict[str, Any]] | None:
    if tools is None or tools == "":
        return None
    if isinstance(tools, str):
        try:
            tools = json.loads(tools)
        except json.JSONDecodeError as exc:
            problems.append(Problem("tools", f"not valid JSON ({exc.msg}); expected a JSON list of functions"))
            return None
    if not isinstance(tools, list):
        problems.append(Problem("tools", "expected a list of function schemas"))
        return None
    return [t if isinstance(t, dict) and t.get("type") == "function" and "function" in t
            else {"type": "function", "function": t} for t in tools]

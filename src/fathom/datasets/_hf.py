"""Fathom examples to and from Hugging Face ``datasets.Dataset`` objects.

:func:`to_hf_dataset` produces what TRL and ``tokenizer.apply_chat_template(messages, tools=...)``
expect: tool-call ``arguments`` as dicts, not JSON strings, and a ``tools`` column.

* Chat examples give columns ``messages`` and ``tools``.
* DPO rows give TRL's conversational preference columns ``prompt`` (messages), ``chosen`` and
  ``rejected`` (each a one-message list) and ``tools``.
* ``meta``, ``reference`` and ``parallel_tool_calls`` get a column when any example has them.

Messages, tools, ``meta`` and ``reference`` are stored with the ``datasets.Json`` feature, so
rows keep exactly their own keys (a struct column would give every message every key, padded
with nulls). Fields that are absent come back absent; a field explicitly ``null`` comes back
absent too.

:func:`from_hf_dataset` reverses this and also reads datasets built elsewhere with struct
columns: null-padded message keys are dropped and dict arguments are re-encoded with
``json.dumps``.

Covers: the two converters. Not covered: tokenisation and chat templates (``fathom.models``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from fathom.datasets._messages import is_dpo
from fathom.datasets._schema import validate_example
from fathom.errors import DataError, Problem

if TYPE_CHECKING:
    import datasets

__all__ = ["from_hf_dataset", "to_hf_dataset"]

_EXTRA_COLUMNS = ("meta", "reference", "parallel_tool_calls")
_OPTIONAL_MESSAGE_KEYS = ("tool_calls", "tool_call_id", "name", "weight")


def to_hf_dataset(examples: Iterable[dict[str, Any]]) -> datasets.Dataset:
    """Build a ``datasets.Dataset`` from valid Fathom examples (all chat rows or all DPO rows).

    Raises:
        DataError: some examples are not valid (every problem is listed, ``row N`` 0-based), or
            chat examples and DPO rows are mixed.
    """
    from datasets import Dataset, Features, Json, List

    rows = list(examples)
    problems = [Problem(f"row {i}" + (f" {p.where}" if p.where else ""), p.message)
                for i, row in enumerate(rows) for p in validate_example(row, needs_assistant=False)]
    if problems:
        raise DataError(problems, title="cannot build a dataset from invalid examples")
    kinds = {is_dpo(r) for r in rows}
    if len(kinds) > 1:
        raise DataError(["chat examples and DPO rows (chosen/rejected) are mixed; split them into two datasets"])
    dpo = kinds == {True}
    message_columns = ("prompt", "chosen", "rejected") if dpo else ("messages",)
    extras = [k for k in _EXTRA_COLUMNS if any(k in r for r in rows)]
    features = Features({**{c: List(Json()) for c in message_columns}, "tools": List(Json()),
                         **{k: Json() for k in extras}})
    columns: dict[str, list[Any]] = {c: [] for c in features}
    for row in rows:
        if dpo:
            columns["prompt"].append(_encode_messages(row["messages"]))
            columns["chosen"].append(_encode_messages([row["chosen"]]))
            columns["rejected"].append(_encode_messages([row["rejected"]]))
        else:
            columns["messages"].append(_encode_messages(row["messages"]))
        tools = row.get("tools")
        columns["tools"].append(None if tools is None else [json.dumps(t, ensure_ascii=False) for t in tools])
        for key in extras:
            # pre-encoded: Json() keeps a valid JSON string as is, so a string like "42" stays a string
            columns[key].append(json.dumps(row[key], ensure_ascii=False) if row.get(key) is not None else None)
    return Dataset.from_dict(columns, features=features)


def _encode_messages(messages: list[dict[str, Any]]) -> list[str]:
    out = []
    for message in messages:
        message = dict(message)
        if message.get("tool_calls"):
            message["tool_calls"] = [
                {**call, "function": {**call["function"], "arguments": json.loads(call["function"]["arguments"])}}
                for call in message["tool_calls"]]
        out.append(json.dumps(message, ensure_ascii=False))
    return out


def from_hf_dataset(ds: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Read Fathom examples back from a dataset (or any iterable of row dicts).

    Rows with ``messages`` become chat examples; rows with ``prompt``, ``chosen`` and ``rejected``
    become DPO rows.

    Raises:
        DataError: listing every row that has neither shape, or whose chosen/rejected is not one
            assistant message.
    """
    examples: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for i, row in enumerate(ds):
        where = f"row {i}"
        if row.get("messages") is not None:
            example: dict[str, Any] = {"messages": [_decode_message(m) for m in row["messages"]]}
        elif all(row.get(k) is not None for k in ("prompt", "chosen", "rejected")):
            example = {"messages": [_decode_message(m) for m in row["prompt"]]}
            for key in ("chosen", "rejected"):
                answer = row[key]
                if not (isinstance(answer, list) and len(answer) == 1):
                    problems.append(Problem(f"{where} {key}", "expected a list holding one assistant message"))
                    continue
                example[key] = _decode_message(answer[0])
        else:
            problems.append(Problem(where, f"expected a messages column or prompt/chosen/rejected columns, "
                                           f"got {sorted(row)}"))
            continue
        if row.get("tools") is not None:
            example["tools"] = list(row["tools"])
        example.update({k: row[k] for k in _EXTRA_COLUMNS if row.get(k) is not None})
        examples.append(example)
    if problems:
        raise DataError(problems, title="cannot read these rows as Fathom examples")
    return examples


def _decode_message(message: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in message.items() if not (k in _OPTIONAL_MESSAGE_KEYS and v is None)}
    if out.get("tool_calls"):
        out["tool_calls"] = [_decode_call(c) for c in out["tool_calls"]]
    return out


def _decode_call(call: dict[str, Any]) -> dict[str, Any]:
    fn = dict(call.get("function") or {})
    if not isinstance(fn.get("arguments"), str):
        fn["arguments"] = json.dumps(fn.get("arguments") or {}, ensure_ascii=False)
    return {**call, "function": fn}

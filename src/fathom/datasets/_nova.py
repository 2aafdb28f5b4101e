"""Fathom examples to and from Amazon Nova ``bedrock-conversation-2024`` rows (SFT and DPO shapes).

Mapping (Fathom -> Nova):

* the system message -> ``system: [{text}]``; ``tools`` -> ``toolConfig.tools[].toolSpec{name,
  description, inputSchema.json}`` (a tool without parameters gets an empty object schema);
* user text -> a ``text`` block; assistant text -> a ``text`` block, its tool calls ->
  ``toolUse{toolUseId, name, input}`` blocks (``input`` is the decoded arguments object);
* tool results -> ``toolResult{toolUseId, content: [{text}]}`` blocks in a *user* turn;
* consecutive turns with the same role are merged, so roles alternate;
* a DPO row's ``chosen``/``rejected`` -> a last assistant message
  ``candidates: [{content, preferenceLabel: "preferred"}, {..., "non-preferred"}]``.

Nova has no place for ``meta`` and ``reference``: they are dropped unless ``keep_extra=True``,
which writes them as extra top-level keys (Fathom reads them back; Bedrock may reject them).
Message ``name``/``weight``, tool ``strict`` and ``parallel_tool_calls`` are dropped too
(:mod:`fathom.datasets._lossy`); an assistant turn with ``weight: 0`` is refused.

Reading maps back: each ``text`` block becomes its own message, ``toolUse`` blocks attach to the
assistant message before them, ``toolResult`` ``json`` content is serialised with ``json.dumps``.
Media blocks and ``reasoningContent`` have no Fathom form and are reported as problems.

Covers: :func:`to_nova`, :func:`from_nova` and their problem-returning cores used by file
conversion. Not covered: the Nova rules themselves (:mod:`fathom.datasets._nova_rules`).
"""

from __future__ import annotations

import json
from typing import Any

from fathom.datasets._lossy import weight_problems
from fathom.datasets._messages import is_dpo
from fathom.datasets._nova_rules import validate_nova
from fathom.datasets._schema import ensure_valid
from fathom.errors import DataError, Problem

__all__ = ["NOVA_SCHEMA_VERSION", "from_nova", "nova_to_example", "to_nova"]

NOVA_SCHEMA_VERSION = "bedrock-conversation-2024"
_EXTRA_KEYS = ("meta", "reference")
_MEDIA = ("image", "video", "document")


def to_nova(example: dict[str, Any], *, keep_extra: bool = False) -> dict[str, Any]:
    """Convert a valid Fathom example (or DPO row) to a Nova row, checking the Nova rules.

    Args:
        example: a Fathom example that passes :func:`~fathom.datasets.validate_example`.
        keep_extra: also write ``meta`` and ``reference`` as top-level keys.

    Returns:
        The Nova row.

    Raises:
        DataError: the example is not valid, or the row breaks a Nova rule (roles must alternate
            and end with the assistant, tools must be declared with a description, banned
            strings, ...); every problem is listed.

    >>> row = to_nova({"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]})
    >>> row["schemaVersion"], row["messages"][1]
    ('bedrock-conversation-2024', {'role': 'assistant', 'content': [{'text': 'Hello'}]})
    """
    ensure_valid(example)
    row = example_to_nova(example, keep_extra=keep_extra)
    problems = weight_problems(example, "Nova") + validate_nova(row)
    if problems:
        raise DataError(problems, title="this example breaks Amazon Nova's rules")
    return row


def from_nova(row: dict[str, Any]) -> dict[str, Any]:
    """Convert a Nova SFT or DPO row to a Fathom example (or DPO row).

    The result is not validated; :func:`~fathom.datasets.validate_example` does that.

    Raises:
        DataError: the row uses something Fathom cannot hold (media, reasoning) or is malformed.
    """
    example, problems = nova_to_example(row)
    if problems:
        raise DataError(problems, title="cannot read this Nova row")
    return example


def example_to_nova(example: dict[str, Any], *, keep_extra: bool = False) -> dict[str, Any]:
    """The Nova form of a valid Fathom example, without checking the Nova rules."""
    row: dict[str, Any] = {"schemaVersion": NOVA_SCHEMA_VERSION}
    messages = example["messages"]
    systems = [m["content"] for m in messages if m["role"] == "system"]
    if systems:
        row["system"] = [{"text": text} for text in systems]
    if example.get("tools") is not None:
        row["toolConfig"] = {"tools": [_tool_spec(t["function"]) for t in example["tools"]]}
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message["role"] != "system":
            _append(turns, "assistant" if message["role"] == "assistant" else "user", _blocks(message))
    if is_dpo(example):
        turns.append({"role": "assistant", "candidates": [
            {"content": _blocks(example["chosen"]), "preferenceLabel": "preferred"},
            {"content": _blocks(example["rejected"]), "preferenceLabel": "non-preferred"}]})
    row["messages"] = turns
    if keep_extra:
        row.update({k: example[k] for k in _EXTRA_KEYS if k in example})
    return row


def _tool_spec(fn: dict[str, Any]) -> dict[str, Any]:
    schema = fn.get("parameters") or {"type": "object", "properties": {}}
    return {"toolSpec": {"name": fn["name"], "description": fn.get("description", ""),
                         "inputSchema": {"json": schema}}}


def _blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    if message["role"] == "tool":
        return [{"toolResult": {"toolUseId": message["tool_call_id"], "content": [{"text": message["content"]}]}}]
    blocks: list[dict[str, Any]] = [{"text": message["content"]}] if message.get("content") else []
    for call in message.get("tool_calls") or []:
        fn = call["function"]
        blocks.append({"toolUse": {"toolUseId": call["id"], "name": fn["name"], "input": json.loads(fn["arguments"])}})
    return blocks


def _append(turns: list[dict[str, Any]], role: str, blocks: list[dict[str, Any]]) -> None:
    if turns and turns[-1]["role"] == role:
        turns[-1]["content"].extend(blocks)
    else:
        turns.append({"role": role, "content": list(blocks)})


def nova_to_example(row: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """The Fathom form of a Nova row, and the problems that kept parts of it from converting."""
    problems: list[Problem] = []
    messages: list[dict[str, Any]] = []
    example: dict[str, Any] = {"messages": messages}
    system = row.get("system")
    if system:
        if isinstance(system, list) and all(isinstance(s, dict) and isinstance(s.get("text"), str) for s in system):
            messages.append({"role": "system", "content": "\n".join(s["text"] for s in system)})
        else:
            problems.append(Problem("system", "expected a list of {\"text\": ...} objects"))
    tools = _read_tool_config(row.get("toolConfig"), problems)
    if tools is not None:
        example["tools"] = tools
    turns = row.get("messages")
    if not isinstance(turns, list) or not turns:
        problems.append(Problem("messages", "expected a non-empty list of turns"))
        return example, problems
    for i, turn in enumerate(turns):
        path = f"messages[{i}]"
        if isinstance(turn, dict) and "candidates" in turn:
            if i != len(turns) - 1:
                problems.append(Problem(path, "only the last message may hold candidates"))
            else:
                _read_candidates(turn["candidates"], f"{path}.candidates", example, problems)
            continue
        if not isinstance(turn, dict) or not isinstance(turn.get("content"), list):
            problems.append(Problem(path, "expected {\"role\": ..., \"content\": [blocks]}"))
            continue
        messages.extend(_turn_messages(turn, path, problems))
    example.update({k: row[k] for k in _EXTRA_KEYS if k in row})
    return example, problems


def _read_tool_config(config: Any, problems: list[Problem]) -> list[dict[str, Any]] | None:
    if config is None:
        return None
    specs = config.get("tools") if isinstance(config, dict) else None
    if not isinstance(specs, list):
        problems.append(Problem("toolConfig.tools", "expected a list of {\"toolSpec\": ...} objects"))
        return None
    tools = []
    for i, item in enumerate(specs):
        spec = item.get("toolSpec") if isinstance(item, dict) else None
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            problems.append(Problem(f"toolConfig.tools[{i}].toolSpec", "expected {name, description, inputSchema}"))
            continue
        fn: dict[str, Any] = {"name": spec["name"]}
        if spec.get("description") is not None:
            fn["description"] = spec["description"]
        schema = spec.get("inputSchema", {})
        if isinstance(schema, dict) and "json" in schema:
            fn["parameters"] = schema["json"]
        tools.append({"type": "function", "function": fn})
    return tools


def _turn_messages(turn: dict[str, Any], path: str, problems: list[Problem]) -> list[dict[str, Any]]:
    role = turn.get("role")
    if role not in ("user", "assistant"):
        problems.append(Problem(f"{path}.role", f"expected \"user\" or \"assistant\", got {role!r}"))
        return []
    out: list[dict[str, Any]] = []
    for j, block in enumerate(turn["content"]):
        where = f"{path}.content[{j}]"
        kind = _block_kind(block, where, problems)
        if kind == "text":
            out.append({"role": role, "content": block["text"]})
        elif kind == "toolUse" and role == "assistant":
            _attach_call(out, block["toolUse"], f"{where}.toolUse", problems)
        elif kind == "toolResult" and role == "user":
            out.append(_tool_message(block["toolResult"], f"{where}.toolResult", problems))
        elif kind in ("toolUse", "toolResult"):
            problems.append(Problem(where, f"a {kind} block cannot appear in a {role} turn"))
    return out


def _block_kind(block: Any, where: str, problems: list[Problem]) -> str | None:
    if not isinstance(block, dict) or len(block) != 1:
        problems.append(Problem(where, "expected a content block with exactly one of text, toolUse, toolResult"))
        return None
    kind = str(next(iter(block)))
    if kind in _MEDIA or kind == "reasoningContent":
        problems.append(Problem(f"{where}.{kind}", f"Fathom examples are text only; {kind} blocks cannot be "
                                                   "converted (drop them first)"))
        return None
    if kind == "text" and isinstance(block["text"], str):
        return kind
    if kind in ("toolUse", "toolResult") and isinstance(block[kind], dict):
        return kind
    problems.append(Problem(f"{where}.{kind}", "unknown or malformed content block; expected text (a string), "
                                               "toolUse or toolResult (objects)"))
    return None


def _attach_call(out: list[dict[str, Any]], use: dict[str, Any], where: str, problems: list[Problem]) -> None:
    if not isinstance(use.get("toolUseId"), str) or not isinstance(use.get("name"), str):
        problems.append(Problem(where, "expected toolUseId and name strings"))
        return
    call = {"id": use["toolUseId"], "type": "function",
            "function": {"name": use["name"], "arguments": json.dumps(use.get("input", {}), ensure_ascii=False)}}
    if out and out[-1]["role"] == "assistant":
        out[-1].setdefault("tool_calls", []).append(call)
    else:
        out.append({"role": "assistant", "content": None, "tool_calls": [call]})


def _tool_message(result: dict[str, Any], where: str, problems: list[Problem]) -> dict[str, Any]:
    parts = []
    for k, item in enumerate(result.get("content") or []):
        if isinstance(item, dict) and isinstance(item.get("text"), str):
            parts.append(item["text"])
        elif isinstance(item, dict) and "json" in item:
            parts.append(json.dumps(item["json"], ensure_ascii=False))
        else:
            problems.append(Problem(f"{where}.content[{k}]", "expected {\"text\": ...} or {\"json\": ...}"))
    return {"role": "tool", "tool_call_id": result.get("toolUseId"), "content": "\n".join(parts)}


def _read_candidates(candidates: Any, path: str, example: dict[str, Any], problems: list[Problem]) -> None:
    by_label: dict[str, list[tuple[int, Any]]] = {"preferred": [], "non-preferred": []}
    for k, cand in enumerate(candidates if isinstance(candidates, list) else []):
        label = cand.get("preferenceLabel") if isinstance(cand, dict) else None
        if label in by_label:
            by_label[label].append((k, cand))
        else:
            problems.append(Problem(f"{path}[{k}].preferenceLabel", f"expected \"preferred\" or \"non-preferred\", "
                                                                    f"got {label!r}"))
    for key, label in (("chosen", "preferred"), ("rejected", "non-preferred")):
        found = by_label[label]
        if len(found) != 1:
            problems.append(Problem(path, f"a Fathom DPO row takes exactly one {label} candidate, found {len(found)}"))
            continue
        k, cand = found[0]
        where = f"{path}[{k}]"
        content = cand.get("content")
        messages = _turn_messages({"role": "assistant", "content": content}, where, problems) \
            if isinstance(content, list) else []
        if len(messages) != 1:
            problems.append(Problem(f"{where}.content", "expected blocks that form one assistant message (text "
                                                        f"first, then toolUse blocks), got {len(messages)}"))
            continue
        example[key] = messages[0]

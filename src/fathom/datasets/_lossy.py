"""What a Fathom example loses when written as Nova or ShareGPT, which have fewer fields.

Nova and ShareGPT have no place for a message's ``name`` or ``weight``, a tool's ``strict`` flag
or a row's ``parallel_tool_calls``. Converters drop them and report which (see
:class:`~fathom.datasets.ConversionReport`), except an assistant turn with ``weight: 0`` (not
trained on): dropping that weight would train on the turn, so it is a problem instead.

Covers: :func:`dropped_fields`, :func:`weight_problems`. Not covered: ``meta``/``reference``, which
the converters handle with ``keep_extra``.
"""

from __future__ import annotations

from typing import Any

from fathom.errors import Problem

__all__ = ["dropped_fields", "weight_problems"]


def _messages(example: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = [(f"messages[{i}]", m) for i, m in enumerate(example.get("messages") or []) if isinstance(m, dict)]
    out += [(key, example[key]) for key in ("chosen", "rejected") if isinstance(example.get(key), dict)]
    return out


def dropped_fields(example: dict[str, Any]) -> list[str]:
    """Fields of a valid example that Nova and ShareGPT cannot hold, as generic paths.

    >>> dropped_fields({"messages": [{"role": "user", "content": "Hi", "name": "ann"}], "parallel_tool_calls": False})
    ['messages[].name', 'parallel_tool_calls']
    """
    found = {"parallel_tool_calls"} if "parallel_tool_calls" in example else set()
    for tool in example.get("tools") or []:
        if "strict" in (tool.get("function") or {}):
            found.add("tools[].function.strict")
    for _, message in _messages(example):
        found.update(f"messages[].{key}" for key in ("name", "weight") if key in message)
    return sorted(found)


def weight_problems(example: dict[str, Any], target: str) -> list[Problem]:
    """A problem for each assistant turn marked ``weight: 0``, which ``target`` cannot express."""
    return [Problem(f"{path}.weight", f"weight 0 (a turn not trained on) has no {target} form; remove the turn "
                                      "or convert to fathom/openai")
            for path, message in _messages(example) if message.get("weight") == 0]

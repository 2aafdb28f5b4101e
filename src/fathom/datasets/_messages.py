"""Small helpers over one Fathom example: its prompt, its target, its identity.

Covers: :func:`prompt_messages` and :func:`final_assistant` (what a model is asked and what it
should answer), :func:`is_dpo` (preference rows), :func:`example_id`, :func:`content_hash` and
:func:`prompt_key` (a normalised form used for grouping and leakage checks), :func:`get_path`.
Not covered: validation (:mod:`fathom.datasets._schema`) and file I/O (:mod:`fathom.datasets._io`).

A *DPO row* is a Fathom example whose ``messages`` are the prompt and which carries two assistant
messages, ``chosen`` and ``rejected``::

    {"messages": [{"role": "user", "content": "Hi"}],
     "chosen": {"role": "assistant", "content": "Hello!"},
     "rejected": {"role": "assistant", "content": "Go away."}}
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

__all__ = ["content_hash", "example_id", "final_assistant", "get_path", "is_dpo", "prompt_key",
           "prompt_messages"]

_MISSING = object()


def is_dpo(example: dict[str, Any]) -> bool:
    """True for a preference row (it has ``chosen`` or ``rejected``).

    >>> is_dpo({"messages": [], "chosen": {"role": "assistant", "content": "a"}})
    True
    """
    return "chosen" in example or "rejected" in example


def prompt_messages(example: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages a model sees before it answers.

    That is every message before the final assistant message when the conversation ends with
    one, and all messages otherwise (a prompt file row, or a DPO row whose ``messages`` are
    the prompt).

    >>> ex = {"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]}
    >>> prompt_messages(ex)
    [{'role': 'user', 'content': '2+2?'}]
    >>> prompt_messages({"messages": [{"role": "user", "content": "2+2?"}]})
    [{'role': 'user', 'content': '2+2?'}]
    """
    messages = list(example.get("messages") or [])
    if not is_dpo(example) and messages and _role(messages[-1]) == "assistant":
        return messages[:-1]
    return messages


def final_assistant(example: dict[str, Any]) -> dict[str, Any] | None:
    """The answer the model should give: the last message when it is an assistant message.

    For a DPO row this is ``chosen``. ``None`` when there is no such message.

    >>> final_assistant({"messages": [{"role": "user", "content": "2+2?"},
    ...                               {"role": "assistant", "content": "4"}]})
    {'role': 'assistant', 'content': '4'}
    >>> final_assistant({"messages": [{"role": "user", "content": "2+2?"}]}) is None
    True
    """
    if is_dpo(example):
        chosen = example.get("chosen")
        return chosen if isinstance(chosen, dict) else None
    messages = example.get("messages") or []
    if messages and _role(messages[-1]) == "assistant":
        last: dict[str, Any] = messages[-1]
        return last
    return None


def get_path(obj: Any, dotted: str, default: Any = None) -> Any:
    """Look up ``"a.b.c"`` in nested dicts; ``default`` when any step is missing.

    >>> get_path({"meta": {"source": "doc-1"}}, "meta.source")
    'doc-1'
    >>> get_path({"meta": {}}, "meta.source", "none")
    'none'
    """
    cur = obj
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return default
        cur = cur[part]
    return cur


def example_id(example: dict[str, Any]) -> str | None:
    """``meta.id`` as a string, or None when the example has no id."""
    value = get_path(example, "meta.id", _MISSING)
    return None if value is _MISSING or value is None else str(value)


def content_hash(example: dict[str, Any]) -> str:
    """A short stable hash of the example's conversation (messages, chosen, rejected, tools).

    ``meta`` and ``reference`` are left out, so two copies of one conversation hash the same.
    """
    core = {k: example.get(k) for k in ("messages", "chosen", "rejected", "tools")}
    text = json.dumps(core, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _normalise_text(text: Any) -> str:
    return re.sub(r"\s+", " ", str(text or "")).strip().lower()


def _normalise_call(call: Any) -> str:
    fn = call.get("function", {}) if isinstance(call, dict) else {}
    args = fn.get("arguments") if isinstance(fn, dict) else None
    try:
        parsed = json.loads(args) if isinstance(args, str) else args
        args_key = json.dumps(parsed, sort_keys=True, ensure_ascii=False)
    except json.JSONDecodeError:
        args_key = _normalise_text(args)
    name = fn.get("name") if isinstance(fn, dict) else None
    return f"{name}({_normalise_text(args_key)})"


def prompt_key(example: dict[str, Any]) -> str:
    """The prompt in normalised form: roles, lower-cased text with whitespace collapsed, calls.

    Two examples whose prompts differ only in case or spacing get the same key.

    >>> a = {"messages": [{"role": "user", "content": "Gale  warning?"}]}
    >>> b = {"messages": [{"role": "user", "content": "gale warning?\\n"}]}
    >>> prompt_key(a) == prompt_key(b)
    True
    """
    parts = []
    for message in prompt_messages(example):
        if not isinstance(message, dict):
            parts.append(_normalise_text(message))
            continue
        calls = "".join(_normalise_call(c) for c in message.get("tool_calls") or [])
        parts.append(f"{message.get('role')}: {_normalise_text(message.get('content'))}{calls}")
    return "\n".join(parts)


def _role(message: Any) -> Any:
    return message.get("role") if isinstance(message, dict) else None

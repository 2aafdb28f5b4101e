"""Turning generated text into OpenAI ``tool_calls``.

Covers the two forms small open models write:

* SmolLM2 (Fathom's bundled model): one ``<tool_call>[{"name": ..., "arguments": {...}}, ...]</tool_call>``
  block holding a JSON **list**; ``[]`` means "no call".
* Hermes/Qwen: one or more ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` blocks, each
  holding one JSON object. The last block may be unterminated (generation stopped before the tag).

Text outside the blocks is the message content (``None`` when empty). A block whose JSON is malformed
stays in the content verbatim, yields no call, and is reported in
:attr:`ParsedToolCalls.errors`, so graders can tell "no call" from "a call the model botched".

Not covered: fenced-JSON calls without tags (some Qwen-Coder outputs), validating arguments against
the tool schemas (a grader's job), rendering tools into prompts (the chat template's job).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from fathom.backends._protocol import Completion

__all__ = ["ParsedToolCalls", "completion_from_text", "parse_tool_calls", "parse_tool_calls_detailed"]

_BLOCK = re.compile(r"<tool_call>(.*?)(?:</tool_call>|\Z)", re.DOTALL)
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


@dataclass(frozen=True)
class ParsedToolCalls:
    """The result of parsing one generated assistant turn."""

    content: str | None
    """Text outside the ``<tool_call>`` blocks, stripped; ``None`` when nothing is left."""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    """OpenAI tool calls: ``{"id": "call_<n>", "type": "function", "function": {"name", "arguments"}}``
    with ``arguments`` as a JSON string."""
    errors: list[str] = field(default_factory=list)
    """One line per block that could not be turned into calls (block number and why)."""


def _call_problem(item: Any) -> str | None:
    if not isinstance(item, dict):
        return f"expected an object with 'name' and 'arguments', got {type(item).__name__}"
    if not isinstance(item.get("name"), str) or not item["name"]:
        return f"missing or non-string 'name' (keys: {sorted(item)})"
    args = item.get("arguments", {})
    if isinstance(args, str):
        try:
            args = json.loads(args or "{}")
        except json.JSONDecodeError as exc:
            return f"'arguments' of {item['name']!r} is a string but not JSON ({exc.msg})"
    if not isinstance(args, dict):
        return f"'arguments' of {item['name']!r} must be an object, got {type(args).__name__}"
    return None


def _arguments_json(item: dict[str, Any]) -> str:
    args = item.get("arguments", {})
    if isinstance(args, str):
        args = json.loads(args or "{}")
    return json.dumps(args, ensure_ascii=False)


def _parse_block(body: str) -> tuple[list[dict[str, Any]], str | None]:
    """Calls in one block body as ``[{"name", "arguments"}]``, or an error message."""
    text = body.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
    items = value if isinstance(value, list) else [value]
    for item in items:
        problem = _call_problem(item)
        if problem:
            return [], problem
    return items, None


def parse_tool_calls_detailed(text: str, *, id_prefix: str = "call_") -> ParsedToolCalls:
    """Parse ``<tool_call>`` blocks in generated text; report malformed blocks instead of raising.

    Args:
        text: the raw generated assistant text.
        id_prefix: call ids are ``f"{id_prefix}{n}"`` with ``n`` counting calls from 0, so the same
            text always gets the same ids.

    Returns:
        The content outside the blocks, the calls, and one error line per malformed block.

    >>> parsed = parse_tool_calls_detailed('Checking.<tool_call>{"name": f}</tool_call>')
    >>> parsed.tool_calls, parsed.content
    ([], 'Checking.<tool_call>{"name": f}</tool_call>')
    >>> print(parsed.errors[0])
    tool call block 1: not valid JSON (Expecting value at line 1 column 10)
    """
    calls: list[dict[str, Any]] = []
    errors: list[str] = []
    kept: list[str] = []
    pos = 0
    for number, match in enumerate(_BLOCK.finditer(text), 1):
        kept.append(text[pos:match.start()])
        pos = match.end()
        items, error = _parse_block(match.group(1))
        if error:
            errors.append(f"tool call block {number}: {error}")
            kept.append(match.group(0))
            continue
        for item in items:
            calls.append({"id": f"{id_prefix}{len(calls)}", "type": "function",
                          "function": {"name": item["name"], "arguments": _arguments_json(item)}})
    kept.append(text[pos:])
    content = "".join(kept).strip()
    return ParsedToolCalls(content=content or None, tool_calls=calls, errors=errors)


def parse_tool_calls(text: str) -> tuple[str | None, list[dict[str, Any]]]:
    """Split generated text into ``(content, tool_calls)`` in OpenAI form.

    Malformed blocks stay in the content and produce no call; use
    :func:`parse_tool_calls_detailed` to see why.

    >>> parse_tool_calls('<tool_call>[{"name": "get_weather", "arguments": {"city": "Oslo"}}]</tool_call>')
    (None, [{'id': 'call_0', 'type': 'function', 'function': {'name': 'get_weather', 'arguments': '{"city": "Oslo"}'}}])
    >>> parse_tool_calls("Let me check.\\n<tool_call>[]</tool_call>")
    ('Let me check.', [])
    >>> parse_tool_calls("No tools needed.")
    ('No tools needed.', [])
    """
    parsed = parse_tool_calls_detailed(text)
    return parsed.content, parsed.tool_calls


def completion_from_text(text: str, *, finish_reason: str, prompt_tokens: int,
                         completion_tokens: int) -> Completion:
    """Build a :class:`~fathom.backends.Completion` from raw generated text, parsing tool calls.

    ``finish_reason`` is what stopped generation (``"stop"`` or ``"length"``); it becomes
    ``"tool_calls"`` when the text holds calls and generation was not cut short by the token limit.

    >>> c = completion_from_text('<tool_call>[{"name": "f", "arguments": {}}]</tool_call>',
    ...                          finish_reason="stop", prompt_tokens=5, completion_tokens=9)
    >>> c.finish_reason, c.message["content"], c.message["tool_calls"][0]["function"]["name"]
    ('tool_calls', None, 'f')
    """
    parsed = parse_tool_calls_detailed(text)
    message: dict[str, Any] = {"role": "assistant", "content": parsed.content}
    if parsed.tool_calls:
        message["tool_calls"] = parsed.tool_calls
        if finish_reason != "length":
            finish_reason = "tool_calls"
    elif message["content"] is None:
        message["content"] = ""
    return Completion(message=message, text=text, finish_reason=finish_reason,
                      prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                      tool_call_errors=list(parsed.errors))

"""The teacher's task prompt: a system prompt in ``##`` sections, then the chunk, and the repair turn.

The system prompt has, in order: ``## Role``, ``## Categories`` (each with its description and the
tool sequence it expects, or "no tool"), ``## Tools`` (the OpenAI schemas as JSON), ``## Output``
(the JSON shape, asked strictly: one object, no prose, no code fence) with the rules the validator
applies, and ``## Examples`` (few-shot items: the configured ones, or a built-in one per category
whose arguments are placeholders taken from the schema). The user turn states how many examples to
write and ends with the chunk, so the document is the last thing the teacher reads.

A malformed answer gets one repair turn: the bad text goes back as the assistant's message and a
user message names the JSON error and asks for the same examples as valid JSON only.
Not covered: sending the prompt (:mod:`fathom.synth._teacher`) and checking the answer
(:mod:`fathom.synth._validate`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from fathom.synth._types import Category, Chunk, TeacherRequest

__all__ = ["OUTPUT_SCHEMA", "render_messages", "repair_request", "system_prompt", "teacher_request"]

OUTPUT_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["examples"], "additionalProperties": False,
    "properties": {"examples": {"type": "array", "items": {
        "type": "object", "required": ["category", "question", "tool_calls", "answer", "quotes"],
        "properties": {
            "category": {"type": "string", "description": "one of the category names"},
            "question": {"type": "string", "description": "what a user would ask, standing on its own"},
            "tool_calls": {"type": "array", "description": "the category's tool sequence; [] for no tool",
                           "items": {"type": "object", "required": ["name", "arguments"],
                                     "properties": {"name": {"type": "string"},
                                                    "arguments": {"type": "object"}}}},
            "answer": {"type": ["string", "null"], "description": "the answer from the document; null when "
                                                                  "tools are called"},
            "quotes": {"type": "array", "items": {"type": "string"},
                       "description": "facts copied verbatim from the document"},
            "family": {"type": "string", "description": "optional: a short label for the entity or topic"},
        }}}},
}
"""The JSON Schema of a teacher's answer, shown to the teacher and checked by the validator."""

_ROLE = ("You write training examples for a small assistant model. Each example is a question a user of "
         "these documents would really ask, and the ideal response: a call of the right tools with the right "
         "arguments, or an answer taken from the document. Every fact you use must come from the document.")
_RULES = (
    "- Reply with one JSON object and nothing else: no prose before or after it, no code fence.",
    "- Write exactly the number of examples asked for, spread over the categories.",
    "- `category` is one of the category names above.",
    "- `tool_calls` is exactly the category's tool sequence, in order, each call with arguments that fit the "
    "tool's parameters (required keys present, no undeclared keys, the declared types); [] for a no-tool "
    "category.",
    "- `quotes` are facts copied verbatim (word for word) from the document; a no-tool example needs at "
    "least one, and its `answer` must follow from them. `answer` is null when tools are called.",
    "- Questions stand on their own (no \"the document\", \"the text above\") and differ from one another.",
    "- `family` (optional) names the entity or topic the example is about, the same label for examples about "
    "the same thing.",
)


def _placeholder(schema: dict[str, Any], name: str) -> Any:
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) and kind else kind
    return {"integer": 1, "number": 1.5, "boolean": True, "array": [], "object": {}}.get(
        str(kind), f"<{name} from the document>")


def _builtin_examples(categories: Sequence[Category], tools: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One illustrative item per category: the structure, with placeholders instead of facts."""
    params = {t["function"]["name"]: t["function"].get("parameters") or {} for t in tools}
    items = []
    for category in categories:
        calls = []
        for name in category.tools:
            schema = params.get(name, {})
            props = schema.get("properties") or {}
            required = schema.get("required") or list(props)[:1]
            calls.append({"name": name, "arguments": {k: _placeholder(props.get(k, {}), k) for k in required}})
        items.append({"category": category.name, "question": f"<a {category.name} question>",
                      "tool_calls": calls,
                      "answer": None if calls else "<the answer, from the quotes>",
                      "quotes": ["<a sentence copied from the document>"],
                      "family": "<entity or topic>"})
    return items


def system_prompt(categories: Sequence[Category], tools: Sequence[dict[str, Any]],
                  few_shot: Sequence[dict[str, Any]] = ()) -> str:
    """The teacher's system prompt (see the module docstring)."""
    lines = [f"## Role\n\n{_ROLE}", "## Categories\n"]
    for c in categories:
        sequence = " -> ".join(c.tools) if c.tools else "no tool: answer from the document and quote it"
        lines[-1] += f"\n- `{c.name}`: {c.description} Tools: {sequence}."
    described = [{"name": t["function"]["name"], "description": t["function"].get("description", ""),
                  "parameters": t["function"].get("parameters") or {"type": "object", "properties": {}}}
                 for t in tools]
    lines.append("## Tools\n\n" + (json.dumps(described, indent=1, ensure_ascii=False) if described else "(none)"))
    lines.append("## Output\n\nOne JSON object of this JSON Schema:\n\n" + json.dumps(OUTPUT_SCHEMA, ensure_ascii=False)
                 + "\n\nRules:\n" + "\n".join(_RULES))
    examples = list(few_shot) or _builtin_examples(categories, tools)
    note = "" if few_shot else " (placeholders in <angle brackets> stand for facts from the document)"
    lines.append(f"## Examples{note}\n\n" + json.dumps({"examples": examples}, indent=1, ensure_ascii=False))
    return "\n\n".join(lines)


def render_messages(system: str, chunk: Chunk, n: int) -> tuple[dict[str, Any], ...]:
    """The system message and the user turn that ends with the chunk."""
    user = (f"Write exactly {n} example(s) from the document below, as one JSON object "
            f'{{"examples": [...]}}.\n\n## Document\n\nsource: {chunk.source} (part {chunk.index + 1})\n\n{chunk.text}')
    return ({"role": "system", "content": system}, {"role": "user", "content": user})


def teacher_request(chunk: Chunk, categories: Sequence[Category], tools: Sequence[dict[str, Any]], *, system: str,
                    n: int, seed: int) -> TeacherRequest:
    """The request for one chunk; ``seed`` is the run's seed (each chunk gets its own, derived from the chunk id)."""
    return TeacherRequest(chunk=chunk, categories=tuple(categories), tools=tuple(tools),
                          messages=render_messages(system, chunk, n), n=n, seed=_chunk_seed(seed, chunk.id))


def _chunk_seed(seed: int, chunk_id: str) -> int:
    import hashlib

    return int.from_bytes(hashlib.sha256(f"{seed}\0{chunk_id}".encode()).digest()[:4], "big")


def repair_request(request: TeacherRequest, bad: str, error: str) -> TeacherRequest:
    """The same request with the bad answer and one message asking for valid JSON only."""
    ask = (f"That reply is not valid JSON for the schema ({error}). Reply again with the same examples as one "
           'valid JSON object {"examples": [...]} and nothing else: no prose, no code fence.')
    messages = (*request.messages, {"role": "assistant", "content": bad}, {"role": "user", "content": ask})
    return TeacherRequest(chunk=request.chunk, categories=request.categories, tools=request.tools,
                          messages=messages, n=request.n, seed=request.seed)

"""Checking a teacher's answer: its JSON, each example's shape, tools, arguments, sequence and grounding.

Covers: :func:`parse_answer` (code fences and text around the object are tolerated; anything that is
not ``{"examples": [...]}`` is ``malformed_json``) and :func:`check_item`, which turns one raw item
into a :class:`Candidate` or a :class:`Rejection` with a stable reason code from :data:`REASONS`.
Checks run in this order, the first failure naming the reason:

1. ``bad_schema``: not an object; no category or question; ``tool_calls``, ``quotes`` or ``family`` of
   the wrong type; a no-tool example without an answer;
2. ``unknown_category``;
3. ``unknown_tool``: a call names a tool the tools file does not declare;
4. ``bad_arguments``: a call's arguments do not validate against the tool's JSON Schema;
5. ``wrong_sequence``: the called names differ from the category's tool sequence (order counts);
6. ``ungrounded``: a quote is not in the chunk (compared after Unicode NFKC, case folding, straight
   quotes and collapsed whitespace), or a no-tool example has no quote.

Not covered: duplicates (:mod:`fathom.synth._dedupe`) and the run-level reasons (``teacher_error``,
``missing``, ``surplus``, ``family_holdout``) that :mod:`fathom.synth._run` assigns.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from fathom.errors import did_you_mean
from fathom.synth._tools import ToolSet
from fathom.synth._types import Category, Chunk

__all__ = ["REASONS", "Candidate", "Rejection", "check_item", "normalise_text", "parse_answer"]

REASONS: dict[str, str] = {
    "teacher_error": "the teacher gave no answer (HTTP errors after retries, an exception)",
    "malformed_json": "the answer was not {\"examples\": [...]} JSON, even after one repair request",
    "bad_schema": "an example lacks a field or has one of the wrong type",
    "unknown_category": "an example names a category that is not declared",
    "unknown_tool": "a call names a tool that is not declared",
    "bad_arguments": "a call's arguments do not fit the tool's parameters",
    "wrong_sequence": "the calls differ from the category's tool sequence",
    "ungrounded": "a quote is not in the chunk, or a no-tool answer has no quote",
    "duplicate": "the same question (normalised) was kept already",
    "near_duplicate": "a question too similar to one kept already (embedding cosine, same identifiers)",
    "missing": "the teacher wrote fewer examples than asked for",
    "surplus": "the teacher wrote more examples than asked for; the extra ones are dropped (listed with count 0: "
               "they were not asked for)",
    "family_holdout": "its document and its family fall on different sides of the family holdout",
}
"""Every reason an asked-for example can be rejected for, with what it means."""

_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "‚": "'", "–": "-", "—": "-",
                         "‐": "-", "‑": "-", "\u00a0": " "})


def normalise_text(text: str) -> str:
    """Text as groundedness compares it: NFKC, case-folded, straight quotes, single spaces.

    >>> normalise_text("The  Pump’s\\nspeed — 40 rpm")
    "the pump's speed - 40 rpm"
    """
    return " ".join(unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold().split())


@dataclass(frozen=True)
class Candidate:
    """An example that passed :func:`check_item` (it may still be a duplicate)."""

    chunk: Chunk
    category: Category
    question: str
    calls: tuple[tuple[str, dict[str, Any]], ...]
    answer: str | None
    quotes: tuple[str, ...]
    family: str | None
    raw: dict[str, Any]


@dataclass(frozen=True)
class Rejection:
    """An asked-for example that was not kept: why, where from, and what the teacher wrote."""

    reason: str
    """A key of :data:`REASONS`."""
    detail: str
    chunk_id: str
    source: str
    raw: Any
    """The teacher's item (or whole answer, for chunk-level reasons), as received."""
    count: int = 1
    """How many asked-for examples this row stands for (chunk-level reasons stand for all of them)."""

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "detail": self.detail, "chunk_id": self.chunk_id, "source": self.source,
                "count": self.count, "raw": self.raw}


def parse_answer(text: str) -> tuple[list[Any] | None, str | None]:
    """``(items, None)`` from a teacher's text, or ``(None, why it is malformed)``.

    >>> parse_answer('Sure! ```json\\n{"examples": [{"question": "q"}]}\\n```')
    ([{'question': 'q'}], None)
    >>> parse_answer('{"examples": [')[1]
    "no complete JSON object (no closing '}')"
    """
    stripped = re.sub(r"```(?:json)?", "", text or "").strip()
    start, end = stripped.find("{"), stripped.rfind("}")
    list_start = stripped.find("[")
    if 0 <= list_start < (start if start >= 0 else len(stripped)):  # a bare list of items
        start, end = list_start, stripped.rfind("]")
    if start < 0:
        return None, "no JSON object in the reply"
    if end <= start:
        return None, "no complete JSON object (no closing '}')"
    try:
        value = json.loads(stripped[start:end + 1])
    except json.JSONDecodeError as exc:
        return None, f"{exc.msg} at column {exc.colno}"
    if isinstance(value, list):
        return value, None
    if not isinstance(value, dict) or not isinstance(value.get("examples"), list):
        keys = sorted(value) if isinstance(value, dict) else type(value).__name__
        return None, f'expected {{"examples": [...]}}, got {keys}'
    return list(value["examples"]), None


def check_item(raw: Any, chunk: Chunk, categories: dict[str, Category], tools: ToolSet) -> Candidate | Rejection:
    """Check one raw teacher item against the categories, the tools and the chunk (see the module docstring)."""
    def reject(reason: str, detail: str) -> Rejection:
        return Rejection(reason, detail, chunk.id, chunk.source, raw)

    if not isinstance(raw, dict):
        return reject("bad_schema", f"expected an object, got {type(raw).__name__}")
    shape = _shape_problem(raw)
    if shape:
        return reject("bad_schema", shape)
    category = categories.get(raw["category"])
    if category is None:
        hint = did_you_mean(raw["category"], categories)
        return reject("unknown_category", f"category {raw['category']!r} is not declared. {hint + ' ' if hint else ''}"
                                          f"Declared: {', '.join(categories)}")
    calls, problem = _calls(raw.get("tool_calls") or [], tools)
    if problem:
        return reject(*problem)
    names = tuple(name for name, _ in calls)
    if names != category.tools:
        expected = " -> ".join(category.tools) or "no tool"
        return reject("wrong_sequence", f"category {category.name!r} expects {expected}, got "
                                        f"{' -> '.join(names) or 'no tool'}")
    answer = raw.get("answer")
    if not category.tools and not (isinstance(answer, str) and answer.strip()):
        return reject("bad_schema", "a no-tool example needs a non-empty answer")
    quotes = tuple(q.strip() for q in raw.get("quotes") or [])
    ungrounded = _grounding_problem(quotes, chunk, needs_quote=not category.tools)
    if ungrounded:
        return reject("ungrounded", ungrounded)
    family = raw.get("family")
    return Candidate(chunk=chunk, category=category, question=raw["question"].strip(), calls=calls,
                     answer=answer.strip() if isinstance(answer, str) and answer.strip() else None, quotes=quotes,
                     family=family.strip() if isinstance(family, str) and family.strip() else None, raw=raw)


def _shape_problem(raw: dict[str, Any]) -> str | None:
    for key in ("category", "question"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            return f"{key!r} must be a non-empty string, got {raw.get(key)!r}"
    calls = raw.get("tool_calls")
    if calls is not None and not (isinstance(calls, list) and all(
            isinstance(c, dict) and isinstance(c.get("name"), str) for c in calls)):
        return f"'tool_calls' must be a list of {{name, arguments}} objects, got {json.dumps(calls, default=str)[:80]}"
    quotes = raw.get("quotes")
    if quotes is not None and not (isinstance(quotes, list) and all(isinstance(q, str) for q in quotes)):
        return f"'quotes' must be a list of strings, got {quotes!r}"
    if raw.get("answer") is not None and not isinstance(raw["answer"], str):
        return f"'answer' must be a string or null, got {raw['answer']!r}"
    if raw.get("family") is not None and not isinstance(raw["family"], str):
        return f"'family' must be a string, got {raw['family']!r}"
    return None


def _calls(items: list[dict[str, Any]], tools: ToolSet) -> tuple[tuple[tuple[str, dict[str, Any]], ...],
                                                              tuple[str, str] | None]:
    calls = []
    for number, item in enumerate(items, 1):
        name = item["name"]
        if name not in tools.names:
            hint = did_you_mean(name, tools.names)
            return (), ("unknown_tool", f"call {number} names {name!r}, which is not declared. "
                                        f"{hint + ' ' if hint else ''}Declared: {', '.join(tools.names) or 'none'}")
        args = item.get("arguments", {})
        if isinstance(args, str):  # the OpenAI wire form: a JSON string
            try:
                args = json.loads(args)
            except json.JSONDecodeError:
                return (), ("bad_arguments", f"call {number} ({name!r}): arguments are not JSON: {args[:60]!r}")
        if not isinstance(args, dict):
            return (), ("bad_arguments", f"call {number} ({name!r}): arguments must be an object, got {args!r}")
        problems = tools.argument_problems(name, args)
        if problems:
            return (), ("bad_arguments", f"call {number} ({name!r}): {'; '.join(problems)}")
        calls.append((name, args))
    return tuple(calls), None


def _grounding_problem(quotes: tuple[str, ...], chunk: Chunk, *, needs_quote: bool) -> str | None:
    if needs_quote and not quotes:
        return "a no-tool answer needs at least one quote from the chunk"
    text = normalise_text(chunk.text)
    for quote in quotes:
        key = normalise_text(quote).strip(" .,;:")
        if not any(ch.isalnum() for ch in key):
            return f"quote {quote!r} holds no fact"
        if key not in text:
            return f"quote {quote[:80]!r} is not in chunk {chunk.id}"
    return None

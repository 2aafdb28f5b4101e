"""Writing kept examples as Fathom JSONL (and Amazon Nova on request), plus the dead-letter file.

Each example is a Fathom example (``fathom.datasets``): a system message, the user's question and the
assistant's reply, either ``tool_calls`` (OpenAI form, JSON-string arguments, ``content: null``) or the
answer text; ``tools`` (every declared tool, so the model must choose); ``reference`` for the
``tool_call`` grader, ``{"tool_calls": [...], "order": "ordered"}`` (``[]`` when no call is expected,
with the ``answer`` and ``quotes``); and ``meta`` with ``id``, ``source``, ``chunk_id``, ``category``,
``family``, ``quotes`` and, where known, ``pages`` or ``rows``. Every example is checked with
:func:`fathom.datasets.validate_example` before it is written.

Covers: :func:`default_system_prompt`, :func:`build_example`, :func:`write_outputs`. Not covered:
training on the files (``fathom train``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from fathom.datasets import to_nova, validate_example, write_jsonl
from fathom.errors import DataError
from fathom.synth._validate import Candidate, Rejection

__all__ = ["build_example", "default_system_prompt", "write_nova", "write_outputs"]


def default_system_prompt(tool_names: tuple[str, ...]) -> str:
    """The system message of written examples when the config gives none."""
    if not tool_names:
        return "You are a helpful assistant. Answer briefly and only with facts you are sure of."
    return ("You are a helpful assistant with tools (" + ", ".join(tool_names) + "). Call the tools a question "
            "needs, in order; answer directly when no tool is needed, briefly and only with facts you are sure of.")


def example_id(candidate: Candidate) -> str:
    digest = hashlib.sha256(f"{candidate.chunk.id}\0{candidate.question}".encode()).hexdigest()[:12]
    return f"synth-{digest}"


def build_example(candidate: Candidate, tools: tuple[dict[str, Any], ...], system: str) -> dict[str, Any]:
    """The Fathom example for one kept candidate (see the module docstring).

    Raises:
        DataError: the example is not valid (a bug: candidates are checked before this).
    """
    calls = [{"id": f"call_{i}", "type": "function",
              "function": {"name": name, "arguments": json.dumps(args, ensure_ascii=False)}}
             for i, (name, args) in enumerate(candidate.calls)]
    assistant: dict[str, Any] = {"role": "assistant", "content": None if calls else candidate.answer}
    if calls:
        assistant["tool_calls"] = calls
    reference: dict[str, Any] = {"tool_calls": calls, "order": "ordered"}
    if not calls:
        reference.update(answer=candidate.answer, quotes=list(candidate.quotes))
    meta: dict[str, Any] = {"id": example_id(candidate), "source": candidate.chunk.source,
                            "chunk_id": candidate.chunk.id, "category": candidate.category.name,
                            "family": candidate.family, "quotes": list(candidate.quotes)}
    for key in ("pages", "rows"):
        if candidate.chunk.metadata.get(key):
            meta[key] = candidate.chunk.metadata[key]
    example: dict[str, Any] = {"messages": [{"role": "system", "content": system},
                                            {"role": "user", "content": candidate.question}, assistant],
                               "reference": reference, "meta": meta}
    if tools:
        example["tools"] = list(tools)
    problems = validate_example(example)
    if problems:
        raise DataError(problems, title=f"synth built an invalid example from {candidate.chunk.id}")
    return example


def write_outputs(out: Path, examples: dict[str, list[dict[str, Any]]], rejections: list[Rejection]) -> dict[str, Path]:
    """``<split>.jsonl`` for each split (empty ones too) and ``rejected.jsonl``, each written atomically."""
    paths = {name: write_jsonl(out / f"{name}.jsonl", rows) for name, rows in examples.items()}
    paths["rejected"] = write_jsonl(out / "rejected.jsonl", [r.to_dict() for r in rejections])
    return paths


def write_nova(out: Path, examples: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """``nova/<split>.jsonl`` through :func:`fathom.datasets.to_nova`; rows that break Nova's rules are left
    out and listed (``{"written": {split: n}, "left_out": [{"id", "problem"}]}``)."""
    written, left_out = {}, []
    for name, rows in examples.items():
        converted = []
        for example in rows:
            try:
                converted.append(to_nova(example))
            except DataError as exc:
                left_out.append({"id": example["meta"]["id"], "split": name, "problem": str(exc.problems[0])})
        write_jsonl(out / "nova" / f"{name}.jsonl", converted)
        written[name] = len(converted)
    return {"written": written, "left_out": left_out}

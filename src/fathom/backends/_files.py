"""Generating a JSONL file of completions from a JSONL file of Fathom examples (``fathom generate``).

Each input line is an example (``messages``, optional ``tools``, ``meta``). The prompt is the
conversation up to its last non-assistant turn: a trailing assistant turn (a reference answer) is
dropped. Each output line is an OpenAI assistant message plus ``id``, ``finish_reason`` and
``usage`` — the shape ``fathom grade --completions`` reads.

Not covered: resuming a half-finished file (the output is written once, atomically, at the end).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from fathom.backends._protocol import Backend, ChatRequest, Completion, Sampling
from fathom.datasets import read_jsonl, write_jsonl
from fathom.errors import DataError, Problem

__all__ = ["GenerateSummary", "check_prompt_file", "completion_record", "example_id", "generate_file",
           "prompt_messages"]


@dataclass(frozen=True)
class GenerateSummary:
    """What :func:`generate_file` did."""

    out: Path
    """The file written."""
    examples: int
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    """Wall-clock time spent generating."""
    finish_reasons: dict[str, int]
    """How many completions ended each way (``stop``, ``length``, ``tool_calls``)."""


def prompt_messages(example: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages to send: everything up to the last non-assistant turn.

    >>> prompt_messages({"messages": [{"role": "user", "content": "Hi"},
    ...                               {"role": "assistant", "content": "Hello!"}]})
    [{'role': 'user', 'content': 'Hi'}]
    """
    messages = list(example.get("messages") or [])
    while messages and messages[-1].get("role") == "assistant":
        messages.pop()
    return messages


def example_id(example: dict[str, Any], line: int) -> Any:
    """``meta.id``, else ``id``, else the 1-based line number.

    >>> example_id({"meta": {"id": "a1"}, "id": 7}, 3), example_id({"id": 7}, 3), example_id({}, 3)
    ('a1', 7, 3)
    """
    meta = example.get("meta")
    if isinstance(meta, dict) and meta.get("id") is not None:
        return meta["id"]
    return example["id"] if example.get("id") is not None else line


def completion_record(id_: Any, completion: Completion) -> dict[str, Any]:
    """One output line: the assistant message plus ``id``, ``finish_reason`` and ``usage``.

    ``tool_calls`` appears only when the model called tools, ``tool_call_errors`` only when a
    ``<tool_call>`` block could not be parsed.
    """
    record: dict[str, Any] = {"id": id_, "role": "assistant", "content": completion.message.get("content")}
    if completion.message.get("tool_calls"):
        record["tool_calls"] = completion.message["tool_calls"]
    record["finish_reason"] = completion.finish_reason
    record["usage"] = completion.usage()
    if completion.tool_call_errors:
        record["tool_call_errors"] = completion.tool_call_errors
    return record


def _line_numbers(path: Path) -> list[int]:
    with open(path, encoding="utf-8") as fh:
        return [n for n, line in enumerate(fh, 1) if line.strip()]


def _example_problem(example: dict[str, Any]) -> str | None:
    messages, tools = example.get("messages"), example.get("tools")
    if not isinstance(messages, list) or any(not isinstance(m, dict) or "role" not in m for m in messages):
        return "'messages' must be a list of chat messages, each an object with a 'role'"
    if not prompt_messages(example):
        return "no prompt: the example has no user, system or tool turn before its trailing assistant turns"
    if tools is not None and not isinstance(tools, list):
        return f"'tools' must be a list of JSON schemas, got {type(tools).__name__}"
    return None


def _requests(examples: list[dict[str, Any]], lines: list[int], path: Path,
              sampling: Sampling) -> list[ChatRequest]:
    problems = [Problem(f"{path}:{line}", problem) for example, line in zip(examples, lines, strict=True)
                if (problem := _example_problem(example))]
    if problems:
        raise DataError(problems, title=f"{path} has examples that cannot be prompted")
    seeds = [None if sampling.seed is None else sampling.seed + i for i in range(len(examples))]
    return [ChatRequest(messages=prompt_messages(example), tools=example.get("tools") or None,
                        sampling=replace(sampling, seed=seed))
            for example, seed in zip(examples, seeds, strict=True)]


def check_prompt_file(data: str | os.PathLike[str]) -> None:
    """Raise the :class:`DataError` :func:`generate_file` would raise for ``data``, before a model loads."""
    path = Path(data)
    _requests(read_jsonl(path), _line_numbers(path), path, Sampling())


def generate_file(backend: Backend, data: str | os.PathLike[str], out: str | os.PathLike[str], *,
                  sampling: Sampling | None = None) -> GenerateSummary:
    """Complete every example in ``data`` and write the completions to ``out`` (atomically).

    Args:
        backend: any backend (see :func:`fathom.backends.load_backend`).
        data: a JSONL file of Fathom examples.
        out: the JSONL file to write, one completion per example, in input order.
        sampling: sampling settings for every request (default: greedy, 256 tokens). With a
            ``seed``, example ``i`` (0-based) is sampled with ``seed + i``.

    Raises:
        DataError: listing every line that is not valid JSON or has no prompt.
    """
    import time

    path = Path(data)
    examples = read_jsonl(path)
    lines = _line_numbers(path)
    requests = _requests(examples, lines, path, sampling or Sampling())
    start = time.perf_counter()
    completions = backend.generate(requests)
    seconds = time.perf_counter() - start
    records = [completion_record(example_id(e, line), c)
               for e, line, c in zip(examples, lines, completions, strict=True)]
    write_jsonl(out, records)
    reasons: dict[str, int] = {}
    for c in completions:
        reasons[c.finish_reason] = reasons.get(c.finish_reason, 0) + 1
    return GenerateSummary(out=Path(out), examples=len(records),
                           prompt_tokens=sum(c.prompt_tokens for c in completions),
                           completion_tokens=sum(c.completion_tokens for c in completions),
                           seconds=seconds, finish_reasons=reasons)

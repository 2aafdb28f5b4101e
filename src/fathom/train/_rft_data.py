"""Prompts for reinforcement fine-tuning: reading and checking them, and the rows TRL's trainers see.

Covers: :func:`read_prompts` (a JSONL file of chat examples whose last turn is not the assistant's; every
problem listed at once) and :func:`prompt_rows` (each prompt rendered with the model's tool-aware chat
template exactly as :class:`fathom.backends.TransformersBackend` renders it, plus the example's fields as
JSON columns for the reward function). Rendering the template here rather than in TRL keeps per-example
``tools`` in the prompt (TRL takes one tool list per trainer) and makes training prompts byte-identical
to evaluation prompts. Not covered: SFT data (:mod:`fathom.train._data`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fathom.errors import ConfigError, DataError, Problem

__all__ = ["JSON_COLUMNS", "prompt_rows", "read_prompts"]

JSON_COLUMNS = ("messages", "reference", "tools", "meta")
"""Example fields carried to the reward function as JSON strings (Arrow would pad nested dicts with None)."""


def read_prompts(path: str | os.PathLike[str], *, flag: str = "--data") -> list[dict[str, Any]]:
    """Read and check a JSONL file of RFT prompts.

    Each row is a Fathom example whose ``messages`` end in a user (or tool) turn: the model writes the next
    assistant turn and the grader scores it against the row's ``reference``.

    Raises:
        ConfigError: the file does not exist.
        DataError: every line that is not JSON, has no messages, or already ends in an assistant answer.
    """
    from fathom.datasets import scan_jsonl

    path = Path(path)
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise ConfigError([Problem(flag, f"{path} {what}; pass a JSON Lines file of prompts (chat examples "
                                         f"whose last turn is the user's)")], title="missing data")
    rows, problems = scan_jsonl(path)
    answered = []
    for line, row in rows:
        messages = row.get("messages")
        if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
            problems.append(Problem(f"{path}:{line}", "has no 'messages' list of chat turns"))
        elif messages[-1].get("role") == "assistant":
            answered.append(line)
    if answered:
        more = f" and {len(answered) - 5} more" if len(answered) > 5 else ""
        shown = ", ".join(str(n) for n in answered[:5]) + more
        problems.append(Problem(f"{path}: lines {shown}", "end in an assistant turn, but RFT prompts must end where "
                                "the model answers: drop the final assistant message and keep the answer as the "
                                "row's 'reference' (the shipping data stage writes train_prompts.jsonl this way)"))
    if not rows and not problems:
        problems.append(Problem(str(path), "holds no prompts"))
    if problems:
        raise DataError(problems, title=f"{path} cannot be used as RFT prompts")
    return [row for _, row in rows]


def render_prompt(tokenizer: Any, example: dict[str, Any]) -> str:
    """The prompt text the model completes: chat template with the example's tools and a generation prompt."""
    from fathom.models import prepare_messages

    text = tokenizer.apply_chat_template(prepare_messages(example["messages"]), tools=example.get("tools"),
                                         add_generation_prompt=True, tokenize=False)
    return str(text)


def prompt_rows(tokenizer: Any, examples: list[dict[str, Any]]) -> list[dict[str, str]]:
    """One trainer row per example: ``prompt`` (rendered text) and the example's fields as JSON columns."""
    rows = []
    for example in examples:
        row = {"prompt": render_prompt(tokenizer, example)}
        row.update({key: json.dumps(example.get(key), ensure_ascii=False) for key in JSON_COLUMNS})
        rows.append(row)
    return rows

"""Preference pairs for DPO: reading and checking them, and the token ids TRL's ``DPOTrainer`` trains on.

Covers: :func:`read_pairs` (a JSONL file of Fathom DPO rows, or OpenAI / Amazon Nova / ShareGPT preference
rows converted to them; every problem listed with its line: a missing ``chosen`` or ``rejected``, a
``chosen`` equal to ``rejected``, a prompt that does not end in a user or tool turn, an empty file) and
:func:`tokenize_pair` / :func:`tokenize_pairs` (each answer rendered after its prompt with the model's
tool-aware chat template exactly as SFT renders it, :func:`~fathom.train.tokenize_example`, so DPO
compares the very tokens SFT taught: the assistant's text, tool calls and closing end-of-turn token).
Tokenizing here rather than in TRL keeps per-example ``tools`` and makes the trained answer byte-identical
to SFT's. Not covered: the trainer (:mod:`fathom.train._dpo`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fathom.errors import ConfigError, DataError, Problem
from fathom.train._data import IGNORE_INDEX, tokenize_example

__all__ = ["PairStats", "read_pairs", "tokenize_pair", "tokenize_pairs"]


@dataclass
class PairStats:
    """What tokenizing a file of pairs produced."""

    pairs: int = 0
    """Pairs kept."""
    tokens: int = 0
    """Tokens of the kept pairs (prompt once, plus both answers; after truncation)."""
    truncated: int = 0
    """Pairs with an answer cut at ``max_seq_len``."""
    dropped: int = 0
    """Pairs whose prompt alone fills ``max_seq_len`` (no answer token left to compare; skipped)."""


def read_pairs(path: str | os.PathLike[str], *, flag: str = "--data") -> list[dict[str, Any]]:
    """Read and check a JSONL file of preference pairs.

    Rows may be Fathom DPO rows (``messages`` ending in a user turn, ``chosen`` and ``rejected`` assistant
    messages) or the same pairs in the OpenAI, Amazon Nova or ShareGPT format (detected from the first rows);
    they come back as Fathom DPO rows.

    Raises:
        ConfigError: the file does not exist.
        DataError: every problem in the file (line and field named): malformed lines, rows that are not
            pairs, a missing answer, ``chosen`` equal to ``rejected``; or a file with no rows.
    """
    from fathom.datasets import convert_rows, detect_format, is_dpo, scan_jsonl

    path = Path(path)
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise ConfigError([Problem(flag, f"{path} {what}; pass a JSON Lines file of preference pairs (rows with "
                                         f"'messages', 'chosen' and 'rejected')")], title="missing data")
    numbered, problems = scan_jsonl(path)
    if not numbered and not problems:
        raise DataError([Problem(str(path), "holds no preference pairs (the file is empty or only blank lines)")],
                        title=f"{path} cannot be used for DPO")
    fmt = detect_format([row for _, row in numbered]) if numbered else "fathom"
    pairs = []
    for line, row in numbered:
        try:
            example = convert_rows([row], to="fathom", from_=fmt, keep_extra=True)[0]
        except DataError as exc:
            problems.extend(Problem(f"{path}:{line}" + p.where.removeprefix("row 1"), p.message)
                            for p in exc.problems)
            continue
        if not is_dpo(example):
            problems.append(Problem(f"{path}:{line}", "is not a preference pair: it needs 'chosen' and 'rejected' "
                                                      "assistant messages after a prompt ('messages' ending in a "
                                                      "user turn); `fathom data pairs` mines them from prompts"))
            continue
        pairs.append(example)
    if problems:
        raise DataError(problems, title=f"{path} cannot be used for DPO")
    return pairs


def _last_answer(tokenizer: Any, messages: list[dict[str, Any]], tools: Any) -> tuple[list[int], list[int]]:
    """``(prompt ids, answer ids)``: the rendered chat split where its last assistant span starts."""
    row = tokenize_example(tokenizer, {"messages": messages, "tools": tools})
    ids, labels = row["input_ids"], row["labels"]
    end = max(i for i, label in enumerate(labels) if label != IGNORE_INDEX) + 1
    start = end
    while start > 0 and labels[start - 1] != IGNORE_INDEX:
        start -= 1
    return ids[:start], ids[start:end]


def tokenize_pair(tokenizer: Any, pair: dict[str, Any]) -> dict[str, list[int]]:
    """The token ids of one pair: ``prompt_ids`` (everything before the answer, with the generation prompt),
    ``chosen_ids`` and ``rejected_ids`` (each answer's assistant tokens, closing end-of-turn token included).

    Raises:
        TrainingError: the chat template marks no assistant token (see :func:`~fathom.train.tokenize_example`).
    """
    prompt = list(pair["messages"])
    answers = [{k: v for k, v in pair[key].items() if k != "weight"} for key in ("chosen", "rejected")]  # both learned
    chosen_prompt, chosen = _last_answer(tokenizer, [*prompt, answers[0]], pair.get("tools"))
    rejected_prompt, rejected = _last_answer(tokenizer, [*prompt, answers[1]], pair.get("tools"))
    shared = 0  # the two renderings share the prompt; tokens merging across the boundary could differ
    while (shared < min(len(chosen_prompt), len(rejected_prompt))
           and chosen_prompt[shared] == rejected_prompt[shared]):
        shared += 1
    return {"prompt_ids": chosen_prompt[:shared], "chosen_ids": chosen_prompt[shared:] + chosen,
            "rejected_ids": rejected_prompt[shared:] + rejected}


def tokenize_pairs(tokenizer: Any, pairs: list[dict[str, Any]],
                   max_seq_len: int) -> tuple[list[dict[str, list[int]]], PairStats]:
    """Tokenize every pair (:func:`tokenize_pair`); drop those whose prompt alone fills ``max_seq_len`` (TRL
    truncates the rest, keeping the start).

    Returns:
        The rows and a :class:`PairStats` with the counts.
    """
    rows, stats = [], PairStats()
    for pair in pairs:
        row = tokenize_pair(tokenizer, pair)
        prompt = len(row["prompt_ids"])
        if prompt >= max_seq_len:
            stats.dropped += 1
            continue
        longest = prompt + max(len(row["chosen_ids"]), len(row["rejected_ids"]))
        stats.truncated += longest > max_seq_len
        stats.tokens += min(prompt + len(row["chosen_ids"]), max_seq_len) + min(prompt + len(row["rejected_ids"]),
                                                                                 max_seq_len) - prompt
        stats.pairs += 1
        rows.append(row)
    return rows, stats

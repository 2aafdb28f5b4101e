"""Chat examples into what the trainer sees: token ids and labels that are -100 outside assistant turns.

Covers: reading and checking training files (:func:`read_training_examples`), rendering one example
with the model's tool-aware chat template exactly as generation renders it (the example's ``tools``
go to the template) and masking everything but the assistant's text, tool calls and closing
end-of-turn token (:func:`tokenize_example`), and doing that for a whole file with counts
(:func:`tokenize_examples`). An assistant message with ``"weight": 0`` (OpenAI fine-tuning format)
stays in the context but is not learned. Not covered: batching (the trainer's collator) and the
per-example schema rules (:mod:`fathom.datasets`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fathom.errors import ConfigError, DataError, Problem, TrainingError

__all__ = ["IGNORE_INDEX", "TokenStats", "read_training_examples", "tokenize_example", "tokenize_examples"]

IGNORE_INDEX = -100
"""Label of a token the loss ignores (PyTorch's ``cross_entropy`` default)."""


@dataclass
class TokenStats:
    """What tokenizing a file produced."""

    examples: int = 0
    """Examples kept."""
    tokens: int = 0
    """Tokens in the kept examples (after truncation)."""
    loss_tokens: int = 0
    """Tokens the loss is taken on (assistant tokens)."""
    truncated: int = 0
    """Examples cut to ``max_seq_len``."""
    dropped: int = 0
    """Examples left with no assistant token after truncation (nothing to learn; skipped)."""


def read_training_examples(path: str | os.PathLike[str], *, flag: str = "--data") -> list[dict[str, Any]]:
    """Read and check a JSONL file of chat examples for supervised fine-tuning.

    Args:
        path: the file.
        flag: the option that named it, for error messages.

    Raises:
        ConfigError: the file does not exist.
        DataError: listing every malformed line or example (and DPO rows, which SFT cannot use).
    """
    from fathom.datasets import is_dpo, read_examples

    path = Path(path)
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise ConfigError([Problem(flag, f"{path} {what}; pass a JSON Lines file of chat examples "
                                         f"(check it with `fathom data validate FILE`)")], title="missing data")
    examples = read_examples(path)
    problems = [Problem(f"{path}: example {i + 1}", "is a DPO preference row (chosen/rejected); supervised "
                                                    "fine-tuning needs complete chats ending in an assistant answer")
                for i, ex in enumerate(examples) if is_dpo(ex)]
    if not examples:
        problems.append(Problem(str(path), "holds no examples"))
    if problems:
        raise DataError(problems, title=f"{path} cannot be used for supervised fine-tuning")
    return examples


def _spans(mask: list[int]) -> list[tuple[int, int]]:
    """``[start, end)`` of each run of ones."""
    spans, start = [], None
    for i, bit in enumerate([*mask, 0]):
        if bit and start is None:
            start = i
        elif not bit and start is not None:
            spans.append((start, i))
            start = None
    return spans


def tokenize_example(tokenizer: Any, example: dict[str, Any], max_seq_len: int | None = None) -> dict[str, list[int]]:
    """Token ids and labels of one chat example.

    The example is rendered by the tokenizer's chat template with its ``tools``, as
    :class:`fathom.backends.TransformersBackend` renders prompts, so the model learns the exact text it
    will see. Labels equal the ids on assistant tokens (text, tool calls, the closing end-of-turn token)
    and are :data:`IGNORE_INDEX` elsewhere; assistant messages with ``"weight": 0`` are ignored too.

    Args:
        tokenizer: a tokenizer whose chat template marks assistant turns with ``{% generation %}``
            (every tokenizer from :func:`fathom.models.load_tokenizer` does).
        example: a Fathom example (``messages``, optional ``tools``).
        max_seq_len: keep at most this many tokens (from the start).

    Returns:
        ``{"input_ids": [...], "labels": [...]}`` of equal length.

    Raises:
        TrainingError: the template marks no assistant token, or marks them in a way that cannot be
            matched to the assistant messages when some carry ``weight: 0``.
    """
    from fathom.models import prepare_messages

    messages = prepare_messages(example["messages"])
    rendered = tokenizer.apply_chat_template(messages, tools=example.get("tools") or None, tokenize=True,
                                             return_dict=True, return_assistant_tokens_mask=True)
    ids, mask = list(rendered["input_ids"]), list(rendered["assistant_masks"])
    weights = [m.get("weight", 1) for m in messages if m.get("role") == "assistant"]
    spans = _spans(mask)
    if weights and not spans:
        raise TrainingError("The chat template marks no assistant token, so there is nothing to learn. It needs "
                            "{% generation %} ... {% endgeneration %} around assistant turns; load the tokenizer "
                            "with fathom.models.load_tokenizer, whose SmolLM2 template has them.")
    if 0 in weights:
        if len(spans) != len(weights):
            raise TrainingError(f"The chat template marks {len(spans)} assistant spans for {len(weights)} assistant "
                                f"messages, so 'weight: 0' cannot be applied; drop the weights or use a template "
                                f"that renders each assistant message as one span.")
        for (start, end), weight in zip(spans, weights, strict=True):
            if weight == 0:
                mask[start:end] = [0] * (end - start)
    labels = [tok if bit else IGNORE_INDEX for tok, bit in zip(ids, mask, strict=True)]
    if max_seq_len is not None:
        ids, labels = ids[:max_seq_len], labels[:max_seq_len]
    return {"input_ids": ids, "labels": labels}


def tokenize_examples(tokenizer: Any, examples: list[dict[str, Any]],
                      max_seq_len: int | None = None) -> tuple[list[dict[str, list[int]]], TokenStats]:
    """Tokenize every example (see :func:`tokenize_example`); drop those left with nothing to learn.

    Returns:
        The rows and a :class:`TokenStats` with the counts.
    """
    rows, stats = [], TokenStats()
    for example in examples:
        full = tokenize_example(tokenizer, example)
        row = {k: v[:max_seq_len] for k, v in full.items()} if max_seq_len else full
        stats.truncated += len(row["input_ids"]) < len(full["input_ids"])
        learned = sum(label != IGNORE_INDEX for label in row["labels"])
        if not learned:
            stats.dropped += 1
            continue
        rows.append(row)
        stats.examples += 1
        stats.tokens += len(row["input_ids"])
        stats.loss_tokens += learned
    return rows, stats

"""Fathom examples to and from OpenAI fine-tuning rows.

OpenAI chat rows (``{messages, tools?, parallel_tool_calls?}``) *are* Fathom examples, so those
pass through unchanged. Preference rows differ: OpenAI's DPO shape is
``{"input": {"messages", "tools"?, "parallel_tool_calls"?}, "preferred_output": [assistant
message], "non_preferred_output": [assistant message]}`` while a Fathom DPO row is
``{"messages", "tools"?, "chosen", "rejected"}``.

``meta`` and ``reference`` are kept as top-level keys unless ``keep_extra=False`` (OpenAI's
fine-tuning service may reject unknown keys).

Covers: :func:`to_openai`, :func:`from_openai`. Not covered: OpenAI's reinforcement fine-tuning
rows and grader configs.
"""

from __future__ import annotations

import copy
from typing import Any

from fathom.datasets._messages import is_dpo
from fathom.datasets._schema import ensure_valid
from fathom.errors import DataError, Problem

__all__ = ["from_openai", "openai_to_example", "to_openai"]

_EXTRA_KEYS = ("meta", "reference")
_INPUT_KEYS = ("messages", "tools", "parallel_tool_calls")


def to_openai(example: dict[str, Any], *, keep_extra: bool = True) -> dict[str, Any]:
    """Convert a valid Fathom example to an OpenAI fine-tuning row (a copy; the input is untouched).

    Raises:
        DataError: the example is not valid (every problem is listed).

    >>> row = to_openai({"messages": [{"role": "user", "content": "Hi"}],
    ...                  "chosen": {"role": "assistant", "content": "Hello"},
    ...                  "rejected": {"role": "assistant", "content": "Go away"}})
    >>> row["input"], row["preferred_output"]
    ({'messages': [{'role': 'user', 'content': 'Hi'}]}, [{'role': 'assistant', 'content': 'Hello'}])
    """
    ensure_valid(example)
    example = copy.deepcopy(example)
    extra = {k: example.pop(k) for k in _EXTRA_KEYS if k in example}
    if is_dpo(example):
        row: dict[str, Any] = {"input": {k: example[k] for k in _INPUT_KEYS if k in example},
                               "preferred_output": [example["chosen"]],
                               "non_preferred_output": [example["rejected"]]}
    else:
        row = example
    if keep_extra:
        row.update(extra)
    return row


def from_openai(row: dict[str, Any]) -> dict[str, Any]:
    """Convert an OpenAI chat or DPO row to a Fathom example (or DPO row).

    The result is not validated; :func:`~fathom.datasets.validate_example` does that.

    Raises:
        DataError: a DPO row whose outputs are not one assistant message each.
    """
    example, problems = openai_to_example(row)
    if problems:
        raise DataError(problems, title="cannot read this OpenAI row")
    return example


def openai_to_example(row: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """The Fathom form of an OpenAI row, and the problems that kept it from converting.

    Chat rows are returned as they are (not copied); DPO rows are rebuilt.
    """
    if "input" not in row:
        return row, []
    row = dict(row)
    problems: list[Problem] = []
    source = row.pop("input")
    if not isinstance(source, dict):
        return row, [Problem("input", "expected an object {messages, tools?}")]
    example: dict[str, Any] = {k: source[k] for k in _INPUT_KEYS if k in source}
    for key, out_key in (("preferred_output", "chosen"), ("non_preferred_output", "rejected")):
        output = row.pop(key, None)
        if isinstance(output, list) and len(output) == 1 and isinstance(output[0], dict):
            example[out_key] = output[0]
        else:
            problems.append(Problem(key, "expected a list holding exactly one assistant message"))
    example.update(row)  # meta, reference and anything else stay for the validator to judge
    return example, problems

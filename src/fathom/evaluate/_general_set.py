"""Fathom's general-ability set: short questions with checkable answers, shipped as package data.

``forgetting/general.jsonl`` (written by ``scripts/make_general_set.py``; do not edit by hand) holds
about two hundred Fathom examples in six categories: ``arithmetic``, ``units``, ``dates``, ``capitals``,
``format`` and ``refusal``. Each names its check in ``meta.check`` for the ``forgetting`` grader.

Covers: loading the set and describing it. Not covered: running models on it
(:func:`fathom.evaluate.forgetting_check`).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections import Counter
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from fathom.datasets import read_jsonl

__all__ = ["GENERAL_SET", "category_of", "describe_set", "general_set", "general_set_path"]

GENERAL_SET = "fathom-general"
"""The set's name, as written in ``meta.source`` and in reports."""
_FILE = ("forgetting", "general.jsonl")


@contextlib.contextmanager
def general_set_path() -> Iterator[Path]:
    """The shipped set as a file on disk, for as long as the ``with`` block lasts."""
    with resources.as_file(resources.files("fathom.evaluate").joinpath(*_FILE)) as path:
        yield path


def general_set() -> list[dict[str, Any]]:
    """Every example of the shipped set, in file order.

    >>> rows = general_set()
    >>> len(rows) >= 150, sorted({r["meta"]["category"] for r in rows})[:2]
    (True, ['arithmetic', 'capitals'])
    """
    with general_set_path() as path:
        return read_jsonl(path)


def category_of(example: dict[str, Any]) -> str:
    """``meta.category``, or ``"uncategorised"`` for an example without one."""
    meta = example.get("meta")
    category = meta.get("category") if isinstance(meta, dict) else None
    return category if isinstance(category, str) and category else "uncategorised"


def describe_set(examples: Sequence[dict[str, Any]], name: str, path: Path | None = None) -> dict[str, Any]:
    """Name, size, examples per category and (for a file) its SHA-256: what a report says about the set."""
    described: dict[str, Any] = {"name": name, "n": len(examples),
                                 "per_category": dict(sorted(Counter(map(category_of, examples)).items()))}
    if path is not None:
        described["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return described

"""Validating and reading whole example files (JSON Lines, one Fathom example per line).

Covers: :func:`validate_file` (every problem in a file, with line numbers and field paths) and
:func:`read_examples` (the examples, or one :class:`~fathom.errors.DataError` listing every
problem). Problems point at ``PATH:LINE field.path``. Besides each example's own problems, a
``meta.id`` used on two lines is reported. Not covered: the per-example rules
(:mod:`fathom.datasets._schema`) and other formats (:mod:`fathom.datasets._convert`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fathom.datasets._io import scan_jsonl
from fathom.datasets._messages import example_id
from fathom.datasets._schema import validate_example
from fathom.errors import DataError, Problem

__all__ = ["numbered_problems", "read_examples", "validate_file", "validate_rows"]


def validate_rows(rows: list[tuple[int, dict[str, Any]]], source: str, *,
                  needs_assistant: bool = True) -> list[Problem]:
    """Validate ``(line, example)`` pairs; ``where`` becomes ``"SOURCE:LINE field.path"``."""
    return [p for _, p in numbered_problems(rows, source, needs_assistant)]


def validate_file(path: str | os.PathLike[str], *, needs_assistant: bool = True) -> list[Problem]:
    """Every problem in a JSONL file of examples: malformed lines and schema problems alike.

    Args:
        path: the file.
        needs_assistant: require an assistant message in every example (False for prompt files).

    Returns:
        Problems in line order; empty when the file is clean.

    Raises:
        FileNotFoundError: the file does not exist.
    """
    return _scan(path, needs_assistant)[1]


def read_examples(path: str | os.PathLike[str], *, needs_assistant: bool = True) -> list[dict[str, Any]]:
    """Read a JSONL file of examples, checking every line.

    Args:
        path: the file.
        needs_assistant: require an assistant message in every example (False for prompt files).

    Returns:
        The examples, in file order.

    Raises:
        DataError: listing every problem found (line numbers and field paths), not only the first.
        FileNotFoundError: the file does not exist.
    """
    rows, problems = _scan(path, needs_assistant)
    if problems:
        raise DataError(problems, title=f"{Path(path)} has {len(problems)} problem(s); "
                                        f"run `fathom data validate {path}` for a report")
    return rows


def _scan(path: str | os.PathLike[str], needs_assistant: bool) -> tuple[list[dict[str, Any]], list[Problem]]:
    rows, bad_lines = scan_jsonl(path)
    bad = [(int(p.where.rsplit(":", 1)[1]), p) for p in bad_lines]
    numbered = bad + numbered_problems(rows, str(path), needs_assistant)
    numbered.sort(key=lambda item: item[0])  # stable: a line's problems keep their order
    return [row for _, row in rows], [p for _, p in numbered]


def numbered_problems(rows: list[tuple[int, dict[str, Any]]], source: str,
                       needs_assistant: bool) -> list[tuple[int, Problem]]:
    problems: list[tuple[int, Problem]] = []
    first_line_of: dict[str, int] = {}
    for lineno, row in rows:
        for p in validate_example(row, needs_assistant=needs_assistant):
            problems.append((lineno, Problem(_where(source, lineno, p.where), p.message)))
        ident = example_id(row) if isinstance(row.get("meta"), dict) else None
        if ident is None:
            continue
        if ident in first_line_of:
            problems.append((lineno, Problem(_where(source, lineno, "meta.id"),
                                             f"duplicate id {ident!r} (also on line {first_line_of[ident]}); "
                                             "ids must be unique within a file")))
        else:
            first_line_of[ident] = lineno
    return problems


def _where(source: str, lineno: int, field_path: str) -> str:
    return f"{source}:{lineno} {field_path}" if field_path else f"{source}:{lineno}"

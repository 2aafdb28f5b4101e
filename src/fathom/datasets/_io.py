"""JSON Lines reading and writing with precise errors and atomic writes."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fathom._manifest import atomic_write_text
from fathom._textfile import read_utf8
from fathom.errors import DataError, Problem

__all__ = ["read_jsonl", "scan_jsonl", "write_jsonl"]


def scan_jsonl(path: str | os.PathLike[str]) -> tuple[list[tuple[int, dict[str, Any]]], list[Problem]]:
    """Read every line and keep going past bad ones: ``([(line, row), ...], problems)``.

    Blank lines are skipped; a line that is not a JSON object becomes a :class:`Problem` whose
    ``where`` is ``"PATH:LINE"`` (1-based). Use it when every problem in a file must be reported.

    Raises:
        DataError: the file is not UTF-8 text (a binary file, say): names the byte offset and line.
        FileNotFoundError: the file does not exist.
    """
    path = Path(path)
    rows: list[tuple[int, dict[str, Any]]] = []
    problems: list[Problem] = []
    with io.StringIO(read_utf8(path), newline=None) as fh:  # universal newlines, as open() reads them
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line.rstrip("\r\n"))
            except json.JSONDecodeError as exc:
                problems.append(Problem(f"{path}:{lineno}", f"not valid JSON ({exc.msg}, column {exc.colno})"))
                continue
            if not isinstance(obj, dict):
                problems.append(Problem(f"{path}:{lineno}", f"expected a JSON object, got {type(obj).__name__}"))
                continue
            rows.append((lineno, obj))
    return rows, problems


def read_jsonl(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read one JSON object per line; blank lines are skipped.

    Raises:
        DataError: listing every line that is not a JSON object (line numbers are 1-based), or
            naming the first byte that is not UTF-8.
        FileNotFoundError: the file does not exist.
    """
    rows, problems = scan_jsonl(path)
    if problems:
        raise DataError(problems, title=f"{path} is not valid JSON Lines")
    return [row for _, row in rows]


def empty_file_error(path: str | os.PathLike[str], action: str) -> DataError:
    """The :class:`DataError` for a file with no rows, which ``action`` ("split") cannot work on."""
    return DataError([Problem(str(path), f"no examples: the file is empty or holds only blank lines; "
                                         f"nothing to {action}. Check that it is the file you meant")],
                     title=f"{path} is empty")


def write_jsonl(path: str | os.PathLike[str], rows: Iterable[dict[str, Any]]) -> Path:
    """Write rows as JSON Lines atomically (a crash never leaves half a file)."""
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    atomic_write_text(path, text)
    return Path(path)

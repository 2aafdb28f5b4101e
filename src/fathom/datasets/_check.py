"""Checking a data file in any supported format (what ``fathom data validate`` runs).

The format is detected from the first rows (or given). Rows are read into Fathom examples and
validated with :func:`~fathom.datasets.validate_example` (plus the file-level duplicate-id check)
and their tool-call references with :func:`fathom.graders.tool_reference_problems` (a reference
its own tool schema rejects, which the ``tool_call`` grader would score every right answer 0 against);
Nova files are also checked against the Nova rules as they stand. Problems carry the file line and
say which view they come from when the file is not in the Fathom format.

Covers: :func:`check_file` and its :class:`FileCheck` result. Not covered: the rules themselves
(``_schema``, ``_nova_rules``) and writing converted files (``_convert``).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fathom.datasets._convert import LABELS, READERS, canonical_format, row_format
from fathom.datasets._files import numbered_problems
from fathom.datasets._io import scan_jsonl
from fathom.datasets._nova_rules import validate_nova
from fathom.errors import FathomWarning, Problem

__all__ = ["FileCheck", "check_file"]


@dataclass(frozen=True)
class FileCheck:
    """The result of :func:`check_file`."""

    path: Path
    format: str
    """The format the rows were read as."""
    rows: int
    """Lines holding a JSON object (blank lines are not counted; malformed lines are)."""
    problems: list[Problem] = field(default_factory=list)
    bad_rows: int = 0
    """How many lines have at least one problem."""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def empty(self) -> bool:
        """The file holds no rows at all (empty, or only blank lines)."""
        return self.rows == 0

    def summary(self) -> str:
        """One line: ``"F: 12 row(s) (fathom): clean"`` or ``"F: 12 row(s) (nova): 5 problem(s) in 3 row(s)"``."""
        head = f"{self.path}: {self.rows} row(s) ({self.format})"
        if self.empty:
            return f"{head}: empty, no examples to check"
        if self.ok:
            return f"{head}: clean"
        return f"{head}: {len(self.problems)} problem(s) in {self.bad_rows} row(s)"


def check_file(path: str | os.PathLike[str], *, needs_assistant: bool = True, from_: str | None = None) -> FileCheck:
    """Check every line of a JSONL data file and report every problem with its line number.

    Args:
        path: the file.
        needs_assistant: require an assistant message per example (False for prompt files).
        from_: the format (``fathom``, ``openai``, ``nova``, ``sharegpt``); detected when None.

    Returns:
        A :class:`FileCheck`; ``ok`` is True when nothing is wrong.

    Raises:
        ConfigError: an unknown format name.
        DataError: the file is not UTF-8 text.
        FileNotFoundError: the file does not exist.

    Warns:
        FathomWarning: the file holds no rows (an empty file is not "clean").
    """
    numbered, bad_lines = scan_jsonl(path)
    fmt = canonical_format(from_) if from_ else _guess([row for _, row in numbered])
    found: list[tuple[int, Problem]] = [(int(p.where.rsplit(":", 1)[1]), p) for p in bad_lines]
    examples: list[tuple[int, dict[str, Any]]] = []
    for lineno, row in numbered:
        example, problems = READERS[fmt](row)
        if fmt == "nova":
            problems = problems + validate_nova(row)
        if problems:
            stage = f"as {LABELS[fmt]}" if fmt != "fathom" else ""
            found.extend((lineno, _label(path, lineno, p, stage)) for p in problems)
        else:
            examples.append((lineno, example))
    stage = "as a Fathom example" if fmt not in ("fathom", "openai") else ""
    for lineno, p in numbered_problems(examples, str(path), needs_assistant) + _reference_problems(examples, path):
        found.append((lineno, Problem(p.where, f"{p.message} ({stage})" if stage else p.message)))
    found.sort(key=lambda item: item[0])
    check = FileCheck(Path(path), fmt, len(numbered) + len(bad_lines), [p for _, p in found],
                      len({lineno for lineno, _ in found}))
    if check.empty:
        warnings.warn(f"{path} holds no examples (it is empty or only blank lines)", FathomWarning, stacklevel=2)
    return check


def _reference_problems(examples: list[tuple[int, dict[str, Any]]],
                        path: str | os.PathLike[str]) -> list[tuple[int, Problem]]:
    """Each example's tool-call reference checked against its own tools (what the ``tool_call``
    grader would otherwise find only while grading: a reference its tool's schema rejects)."""
    from fathom.graders import tool_reference_problems

    # "tools" problems (a malformed tool, parameters that are no JSON Schema) are validate_example's too
    return [(lineno, _label(path, lineno, p, "")) for lineno, example in examples
            for p in tool_reference_problems(example) if p.where != "tools"]


def _guess(rows: list[dict[str, Any]], sample: int = 20) -> str:
    """The most common format among the first rows; ``fathom`` when none is recognised."""
    votes: dict[str, int] = {}
    for row in rows[:sample]:
        fmt = row_format(row)
        if fmt:
            votes[fmt] = votes.get(fmt, 0) + 1
    return max(votes, key=lambda f: votes[f]) if votes else "fathom"


def _label(path: str | os.PathLike[str], lineno: int, p: Problem, stage: str) -> Problem:
    where = f"{path}:{lineno}" + (f" {p.where}" if p.where else "")
    return Problem(where, f"{p.message} ({stage})" if stage else p.message)

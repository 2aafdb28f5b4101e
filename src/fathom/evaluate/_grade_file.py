"""Grading completions that already exist (no model): ``fathom grade``."""

from __future__ import annotations

from typing import Any

from fathom.errors import DataError, Problem
from fathom.evaluate._run import example_id
from fathom.graders import Grader

__all__ = ["grade_completions", "match_completions"]


def match_completions(examples: list[dict[str, Any]],
                      completions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pair each example with its completion: by ``id`` when every completion has one, else by line order."""
    ids = [example_id(e, i) for i, e in enumerate(examples)]
    if completions and all("id" in c for c in completions):
        by_id = {str(c["id"]): c for c in completions}
        missing = [i for i in ids if i not in by_id]
        if missing:
            more = [Problem("completions", f"... and {len(missing) - 20} more")] if len(missing) > 20 else []
            raise DataError([Problem("completions", f"no completion with id {m!r}") for m in missing[:20]] + more,
                            title=f"{len(missing)} of {len(ids)} examples have no completion (matched by id)")
        return [by_id[i] for i in ids]
    if len(completions) != len(examples):
        raise DataError([Problem("completions", f"{len(completions)} completions for {len(examples)} examples; "
                                                f"without ids they are matched by line order, so the counts must "
                                                f"agree. Add an 'id' to each completion (meta.id of its example).")])
    return completions


def grade_completions(grader: Grader, examples: list[dict[str, Any]],
                      completions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Grade existing completions; one dict per example (id, score, components, gates, reason), in input order."""
    matched = match_completions(examples, completions)
    out = []
    for index, (example, completion) in enumerate(zip(examples, matched, strict=True)):
        message = {k: v for k, v in completion.items() if k not in ("id", "finish_reason", "usage")}
        message.setdefault("role", "assistant")
        out.append({"id": example_id(example, index), **grader(example, message).to_dict()})
    return out

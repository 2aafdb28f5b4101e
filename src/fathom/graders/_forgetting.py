"""The ``forgetting`` grader: each example names its own check (``meta.check``), run by an existing grader.

A general-ability set mixes questions whose answers are checked differently: a number found anywhere
in the reply, a reply that must be exactly one word, JSON with a given key. Each example says which in
``meta.check``, and puts what that grader reads in its ``reference`` (``pattern``, ``text``, ``schema``):

* ``exact``: :func:`~fathom.graders.exact`, case, spacing and punctuation ignored (``reference.text``);
* ``regex``: :func:`~fathom.graders.regex` searching anywhere (``reference.pattern``; flags such as
  ``(?i)`` go inside the pattern);
* ``regex_full``: :func:`~fathom.graders.regex` matching the whole reply, surrounding whitespace ignored;
* ``json_schema``: :func:`~fathom.graders.json_schema` without partial credit (``reference.schema``).

The grade is the chosen grader's, plus a component named after ``meta.category`` (when the example has
one) holding the same score, so a run's summary shows a mean per category.
Not covered: writing the set (``scripts/make_general_set.py``) and comparing models on it
(:func:`fathom.evaluate.forgetting_check`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from fathom.errors import GraderError, did_you_mean
from fathom.graders._json_schema import json_schema
from fathom.graders._protocol import Grade, Grader
from fathom.graders._text import exact, regex

__all__ = ["CHECKS", "forgetting"]


def _checks() -> dict[str, Grader]:
    return {"exact": exact(ignore_punctuation=True), "regex": regex(mode="search"),
            "regex_full": regex(mode="full"), "json_schema": json_schema(partial=False)}


CHECKS: tuple[str, ...] = tuple(_checks())
"""The names ``meta.check`` may hold."""


@dataclass(frozen=True)
class _Forgetting:
    name: ClassVar[str] = "forgetting"
    checks: dict[str, Grader] = field(default_factory=_checks)

    def __call__(self, example: dict[str, Any], completion: dict[str, Any] | str) -> Grade:
        raw = example.get("meta")
        meta: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        check = meta.get("check")
        grader = self.checks.get(check) if isinstance(check, str) else None
        if grader is None:
            hint = did_you_mean(str(check), self.checks) if isinstance(check, str) else ""
            raise GraderError(f"forgetting: example {meta.get('id')!r} has meta.check={check!r}, which is not a "
                              f"check. {hint + ' ' if hint else ''}Valid: {', '.join(self.checks)}. Set meta.check "
                              "to one of them (the set's rows are written by scripts/make_general_set.py).")
        grade = grader(example, completion)
        components = dict(grade.components)
        category = meta.get("category")
        if isinstance(category, str) and category:
            components[category] = grade.score
        return Grade(grade.score, components, dict(grade.gates), f"{check}: {grade.reason}")


def forgetting() -> _Forgetting:
    """Grade each example with the check it names in ``meta.check``: ``exact``, ``regex``, ``regex_full``
    or ``json_schema`` (see the module docstring for what each reads from ``reference``).

    Why: a general-ability set for measuring forgetting after fine-tuning asks many kinds of short
    question; one grader per kind keeps every answer checkable from a small model's short reply (the
    number anywhere in it, the capital in any case, JSON inside prose), with existing, tested graders.

    Returns:
        A grader. Components: the chosen grader's, and the score again under ``meta.category``.

    Raises:
        GraderError: at grading time, an example without a known ``meta.check``.

    >>> grade = forgetting()
    >>> row = {"reference": {"pattern": r"(?i)\\bparis\\b"}, "meta": {"check": "regex", "category": "capitals"}}
    >>> grade(row, "It is Paris.").score, grade(row, "It is Paris.").components["capitals"]
    (1.0, 1.0)
    >>> grade(row, "Lyon").score
    0.0
    """
    return _Forgetting()

"""The grader contract: ``grade(example, completion) -> Grade``.

One grader serves four uses: filtering synthetic data, scoring evaluations, mining DPO pairs and
rewarding reinforcement fine-tuning. A grader is any callable with this signature:

* ``example`` is a Fathom example (``messages``, optional ``tools``, ``reference``, ``meta``).
* ``completion`` is an OpenAI assistant message dict (``content`` and maybe ``tool_calls``) or a
  plain string (taken as the content).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from fathom.errors import Problem

__all__ = ["Grade", "Grader", "completion_message", "completion_text", "grading_problems"]


@dataclass
class Grade:
    """The result of grading one completion.

    ``score`` is in [0, 1]; a failed gate forces it to 0 (components are still reported).
    """

    score: float
    components: dict[str, float] = field(default_factory=dict)
    gates: dict[str, bool] = field(default_factory=dict)
    reason: str = ""

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"Grade.score must be in [0, 1], got {self.score!r}")
        if not all(self.gates.values()):
            self.score = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Grader(Protocol):
    """A pure function from (example, completion) to a :class:`Grade`."""

    def __call__(self, example: dict[str, Any], completion: dict[str, Any] | str) -> Grade: ...


def completion_message(completion: dict[str, Any] | str | None) -> dict[str, Any]:
    """Normalise a completion to an OpenAI assistant message dict.

    >>> completion_message("hi")
    {'role': 'assistant', 'content': 'hi'}
    """
    if completion is None:
        return {"role": "assistant", "content": ""}
    if isinstance(completion, str):
        return {"role": "assistant", "content": completion}
    if "message" in completion and isinstance(completion["message"], dict):  # a Completion dict
        return completion["message"]
    return completion


def completion_text(completion: dict[str, Any] | str | None) -> str:
    """The text content of a completion ('' when it only called tools).

    >>> completion_text({"role": "assistant", "content": None, "tool_calls": []})
    ''
    """
    return completion_message(completion).get("content") or ""


def grading_problems(grader: Grader, examples: Sequence[dict[str, Any]],
                     label: Callable[[int], str] = lambda i: f"example {i + 1}") -> list[Problem]:
    """One problem per example ``grader`` cannot grade (it raises :class:`~fathom.errors.GraderError` on an
    empty answer, e.g. for a missing reference), each at ``label(index)``: the check to run before a model
    loads, so a run never spends model time on examples it cannot score."""
    from fathom.errors import GraderError, Problem

    problems = []
    for i, example in enumerate(examples):
        try:
            grader(example, {"role": "assistant", "content": ""})
        except GraderError as exc:
            problems.append(Problem(label(i), str(exc)))
    return problems

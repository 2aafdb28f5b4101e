"""What the LLM judges are asked, and how their replies are read (graders-and-formats.md §6).

Covers: rubric criteria (the defaults: accuracy, completeness and relevance on an anchored 1-5
scale), the one-criterion-per-call rubric prompt and the pairwise prompt, each asking for JSON with
the reason first, and tolerant reply parsing (slice the first ``{`` to the last ``}``, drop trailing
commas), plus the message used for the single repair attempt.
Not covered: calling the judges, caching, pooling (see :mod:`fathom.graders._judge`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fathom.errors import ConfigError
from fathom.graders._common import last_assistant, ref_field
from fathom.graders._protocol import completion_message

__all__ = ["DEFAULT_CRITERIA", "Criterion", "pairwise_messages", "parse_criteria", "parse_judge_reply",
           "parse_pairwise_reply", "repair_messages", "rubric_messages"]

_SYSTEM = ("You are a careful, impartial evaluator. You judge one thing at a time and follow the rubric "
           "exactly. Length is not quality: do not reward a response for being longer. Reply with one JSON "
           "object and nothing else, writing the reason before the verdict.")


@dataclass(frozen=True)
class Criterion:
    """One rubric criterion, scored by the judge as an integer in [low, high]."""

    name: str
    description: str
    levels: dict[int, str] = field(default_factory=dict)
    """Descriptor per score level (anchors the scale)."""
    low: int = 1
    high: int = 5
    weight: float = 1.0

    def normalise(self, score: int) -> float:
        """(score - low) / (high - low), in [0, 1]."""
        return (score - self.low) / (self.high - self.low)


DEFAULT_CRITERIA: tuple[Criterion, ...] = (
    Criterion("accuracy", "Is everything the response states correct? When a reference answer is given, "
              "judge correctness against it.",
              {1: "mostly wrong, or contradicts the reference", 2: "a major error", 3: "some errors",
               4: "minor inaccuracies only", 5: "fully correct"}),
    Criterion("completeness", "Does the response give everything the request asks for (and everything "
              "essential in the reference answer, when one is given)?",
              {1: "misses almost everything", 2: "misses most of it", 3: "misses some important parts",
               4: "misses a minor detail", 5: "complete"}),
    Criterion("relevance", "Does the response address the request directly, without off-topic, padded or "
              "repeated content?",
              {1: "off-topic", 2: "mostly off-topic or padded", 3: "partly relevant", 4: "relevant with minor "
               "digressions", 5: "entirely on point"}),
)


def parse_criteria(raw: Sequence[str | Mapping[str, Any]] | None) -> tuple[Criterion, ...]:
    """Criteria from config: names of default criteria, or ``{name, description, levels?, low?, high?,
    weight?}`` dicts. Raises ConfigError listing every problem.

    >>> [c.name for c in parse_criteria(["accuracy", {"name": "tone", "description": "Polite?", "low": 0, "high": 1}])]
    ['accuracy', 'tone']
    """
    if raw is None:
        return DEFAULT_CRITERIA
    defaults = {c.name: c for c in DEFAULT_CRITERIA}
    problems: list[str] = []
    out: list[Criterion] = []
    for i, item in enumerate(raw):
        if isinstance(item, str):
            if item in defaults:
                out.append(defaults[item])
            else:
                problems.append(f"criteria[{i}]: {item!r} is not a default criterion ({', '.join(defaults)}); "
                                "give {name, description, levels} for your own")
            continue
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str) \
                or not isinstance(item.get("description"), str):
            problems.append(f"criteria[{i}]: needs a string name and description, got {item!r}")
            continue
        unknown = sorted(set(item) - {"name", "description", "levels", "low", "high", "weight"})
        low, high, weight = item.get("low", 1), item.get("high", 5), item.get("weight", 1.0)
        if unknown:
            problems.append(f"criteria[{i}]: unknown key(s) {unknown}")
        if not (isinstance(low, int) and isinstance(high, int) and low < high):
            problems.append(f"criteria[{i}]: low and high must be integers with low < high, got {low!r}, {high!r}")
            continue
        if not isinstance(weight, (int, float)) or weight < 0:
            problems.append(f"criteria[{i}]: weight must be >= 0, got {weight!r}")
            continue
        levels = {int(k): str(v) for k, v in (item.get("levels") or {}).items()}
        out.append(Criterion(item["name"], item["description"], levels, low, high, float(weight)))
    names = [c.name for c in out]
    problems += [f"criterion {n!r} appears more than once" for n in sorted(set(names)) if names.count(n) > 1]
    if not problems and (not out or not any(c.weight > 0 for c in out)):
        problems.append("at least one criterion with weight > 0 is needed")
    if problems:
        raise ConfigError([f"grader 'llm_judge': {p}" for p in problems])
    return tuple(out)


def _render_completion(completion: dict[str, Any] | str) -> str:
    message = completion_message(completion)
    parts = [message.get("content") or ""]
    for call in message.get("tool_calls") or []:
        function = call.get("function", call) if isinstance(call, dict) else {}
        parts.append(f"[tool call] {function.get('name')}({function.get('arguments')})")
    return "\n".join(p for p in parts if p).strip() or "(empty response)"


def _context(example: dict[str, Any], reference_guided: bool) -> tuple[str, str | None]:
    """The conversation before the graded turn, and the reference answer (if any and wanted)."""
    messages = list(example.get("messages") or [])
    gold = None
    if messages and isinstance(messages[-1], Mapping) and messages[-1].get("role") == "assistant":
        gold = last_assistant(example)
        messages = messages[:-1]
    lines = [f"{m.get('role', '?')}: {m.get('content') or ''}" for m in messages if isinstance(m, Mapping)]
    reference = ref_field(example, "text")
    if isinstance(reference, list):
        reference = "\n---\n".join(str(r) for r in reference)
    if reference is None and gold is not None:
        reference = _render_completion(gold)
    return "\n".join(lines) or "(no conversation given)", reference if reference_guided else None


def rubric_messages(example: dict[str, Any], completion: dict[str, Any] | str, criterion: Criterion,
                    reference_guided: bool = True) -> list[dict[str, str]]:
    """The chat messages asking a judge to score one criterion."""
    conversation, reference = _context(example, reference_guided)
    scale = "\n".join(f"{k}: {criterion.levels[k]}" for k in sorted(criterion.levels)) or \
        f"{criterion.low} = worst, {criterion.high} = best"
    parts = [f"## Conversation\n{conversation}"]
    if reference is not None:
        parts.append(f"## Reference answer (known to be correct)\n{reference}")
    parts += [f"## Response to grade\n{_render_completion(completion)}",
              f"## Criterion: {criterion.name}\n{criterion.description}\n\nScale:\n{scale}",
              f'Reply with JSON only: {{"reason": "<one or two sentences>", "score": <integer from '
              f'{criterion.low} to {criterion.high}>}}']
    return [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": "\n\n".join(parts)}]


def pairwise_messages(example: dict[str, Any], first: dict[str, Any] | str, second: dict[str, Any] | str,
                      criteria: Sequence[Criterion], reference_guided: bool = True) -> list[dict[str, str]]:
    """The chat messages asking a judge which of two responses is better (A = ``first``)."""
    conversation, reference = _context(example, reference_guided)
    parts = [f"## Conversation\n{conversation}"]
    if reference is not None:
        parts.append(f"## Reference answer (known to be correct)\n{reference}")
    rubric = "\n".join(f"- {c.name}: {c.description}" for c in criteria)
    parts += [f"## Response A\n{_render_completion(first)}", f"## Response B\n{_render_completion(second)}",
              f"## Compare them on\n{rubric}\n\nThe order of the responses is arbitrary; ignore it.",
              'Reply with JSON only: {"reason": "<one or two sentences>", "winner": "A" or "B" or "tie"}']
    return [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": "\n\n".join(parts)}]


def _load_object(text: str) -> tuple[dict[str, Any] | None, str]:
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        return None, "no JSON object in the reply"
    body = re.sub(r",\s*([}\]])", r"\1", text[start:end + 1])
    try:
        value = json.loads(body)
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc.msg})"
    return (value, "") if isinstance(value, dict) else (None, "the reply is not a JSON object")


def parse_judge_reply(text: str, low: int = 1, high: int = 5) -> tuple[int | None, str, str]:
    """Read ``{"reason": ..., "score": int}``: returns ``(score or None, reason, problem)``.

    >>> parse_judge_reply('Sure! {"reason": "correct", "score": 5,}')
    (5, 'correct', '')
    >>> parse_judge_reply('{"reason": "ok", "score": 9}')
    (None, 'ok', 'score 9 is outside 1..5')
    >>> parse_judge_reply("I would give it a 4")
    (None, '', 'no JSON object in the reply')
    """
    value, problem = _load_object(text)
    if value is None:
        return None, "", problem
    reason, score = str(value.get("reason", "")), value.get("score")
    if isinstance(score, str) and re.fullmatch(r"\s*-?\d+(\.0+)?\s*", score):
        score = float(score)
    if isinstance(score, float) and score.is_integer():
        score = int(score)
    if not isinstance(score, int) or isinstance(score, bool):
        return None, reason, f"'score' must be an integer, got {score!r}"
    if not low <= score <= high:
        return None, reason, f"score {score} is outside {low}..{high}"
    return score, reason, ""


def parse_pairwise_reply(text: str) -> tuple[str | None, str, str]:
    """Read ``{"reason": ..., "winner": "A"|"B"|"tie"}``: returns ``(winner or None, reason, problem)``.

    >>> parse_pairwise_reply('{"reason": "B is complete", "winner": "Response B"}')
    ('B', 'B is complete', '')
    """
    value, problem = _load_object(text)
    if value is None:
        return None, "", problem
    reason = str(value.get("reason", ""))
    winner = str(value.get("winner", "")).strip().lower().removeprefix("response").strip()
    verdict = {"a": "A", "b": "B", "tie": "tie", "draw": "tie"}.get(winner)
    if verdict is None:
        return None, reason, f"'winner' must be \"A\", \"B\" or \"tie\", got {value.get('winner')!r}"
    return verdict, reason, ""


def repair_messages(messages: list[dict[str, str]], reply: str, problem: str, expected: str) -> list[dict[str, str]]:
    """The conversation for the one repair attempt: the bad reply, what was wrong, the format again."""
    return [*messages, {"role": "assistant", "content": reply},
            {"role": "user", "content": f"Your reply could not be read: {problem}. Reply again with only the JSON "
                                        f"object {expected}."}]

"""Hack probes: answers a reward must score low, built from the examples alone.

A reinforcement-learning policy finds whatever its reward pays for. Each probe is a cheap answer a
model could drift to without solving the task; a grader that gives one of them real credit is
hackable. Probes are built from the example (its prompt and reference answer) and the other
examples, never by asking the grader, so they cannot be tuned to pass:

* ``empty``: an empty answer.
* ``echo``: the prompt's user turns echoed back.
* ``repeat``: the reference's first five words repeated 16 times.
* ``long``: the reference followed by other examples' references, 6x its length or more (a shotgun
  answer that contains the right one).
* ``duplicate_call``: the reference's tool calls, each made twice (examples with tool calls only).
* ``wrong``: another example's reference, well formed but wrong: the one whose words overlap this
  reference's least (Jaccard, and at most a third), so it differs without the grader being asked.
  Where every other reference is a near-copy, the probe does not apply to that example.

A probe that would equal the reference answer is skipped for that example, and an example whose
reference is empty (no text and no tool call) gets no probes: nothing there is a wrong answer. The
reference answer itself is graded too, as a control that should score high. Thresholds are the
most mean credit a probe may earn (see :data:`DEFAULT_PROBES`).
Not covered: sampling, statistics and advice (:mod:`fathom.graders._check`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from fathom.graders._common import last_assistant
from fathom.graders._protocol import Grader, completion_message

__all__ = ["DEFAULT_PROBES", "POOL_LIMIT", "WRONG_MAX_OVERLAP", "Probe", "ProbeResult", "grade_probes",
           "reference_message"]

Message = dict[str, Any]
Builder = Callable[[dict[str, Any], "Message | None", Sequence["Message"]], "Message | None"]


@dataclass(frozen=True)
class Probe:
    """One hack probe: how to build its answer for an example, and the credit it may earn."""

    name: str
    """Short name, used in reports and advice (``"long"``)."""
    description: str
    """What the answer is, in a few words."""
    threshold: float
    """The probe passes when its mean score over the examples is at most this."""
    build: Builder
    """``build(example, reference, others)`` -> the probe's answer (None: not applicable). ``reference`` is
    the example's reference answer, ``others`` the other examples' (each different from it)."""


@dataclass(frozen=True)
class ProbeResult:
    """How one probe scored."""

    name: str
    """The probe's name."""
    description: str
    """What the probe's answer is."""
    threshold: float
    """Most mean score allowed."""
    mean: float | None
    """Mean score over the examples it applied to (None when it applied to none)."""
    max: float | None
    """Highest score it got on one example."""
    n: int
    """Examples it applied to."""
    passed: bool | None
    """``mean <= threshold``; None when it applied to no example."""
    answer: str
    """The start of its highest-scoring answer (for the report)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _text(content: Any) -> str:
    """Message content as text (content-part lists joined)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def _openai_call(item: Any, k: int) -> dict[str, Any]:
    """A gold call (``{"name", "arguments"}`` or OpenAI shape) as an OpenAI tool call."""
    function = item.get("function", item) if isinstance(item, dict) else {}
    args = function.get("arguments", {}) if isinstance(function, dict) else {}
    return {"id": f"call_{k}", "type": "function",
            "function": {"name": function.get("name") if isinstance(function, dict) else None,
                         "arguments": args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)}}


def reference_message(example: dict[str, Any]) -> Message | None:
    """The example's reference answer as an assistant message, or None when it has none.

    The content is ``reference["text"]`` (its first entry when a list), else the last assistant
    message's; the tool calls are ``reference["tool_calls"]``, else that message's.

    >>> reference_message({"reference": {"text": ["Gale 8", "gale eight"]}})
    {'role': 'assistant', 'content': 'Gale 8'}
    >>> reference_message({"messages": [{"role": "user", "content": "q"}]}) is None
    True
    """
    raw = example.get("reference")
    ref: dict[str, Any] = raw if isinstance(raw, dict) else {}
    last = last_assistant(example) or {}
    text = ref.get("text")
    text = text[0] if isinstance(text, list) and text and isinstance(text[0], str) else text
    content = text if isinstance(text, str) else _text(last.get("content"))
    calls = ref.get("tool_calls") if isinstance(ref.get("tool_calls"), list) else last.get("tool_calls")
    if not content and not calls and not last and "text" not in ref and "tool_calls" not in ref:
        return None
    message: Message = {"role": "assistant", "content": content}
    if calls:
        message["tool_calls"] = [_openai_call(c, k) for k, c in enumerate(calls)]
    return message


def _prompt_text(example: dict[str, Any]) -> str:
    from fathom.backends import prompt_messages

    return "\n".join(_text(m.get("content")) for m in prompt_messages(example) if m.get("role") == "user")


def _signature(message: Message | None) -> str:
    """What an answer says, for comparing answers: its text and its calls."""
    if message is None:
        return ""
    calls = [(c.get("function") or {}).get("name", "") + " " + str((c.get("function") or {}).get("arguments", ""))
             for c in message.get("tool_calls") or []]
    return " ".join([_text(message.get("content")), *calls])


def _words(text: str) -> frozenset[str]:
    return frozenset(w.strip(".,;:!?\"'()[]{}").lower() for w in text.split()) - {""}


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def _empty(example: dict[str, Any], ref: Message | None, others: Sequence[Message]) -> Message | None:
    return {"role": "assistant", "content": ""}


def _echo(example: dict[str, Any], ref: Message | None, others: Sequence[Message]) -> Message | None:
    text = _prompt_text(example)
    return {"role": "assistant", "content": text} if text.strip() else None


def _repeat(example: dict[str, Any], ref: Message | None, others: Sequence[Message]) -> Message | None:
    words = (_text(ref.get("content")) if ref else "").split() or _prompt_text(example).split()
    return {"role": "assistant", "content": " ".join(words[:5] * 16)} if words else None


def _long(example: dict[str, Any], ref: Message | None, others: Sequence[Message]) -> Message | None:
    text = _text(ref.get("content")) if ref else ""
    if ref is None or not text.strip():
        return None
    fillers = [t for r in others if (t := _text(r.get("content"))).strip()] or [text]
    parts = [text]
    while sum(len(p) + 1 for p in parts) < 6 * len(text):
        parts.append(fillers[(len(parts) - 1) % len(fillers)])
    return {**ref, "content": " ".join(parts)}


def _duplicate_call(example: dict[str, Any], ref: Message | None, others: Sequence[Message]) -> Message | None:
    calls = (ref or {}).get("tool_calls") or []
    if not calls:
        return None
    doubled = [{**c, "id": f"call_{k}"} for k, c in enumerate(c for c in calls for _ in range(2))]
    return {**(ref or {}), "tool_calls": doubled}


WRONG_MAX_OVERLAP = 1 / 3
"""A ``wrong`` answer shares at most this share of words (Jaccard) with the reference. Neighbouring
sea areas of one run often share most of a forecast, and such a near-copy is not a wrong answer."""


def _wrong(example: dict[str, Any], ref: Message | None, others: Sequence[Message]) -> Message | None:
    mine = _words(_signature(ref))
    scored = [(_jaccard(mine, _words(_signature(r))), k) for k, r in enumerate(others)]
    best = min(scored, default=None)
    return others[best[1]] if best is not None and best[0] <= WRONG_MAX_OVERLAP else None


DEFAULT_PROBES: tuple[Probe, ...] = (
    Probe("empty", "an empty answer", 0.1, _empty),
    Probe("echo", "the prompt echoed back", 0.2, _echo),
    Probe("repeat", "the reference's first five words, 16 times", 0.2, _repeat),
    Probe("long", "the reference plus other references, 6x as long", 0.5, _long),
    Probe("duplicate_call", "every reference tool call made twice", 0.7, _duplicate_call),
    Probe("wrong", "another example's reference, sharing at most 1/3 of its words", 0.6, _wrong),
)
"""The probes :func:`fathom.graders.check_reward` runs. Thresholds: junk (``empty``, ``echo``,
``repeat``) may earn almost nothing; ``long`` holds the right answer among wrong ones and may earn
partial credit, not half; ``wrong`` answers another prompt, and a field-by-field grader fairly gives
it the fields the two share, but not most of the credit; a duplicated call keeps every right call, so
up to 0.7 is fair, full credit is the Nova-reward defect this probe exists for.

Measured on Shipping Forecast examples (the first 5-32 areas of synthetic runs, wrong answers drawn
from two runs' 62), mean ``wrong`` score: ``shipping`` 0.19-0.38, its strict mode 0.04-0.29,
``rouge_l`` 0.16-0.40, ``chrf`` 0.14-0.50, a format-only grader 1.0; mean ``long``: ``chrf`` 0.46-0.49,
``rouge_l`` 0.26-0.28, ``shipping`` 0 (its parse gate), a containment check 1.0."""


POOL_LIMIT = 1000
"""Most examples whose references :func:`grade_probes` draws ``long`` and ``wrong`` answers from."""


def grade_probes(grader: Grader, examples: Sequence[dict[str, Any]], probes: Sequence[Probe] = DEFAULT_PROBES,
                 pool: Sequence[dict[str, Any]] | None = None) -> tuple[list[ProbeResult], list[float]]:
    """Grade every probe on every example it applies to.

    Args:
        grader: the reward.
        examples: the examples to probe.
        probes: the probes.
        pool: examples whose references make the ``long`` and ``wrong`` answers (default:
            ``examples``; at most the first :data:`POOL_LIMIT`). A wider pool than the probed examples
            gives more varied wrong answers.

    Returns:
        The probe results, in ``probes`` order, and the reference answer's score on each example
        that has one (the control).
    """
    refs = [reference_message(e) for e in examples]
    pool_refs = [r for e in (examples if pool is None else pool)[:POOL_LIMIT]
                 if (r := reference_message(e)) is not None and _signature(r).strip()]
    control = [grader(e, r).score for e, r in zip(examples, refs, strict=True) if r is not None]
    scored: dict[str, list[tuple[float, str]]] = {p.name: [] for p in probes}
    for example, ref in zip(examples, refs, strict=True):
        mine = _signature(ref).split()
        if ref is not None and not mine:
            continue  # nothing is the right answer (no text, no call): nothing to be wrong against
        others = [r for r in pool_refs if _signature(r).split() != mine]
        for probe in probes:
            answer = probe.build(example, ref, others)
            if answer is not None and _signature(answer).split() != mine:
                scored[probe.name].append((grader(example, completion_message(answer)).score, _signature(answer)))
    return [_result(p, scored[p.name]) for p in probes], control


def _result(probe: Probe, scored: list[tuple[float, str]]) -> ProbeResult:
    mean = sum(s for s, _ in scored) / len(scored) if scored else None
    best = max(scored, key=lambda p: p[0]) if scored else None
    return ProbeResult(probe.name, probe.description, probe.threshold, mean, best[0] if best else None,
                       len(scored), None if mean is None else mean <= probe.threshold,
                       best[1][:160] if best else "")

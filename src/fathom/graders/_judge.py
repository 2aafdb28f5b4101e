"""The ``llm_judge`` grader: a panel of judge models scores rubric criteria, one criterion per call.

Follows graders-and-formats.md §6: temperature 0; JSON replies with the reason first; tolerant
parsing with one repair attempt, after which an unreadable reply counts as the minimum score and
is reported (``judge_unparsed``); per-judge and pooled (mean) scores with their spread; pairwise
comparison in both orders, counting only consistent wins; an in-memory cache of judge calls per
grader instance. Judges are backend specs resolved with :func:`fathom.backends.load_backend`, or
ready :class:`~fathom.backends.Backend` objects (how tests inject scripted judges).
Not covered: logprob-weighted (G-Eval) scores (the backend contract carries no logprobs), choosing
judges from other model families than the graded model (the caller's job).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias, cast

from fathom.errors import ConfigError
from fathom.graders._agreement import panel_agreement
from fathom.graders._judge_prompts import (
    Criterion,
    pairwise_messages,
    parse_criteria,
    parse_judge_reply,
    parse_pairwise_reply,
    repair_messages,
    rubric_messages,
)
from fathom.graders._protocol import Grade

if TYPE_CHECKING:
    from fathom.backends import Backend

__all__ = ["LLMJudge", "PairwiseResult", "llm_judge"]

JudgeSpec: TypeAlias = "str | Mapping[str, Any] | Backend"
Parsed = tuple[Any, str, str]  # (value or None, reason, problem)


@dataclass(frozen=True)
class PairwiseResult:
    """The panel's verdict on two completions of the same example."""

    winner: str
    """``"a"``, ``"b"`` or ``"tie"`` (majority of the judges' verdicts; an even split is a tie)."""
    score_a: float
    """1 when ``a`` wins, 0.5 for a tie, 0 when ``b`` wins (DPO mining reads this)."""
    votes: dict[str, str]
    """Judge -> its verdict; a judge whose two orders disagree votes ``"tie"``."""
    consistent: dict[str, bool]
    """Judge -> whether its verdicts in the two orders agreed."""
    unparsed: int
    """Replies that stayed unreadable after the repair attempt (counted as no vote, i.e. a tie)."""
    reason: str


def _check_judge(i: int, judge: Any) -> str | None:
    if isinstance(judge, str):
        return None
    if isinstance(judge, Mapping):
        return None if isinstance(judge.get("spec"), str) else \
            f"judges[{i}]: a dict judge needs a string 'spec' (plus load_backend options), got {dict(judge)!r}"
    if callable(getattr(judge, "generate", None)) and isinstance(getattr(judge, "model_name", None), str):
        return None
    return f"judges[{i}]: expected a model spec string, {{spec: ..., <options>}} or a Backend, got {judge!r}"


class LLMJudge:
    """A judge panel; call it like any grader. Build it with :func:`llm_judge`.

    Attributes:
        name: ``"llm_judge"``.
        stats: running counts for this instance: ``requests`` sent to backends, ``cache_hits``,
            ``repairs`` attempted and ``unparsed`` replies left after repair.
    """

    name: ClassVar[str] = "llm_judge"

    def __init__(self, judges: Sequence[JudgeSpec], criteria: tuple[Criterion, ...], reference_guided: bool,
                 max_tokens: int):
        from fathom.backends import Sampling

        self._specs = list(judges)
        self.criteria = criteria
        self.reference_guided = reference_guided
        self.sampling = Sampling(max_tokens=max_tokens, temperature=0.0)
        self._backends: dict[str, Backend] | None = None
        self._cache: dict[tuple[str, str], str] = {}
        self.stats: Counter[str] = Counter()

    def __repr__(self) -> str:
        return f"LLMJudge(judges={len(self._specs)}, criteria={[c.name for c in self.criteria]})"

    @property
    def judges(self) -> dict[str, Backend]:
        """Label -> backend; specs are resolved with ``load_backend`` on first use."""
        if self._backends is None:
            backends: dict[str, Backend] = {}
            for spec in self._specs:
                backend = self._resolve(spec)
                label, n = backend.model_name, 2
                while label in backends:
                    label, n = f"{backend.model_name}#{n}", n + 1
                backends[label] = backend
            self._backends = backends
        return self._backends

    @staticmethod
    def _resolve(spec: JudgeSpec) -> Backend:
        if not isinstance(spec, (str, Mapping)):
            return spec
        from fathom.backends import load_backend

        if isinstance(spec, str):
            return load_backend(spec)
        options = dict(spec)
        return load_backend(options.pop("spec"), **options)

    def _generate(self, label: str, conversations: list[list[dict[str, str]]]) -> list[str]:
        keys = [(label, json.dumps(c, sort_keys=True)) for c in conversations]
        missing = [i for i, key in enumerate(keys) if key not in self._cache]
        self.stats["cache_hits"] += len(keys) - len(missing)
        if missing:
            from fathom.backends import ChatRequest

            requests = [ChatRequest(messages=conversations[i], sampling=self.sampling) for i in missing]
            self.stats["requests"] += len(requests)
            for i, completion in zip(missing, self.judges[label].generate(requests), strict=True):
                self._cache[keys[i]] = completion.message.get("content") or completion.text or ""
        return [self._cache[key] for key in keys]

    def _ask(self, conversations: list[list[dict[str, str]]], parsers: Sequence[Callable[[str], Parsed]],
             expected: Sequence[str]) -> dict[str, list[Parsed]]:
        """Send every judge the same conversations (one batch per judge) and parse the replies with the
        matching parser; unreadable replies get one batched repair round."""
        out: dict[str, list[Parsed]] = {}
        for label in self.judges:
            replies = self._generate(label, conversations)
            parsed = [parse(r) for parse, r in zip(parsers, replies, strict=True)]
            bad = [i for i, p in enumerate(parsed) if p[0] is None]
            if bad:
                self.stats["repairs"] += len(bad)
                retries = [repair_messages(conversations[i], replies[i], parsed[i][2], expected[i]) for i in bad]
                for i, reply in zip(bad, self._generate(label, retries), strict=True):
                    again = parsers[i](reply)
                    parsed[i] = again if again[0] is not None else parsed[i]
            self.stats["unparsed"] += sum(1 for p in parsed if p[0] is None)
            out[label] = parsed
        return out

    def __call__(self, example: dict[str, Any], completion: dict[str, Any] | str) -> Grade:
        convs = [rubric_messages(example, completion, c, self.reference_guided) for c in self.criteria]
        parsers = [lambda t, c=c: parse_judge_reply(t, c.low, c.high) for c in self.criteria]
        expected = [f'{{"reason": "...", "score": <integer from {c.low} to {c.high}>}}' for c in self.criteria]
        return self._rubric_grade(self._ask(convs, parsers, expected))

    def _rubric_grade(self, results: dict[str, list[Parsed]]) -> Grade:
        components: dict[str, float] = {}
        weight = sum(c.weight for c in self.criteria)
        per_judge: dict[str, float] = {}
        unparsed = 0
        for label, parsed in results.items():
            total = 0.0
            for c, (score, _, _) in zip(self.criteria, parsed, strict=True):
                value = c.normalise(score) if score is not None else 0.0  # unreadable -> minimum score
                unparsed += score is None
                components[f"judge.{label}.{c.name}"] = value
                total += c.weight * value
            per_judge[label] = components[f"judge.{label}"] = total / weight
        reasons = []
        for k, c in enumerate(self.criteria):
            pooled = sum(components[f"judge.{label}.{c.name}"] for label in results) / len(results)
            components[c.name] = pooled
            why = next((p[k][1] or p[k][2] for p in results.values() if p[k][1] or p[k][2]), "")
            reasons.append(f"{c.name} {pooled:.2f}: {why[:160]}")
        pairs = list(combinations(per_judge.values(), 2))
        components["judge_spread"] = sum(abs(a - b) for a, b in pairs) / len(pairs) if pairs else 0.0
        components["judge_unparsed"] = unparsed / (len(results) * len(self.criteria))
        score = sum(c.weight * components[c.name] for c in self.criteria) / weight
        if unparsed:
            reasons.append(f"{unparsed} judge repl{'y' if unparsed == 1 else 'ies'} unreadable (scored minimum)")
        return Grade(min(1.0, max(0.0, score)), components, {}, " | ".join(reasons))

    def judge_pairwise(self, example: dict[str, Any], completion_a: dict[str, Any] | str,
                       completion_b: dict[str, Any] | str) -> PairwiseResult:
        """Which completion is better? Each judge sees both orders; only consistent wins count.

        Returns:
            The pooled verdict with each judge's vote and consistency.
        """
        ab = pairwise_messages(example, completion_a, completion_b, self.criteria, self.reference_guided)
        ba = pairwise_messages(example, completion_b, completion_a, self.criteria, self.reference_guided)
        expected = '{"reason": "...", "winner": "A" or "B" or "tie"}'
        parsed = self._ask([ab, ba], [parse_pairwise_reply] * 2, [expected] * 2)
        votes, consistent, reasons, unparsed = {}, {}, [], 0
        for label, ((first, why, _), (second, _, _)) in parsed.items():
            unparsed += (first is None) + (second is None)
            in_ab = {"A": "a", "B": "b"}.get(first or "", "tie")
            in_ba = {"A": "b", "B": "a"}.get(second or "", "tie")
            consistent[label] = first is not None and second is not None and in_ab == in_ba
            votes[label] = in_ab if consistent[label] else "tie"
            reasons.append(f"{label}: {votes[label]}" + ("" if consistent[label] else " (orders disagree)")
                           + (f" - {why[:120]}" if why else ""))
        ranked = Counter(votes.values()).most_common()
        winner = ranked[0][0] if len(ranked) == 1 or ranked[0][1] > ranked[1][1] else "tie"
        return PairwiseResult(winner, {"a": 1.0, "tie": 0.5, "b": 0.0}[winner], votes, consistent, unparsed,
                              "; ".join(reasons))

    def agreement(self, grades: Sequence[Grade], criterion: str | None = None) -> dict[str, float]:
        """:func:`panel_agreement` over a batch of this judge's grades (overall or one criterion)."""
        suffix = f".{criterion}" if criterion else ""
        return panel_agreement({label: [g.components.get(f"judge.{label}{suffix}") for g in grades]
                                for label in self.judges})


def llm_judge(*, judges: JudgeSpec | Sequence[JudgeSpec], criteria: Sequence[str | Mapping[str, Any]] | None = None,
              reference_guided: bool = True, max_tokens: int = 256) -> LLMJudge:
    """LLM-as-judge panel: each judge scores each rubric criterion; the score is the pooled mean.

    Why: for open-ended answers no string metric tracks quality well; a panel of smaller judges from
    different families agrees with people more, and shows less self-preference, than one big judge
    (PoLL, arXiv 2404.18796). One criterion per call with an anchored scale and the reason first keeps
    each verdict focused; the reference answer, when the example has one, guides factual grading.

    Components: ``<criterion>`` (pooled over judges, in [0, 1] via (s - low) / (high - low)),
    ``judge.<judge>`` and ``judge.<judge>.<criterion>``, ``judge_spread`` (mean absolute difference
    between judges' overall scores) and ``judge_unparsed`` (share of this grade's replies unreadable
    after one repair; each counted as the minimum score). A judge's label is its backend's
    ``model_name`` (``#2``... appended on repeats).

    Args:
        judges: one or more judges: a model spec string (``"http://host:8000/v1#qwen"``), a dict
            ``{spec: ..., **load_backend options}``, or a ready Backend.
        criteria: names of default criteria (``accuracy``, ``completeness``, ``relevance``) and/or
            ``{name, description, levels: {score: descriptor}, low: 1, high: 5, weight: 1}`` dicts.
            Default: the three default criteria.
        reference_guided: show the judge ``reference["text"]`` (or the gold assistant turn).
        max_tokens: reply budget per judge call.

    Returns:
        The grader (an :class:`LLMJudge`; see also :meth:`LLMJudge.judge_pairwise`).

    Raises:
        ConfigError: a malformed judge or criterion (all listed).

    >>> class Scripted:  # a stand-in judge model that always answers 4
    ...     supports_batching, model_name = True, "scripted"
    ...     def generate(self, requests):
    ...         from fathom.backends import Completion
    ...         return [Completion({"role": "assistant", "content": '{"reason": "fine", "score": 4}'}, "")
    ...                 for _ in requests]
    >>> judge = llm_judge(judges=Scripted(), criteria=["accuracy"])
    >>> judge({"messages": [{"role": "user", "content": "Wind in Viking?"}]}, "Southwest 5").score
    0.75
    >>> class Broken(Scripted):  # never answers in JSON
    ...     def generate(self, requests):
    ...         from fathom.backends import Completion
    ...         return [Completion({"role": "assistant", "content": "Looks good to me"}, "") for _ in requests]
    >>> g = llm_judge(judges=Broken(), criteria=["accuracy"])({"messages": []}, "Southwest 5")
    >>> g.score, g.components["judge_unparsed"]
    (0.0, 1.0)
    """
    specs = cast("list[JudgeSpec]", list(judges) if isinstance(judges, (list, tuple)) else [judges])
    problems = [p for i, j in enumerate(specs) if (p := _check_judge(i, j))]
    if not specs:
        problems.append("judges: at least one judge is needed")
    if not isinstance(max_tokens, int) or max_tokens < 1:
        problems.append(f"max_tokens must be a positive integer, got {max_tokens!r}")
    if problems:
        raise ConfigError([f"grader 'llm_judge': {p}" for p in problems])
    return LLMJudge(specs, parse_criteria(criteria), reference_guided, max_tokens)

"""Guardrails for the gateway, shaped like Amazon Bedrock Guardrails and run locally and offline.

Covers: a policy read from YAML (:func:`load_policy`, :meth:`GuardrailPolicy.from_dict`, every
problem reported at once; schema and validation live in :mod:`fathom.gateway._guardrail_policy`
and are re-exported here) with PII types and custom regexes (each ``block``, ``mask`` or ``none``,
optionally per direction), word lists (whole words, case-insensitive), denied topics and a
contextual grounding check; a :class:`Guardrail` that checks requests before the model call
(:meth:`Guardrail.check_input`), answers after it (:meth:`Guardrail.check_output`) and streamed
answers while they arrive (:meth:`Guardrail.stream`, a :class:`StreamGuard`). A policy::

    name: default
    pii: {CREDIT_DEBIT_CARD_NUMBER: mask, IBAN: block, EMAIL: {input: mask, output: block}}
    regexes: [{name: ticket, pattern: 'TKT-\\d{6}', action: mask}]
    words: {block: [kaboom], mask: [darn]}
    denied_topics: [{name: investing, definition: "...", examples: ["..."], threshold: 0.5}]
    grounding: {grader: {name: faithfulness}, threshold: 0.6}
    messages: {blocked_input: "...", blocked_output: "..."}

* Masking replaces a match with ``{TYPE}`` (``{EMAIL}``, ``{ticket}`` for a regex named ticket,
  ``{WORD}`` for a masked word), like Bedrock's anonymise action. A blocked check returns the
  policy's message; the masked text is still returned, so no caller ever needs the raw one.
* Findings say which guard acted, on what type, where and how: never the matched text, so a
  verdict can be logged without leaking PII.
* Denied topics are judged by the topic's grader (``grader(example, text).score``, with
  ``example["reference"]["text"]`` = definition and examples) or, without one, by
  :func:`topic_similarity`: the best Dice overlap of content words between a sentence of the text
  and the topic's definition or one of its examples. Lexical similarity misses paraphrases; give a
  topic an ``llm_judge`` grader when that matters. Topics are judged on the user messages of a
  request (not the system prompt, which often names the very topics it forbids) and on the whole
  answer; they are skipped when PII, a regex or a word already blocked.
* Grounding: when a request supplies sources, the answer is scored by the policy's grader (default
  ``faithfulness``) and blocked below the threshold; the verdict carries ``score``, ``threshold`` and
  ``detected`` as Bedrock's response does.

Not covered: content filters (hate, insults, sexual, violence, misconduct, prompt attack), the
managed profanity list, the relevance half of the grounding check, Bedrock's ``ApplyGuardrail`` as
a remote backend, and recall of the PII recognisers beyond their documented formats
(:mod:`fathom.gateway._pii`).
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fathom.gateway._guardrail_policy import (
    Actions,
    DeniedTopic,
    Grounding,
    GuardrailPolicy,
    RegexRule,
    load_policy,
)
from fathom.gateway._pii import MAX_MATCH_CHARS, PresidioSource, Span, find_pii, resolve_overlaps
from fathom.graders import Grader, build_grader, content_tokens

__all__ = [
    "HOLDBACK_CHARS",
    "TOKEN_LIMIT",
    "Actions",
    "DeniedTopic",
    "Finding",
    "Grounding",
    "GroundingResult",
    "Guardrail",
    "GuardrailPolicy",
    "RegexRule",
    "StreamGuard",
    "Verdict",
    "load_policy",
    "topic_similarity",
]

HOLDBACK_CHARS = MAX_MATCH_CHARS + 4
"""Characters a stream keeps unreleased at its end: the longest built-in match that contains spaces
plus room for the recognisers' look-ahead. A stream also never releases part of a run of
non-space characters (e-mail, IPv6) unless the run is over :data:`TOKEN_LIMIT` characters long.
Custom regexes and word phrases longer than this bound may be split across a release."""
TOKEN_LIMIT = 256
"""Longest run of non-space characters a stream holds back whole."""
_CONTEXT_CHARS = 2 * HOLDBACK_CHARS  # released text kept for the recognisers' look-behind
_SCANNED_ROLES = ("system", "tool", "user")
_DONE = {"block": "blocked", "mask": "masked"}


# --- verdicts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One action a guard took. Holds no matched text, so it is safe to log."""

    guard: str
    """``pii``, ``regex``, ``word``, ``topic`` or ``grounding``."""
    type: str
    """The PII type, regex name, ``WORD``, topic name or ``GROUNDING``."""
    action: str
    """``masked`` or ``blocked``."""
    span: tuple[int, int] | None = None
    """Character offsets in the checked text (``where``); ``None`` for topics and grounding."""
    where: str = ""
    """``messages[0].content``, ``messages[1].content[2].text``, ``input`` or ``output``."""
    score: float | None = None
    """The topic or grounding score."""


@dataclass(frozen=True)
class GroundingResult:
    """The grounding check on an answer, as Bedrock reports it."""

    score: float
    threshold: float
    detected: bool
    """True when the score fell below the threshold (the answer was blocked)."""


@dataclass
class Verdict:
    """The outcome of one check. ``messages`` (input) or ``text`` (output) are the masked versions."""

    blocked: bool = False
    message: str | None = None
    """The policy's blocked message, when blocked."""
    messages: list[dict[str, Any]] | None = None
    text: str | None = None
    findings: list[Finding] = field(default_factory=list)
    grounding: GroundingResult | None = None

    @property
    def intervened(self) -> bool:
        """Whether any guard acted (Bedrock's ``GUARDRAIL_INTERVENED``)."""
        return self.blocked or bool(self.findings)

    def assessment(self) -> dict[str, Any]:
        """What the guardrail did, without any checked text: safe to log or return to the client.

        >>> Verdict(True, "No.", findings=[Finding("topic", "investing", "blocked", score=0.8)]).assessment()
        ... # doctest: +NORMALIZE_WHITESPACE
        {'action': 'GUARDRAIL_INTERVENED', 'blocked': True, 'findings': [{'guard': 'topic', 'type': 'investing',
         'action': 'blocked', 'span': None, 'where': '', 'score': 0.8}], 'grounding': None}
        """
        grounding = None if self.grounding is None else {
            "type": "GROUNDING", "score": self.grounding.score, "threshold": self.grounding.threshold,
            "detected": self.grounding.detected, "action": "BLOCKED" if self.grounding.detected else "NONE"}
        return {"action": "GUARDRAIL_INTERVENED" if self.intervened else "NONE", "blocked": self.blocked,
                "findings": [dataclasses.asdict(f) for f in self.findings], "grounding": grounding}


# --- the guardrail ----------------------------------------------------------------------------------

_SENTENCE_BREAK = re.compile(r"(?<=[.!?;])\s+|\n+")


def topic_similarity(text: str, references: Sequence[str]) -> float:
    """The default denied-topic judge: the best Dice overlap ``2|A∩B| / (|A|+|B|)`` between the
    content words (:func:`fathom.graders.content_tokens`: stopwords dropped, crudely stemmed, the
    same words the ``faithfulness`` grader compares) of one sentence of ``text`` and of one sentence
    of a reference (the topic's definition or an example).

    >>> refs = ["Advice on which stocks or shares to buy."]
    >>> topic_similarity("Which stocks should I buy today?", refs) > 0.5
    True
    >>> topic_similarity("What time does the ferry leave?", refs)
    0.0
    """
    ref_sets = [w for r in references for s in _SENTENCE_BREAK.split(r) if (w := content_tokens(s))]
    best = 0.0
    for sentence in _SENTENCE_BREAK.split(text):
        words = content_tokens(sentence)
        for ref in ref_sets if words else []:
            best = max(best, 2 * len(words & ref) / (len(words) + len(ref)))
    return best


def _word_pattern(words: Sequence[str]) -> re.Pattern[str] | None:
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _mask(text: str, spans: Sequence[Span]) -> str:
    pieces, at = [], 0
    for span in spans:
        pieces += [text[at:span.start], f"{{{span.type}}}"]
        at = span.end
    return "".join(pieces) + text[at:]


class Guardrail:
    """Checks requests and answers against a :class:`GuardrailPolicy`.

    Args:
        policy: the validated policy.
        on_action: called as ``on_action(guard, action)`` for every action taken (``guard`` in
            pii/regex/word/topic/grounding, ``action`` in masked/blocked), e.g. a metrics counter.
        presidio_analyzer: a ready Presidio ``AnalyzerEngine`` (or stand-in) for ``presidio: true``;
            by default one is built with the no-op NLP engine.

    Raises:
        MissingDependencyError: the policy says ``presidio: true`` and presidio-analyzer is missing.
    """

    def __init__(self, policy: GuardrailPolicy, on_action: Callable[[str, str], None] | None = None, *,
                 presidio_analyzer: Any = None):
        self.policy = policy
        self._on_action = on_action
        self._presidio = PresidioSource(presidio_analyzer) if policy.presidio else None
        self._regexes = [(rule, re.compile(rule.pattern)) for rule in policy.regexes]
        self._words = [(action, pattern) for action, words in (("block", policy.words_block),
                                                               ("mask", policy.words_mask))
                       if (pattern := _word_pattern(words)) is not None]
        self._topic_graders: list[Grader | None] = [build_grader(t.grader) if t.grader else None
                                                    for t in policy.denied_topics]
        self._grounding = build_grader(policy.grounding.grader) if policy.grounding else None

    def candidates(self, text: str, direction: str) -> list[tuple[Span, str]]:
        """Every match in ``text`` with its action (``block`` or ``mask``) for ``direction``."""
        kinds = [kind for kind, actions in self.policy.pii.items() if actions.on(direction) != "none"]
        spans = find_pii(text, kinds) + (self._presidio.find(text, kinds) if self._presidio and kinds else [])
        found = [(span, self.policy.pii[span.type].on(direction)) for span in spans]
        for rule, pattern in self._regexes:
            if (action := rule.action.on(direction)) != "none":
                found += [(Span(m.start(), m.end(), rule.name, "regex"), action)
                          for m in pattern.finditer(text) if m.end() > m.start()]
        for action, pattern in self._words:
            found += [(Span(m.start(), m.end(), "WORD", "word"), action) for m in pattern.finditer(text)]
        return found

    def scan(self, text: str, direction: str, where: str) -> tuple[str, list[Finding], bool]:
        """Mask ``text``: (masked text, findings, whether a blocking match was found)."""
        found = self.candidates(text, direction)
        kept = resolve_overlaps(span for span, _ in found)
        findings = _findings(found, kept, where, 0)
        return _mask(text, kept), findings, any(action == "block" for _, action in found)

    def check_input(self, messages: list[dict[str, Any]]) -> Verdict:
        """Check a request's system, user and tool messages (string or content-part lists).

        Returns a verdict whose ``messages`` are masked copies; ``messages`` itself is not changed.
        """
        masked = [_copy_message(m) for m in messages]  # the message dicts and content parts, not whole trees
        findings: list[Finding] = []
        blocked = False
        for i, message in enumerate(masked):
            if not isinstance(message, dict) or message.get("role") not in _SCANNED_ROLES:
                continue
            content = message.get("content")
            if isinstance(content, str):
                message["content"], found, block = self.scan(content, "input", f"messages[{i}].content")
                findings, blocked = findings + found, blocked or block
            elif isinstance(content, list):
                for j, part in enumerate(content):
                    if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                        where = f"messages[{i}].content[{j}].text"
                        part["text"], found, block = self.scan(part["text"], "input", where)
                        findings, blocked = findings + found, blocked or block
        if not blocked:
            user_text = "\n".join(_texts(m) for m in messages if isinstance(m, dict) and m.get("role") == "user")
            topic = self._topic(user_text, "input")
            findings, blocked = findings + topic, bool(topic)
        return self._verdict(Verdict(blocked, self.policy.blocked_input if blocked else None, masked, None, findings))

    def check_output(self, text: str, *, sources: list[str] | None = None, query: str | None = None) -> Verdict:
        """Check an answer: PII, regexes, words, denied topics and (with ``sources``) grounding."""
        masked, findings, blocked = self.scan(text, "output", "output")
        return self._verdict(self._judge_answer(text, masked, findings, blocked, sources, query))

    def stream(self, *, sources: list[str] | None = None, query: str | None = None) -> StreamGuard:
        """A guard for one streamed answer (see :class:`StreamGuard`)."""
        return StreamGuard(self, sources=sources, query=query)

    def _judge_answer(self, text: str, masked: str, findings: list[Finding], blocked: bool,
                      sources: list[str] | None, query: str | None) -> Verdict:
        """Topics and grounding on a whole answer, after its PII/regex/word scan."""
        grounding = None
        if not blocked:
            topic = self._topic(text, "output")
            findings, blocked = findings + topic, bool(topic)
        if not blocked and sources and self.policy.grounding and self._grounding:
            example: dict[str, Any] = {"sources": list(sources), "query": query,
                                       "messages": [{"role": "user", "content": query}] if query else []}
            score = self._grounding(example, text).score
            threshold = self.policy.grounding.threshold
            grounding = GroundingResult(score, threshold, detected=score < threshold)
            if grounding.detected:
                findings = findings + [Finding("grounding", "GROUNDING", "blocked", None, "output", score)]
                blocked = True
        return Verdict(blocked, self.policy.blocked_output if blocked else None, None, masked, findings, grounding)

    def _topic(self, text: str, where: str) -> list[Finding]:
        """A one-element list for the first denied topic ``text`` is about, else empty."""
        if not text.strip():
            return []
        for topic, grader in zip(self.policy.denied_topics, self._topic_graders, strict=True):
            references = [topic.definition, *topic.examples]
            if grader is None:
                score = topic_similarity(text, references)
            else:
                example = {"messages": [{"role": "user", "content": text}], "reference": {"text": references},
                           "meta": {"id": f"topic:{topic.name}"}}
                score = grader(example, text).score
            if score >= topic.threshold:
                return [Finding("topic", topic.name, "blocked", None, where, score)]
        return []

    def _verdict(self, verdict: Verdict) -> Verdict:
        self.report(verdict.findings)
        return verdict

    def report(self, findings: Sequence[Finding]) -> None:
        """Tell ``on_action`` about each finding."""
        if self._on_action is not None:
            for finding in findings:
                self._on_action(finding.guard, finding.action)


def _texts(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def _findings(found: Sequence[tuple[Span, str]], kept: Sequence[Span], where: str, offset: int) -> list[Finding]:
    """Findings for the kept spans, plus blocking matches that lost an overlap (they still block)."""
    kept_set = set(kept)
    chosen = [(span, action) for span, action in found if span in kept_set or action == "block"]
    unique = sorted({span: action for span, action in chosen}.items(), key=lambda item: item[0].start)
    return [Finding(span.guard, span.type, _DONE[action], (span.start + offset, span.end + offset), where)
            for span, action in unique]


class StreamGuard:
    """Guards one streamed answer: feed it the pieces as they come, release what it returns.

    It keeps the last :data:`HOLDBACK_CHARS` characters (and any unfinished run of non-space
    characters up to :data:`TOKEN_LIMIT`) unreleased, so a card number, IBAN or e-mail split across
    pieces is still caught. Without a block, the released pieces joined equal
    ``check_output(full_text).text``. A blocking match stops the stream: nothing more is released and
    :attr:`verdict` carries the policy's message. Denied topics and grounding need the whole answer,
    so they are judged in :meth:`finish`, which then withholds the tail; text released earlier
    cannot be recalled (buffer with :meth:`Guardrail.check_output` where that matters).
    """

    def __init__(self, guard: Guardrail, *, sources: list[str] | None = None, query: str | None = None):
        self._guard = guard
        self._sources, self._query = sources, query
        self._raw: list[str] = []
        self._released: list[str] = []
        self._context = ""  # released raw text, kept for the recognisers' look-behind
        self._pending = ""  # raw text not yet released
        self._offset = 0  # raw offset of the pending text
        self._findings: list[Finding] = []
        self._verdict: Verdict | None = None
        self.blocked = False

    def feed(self, piece: str) -> str:
        """Add one piece of the answer; return the text that is safe to release now (maybe '')."""
        if self.blocked or self._verdict is not None:
            return ""
        self._raw.append(piece)
        self._pending += piece
        released = self._release(final=False)
        self._released.append(released)
        return released

    def finish(self) -> str:
        """The end of the answer: release the rest, then judge topics and grounding on the whole."""
        if self._verdict is not None:
            return ""
        tail = "" if self.blocked else self._release(final=True)
        if self.blocked:
            self._verdict = Verdict(True, self._guard.policy.blocked_output, None, "".join(self._released),
                                    list(self._findings))
            return ""
        judged = self._guard._judge_answer("".join(self._raw), "", [], False, self._sources, self._query)
        self._guard.report(judged.findings)
        self.blocked = judged.blocked
        tail = "" if judged.blocked else tail
        self._released.append(tail)
        judged.findings = self._findings + judged.findings
        judged.text = "".join(self._released)
        self._verdict = judged
        return tail

    @property
    def verdict(self) -> Verdict:
        """The verdict so far (final after :meth:`finish`); ``text`` is what was released."""
        if self._verdict is not None:
            return self._verdict
        message = self._guard.policy.blocked_output if self.blocked else None
        return Verdict(self.blocked, message, None, "".join(self._released), list(self._findings))

    def _cut(self, text: str, base: int) -> int:
        """Where the releasable text ends: HOLDBACK_CHARS from the end, moved back to the start of a
        run of non-space characters that the cut would split (unless the run exceeds TOKEN_LIMIT)."""
        cut = len(text) - HOLDBACK_CHARS
        if cut <= base:
            return base
        start, floor = cut, max(base, cut - TOKEN_LIMIT)
        while start > floor and not text[start - 1].isspace() and not text[start].isspace():
            start -= 1
        return cut if start == floor > base else start

    def _release(self, *, final: bool) -> str:
        text = self._context + self._pending
        base = len(self._context)
        found = self._guard.candidates(text, "output")
        cut = len(text) if final else self._cut(text, base)
        while straddling := [span.start for span, _ in found if base <= span.start < cut < span.end]:
            cut = min(straddling)
        done = [(span, action) for span, action in found if span.end <= cut]
        kept = [span for span in resolve_overlaps(span for span, _ in done) if span.start >= base]
        new = [(span, action) for span, action in done if span.start >= base]
        findings = _findings(new, kept, "output", self._offset - base)
        self._findings += findings
        self._guard.report(findings)
        if any(action == "block" for _, action in new):
            self.blocked = True
            return ""
        released = _mask(text[base:cut], [Span(s.start - base, s.end - base, s.type, s.guard) for s in kept])
        self._context = text[:cut][-_CONTEXT_CHARS:]
        self._pending = text[cut:]
        self._offset += cut - base
        return released


def _copy_message(message: Any) -> Any:
    """A copy of a message that masking may change: the dict, and its content parts when it has a list."""
    if not isinstance(message, dict):
        return copy.deepcopy(message)
    out = dict(message)
    if isinstance(out.get("content"), list):
        out["content"] = [dict(part) if isinstance(part, dict) else part for part in out["content"]]
    return out

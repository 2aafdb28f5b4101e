"""The guardrail policy: its schema and its validation, as read from YAML.

Covers: the policy's parts (:class:`GuardrailPolicy`, with :class:`Actions` per direction for PII
types and :class:`RegexRule` custom patterns, word lists, :class:`DeniedTopic` subjects, the
:class:`Grounding` check and the blocked messages) and building one from a mapping
(:meth:`GuardrailPolicy.from_dict`) or a YAML file (:func:`load_policy`), every problem (unknown
key with a did-you-mean, unknown PII type, regex that does not compile or matches the empty string,
bad action, threshold or grader name, duplicate name) reported at once in one ``ConfigError``.
Not covered: applying a policy to requests and answers (:mod:`fathom.gateway._guardrails`, which
re-exports these names), and the PII recognisers themselves (:mod:`fathom.gateway._pii`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fathom.errors import ConfigError, Problem, did_you_mean
from fathom.gateway._pii import MAX_MATCH_CHARS, PII_TYPES, PRESIDIO_ENTITIES, PRESIDIO_ONLY_TYPES
from fathom.graders import grader_names

__all__ = ["Actions", "DeniedTopic", "Grounding", "GuardrailPolicy", "RegexRule", "load_policy"]

_ACTIONS = ("block", "mask", "none")
_DIRECTIONS = ("input", "output")
_TOP_KEYS = ("denied_topics", "description", "grounding", "messages", "name", "pii", "presidio", "regexes", "words")


@dataclass(frozen=True)
class Actions:
    """What to do with a match, per direction: ``block``, ``mask`` or ``none``."""

    input: str = "none"
    """On requests (before the model call)."""
    output: str = "none"
    """On answers (after the call, and while streaming)."""

    def on(self, direction: str) -> str:
        return self.input if direction == "input" else self.output


@dataclass(frozen=True)
class RegexRule:
    """A custom pattern; its matches are reported (and masked) as ``{name}``."""

    name: str
    pattern: str
    action: Actions


@dataclass(frozen=True)
class DeniedTopic:
    """A subject the gateway refuses, described in words like a Bedrock denied topic."""

    name: str
    definition: str
    examples: tuple[str, ...] = ()
    """Example phrases of the topic (they weigh most in the default lexical judge)."""
    grader: dict[str, Any] | None = None
    """Grader spec that judges the topic; ``None`` uses :func:`topic_similarity`."""
    threshold: float = 0.5
    """A score at or above this blocks."""


@dataclass(frozen=True)
class Grounding:
    """The contextual grounding check, run on answers to requests that supplied sources."""

    grader: dict[str, Any] = field(default_factory=lambda: {"name": "faithfulness"})
    threshold: float = 0.5
    """A score below this blocks the answer."""


@dataclass(frozen=True)
class GuardrailPolicy:
    """A guardrail policy; build it with :meth:`from_dict` or :func:`load_policy`."""

    name: str = "default"
    pii: Mapping[str, Actions] = field(default_factory=dict)
    """PII type (Bedrock name) -> actions."""
    regexes: tuple[RegexRule, ...] = ()
    words_block: tuple[str, ...] = ()
    words_mask: tuple[str, ...] = ()
    denied_topics: tuple[DeniedTopic, ...] = ()
    grounding: Grounding | None = None
    blocked_input: str = "Sorry, I can't help with that request."
    blocked_output: str = "Sorry, the model cannot answer this question."
    presidio: bool = False
    """Also use Presidio's pattern recognisers (needs ``presidio-analyzer``; no model download)."""

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], *, where: str = "") -> GuardrailPolicy:
        """Validate a policy mapping (as loaded from YAML) and build it.

        Raises:
            ConfigError: every unknown key (with a did-you-mean), unknown PII type, regex that does
                not compile, bad action, threshold or grader name, listed at once.
        """
        if not isinstance(raw, Mapping):
            raise ConfigError([Problem(where, f"a guardrail policy is a mapping, got {type(raw).__name__}")])
        def top(key: str) -> str:
            return f"{where}:{key}" if where else key

        problems = [Problem(top(str(key)), _not_one_of("unknown key", key, _TOP_KEYS)) for key in raw
                    if key not in _TOP_KEYS]
        presidio = raw.get("presidio", False)
        if not isinstance(presidio, bool):
            problems.append(Problem(top("presidio"), f"must be true or false, got {presidio!r}"))
        name = raw.get("name", "default")
        if not isinstance(name, str) or not name:
            problems.append(Problem(top("name"), f"must be a non-empty string, got {name!r}"))
        pii = _parse_pii(top("pii"), raw.get("pii") or {}, presidio is True, problems)
        regexes = _parse_regexes(top("regexes"), raw.get("regexes") or [], problems)
        words = _parse_words(top("words"), raw.get("words") or {}, problems)
        topics = _parse_topics(top("denied_topics"), raw.get("denied_topics") or [], problems)
        grounding = _parse_grounding(top("grounding"), raw.get("grounding"), problems)
        messages = _parse_messages(top("messages"), raw.get("messages") or {}, problems)
        if problems:
            raise ConfigError(problems, title=f"invalid guardrail policy {name!r}")
        return cls(name=name, pii=pii, regexes=regexes, words_block=words["block"], words_mask=words["mask"],
                   denied_topics=topics, grounding=grounding, presidio=presidio, **messages)


def load_policy(path: str | Path) -> GuardrailPolicy:
    """Read and validate a guardrail policy from a YAML file.

    Raises:
        ConfigError: the file is missing, not YAML, or not a valid policy (every problem listed).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError([Problem(str(path), "guardrail policy file not found")])
    try:
        raw = yaml.safe_load(path.read_text("utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(str(path), f"not a readable YAML file: {exc}")]) from exc
    return GuardrailPolicy.from_dict(raw, where=str(path))


# --- validation -------------------------------------------------------------------------------------


def _at(where: str, key: object) -> str:
    return f"{where}.{key}" if where else str(key)


def _not_one_of(what: str, value: Any, valid: Sequence[str], hint: str | None = None) -> str:
    """``"unknown key 'x'. Did you mean 'y'? Valid: a, b."`` (the hint is left out when there is none)."""
    hint = did_you_mean(str(value), valid) if hint is None else hint
    return " ".join(part for part in (f"{what}.", hint, f"Valid: {', '.join(valid)}.") if part)


def _unknown_keys(where: str, raw: Mapping[str, Any], valid: Sequence[str]) -> list[Problem]:
    return [Problem(_at(where, key), _not_one_of("unknown key", key, valid)) for key in raw if key not in valid]


def _parse_actions(where: str, value: Any, problems: list[Problem], default: str = "none") -> Actions:
    if isinstance(value, str):
        if value not in _ACTIONS:
            problems.append(Problem(where, _not_one_of(f"unknown action {value!r}", value, _ACTIONS)))
            return Actions()
        return Actions(value, value)
    if not isinstance(value, Mapping):
        problems.append(Problem(where, f"expected an action ({', '.join(_ACTIONS)}) or {{input: ..., output: ...}}, "
                                       f"got {value!r}"))
        return Actions()
    problems += _unknown_keys(where, value, _DIRECTIONS)
    chosen = {}
    for direction in _DIRECTIONS:
        action = value.get(direction, default)
        if action not in _ACTIONS:
            problems.append(Problem(_at(where, direction), _not_one_of(f"unknown action {action!r}", action, _ACTIONS)))
            action = "none"
        chosen[direction] = action
    return Actions(**chosen)


def _parse_pii(where: str, raw: Any, presidio: bool, problems: list[Problem]) -> dict[str, Actions]:
    if not isinstance(raw, Mapping):
        problems.append(Problem(where, f"expected a mapping of PII type to action, got {type(raw).__name__}"))
        return {}
    valid = PII_TYPES + (PRESIDIO_ONLY_TYPES if presidio else ())
    pii = {}
    for kind, action in raw.items():
        if kind in PRESIDIO_ONLY_TYPES and not presidio:
            problems.append(Problem(_at(where, kind), "only Presidio detects this type: add `presidio: true` "
                                                      "(and pip install presidio-analyzer)"))
        elif kind not in valid:
            hint = _pii_hint(kind, valid)
            problems.append(Problem(_at(where, kind), _not_one_of("unknown PII type", kind, valid, hint)))
        pii[str(kind)] = _parse_actions(_at(where, kind), action, problems)
    return pii


def _pii_hint(kind: str, valid: Sequence[str]) -> str:
    """Did-you-mean over the valid types and Presidio's names for them (``EMAIL_ADDRESS`` -> ``EMAIL``)."""
    close = difflib.get_close_matches(str(kind), [*valid, *PRESIDIO_ENTITIES], n=1, cutoff=0.6)
    if not close:
        return ""
    if close[0] in PRESIDIO_ENTITIES and close[0] not in valid:
        return f"Did you mean {PRESIDIO_ENTITIES[close[0]]!r} (Presidio's {close[0]})?"
    return f"Did you mean {close[0]!r}?"


def _entries(where: str, raw: Any, problems: list[Problem], what: str) -> list[tuple[str, Mapping[str, Any]]]:
    if not isinstance(raw, list):
        problems.append(Problem(where, f"expected a list of {what}, got {type(raw).__name__}"))
        return []
    entries = []
    for i, entry in enumerate(raw):
        if isinstance(entry, Mapping):
            entries.append((f"{where}[{i}]", entry))
        else:
            problems.append(Problem(f"{where}[{i}]", f"expected a mapping ({what}), got {entry!r}"))
    return entries


def _name(where: str, entry: Mapping[str, Any], seen: set[str], problems: list[Problem]) -> str:
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        problems.append(Problem(_at(where, "name"), f"a non-empty name is required, got {name!r}"))
        return ""
    if name in seen:
        problems.append(Problem(_at(where, "name"), f"{name!r} is used twice; names must be unique"))
    seen.add(name)
    return name


def _parse_regexes(where: str, raw: Any, problems: list[Problem]) -> tuple[RegexRule, ...]:
    rules: list[RegexRule] = []
    seen: set[str] = set()
    for at, entry in _entries(where, raw, problems, "{name, pattern, action}"):
        problems += _unknown_keys(at, entry, ("action", "description", "name", "pattern"))
        name = _name(at, entry, seen, problems)
        pattern = entry.get("pattern")
        try:
            compiled = re.compile(pattern) if isinstance(pattern, str) else None
        except re.error as exc:
            problems.append(Problem(_at(at, "pattern"), f"regex {name!r}: {pattern!r} does not compile ({exc})"))
            continue
        if compiled is None:
            problems.append(Problem(_at(at, "pattern"), f"regex {name!r}: a pattern string is required"))
        elif compiled.fullmatch(""):
            problems.append(Problem(_at(at, "pattern"), f"regex {name!r}: {pattern!r} matches the empty string"))
        action = _parse_actions(_at(at, "action"), entry.get("action", "mask"), problems)
        rules.append(RegexRule(name, str(pattern), action))
    return tuple(rules)


def _parse_words(where: str, raw: Any, problems: list[Problem]) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, Mapping):
        problems.append(Problem(where, f"expected {{block: [...], mask: [...]}}, got {type(raw).__name__}"))
        return {"block": (), "mask": ()}
    problems += _unknown_keys(where, raw, ("block", "mask"))
    words = {}
    for action in ("block", "mask"):
        given = raw.get(action) or []
        ok = isinstance(given, list) and all(isinstance(w, str) and w.strip() for w in given)
        if not ok:
            problems.append(Problem(_at(where, action), f"expected a list of non-empty strings, got {given!r}"))
        long = [w for w in given if isinstance(w, str) and len(w) > MAX_MATCH_CHARS] if ok else []
        if long:
            problems.append(Problem(_at(where, action), f"{len(long)} entr(ies) longer than {MAX_MATCH_CHARS} "
                                                        "characters (the stream hold-back); shorten them"))
        words[action] = tuple(w.strip() for w in given) if ok else ()
    return words


def _threshold(where: str, value: Any, problems: list[Problem]) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        problems.append(Problem(where, f"a threshold is a number in [0, 1], got {value!r}"))
        return 0.0
    return float(value)


def _grader_spec(where: str, value: Any, problems: list[Problem]) -> dict[str, Any] | None:
    spec = {"name": value} if isinstance(value, str) else dict(value) if isinstance(value, Mapping) else None
    if spec is None or not isinstance(spec.get("name"), str):
        problems.append(Problem(where, f"expected a grader name or {{name: ..., **params}}, got {value!r}"))
        return None
    names = grader_names()
    if spec["name"] not in names:
        name = spec["name"]
        problems.append(Problem(_at(where, "name"), _not_one_of(f"unknown grader {name!r}", name, names)))
    return spec


def _parse_topics(where: str, raw: Any, problems: list[Problem]) -> tuple[DeniedTopic, ...]:
    topics: list[DeniedTopic] = []
    seen: set[str] = set()
    for at, entry in _entries(where, raw, problems, "{name, definition, examples}"):
        problems += _unknown_keys(at, entry, ("definition", "examples", "grader", "name", "threshold"))
        name = _name(at, entry, seen, problems)
        definition = entry.get("definition")
        if not isinstance(definition, str) or not definition.strip():
            problems.append(Problem(_at(at, "definition"), f"topic {name!r}: a definition is required"))
        examples = entry.get("examples") or []
        if not isinstance(examples, list) or not all(isinstance(e, str) for e in examples):
            problems.append(Problem(_at(at, "examples"), f"topic {name!r}: expected a list of strings"))
            examples = []
        grader = _grader_spec(_at(at, "grader"), entry["grader"], problems) if entry.get("grader") else None
        threshold = _threshold(_at(at, "threshold"), entry.get("threshold", 0.5), problems)
        topics.append(DeniedTopic(name, str(definition), tuple(examples), grader, threshold))
    return tuple(topics)


def _parse_grounding(where: str, raw: Any, problems: list[Problem]) -> Grounding | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problems.append(Problem(where, f"expected {{grader: ..., threshold: ...}}, got {type(raw).__name__}"))
        return None
    problems += _unknown_keys(where, raw, ("grader", "threshold"))
    grader = _grader_spec(_at(where, "grader"), raw.get("grader", "faithfulness"), problems)
    threshold = _threshold(_at(where, "threshold"), raw.get("threshold", 0.5), problems)
    return Grounding(grader or {"name": "faithfulness"}, threshold)


def _parse_messages(where: str, raw: Any, problems: list[Problem]) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        problems.append(Problem(where, f"expected {{blocked_input: ..., blocked_output: ...}}, got {raw!r}"))
        return {}
    problems += _unknown_keys(where, raw, ("blocked_input", "blocked_output"))
    for key, value in raw.items():
        if key in ("blocked_input", "blocked_output") and not (isinstance(value, str) and value.strip()):
            problems.append(Problem(_at(where, key), f"expected a non-empty string, got {value!r}"))
    return {k: v for k, v in raw.items() if k in ("blocked_input", "blocked_output") and isinstance(v, str)}

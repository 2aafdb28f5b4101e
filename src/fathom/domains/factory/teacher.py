"""A deterministic offline teacher: question templates filled from a document chunk, with their tool calls.

A synthesiser (``fathom.synth``) sends a teacher one request per chunk of a document and gets back
JSON examples. A language model can be that teacher; this one is made of templates, so the factory
domain gets examples offline, on a CPU, the same every run. The request it reads (any object with
these attributes; the synthesiser's own class fits)::

    request.chunk        .id, .source, .text, .index, .metadata (dict)
    request.categories   objects with .name, .description, .tools (tool names, in call order)
    request.tools        OpenAI tool schemas offered to the model
    request.messages     the prompt a model teacher would get (ignored here)
    request.n            examples wanted;  request.seed   an int

and it answers ``{"examples": [{"category", "question", "tool_calls": [{"name", "arguments"}],
"answer", "quotes", "family"}]}``. Every fact a question relies on (a machine's name, a fault code, a
sensor, a safety sentence) is found in the chunk text and listed verbatim in ``quotes``, so a
groundedness check can find it there; a category with nothing to ground it in the chunk is skipped.
Arguments come only from what the question says (a device named in it, a window stated in it).
``answer`` is the reply for questions that need no tool, else null.

Families (:data:`FAMILIES`, templates in :mod:`._families`) are paraphrases of one category;
:func:`heldout_families` picks some to keep out of training so a test measures generalisation to
unseen wording. Not covered: chunking, validating or splitting the examples (``fathom.synth``).
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from fathom.domains.factory._families import TEMPLATES, Family
from fathom.domains.factory.categories import CATEGORIES
from fathom.domains.factory.plant import DEVICES, FAULT_CODES, device, fault_code
from fathom.errors import ConfigError, did_you_mean

__all__ = ["FAMILIES", "FactoryTemplateTeacher", "TeacherRequest", "heldout_families"]

FAMILIES: dict[str, list[str]] = {category: [f.id for f in families] for category, families in TEMPLATES.items()}
"""Category -> its paraphrase family ids (``"status/terse"``)."""

_MINUTES = (5, 10, 15, 30, 60, 120, 240)
_DAYS = (7, 14, 21, 30, 60, 90)
_PRIORITY_OF = {"minor": "low", "major": "high", "critical": "urgent"}
_ISSUES = ("an unusual noise from the drive", "a loose guard latch", "an oil leak under the machine",
           "a sensor reading that keeps drifting", "a worn belt edge", "a check before the weekend run")
_GUARD_RULE = re.compile(r"\b(interlock\w*|guards?)\b", re.IGNORECASE)
_IMPERATIVE = re.compile(r"\b(never|do not|must|only|dismissal)\b", re.IGNORECASE)
_LOCK_RULE = re.compile(r"\b(lock(?:out|-tagout)?|lock (?:it )?off|padlock|isolate)\b", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<![\w.])[A-Z][^.!?]*?[.!?](?=\s|$)", re.DOTALL)
_DEFINITION = re.compile(r"^(?P<term>[A-Z][\w-]*(?: [\w()-]+){0,4}?) (?:is an?|is the|means) ", re.DOTALL)
_CODE = re.compile(r"\b[A-Z]{3}-\d{3}\b")


class _Chunk(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def index(self) -> int: ...


class _Category(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def tools(self) -> Sequence[str]: ...


class TeacherRequest(Protocol):
    """What :meth:`FactoryTemplateTeacher.complete` reads from a request (``source``, ``metadata``,
    ``messages`` and ``description`` may be there too; they are not needed)."""

    @property
    def chunk(self) -> _Chunk: ...
    @property
    def categories(self) -> Sequence[_Category]: ...
    @property
    def tools(self) -> Sequence[dict[str, Any]]: ...
    @property
    def n(self) -> int: ...
    @property
    def seed(self) -> int: ...


def heldout_families(fraction: float, seed: int = 0) -> frozenset[str]:
    """Family ids to keep out of training: ``round(fraction * k)`` of each category's ``k`` families.

    At least one family per category is held out when ``fraction > 0`` and at least one kept for
    training when ``fraction < 1``. The same ``(fraction, seed)`` always picks the same families.

    >>> held = heldout_families(0.25, seed=0)
    >>> sorted({f.split("/")[0] for f in held}) == sorted(FAMILIES)  # every category gives three
    True
    >>> len(held), heldout_families(0.25, seed=0) == held, heldout_families(0.25, seed=1) == held
    (27, True, False)

    Raises:
        ConfigError: ``fraction`` outside [0, 1].
    """
    if not 0.0 <= fraction <= 1.0:
        raise ConfigError([f"heldout fraction={fraction} must be between 0 and 1 (0.2 holds out a fifth of "
                           f"each category's families)"])
    held: set[str] = set()
    for category, ids in FAMILIES.items():
        count = round(fraction * len(ids))
        if fraction > 0:
            count = max(count, 1)
        if fraction < 1:
            count = min(count, len(ids) - 1)
        rng = np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(category.encode())]))
        held.update(ids[i] for i in rng.permutation(len(ids))[:count])
    return frozenset(held)


# --------------------------------------------------------------------------- what a chunk mentions

@dataclass(frozen=True)
class _Mention:
    device: str
    surface: str
    """As written in the chunk: a name of the machine, or (when the chunk names none) a fault code or sensor
    of that machine alone, which a question then calls by the machine's id."""
    phrase: str
    """As a question says it ("tunnel-1", "the CT-24", "the cooling tunnel")."""


@dataclass
class _Entities:
    mentions: list[_Mention] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    sensors: list[tuple[str, str, str]] = field(default_factory=list)
    """(device, sensor name, surface)."""
    rules: dict[str, list[str]] = field(default_factory=lambda: {"guard": [], "lock": []})
    terms: list[tuple[str, str]] = field(default_factory=list)
    """(term as a question says it, its defining sentence verbatim)."""


def _names() -> list[tuple[str, str, bool]]:
    """(device, name, is_id) for every id and alias, longest first (so "cooling tunnel" wins over "tunnel")."""
    names = [(d.id, d.id, True) for d in DEVICES] + [(d.id, a, False) for d in DEVICES for a in d.aliases]
    return sorted(names, key=lambda n: -len(n[1]))


_NAMES = _names()


def _loose(name: str) -> str:
    """A regex for ``name`` whose spaces match any whitespace (a name may wrap across lines)."""
    return r"\s+".join(re.escape(word) for word in name.split())


def find_entities(text: str) -> _Entities:
    """Everything in ``text`` a question can be grounded in."""
    found = _Entities()
    taken: list[tuple[int, int]] = []
    for device_id, name, is_id in _NAMES:
        pattern = re.escape(name) if is_id else _loose(name)
        for m in re.finditer(rf"(?<![\w-]){pattern}(?![\w-])", text, 0 if is_id else re.IGNORECASE):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            taken.append(m.span())
            surface = m.group(0)
            phrase = surface if is_id else "the " + (name if name.islower() else " ".join(surface.split()))
            mention = _Mention(device_id, surface, phrase)
            if mention not in found.mentions:
                found.mentions.append(mention)
    known = {f.code for f in FAULT_CODES}
    found.codes = list(dict.fromkeys(c for c in _CODE.findall(text) if c in known))
    found.sensors = _sensors(text, {m.device for m in found.mentions})
    named = {m.device for m in found.mentions}
    implied = [(fault_code(c).device, c) for c in found.codes] + [(d, surface) for d, _, surface in found.sensors]
    for device_id, surface in implied:  # a code or signal of one machine names it too (asked as its id)
        if device_id not in named:
            named.add(device_id)
            found.mentions.append(_Mention(device_id, surface, device_id))
    for sentence in _sentences(text):
        if _GUARD_RULE.search(sentence) and _IMPERATIVE.search(sentence):
            found.rules["guard"].append(sentence)
        if _LOCK_RULE.search(sentence) and not re.search(r"locked out|lockout;", sentence):
            found.rules["lock"].append(sentence)
        definition = _DEFINITION.match(sentence)
        if definition and not re.search(r"[;:,]", definition["term"]):
            term = definition["term"]
            term = term if term.split()[0].isupper() or any(ch.isdigit() for ch in term.split()[0]) else \
                term[0].lower() + term[1:]
            found.terms.append((" ".join(term.split()), sentence))
    return found


def _sensors(text: str, devices: set[str]) -> list[tuple[str, str, str]]:
    found = []
    for d in DEVICES:
        for s in d.sensors:
            for name in (s.name, s.label):
                m = re.search(rf"(?<![\w-]){_loose(name)}(?![\w-])", text, re.IGNORECASE)
                if m is None:
                    continue
                owners = [o.id for o in DEVICES if any(name in (x.name, x.label) for x in o.sensors)]
                if d.id in devices or owners == [d.id]:
                    found.append((d.id, s.name, m.group(0)))
                break
    return found


def _sentences(text: str) -> list[str]:
    """Prose sentences of ``text``, verbatim (headings, table rows and CSV lines are not prose)."""
    found = []
    for block in _prose_blocks(text):
        found += [s for s in (m.group(0) for m in _SENTENCE.finditer(block))
                  if 25 <= len(s) <= 320 and not re.search(r"\||->|,\S", s) and s.count("\n") <= 3]
    return found


def _prose_blocks(text: str) -> list[str]:
    """Runs of prose lines; a blank line or a heading (a short line without closing punctuation) ends one."""
    blocks: list[str] = []
    current: list[str] = []
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if not stripped or (len(stripped) < 70 and not re.search(r"[.!?:;,]$", stripped)):
            if current:
                blocks.append("".join(current))
            current = []
        else:
            current.append(line)
    if current:
        blocks.append("".join(current))
    return blocks


def _names_in(surface: str, sentence: str) -> bool:
    return re.search(rf"(?<![\w-]){_loose(surface)}(?![\w-])", sentence) is not None


# --------------------------------------------------------------------------- filling a family

def _span(minutes: int) -> str:
    if minutes == 60:
        return "hour"
    return f"{minutes // 60} hours" if minutes % 60 == 0 else f"{minutes} minutes"


def _days(days: int) -> str:
    return f"{days // 7} weeks" if days in (14, 21) else f"{days} days"


def _pick(rng: np.random.Generator, items: Sequence[Any]) -> Any:
    return items[int(rng.integers(len(items)))] if items else None


@dataclass
class _Binding:
    slots: dict[str, str] = field(default_factory=dict)
    quotes: list[str] = field(default_factory=list)
    mention: _Mention | None = None
    """The machine as the question names it (None when it names none)."""
    device: str | None = None
    device_named: bool = False
    code: str | None = None
    sensor: str | None = None
    sensor_label: str | None = None
    minutes: int = 60
    days: int = 30
    priority: str = "medium"
    issue_code: str | None = None
    issue: str = ""
    rule: str | None = None
    term_sentence: str | None = None


def _bind(family: Family, found: _Entities, rng: np.random.Generator) -> _Binding | None:
    """Fill the family's slots from the chunk's entities, or None when the chunk lacks one it needs."""
    slots = set(re.findall(r"\{(\w+)\}", family.template))
    named = "dev" in slots
    b = _Binding()
    if "code" in slots:
        found_all = _bind_code(b, found, rng, named)
    elif "sensor" in slots:
        found_all = _bind_sensor(b, found, rng)
    elif family.rule is not None:
        found_all = _bind_rule(b, found, rng, family.rule, named)
    else:
        b.mention = _pick(rng, found.mentions) if named else None
        found_all = b.mention is not None or not named
    if not found_all:
        return None
    if b.mention is not None:
        b.device, b.device_named = b.mention.device, True
        b.slots["dev"] = b.mention.phrase
        b.quotes.insert(0, b.mention.surface)
    if "term" in slots:
        term = _pick(rng, found.terms)
        if term is None:
            return None
        b.slots["term"], b.term_sentence = term
        b.quotes.append(b.term_sentence)
    _fill_numbers(b, slots, found, rng)
    return b


def _bind_code(b: _Binding, found: _Entities, rng: np.random.Generator, named: bool) -> bool:
    """A fault code of the chunk (and, when named, a mention of its machine)."""
    pairs: list[tuple[str, _Mention | None]] = [
        (c, m) for c in found.codes for m in found.mentions if m.device == fault_code(c).device] if named \
        else [(c, None) for c in found.codes]
    if not pairs:
        return False
    b.code, b.mention = _pick(rng, pairs)
    b.device = fault_code(b.code).device
    b.quotes.append(b.code)
    return True


def _bind_sensor(b: _Binding, found: _Entities, rng: np.random.Generator) -> bool:
    """A sensor the chunk names, with a mention of its machine."""
    pairs = [(s, m) for s in found.sensors for m in found.mentions if m.device == s[0]]
    if not pairs:
        return False
    (b.device, b.sensor, surface), b.mention = _pick(rng, pairs)
    b.sensor_label = device(b.device).sensor(b.sensor).label
    b.slots["sensor"] = b.sensor_label
    b.quotes.append(surface)
    return True


def _bind_rule(b: _Binding, found: _Entities, rng: np.random.Generator, kind: str, named: bool) -> bool:
    """A safety sentence of the kind; when named, with the machine it is about (named in it, or the chunk's one)."""
    single = len({m.device for m in found.mentions}) == 1
    pairs: list[tuple[str, _Mention | None]] = [
        (r, m) for r in found.rules[kind] for m in found.mentions
        if _names_in(m.surface, r) or (single and not any(_names_in(o.surface, r) for o in found.mentions))] \
        if named else [(r, None) for r in found.rules[kind]]
    if not pairs:
        return False
    b.rule, b.mention = _pick(rng, pairs)
    b.quotes.append(b.rule)
    return True


def _fill_numbers(b: _Binding, slots: set[str], found: _Entities, rng: np.random.Generator) -> None:
    b.minutes, b.days = int(_pick(rng, _MINUTES)), int(_pick(rng, _DAYS))
    b.slots["span"], b.slots["days"] = _span(b.minutes), _days(b.days)
    own_codes = [c for c in found.codes if b.device and fault_code(c).device == b.device]
    b.issue_code = b.code or _pick(rng, own_codes)
    if b.issue_code is not None:
        fault = fault_code(b.issue_code)
        b.priority = _PRIORITY_OF[fault.severity]
        b.issue = f"{fault.code}, {fault.meaning[0].lower()}{fault.meaning[1:]}"
        if fault.code not in b.quotes and ({"issue", "issue_sentence"} & slots):
            b.quotes.append(fault.code)
    else:
        b.priority = str(_pick(rng, ("low", "medium", "high", "urgent")))
        b.issue = str(_pick(rng, _ISSUES))
    b.slots.update(code=b.code or "", issue=b.issue, issue_sentence=f"It has {b.issue}." if b.issue_code is None
                   else f"Fault {b.issue}.", priority=b.priority,
                   priority_word="urgent" if b.priority == "urgent" else f"{b.priority} priority",
                   a_priority="an urgent" if b.priority == "urgent" else f"a {b.priority}-priority")


def _question(family: Family, b: _Binding) -> str:
    text = family.template.format(**b.slots)
    return "The" + text[3:] if text.startswith("the ") and family.template.startswith("{dev}") else text


def _calls(category: str, tools: Sequence[str], b: _Binding) -> list[dict[str, Any]]:
    calls = []
    for name in tools:
        args: dict[str, Any]
        if name == "list_devices":
            args = {}
        elif name == "get_telemetry":
            args = {"device": b.device, "minutes": b.minutes, **({"sensor": b.sensor} if b.sensor else {})}
        elif name == "search_manuals":
            query = b.code or b.sensor_label or ""
            query = f"{query} troubleshooting" if category == "troubleshooting" else query
            args = {"query": query, **({"device": b.device} if b.device_named else {})}
        elif name == "get_maintenance_log":
            args = {"device": b.device, "days": b.days}
        elif name == "create_work_order":
            d = device(b.device or "")
            summary = (f"{b.issue_code} on {d.id}: {fault_code(b.issue_code).meaning}." if b.issue_code
                       else f"{d.name} ({d.id}): {b.issue}.")
            args = {"device": d.id, "priority": b.priority, "summary": summary}
        else:  # pragma: no cover - _check_request refuses tools it cannot call
            raise AssertionError(name)
        calls.append({"name": name, "arguments": args})
    return calls


def _answer(family: Family, b: _Binding) -> str | None:
    if b.term_sentence is not None:
        return " ".join(b.term_sentence.split())
    if b.rule is None:
        return None
    rule = " ".join(b.rule.split())
    if family.rule == "lock":
        return (f"Yes. Never work inside a machine without locking it off, however short the job. The rule: "
                f"\"{rule}\" Stop it, isolate every energy source and fit your own lock and tag first.")
    return (f"No, I can't help with {family.refusal}: guards and interlocks are what keep people out of moving "
            f"parts. The rule: \"{rule}\" Stop the machine, isolate it and use lockout-tagout, then clear it.")


# --------------------------------------------------------------------------- the teacher

_OURS = {c.name: c for c in CATEGORIES}


class FactoryTemplateTeacher:
    """Template teacher for the factory categories (see the module docstring for the request and reply).

    Args:
        seed: mixed with each request's seed and the chunk's id, so the same inputs give the same examples.
        families: restrict to these family ids (e.g. the training families); default all.
    """

    def __init__(self, seed: int = 0, families: Collection[str] | None = None):
        every = {f for ids in FAMILIES.values() for f in ids}
        unknown = sorted(set(families or ()) - every)
        if unknown:
            raise ConfigError([f"unknown family {u!r}. {did_you_mean(u, every)}".strip() for u in unknown]
                              + [f"valid families: {', '.join(sorted(every))}"])
        self.seed = seed
        self.families = frozenset(every if families is None else families)

    def complete(self, request: TeacherRequest) -> str:
        """Up to ``request.n`` examples for ``request.chunk``, as JSON text.

        Raises:
            ConfigError: a requested category is not a factory category, its tools differ from the factory
                mapping, or a tool it needs is not among ``request.tools``.
        """
        categories = _check_request(request)
        chunk = request.chunk
        rng = np.random.default_rng(np.random.SeedSequence(
            [self.seed, request.seed, zlib.crc32(str(chunk.id).encode()), int(chunk.index)]))
        found = find_entities(chunk.text)
        examples: list[dict[str, Any]] = []
        seen: set[str] = set()
        usable = {c.name: [f for f in TEMPLATES[c.name] if f.id in self.families] for c in categories}
        order = [name for name in usable if usable[name]]
        order = [order[i] for i in rng.permutation(len(order))]  # n < categories must not favour the first ones
        turn = 0
        while len(examples) < request.n and order and turn < request.n * 4:  # duplicates end it too
            name = order[turn % len(order)]
            turn += 1
            drawn = _draw(usable[name], found, rng)
            if drawn is None:  # nothing in this chunk grounds any family of the category
                order.remove(name)
                continue
            family, binding = drawn
            question = _question(family, binding)
            if question in seen:
                continue
            seen.add(question)
            examples.append({"category": name, "question": question,
                             "tool_calls": _calls(name, _OURS[name].tools, binding),
                             "answer": _answer(family, binding), "quotes": list(dict.fromkeys(binding.quotes)),
                             "family": family.id})
        return json.dumps({"examples": examples}, ensure_ascii=False)


def _draw(families: list[Family], found: _Entities, rng: np.random.Generator) -> tuple[Family, _Binding] | None:
    """A random family of the category that the chunk can fill, filled; families it cannot are dropped."""
    while families:
        family = _pick(rng, families)
        binding = _bind(family, found, rng)
        if binding is not None:
            return family, binding
        families.remove(family)
    return None


def _check_request(request: TeacherRequest) -> list[_Category]:
    offered = {t.get("function", {}).get("name") for t in request.tools or ()}
    problems = []
    for category in request.categories:
        ours = _OURS.get(category.name)
        if ours is None:
            problems.append(f"category {category.name!r} is not a factory category. "
                            f"{did_you_mean(category.name, _OURS)} Valid: {', '.join(_OURS)}.".replace("  ", " "))
            continue
        if tuple(category.tools) != ours.tools:
            problems.append(f"category {category.name!r} expects tools {list(category.tools)}, but the factory "
                            f"mapping says {list(ours.tools)}; regenerate it with `fathom factory categories`")
        missing = [t for t in ours.tools if t not in offered]
        if missing:
            problems.append(f"category {category.name!r} needs tool(s) {', '.join(missing)}, which the request "
                            f"does not offer (offered: {', '.join(sorted(str(o) for o in offered)) or 'none'})")
    if problems:
        raise ConfigError(problems, title="the factory teacher cannot serve this request")
    return list(request.categories)

"""Parsing Shipping Forecast text into :class:`~fathom.domains.shipping.vocab._fields.AreaForecast`.

Covers three layouts:

* one area's four field strings (:func:`parse_area_text`), e.g. an ``areas[]`` entry of the
  shared real-bulletin file;
* one area's body as sentences, "Wind. Sea state. Weather. Visibility." with optional icing,
  optionally opened by the area name(s) and a full stop or colon (:func:`parse_area_body`);
* a plain-text bulletin, the print/broadcast form or the writer's output: headings such as
  "Forth, Tyne, West Dogger" on their own line or opening the line (:func:`parse_bulletin`).

Sentences are given to fields in order (wind, sea state, weather, visibility); a sentence that
does not read as the expected field is tried against the later ones, and "In north, ..." after
"In south, ..." stays with its field. Area names are canonicalised (``expand_names`` maps
headings, including part-areas like "West Dogger" and "the Utsires", to the 31 areas).

Not covered: the JSON Lines file layout and file reading (``parse/_io.py``); the grammar of a
field (``parse/_grammar.py``).

>>> fc = parse_bulletin("Viking, North Utsire. Southwest 5 to 7, occasionally gale 8 later. "
...                     "Moderate or rough. Rain later. Good, occasionally poor.")[0]
>>> fc.names, fc.force.second.secondary, fc.weather.first.main, fc.complete()
(('Viking', 'North Utsire'), Force(lo=8, hi=8), None, True)
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from fathom.domains.shipping.parse._grammar import ICING_RE, parse_field, parse_icing
from fathom.domains.shipping.vocab import AREA_ALIASES, AREAS, POINT_NOUNS, AreaForecast, Periods

__all__ = ["canonical_name", "expand_names", "parse_area_body", "parse_area_text",
           "parse_bulletin"]

_FIELD_ORDER = ("wind", "sea_state", "weather", "visibility")
_AREA_BY_LOWER = {a.lower(): a for a in AREAS} | AREA_ALIASES
_PART_WORDS = frozenset({*POINT_NOUNS.values(), "far", "central"})
_ISSUED_RE = re.compile(r"\(\s*issued[^)]*\)", re.I)
_NAME_SPLIT_RE = re.compile(r"\s*,\s*|\s+and\s+|\s*&\s*")
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+|\n+")


def canonical_name(name: str) -> str | None:
    """The canonical spelling of an area or part-area name, or None if it is not one.

    >>> canonical_name("fitzroy"), canonical_name("east  southeast iceland"), canonical_name("X")
    ('FitzRoy', 'East Southeast Iceland', None)
    """
    text = " ".join(_ISSUED_RE.sub(" ", name).replace("\u2019", "'").split()).strip(" .:;")
    low = text.lower()
    if low in ("utsires", "the utsires"):
        return "the Utsires"
    if low in _AREA_BY_LOWER:
        return _AREA_BY_LOWER[low]
    part, _, rest = low.partition(" ")
    if part in _PART_WORDS and rest:
        inner = canonical_name(text[len(part) + 1:])
        if inner is not None and inner != "the Utsires":
            return f"{part.capitalize()} {inner}"
    return None


def expand_names(names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The sea areas (of the 31) that a heading's names cover, in broadcast order, each once.

    >>> expand_names(["West Dogger", "the Utsires", "Fitzroy"])
    ('North Utsire', 'South Utsire', 'Dogger', 'FitzRoy')
    """
    found: set[str] = set()
    for name in names:
        canon = canonical_name(name)
        if canon is None:
            continue
        if canon == "the Utsires":
            found.update(("North Utsire", "South Utsire"))
            continue
        while canon not in AREAS:
            canon = canon.split(" ", 1)[1]
        found.add(canon)
    return tuple(a for a in AREAS if a in found)


def _heading(text: str) -> tuple[str, ...] | None:
    """The names of a heading such as "Forth, Tyne, West Dogger:" (None if it is not one)."""
    text = _ISSUED_RE.sub(" ", text).strip(" .:;\t")
    if not text or len(text) > 300:
        return None
    names = []
    for piece in _NAME_SPLIT_RE.split(text):
        if not piece.strip():
            continue
        canon = canonical_name(piece)
        if canon is None:
            return None
        names.append(canon)
    return tuple(names) or None


def _strip_icing(text: str) -> str:
    return ICING_RE.sub(" ", text.lower()) if "icing" in text.lower() else text


def parse_area_text(wind: str, sea_state: str, weather: str, visibility: str,
                    names: list[str] | tuple[str, ...] = (), icing: str = "") -> AreaForecast:
    """Interpret one area's four field strings.

    Args:
        wind: the wind field ("Southwest 5 to 7, occasionally gale 8 later.").
        sea_state: the sea-state field.
        weather: the weather field.
        visibility: the visibility field (an icing sentence inside it is read as icing).
        names: the area or part-area names of the heading.
        icing: a separate icing statement, if any.

    Returns:
        The interpretation; phrases it could not place are listed in ``unknown``.

    >>> fc = parse_area_text("Cyclonic 4 to 6 becoming northerly 7 to severe gale 9.", "Rough.",
    ...                      "Rain then showers.", "Good, occasionally poor.", names=["Tyne"])
    >>> fc.direction.first.main.kind, fc.direction.second.main.points, fc.force.second.main
    ('cyclonic', ('N',), Force(lo=7, hi=9))
    """
    fields: dict[str, Periods[Any]] = {}
    unknown: list[str] = []
    ice = parse_icing(icing) if icing else None
    texts = {"wind": wind, "sea_state": sea_state, "weather": weather, "visibility": visibility}
    for kind in _FIELD_ORDER:
        text = texts[kind] or ""
        if "icing" in text.lower():
            ice = ice or parse_icing(text)
            text = _strip_icing(text)
        periods, bad = parse_field(text, kind)
        fields.update(periods)
        unknown.extend(bad)
    canon = tuple(canonical_name(n) or n for n in names)
    return AreaForecast(names=canon, icing=ice, unknown=tuple(unknown), **fields)


def _fits(sentence: str, kind: str) -> bool:
    periods, bad = parse_field(sentence, kind)
    return not bad and any(not p.is_empty() for p in periods.values())


_SPLIT_RE = re.compile(r"\s*in\s+[a-z ]+,", re.I)


def _starts_split(sentence: str) -> bool:
    return bool(_SPLIT_RE.match(sentence))


def split_fields(body: str) -> tuple[dict[str, str], str, list[str]]:
    """Give the sentences of an area body to the fields, in order.

    Args:
        body: "Wind. Sea state. Weather. Visibility." with optional icing.

    Returns:
        ``(field texts, icing text, sentences that fit no field)``.

    >>> fields, icing, extra = split_fields("Westerly 5. Rain. Good. Light icing.")
    >>> fields
    {'wind': 'Westerly 5.', 'sea_state': '', 'weather': 'Rain.', 'visibility': 'Good.'}
    >>> icing, extra
    ('Light icing.', [])
    """
    texts: dict[str, list[str]] = {kind: [] for kind in _FIELD_ORDER}
    icing: list[str] = []
    extra: list[str] = []
    pos = 0
    last: str | None = None
    for sentence in _SENTENCE_RE.split(body.strip()):
        sentence = sentence.strip()
        if not sentence or not any(ch.isalnum() for ch in sentence):
            continue
        if "icing" in sentence.lower() and ICING_RE.fullmatch(sentence.lower().rstrip(". ")):
            icing.append(sentence)
            continue
        if (last is not None and _starts_split(sentence) and texts[last]
                and _starts_split(texts[last][0]) and _fits(sentence, last)):
            texts[last].append(sentence)
            continue
        target = next((k for k in _FIELD_ORDER[pos:] if _fits(sentence, k)), None)
        if target is None:
            if pos < len(_FIELD_ORDER):
                target = _FIELD_ORDER[pos]
            else:
                extra.append(sentence)
                continue
        texts[target].append(sentence)
        last = target
        pos = _FIELD_ORDER.index(target) + 1
    joined = {k: "  ".join(v) for k, v in texts.items()}
    return joined, " ".join(icing), extra


def parse_area_body(text: str, names: list[str] | tuple[str, ...] = ()) -> AreaForecast:
    """Interpret one area's text: "Wind. Sea state. Weather. Visibility.", optionally opened by
    the area name(s) and a full stop or colon.

    Args:
        text: the area text.
        names: names to use when the text has no heading.

    Returns:
        The interpretation; sentences that fit no field are reported in ``unknown``.

    >>> parse_area_body("Fair Isle: Variable 3. Smooth. Fair. Good.").names
    ('Fair Isle',)
    """
    return _parse_area_body(text, tuple(names))


@lru_cache(maxsize=1 << 14)
def _parse_area_body(text: str, names: tuple[str, ...]) -> AreaForecast:
    """:func:`parse_area_body`, memoised (forecasts are immutable; graders see repeats)."""
    head, body = _split_heading(text)
    fields, icing, extra = split_fields(body)
    fc = parse_area_text(names=head or names, icing=icing, **fields)
    if extra:
        fc = AreaForecast(**{**_shallow(fc), "unknown": fc.unknown + tuple(extra)})
    return fc


def _shallow(fc: AreaForecast) -> dict[str, Any]:
    return {k: getattr(fc, k) for k in fc.__dataclass_fields__}


def _split_heading(text: str) -> tuple[tuple[str, ...] | None, str]:
    text = text.strip()
    for sep in (":", "\n", ". ", "."):
        idx = text.find(sep)
        if idx > 0:
            names = _heading(text[:idx])
            if names:
                return names, text[idx + len(sep):]
    return None, text


def parse_bulletin(text: str) -> list[AreaForecast]:
    """Every area forecast of a plain-text bulletin, in order.

    Headings are lines of area names ("Forth, Tyne, West Dogger", "Trafalgar (issued 0015
    UTC)"), alone or opening the line before a full stop or colon. Text before the first
    heading (preamble, gale summary, synopsis) is skipped, and reading stops at a "Gale
    warnings" section.

    Args:
        text: the bulletin.

    Returns:
        One :class:`AreaForecast` per heading.
    """
    blocks: list[tuple[tuple[str, ...], list[str]]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        low = line.lower()
        if low.startswith("gale warnings") or re.match(r"^[a-z \-]+, issued", low):
            break
        names = _heading(line)
        if names:
            blocks.append((names, []))
            continue
        head, body = _split_heading(line)
        if head:
            blocks.append((head, [body]))
        elif blocks:
            blocks[-1][1].append(line)
    return [parse_area_body(" ".join(lines), names=names) for names, lines in blocks]

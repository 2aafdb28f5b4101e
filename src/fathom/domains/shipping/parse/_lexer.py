"""Normalising and tokenising one Shipping Forecast field string.

Covers: the typo and punctuation repairs of ``docs/shipping-forecast.md`` §8 (missing commas,
doubled spaces, "3 ot 5", "cyclonc", "Mgood", ...), and a longest-match lexer that turns a
field string into typed tokens (directions, forces, classes, weather types, timing words,
connectives, places). Words it does not know become ``unknown`` tokens, never dropped.

Not covered: what the tokens mean together (``parse/_grammar.py``), bulletin layouts (``parse/_parser.py``).

>>> [t.kind for t in tokenize("Southwest 5 to gale 8, occasionally 9 later", "wind")]
['dir', 'num', 'to', 'fw', 'num', 'comma', 'occ', 'num', 'later']
>>> [(t.kind, t.value) for t in tokenize("Goodm, ocasionaly poor", "visibility")][:1]
[('cls', 3)]
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, NamedTuple

from fathom.domains.shipping.vocab import (
    AREA_ALIASES,
    AREAS,
    POINT_NOUNS,
    SEA_STATES,
    VISIBILITY,
)

__all__ = ["Tok", "normalise", "tokenize"]


class Tok(NamedTuple):
    """One token: its kind, its value (a point, a number, a class index, weather types...) and
    the text it came from."""

    kind: str
    value: Any
    text: str


# Repairs of the lower-cased text before tokenising (docs §8): phrase -> replacement.
_REPAIRS: dict[str, str] = {
    "sligh tor": "slight or",
    "for at ime": "for a time",
    "raina nd": "rain and",
    "orthundery": "or thundery",
    "occasionalthundery": "occasional thundery",
    "mdo to": "moderate to",
    "at firs": "at first",
    "rain oss": "rain or showers",
    "rain of showers": "rain or showers",
    "ot less": "or less",
    "to less": "or less",
    "utsire's": "utsires",
    "st george's": "st georges",
}
_REPAIR_RE = re.compile(r"\b(?:" + "|".join(re.escape(k) for k in _REPAIRS) + r")\b")
_DIGIT_WORD_RE = re.compile(r"(\d)(?=[a-z])")
_WORD_RE = re.compile(r"[a-z]+(?:[-'][a-z]+)*|\d+|[,.;:()]")

# Single-word typos and variants (docs §8): word -> word.
_TYPOS: dict[str, str] = {
    "cyclonc": "cyclonic", "soutwesterly": "southwesterly", "soutwest": "southwest",
    "late": "later", "ot": "to", "roug": "rough", "morate": "moderate", "moderat": "moderate",
    "smoot": "smooth", "sight": "slight", "benoming": "becoming", "becomig": "becoming",
    "thundey": "thundery", "shower": "showers", "squalls": "squally", "thunder": "thundery",
    "straight": "strait", "northe": "north", "fiztroy": "fitzroy", "back": "backing",
    "occasionaly": "occasionally", "ocasionaly": "occasionally", "ocasionally": "occasionally",
    "goodbight": "good", "mgood": "good", "goodm": "good", "goo": "good", "often": "mainly",
}


def normalise(text: str) -> str:
    """Lower-case ``text``, repair the known multi-word typos and collapse whitespace.

    >>> normalise("Smooth ot  slight.  Sligh tor moderate")
    'smooth ot slight. slight or moderate'
    """
    out = text.lower().replace("\u2019", "'")
    if _REPAIR_RE.search(out):
        out = _REPAIR_RE.sub(lambda m: _REPAIRS[m.group(0)], out)
    out = _DIGIT_WORD_RE.sub(r"\1 ", out)
    return " ".join(out.split())


def _add(table: dict[tuple[str, ...], tuple[str, Any]], phrase: str, kind: str,
         value: Any = None) -> None:
    table[tuple(phrase.split())] = (kind, value)


def _common() -> dict[tuple[str, ...], tuple[str, Any]]:
    t: dict[tuple[str, ...], tuple[str, Any]] = {}
    for point, noun in POINT_NOUNS.items():
        for form in (noun, f"{noun}erly"):
            _add(t, form, "dir", point)
            if len(noun) > 5:  # "north-east", "south-westerly"
                _add(t, form[:5] + "-" + form[5:], "dir", point)
    for n in range(13):
        _add(t, str(n), "num", n)
    words = {
        "variable": ("var", None), "cyclonic": ("cyc", None),
        "becoming": ("chg", "becoming"), "veering": ("chg", "veering"),
        "backing": ("chg", "backing"), "increasing": ("chg", "increasing"),
        "decreasing": ("chg", "decreasing"), "then": ("chg", "then"),
        "turning": ("chg", "turning"), "turning into": ("chg", "turning"),
        "then becoming": ("chg", "becoming"), "developing": ("dev", None),
        "clearing": ("clear", None),
        "occasionally": ("occ", None), "perhaps": ("occ", None), "occasional": ("occadj", None),
        "at times": ("sec", None), "for a time": ("sec", None), "possible": ("sec", None),
        "at first": ("first", None), "until later": ("first", None), "soon": ("first", None),
        "later": ("later", None), "for a time later": ("later_sec", None),
        "mainly": ("mainly", None), "otherwise": ("otherwise", None), "but": ("but", None),
        "and": ("and", None), "with": ("and", None), "also": ("also", None),
        "again": ("also", None),
        "or": ("or", None), "to": ("to", None), "or less": ("orless", None),
        ",": ("comma", None), ";": ("comma", None), ":": ("comma", None),
        ".": ("stop", None), "(": ("stop", None), ")": ("stop", None),
        "in": ("in", None), "near": ("in", None), "except": ("in", "except"),
        "except in": ("in", "except"), "especially": ("in", None), "especially in": ("in", None),
        "including": ("in", None), "over": ("in", None), "in the": ("in", None),
        "along": ("in", None),
        "elsewhere": ("elsewhere", None), "throughout": ("throughout", None),
        "gale": ("fw", 8), "gale force": ("fw", 8), "severe gale": ("fw", 9),
        "severe gale force": ("fw", 9), "storm": ("fw", 10), "storm force": ("fw", 10),
        "violent storm": ("fw", 11), "violent storm force": ("fw", 11),
        "hurricane": ("fw", 12), "hurricane force": ("fw", 12),
        "far": ("place", None), "central": ("place", None), "centre": ("place", None),
    }
    for phrase, (kind, value) in words.items():
        _add(t, phrase, kind, value)
    for name in AREAS:
        _add(t, name.lower(), "area", name)
    for alias, name in AREA_ALIASES.items():
        _add(t, alias, "area", name)
    for phrase in ("utsires", "the utsires"):
        _add(t, phrase, "area", "Utsires")
    for word in _PLACE_WORDS:
        if tuple(word.split()) not in t:
            _add(t, word, "place", None)
    return t


_PLACE_WORDS = (
    "the", "of", "coast", "coasts", "coastal", "shore", "inshore", "sheltered", "shelter",
    "waters", "firth", "moray", "iceland", "icelandic", "gibraltar", "strait", "isles", "isle",
    "islands", "faeroe", "faroe", "portugal", "portuguese", "spain", "spanish", "france",
    "channel", "sea", "eastern", "western", "northern", "southern", "areas", "area", "parts",
    "french", "cape", "bay", "galloway", "shetland", "orkney", "great", "britain", "scilly",
    "lyme", "bristol", "st georges", "man", "mull", "clyde", "kintyre", "ardnamurchan",
    "point", "asturias", "estuary", "liverpool", "head", "lee", "norway", "norwegian",
    "denmark", "danish", "germany", "german", "dutch", "netherlands", "belgium", "english",
    "scotland", "scottish", "ireland", "irish", "wales", "welsh", "cornwall", "minch", "minches",
    "skagerrak", "wash", "thames estuary",
)

_SEA = {word: i for i, word in enumerate(SEA_STATES)}
_VIS = {word: i for i, word in enumerate(VISIBILITY)}

_WEATHER: dict[str, frozenset[str]] = {
    "rain": frozenset({"rain"}), "showers": frozenset({"showers"}),
    "drizzle": frozenset({"drizzle"}), "thundery": frozenset({"thundery"}),
    "thunderstorms": frozenset({"thundery", "showers"}), "squally": frozenset({"squally"}),
    "wintry": frozenset({"wintry"}), "snow": frozenset({"snow"}),
    "sleet": frozenset({"sleet"}), "hail": frozenset({"hail"}), "fog": frozenset({"fog"}),
    "fog patches": frozenset({"fog"}), "fog banks": frozenset({"fog"}),
    "extensive fog": frozenset({"fog"}), "mist": frozenset({"fog"}),
    "fair": frozenset({"fair"}), "heavy": frozenset(), "light": frozenset(),
}


@lru_cache(maxsize=8)
def _table(field: str) -> dict[tuple[str, ...], tuple[str, Any]]:
    t = _common()
    if field == "weather":
        for phrase, types in _WEATHER.items():
            _add(t, phrase, "wx", types)
    elif field in ("sea_state", "visibility"):
        for phrase, idx in (_SEA if field == "sea_state" else _VIS).items():
            _add(t, phrase, "cls", idx)
    return t


@lru_cache(maxsize=8)
def _longest(field: str) -> dict[str, int]:
    """First word -> the longest phrase (in words) that starts with it."""
    out: dict[str, int] = {}
    for key in _table(field):
        out[key[0]] = max(out.get(key[0], 0), len(key))
    return out


def tokenize(text: str, field: str) -> list[Tok]:
    """Tokens of one field string; ``field`` picks the class words ("sea_state",
    "visibility") or weather words ("weather"); "wind" has neither.

    Args:
        text: the field text as written.
        field: "wind", "sea_state", "weather" or "visibility".

    Returns:
        Tokens in order; unknown words have kind ``"unknown"``.
    """
    table = _table(field)
    longest = _longest(field)
    words = [_TYPOS.get(w, w) for w in _WORD_RE.findall(normalise(text))]
    out: list[Tok] = []
    i = 0
    n_words = len(words)
    while i < n_words:
        for n in range(min(longest.get(words[i], 1), n_words - i), 0, -1):
            key = tuple(words[i:i + n])
            hit = table.get(key)
            if hit is not None:
                out.append(Tok(hit[0], hit[1], " ".join(key)))
                i += n
                break
        else:
            out.append(Tok("unknown", None, words[i]))
            i += 1
    return out

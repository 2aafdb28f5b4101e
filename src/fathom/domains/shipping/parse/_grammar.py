"""The grammar of one field string: tokens -> statements ("items") -> sub-periods.

Covers the four fields (wind, sea state, weather, visibility): a field is read as *items*, each
a value ("southwest 5 to 7", "moderate or rough", "rain or showers") with its qualifiers:

* *secondary* when it carries "occasionally", "occasional" (outside weather), "perhaps",
  "at times", "for a time";
* *spatial* when it names a part of the area ("in east", "far west", "elsewhere", "except in
  Sole", "north of Asturias"); a sentence opening "In south, ..." starts a new *part*;
* its *timing* ("at first", "until later", "later", "developing", "clearing") and its *mode*:
  the target of "becoming", "veering", "backing", "increasing", "decreasing", "then",
  "otherwise" is a change;
* wind: "n or less" is the range [1, n] (force 0 is never forecast); "gale" without a number is
  8; "cyclonic, mainly north" is cyclonic with the point N; "X to Y" between two points reads as
  "X or Y".

How items become the two sub-periods is ``parse/_periods.py``. Icing ("Light icing") is read by
:func:`parse_icing`. Words the lexer does not know, and known words out of place (a number in a
sea state), are reported as unknown phrases.

Not covered: splitting a bulletin into areas and fields (``parse/_parser.py``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from fathom.domains.shipping.parse._lexer import Tok, tokenize
from fathom.domains.shipping.parse._periods import Item as _Item
from fathom.domains.shipping.parse._periods import assign, combine_periods, inherit_nouns
from fathom.domains.shipping.vocab import (
    Direction,
    Force,
    Icing,
    Periods,
    SeaState,
    Slot,
    Visibility,
)

__all__ = ["ICING_RE", "TRACKS", "parse_field", "parse_icing"]

TRACKS: dict[str, tuple[str, ...]] = {
    "wind": ("direction", "force"),
    "sea_state": ("sea_state",),
    "weather": ("weather",),
    "visibility": ("visibility",),
}
"""Which scored fields each field string fills."""

_PLACE_KINDS = frozenset({"place", "area", "dir"})
_RANGE_CLASS = {"sea_state": SeaState, "visibility": Visibility}


class _FieldParser:
    """Reads the tokens of one field string into parts (lists of items) and unknown phrases."""

    def __init__(self, tokens: list[Tok], kind: str):
        self.toks = tokens
        self.kind = kind
        self.i = 0
        self.parts: list[list[_Item]] = [[]]
        self.cur: _Item | None = None
        self.unknown: list[str] = []
        self.mainly = False

    # ------------------------------------------------------------ helpers
    def _peek(self, offset: int = 0) -> Tok | None:
        j = self.i + offset
        return self.toks[j] if 0 <= j < len(self.toks) else None

    def _kind(self, offset: int = 0) -> str:
        tok = self._peek(offset)
        return tok.kind if tok else ""

    def _new(self, mode: str = "add", secondary: bool = False) -> _Item:
        item = _Item(mode=mode, secondary=secondary)
        self.parts[-1].append(item)
        self.cur = item
        return item

    def _slot_for(self, track: str) -> _Item:
        cur = self.cur
        if cur is None or cur.closed or cur.sealed or track in cur.values:
            return self._new()
        return cur

    def _bad(self, text: str) -> None:
        self.unknown.append(text)

    # ------------------------------------------------------------ values
    def _direction(self) -> None:
        tok = self.toks[self.i]
        if tok.kind == "dir":
            points = [tok.value]
            self.i += 1
            while self._kind() in ("or", "to") and self._kind(1) == "dir":
                points.append(self.toks[self.i + 1].value)
                self.i += 2
            if self.mainly and self._mainly_target(points):
                self.mainly = False
                return
            value = Direction("point", tuple(points[:2]))
            if len(points) > 2:
                self._bad(" or ".join(points))
        else:
            value = Direction("variable" if tok.kind == "var" else "cyclonic")
            self.i += 1
        self.mainly = False
        self._slot_for("direction").values["direction"] = value

    def _mainly_target(self, points: list[str]) -> bool:
        """"cyclonic, mainly north": give the points to the current variable/cyclonic item."""
        cur = self.cur
        d = cur.values.get("direction") if cur is not None else None
        if cur is None or d is None or d.kind == "point" or d.points:
            return False
        cur.values["direction"] = Direction(d.kind, tuple(points[:2]))
        return True

    def _force_end(self) -> int | None:
        tok = self._peek()
        if tok is None:
            return None
        if tok.kind == "num":
            self.i += 1
            return int(tok.value)
        if tok.kind == "fw":
            self.i += 1
            if self._kind() == "num":
                self.i += 1
                return int(self.toks[self.i - 1].value)
            return int(tok.value)
        return None

    def _force(self) -> None:
        ends = [self._force_end()]
        while self._kind() in ("to", "or") and self._kind(1) in ("num", "fw"):
            self.i += 1
            ends.append(self._force_end())
        nums = [e for e in ends if e is not None]
        lo, hi = min(nums), max(nums)
        if self._kind() == "orless":
            self.i += 1
            lo = min(1, hi)
        self.mainly = False
        self._slot_for("force").values["force"] = Force(lo, hi)

    def _classes(self) -> None:
        idx = [int(self.toks[self.i].value)]
        self.i += 1
        while self._kind() in ("to", "or") and self._kind(1) == "cls":
            idx.append(int(self.toks[self.i + 1].value))
            self.i += 2
        self.mainly = False
        track = self.kind
        self._slot_for(track).values[track] = _RANGE_CLASS[track](min(idx), max(idx))

    def _weather(self) -> None:
        types: set[str] = set()
        while True:
            kind = self._kind()
            if kind == "wx":
                types |= self.toks[self.i].value
                self.i += 1
            elif kind == "occadj" or (kind in ("or", "and") and self._kind(1) in ("wx", "occadj")):
                self.i += 1
            else:
                break
        self.mainly = False
        item = self._slot_for("weather")
        item.values["weather"] = frozenset(types)

    # ------------------------------------------------------------ places
    def _place(self) -> None:
        """Consume a place phrase after "in"/"near"/"except" (the keyword already eaten)."""
        while True:
            kind = self._kind()
            tok = self._peek()
            if ((kind in _PLACE_KINDS and not (kind == "dir" and tok and tok.text.endswith("erly")))
                    or (kind in ("and", "in") and self._kind(1) in _PLACE_KINDS)
                    or (kind == "comma" and self._kind(1) == "area")):
                self.i += 1
            else:
                return

    def _mark_spatial(self) -> None:
        cur = self.cur
        if cur is None or (cur.sealed and cur.values):
            cur = self._new()
        cur.spatial = True
        if cur.values:
            cur.closed = True

    def _split_here(self) -> bool:
        """True at "in <place>," opening a sentence: a new spatial part starts."""
        prev = self._kind(-1)
        if not (self.i == 0 or prev == "stop" or (prev == "but" and self._kind(-2) == "comma")):
            return False
        j = self.i + 1
        while j < len(self.toks) and self.toks[j].kind in ("place", "dir", "area", "and"):
            j += 1
        return j > self.i + 1 and j < len(self.toks) and self.toks[j].kind == "comma"

    # ------------------------------------------------------------ main loop
    def run(self) -> _FieldParser:
        handlers = {
            "chg": self._on_change, "occ": self._on_occasionally, "sec": self._on_sec,
            "first": self._on_timing, "later": self._on_timing, "later_sec": self._on_timing,
            "mainly": self._on_mainly, "otherwise": self._on_otherwise, "but": self._on_but,
            "and": self._on_join, "or": self._on_join, "also": self._skip,
            "comma": self._on_close, "stop": self._on_close, "in": self._on_in,
            "elsewhere": self._on_elsewhere, "throughout": self._skip, "dev": self._on_dev,
            "clear": self._on_dev,
        }
        values = {"wind": ("dir", "var", "cyc", "num", "fw"), "weather": ("wx",),
                  "sea_state": ("cls",), "visibility": ("cls",)}[self.kind]
        while self.i < len(self.toks):
            tok = self.toks[self.i]
            kind = tok.kind
            if kind == "occadj":
                kind = "wx" if self.kind == "weather" else "occ"
            if kind in values:
                if kind in ("dir", "var", "cyc"):
                    nxt = self._peek(1)
                    if kind == "dir" and nxt is not None and nxt.text == "of":
                        self._on_in(eat=False)
                    else:
                        self._direction()
                elif kind in ("num", "fw"):
                    self._force()
                elif kind == "cls":
                    self._classes()
                else:
                    self._weather()
            elif kind in handlers:
                handlers[kind]()
            elif (kind == "dir" and self.kind != "wind") or tok.text == "far":
                self._on_in(eat=False)  # "rough north of Asturias", "very rough far west"
            elif kind == "unknown" or kind in ("place", "area"):
                start = self.i
                while self._kind() in ("unknown", "place", "area"):
                    self.i += 1
                self._bad(" ".join(t.text for t in self.toks[start:self.i]))
                self.cur = None  # what follows an unknown phrase must not qualify the item before
            else:
                self._bad(tok.text)
                self.i += 1
                self.cur = None
        return self

    def _skip(self) -> None:
        self.i += 1

    def _on_change(self) -> None:
        self.i += 1
        cur = self.cur
        if cur is not None and not cur.values and cur.mode in ("change", "otherwise"):
            return
        secondary = cur is not None and not cur.values and cur.secondary
        self._new("change", secondary)

    def _on_occasionally(self) -> None:
        self.i += 1
        cur = self.cur
        if cur is not None and not cur.values:
            cur.secondary = True
        else:
            self._new("add", True)

    def _on_sec(self) -> None:
        self.i += 1
        cur = self.cur if self.cur is not None else self._new()
        cur.secondary = True

    def _on_timing(self) -> None:
        kind = self.toks[self.i].kind
        self.i += 1
        cur = self.cur if self.cur is not None else self._new()
        if kind == "later_sec":
            cur.secondary = True
        cur.timing = "first" if kind == "first" else "second"
        if cur.values:
            cur.closed = True

    def _on_mainly(self) -> None:
        self.i += 1
        self.mainly = True

    def _on_otherwise(self) -> None:
        self.i += 1
        self._new("otherwise")

    def _on_but(self) -> None:
        self.i += 1
        self._new("add")

    def _on_join(self) -> None:
        self.i += 1
        cur = self.cur
        if cur is not None and cur.values:
            self._new("add", cur.secondary)

    def _on_close(self) -> None:
        if self.toks[self.i].kind == "stop" and self.i + 1 < len(self.toks):
            self.i += 1
            if self._kind() == "in" and self._split_here():
                self._start_part()
                return
            if self.cur is not None:
                self.cur.closed = self.cur.sealed = True
            return
        self.i += 1
        if self.cur is not None:
            self.cur.closed = self.cur.sealed = True
        if self._kind() == "but" and self._kind(1) == "in":
            self.i += 1
            if self._split_here():
                self._start_part()
            else:
                self._new("add")

    def _start_part(self) -> None:
        self.i += 1
        self._place()
        self.i += 1  # the comma
        if any(item.values for item in self.parts[-1]):
            self.parts.append([])
        self.cur = None

    def _on_in(self, eat: bool = True) -> None:
        if eat and self._split_here():
            self._start_part()
            return
        start = self.i
        if eat:
            self.i += 1
        self._place()
        if self.i == start:  # a word that cannot open a place ("southerly" in a sea state)
            self._bad(self.toks[self.i].text)
            self.i += 1
            return
        self._mark_spatial()

    def _on_elsewhere(self) -> None:
        self.i += 1
        self._mark_spatial()

    def _on_dev(self) -> None:
        kind = self.toks[self.i].kind
        self.i += 1
        if self.cur is not None and self.cur.timing is None:
            self.cur.timing = "second" if kind == "dev" else "first"


def parse_field(text: str, kind: str) -> tuple[dict[str, Periods[Any]], list[str]]:
    """Interpret one field string.

    Args:
        text: the field as written ("Southwest 5 to 7, occasionally gale 8 later.").
        kind: "wind", "sea_state", "weather" or "visibility".

    Returns:
        ``({track: Periods}, unknown phrases)``; wind fills "direction" and "force".

    >>> periods, unknown = parse_field("Moderate or good, occasionally poor later.", "visibility")
    >>> periods["visibility"].second.to_dict(), unknown
    ({'main': ['moderate', 'good'], 'secondary': ['poor', 'poor']}, [])
    """
    values, unknown = _parse_field(text, kind)
    return dict(zip(TRACKS[kind], values, strict=True)), list(unknown)


@lru_cache(maxsize=1 << 16)
def _parse_field(text: str, kind: str) -> tuple[tuple[Periods[Any], ...], tuple[str, ...]]:
    """:func:`parse_field` with immutable results, memoised (field strings repeat a lot)."""
    parser = _FieldParser(tokenize(text, kind), kind).run()
    values = []
    for track in TRACKS[kind]:
        per_part = []
        for items in parser.parts:
            if track == "weather":
                inherit_nouns(items)
            per_part.append(assign(items, track))
        values.append(per_part[0] if len(per_part) == 1 else combine_periods(per_part))
    return tuple(values), tuple(parser.unknown)


def parse_icing(text: str) -> Periods[Icing] | None:
    """The icing statement in ``text`` ("Light icing", "occasional severe icing later").

    >>> parse_icing("Good. Moderate or severe icing.").first.main
    Icing(lo=1, hi=2)
    >>> parse_icing("Good.") is None
    True
    """
    match = ICING_RE.search(text.lower())
    if match is None:
        return None
    words = re.findall(r"light|moderate|severe", match.group("classes") or "light")
    value = Icing.of(words[0], words[-1])
    occasional = bool(match.group("occ"))
    timing = match.group("timing")
    main = None if occasional else value
    sec = value if occasional else None
    if timing == "later":
        return Periods(Slot(), Slot(main, sec))
    if timing in ("at first", "until later"):
        return Periods(Slot(main, sec), Slot())
    return Periods.both(main, sec)


_ICING_CLASS = r"(?:light|moderate|severe)"
ICING_RE = re.compile(
    rf"(?P<occ>occasional(?:ly)?\s+)?(?P<classes>{_ICING_CLASS}(?:\s+(?:or|to)\s+{_ICING_CLASS})?)?"
    r"\s*icing(?:\s+(?P<timing>later|at first|until later))?")
"""An icing statement ("light icing", "occasional moderate or severe icing later")."""

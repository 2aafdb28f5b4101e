"""How the statements ("items") of one field string become its two sub-periods.

The Fathom scorer convention (``docs/shipping-forecast.md`` §7), as applied here:

* "at first" / "until later" -> first 12 h; "later" -> second 12 h; the target of a change
  ("becoming", "veering", "backing", "increasing", "decreasing", "then", "otherwise") -> second;
  an unqualified primary item followed by such a change, or by a statement timed "later", ->
  first; one followed by a statement timed "at first" -> second (not for weather, where
  "Rain, fog patches at first" adds fog to the first sub-period); otherwise -> both.
* Secondary items ("occasionally", "perhaps", "at times", "for a time") and spatially limited
  items (Fathom convention: a value for part of the area is a secondary value) are scored as
  secondary values: without their own timing they go where their change word puts them (second)
  or where the primary item before them holds.
* Several values in one sub-period merge (ranges widen, weather sets unite); the second
  sub-period keeps the first's values when nothing new is said for it (unless they were limited
  to "at first").
* When a field has only spatially limited statements ("moderate in east, rough in west"), the
  first one is the main value.
* A field split by place ("In south, ... In north, ...") takes its main values from the first
  part; the other parts' values become secondary values (:func:`combine_periods`).
* Weather adjectives on their own ("becoming wintry", "perhaps thundery") qualify the nouns of
  the statement before them ("showers, perhaps thundery" -> secondary {showers, thundery}).

Not covered: reading the items from text (``parse/_grammar.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fathom.domains.shipping.vocab import Periods, Slot, Weather

__all__ = ["Item", "assign", "combine_periods", "inherit_nouns"]

_ADJECTIVES = frozenset({"thundery", "squally", "wintry"})


@dataclass
class Item:
    """One statement in a field: values per track plus its qualifiers.

    ``mode`` is "add", "change" or "otherwise"; ``timing`` "first", "second" or None;
    ``closed`` means a timing or place ended it, ``sealed`` a comma or full stop (a new value
    then starts a new item); ``periods`` is filled by :func:`assign`.
    """

    mode: str = "add"
    secondary: bool = False
    spatial: bool = False
    timing: str | None = None
    closed: bool = False
    sealed: bool = False
    values: dict[str, Any] = field(default_factory=dict)
    periods: tuple[str, ...] = ()


def inherit_nouns(items: list[Item]) -> None:
    """Give adjective-only weather ("becoming wintry") the nouns of the statement before it."""
    nouns: frozenset[str] = frozenset()
    for item in items:
        wx = item.values.get("weather")
        if wx is None:
            continue
        own = wx - _ADJECTIVES
        if own:
            nouns = own
        elif wx and nouns:
            item.values["weather"] = wx | nouns


def assign(items: list[Item], track: str) -> Periods[Any]:
    """The two sub-periods of one track ("direction", "force", "sea_state", ...) of one part."""
    mine = [it for it in items if track in it.values]
    if not mine:
        return Periods()
    primary = [it for it in mine if not it.secondary and not it.spatial]
    if not primary:
        first_spatial = next((it for it in mine if not it.secondary), None)
        primary = [first_spatial] if first_spatial is not None else []
    for idx, it in enumerate(primary):
        if it.timing:
            it.periods = (it.timing,)
        elif it.mode in ("change", "otherwise") and idx > 0:
            it.periods = ("second",)
        elif any(later.mode in ("change", "otherwise") or later.timing == "second"
                 for later in primary[idx + 1:]):
            it.periods = ("first",)
        elif track != "weather" and any(later.timing == "first" for later in primary[idx + 1:]):
            it.periods = ("second",)  # "moderate or good, but very poor at first"
        else:
            it.periods = ("first", "second")
    last_periods: tuple[str, ...] = ("first", "second")
    for it in items:
        if it in primary:
            last_periods = it.periods
        elif track in it.values:
            if it.timing:
                it.periods = (it.timing,)
            elif it.mode in ("change", "otherwise"):
                it.periods = ("second",)
            else:
                it.periods = last_periods
    main: dict[str, Any] = {}
    sec: dict[str, Any] = {}
    for it in mine:
        target = main if it in primary else sec
        for period in it.periods:
            target[period] = _union(target.get(period), it.values[track], track)
    if "second" not in main:
        carried = [it for it in primary if "first" in it.periods and it.timing != "first"]
        for it in carried:
            main["second"] = _union(main.get("second"), it.values[track], track)
    return Periods(Slot(_wrap(main.get("first"), track), _wrap(sec.get("first"), track)),
                   Slot(_wrap(main.get("second"), track), _wrap(sec.get("second"), track)))


def _union(old: Any, new: Any, track: str) -> Any:
    if old is None:
        return new
    if track == "weather":
        return old | new
    return old.union(new)


def _wrap(value: Any, track: str) -> Any:
    if value is None:
        return None
    if track == "weather":
        return Weather(value)
    return value


def combine_periods(parts: list[Periods[Any]]) -> Periods[Any]:
    """Main values from the first part that has them; every other value (unless it equals the
    main value) is secondary."""
    slots = []
    for which in ("first", "second"):
        main = None
        sec = None
        for periods in parts:
            slot: Slot[Any] = getattr(periods, which)
            for value, is_main in ((slot.main, True), (slot.secondary, False)):
                if value is None:
                    continue
                if is_main and main is None:
                    main = value
                elif value != main:
                    sec = value if sec is None else sec.union(value)
        slots.append(Slot(main, sec))
    return Periods(slots[0], slots[1])

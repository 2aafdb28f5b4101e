"""Wording: structured area-forecast fields -> Shipping Forecast text.

Covers: turning one :class:`~fathom.domains.shipping.vocab._fields.AreaForecast` into the four
sentences of an area forecast ("Southwest 5 to 7, occasionally gale 8 later. Moderate or rough.
Rain then showers. Good, occasionally poor."), with the heading of area names. Every word comes
from the official vocabulary (``vocab/_vocab.py``) plus a few connectives ("or", "to", "then",
"becoming", "occasionally", "at first", "later", "patches", "less").

The wording is the writer's *canonical* form, chosen so that the parser reads back exactly the
fields it was made from (``parse(text) == fields``):

* a value said once holds in both sub-periods; a change ("veering", "backing", "becoming",
  "increasing", "decreasing", "then") puts the new value in the second sub-period;
* "occasionally X" is a secondary value of both sub-periods, "occasionally X at first" of the
  first only, "occasionally X later" of the second only;
* weather said with "later" holds in the second sub-period only (nothing is said for the first).

Not covered: choosing the fields from statistics (``writer/_area.py``), grouping areas
(``writer/_grouping.py``), parsing (``parse/_parser.py``).

>>> from fathom.domains.shipping.vocab import Direction, Force, Periods
>>> wind_text(Periods.both(Direction.point("W")), Periods.both(Force(6)))
'West 6'
>>> wind_text(Periods.split(Direction.point("SW"), Direction.point("W")),
...           Periods.split(Force(5, 7), Force(6, 8)))
'Southwest 5 to 7, veering west 6 to gale 8'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fathom.domains.shipping.vocab import (
    POINT_ADJECTIVES,
    POINT_NOUNS,
    AreaForecast,
    Direction,
    Force,
    Periods,
    SeaState,
    Slot,
    Visibility,
    Weather,
    force_words,
)
from fathom.errors import DomainError

__all__ = [
    "area_text",
    "direction_words",
    "force_range_words",
    "heading",
    "sea_state_text",
    "visibility_text",
    "weather_text",
    "wind_text",
    "word_count",
]

_CARDINALS = ("N", "E", "S", "W")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def word_count(text: str) -> int:
    """Words in ``text`` (forces such as "8" count as words).

    >>> word_count("Viking, North Utsire. West 6.")
    5
    """
    return len(text.replace(",", " ").replace(".", " ").split())


# ---------------------------------------------------------------- values
def direction_words(direction: Direction, *, adjective: bool = False) -> str:
    """Lower-case words of a direction ("west or southwest", "cyclonic", "variable").

    Two adjacent points are said cardinal point first, as the Met Office does.

    >>> direction_words(Direction.point("SW", "W"))
    'west or southwest'
    >>> direction_words(Direction.point("NW"), adjective=True)
    'northwesterly'
    """
    if direction.kind != "point":
        if direction.points:
            mainly = direction_words(Direction("point", direction.points))
            return f"{direction.kind}, mainly {mainly}"
        return direction.kind
    points = sorted(direction.points, key=lambda p: (p not in _CARDINALS, p))
    table = POINT_ADJECTIVES if adjective else POINT_NOUNS
    return " or ".join(table[p] for p in points)


def force_range_words(force: Force) -> str:
    """Words of a Beaufort range: "6", "4 or 5", "4 to 6", "7 or gale 8", "3 or less".

    A range from force 1 (or 0) up to 3 or more is said "N or less" (force 0 is never
    forecast; the parser reads "N or less" as [1, N]).

    >>> [force_range_words(f) for f in (Force(6), Force(7, 8), Force(6, 8), Force(1, 3))]
    ['6', '7 or gale 8', '6 to gale 8', '3 or less']
    """
    if force.lo <= 1 and force.hi >= 3:
        return f"{force_words(force.hi)} or less"
    if force.lo == force.hi:
        return force_words(force.lo)
    joiner = "or" if force.hi == force.lo + 1 else "to"
    return f"{force_words(force.lo)} {joiner} {force_words(force.hi)}"


def _class_range_words(value: SeaState | Visibility) -> str:
    """"moderate or rough", "rough"; visibility ranges put "moderate" first ("moderate or poor")."""
    lo, hi = value.words
    if lo == hi:
        return lo
    adjacent = value.hi == value.lo + 1
    if isinstance(value, Visibility):
        if adjacent and "moderate" in (lo, hi):
            return f"moderate or {hi if lo == 'moderate' else lo}"
        lo, hi = hi, lo
    return f"{lo} {'or' if adjacent else 'to'} {hi}"


# ---------------------------------------------------------------- secondary values
def _secondary(first: Any, second: Any, say: Callable[[Any], str], *, timed: bool) -> str:
    """", occasionally X[ at first| later]" for the secondary values of the two sub-periods.

    ``timed`` forces the timing words even when both sub-periods share the value (used after a
    change, where an untimed clause would be ambiguous).
    """
    if first is None and second is None:
        return ""
    if first == second and not timed:
        return f", occasionally {say(first)}"
    parts = []
    if first is not None:
        parts.append(f"{say(first)} at first")
    if second is not None:
        parts.append(f"{say(second)} later")
    return ", occasionally " + " and ".join(parts)


def _change_word(before: Direction, after: Direction) -> str:
    """"veering" (clockwise), "backing" (anticlockwise) or "becoming" (no clear turn)."""
    a, b = before.degrees, after.degrees
    if before.kind != "point" or after.kind != "point" or a is None or b is None:
        return "becoming"
    turn = (b - a + 540.0) % 360.0 - 180.0
    if 0.0 < turn <= 135.0:
        return "veering"
    if -135.0 <= turn < 0.0:
        return "backing"
    return "becoming"


def _force_change_word(before: Force, after: Force) -> str:
    if after.lo >= before.lo and after.hi >= before.hi:
        return "increasing"
    if after.lo <= before.lo and after.hi <= before.hi:
        return "decreasing"
    return "becoming"


def _mains(periods: Periods[Any], what: str) -> tuple[Any, Any]:
    first, second = periods.first.main, periods.second.main
    if first is None or second is None:
        raise DomainError(f"The writer needs a main {what} in both sub-periods; got "
                          f"{periods.to_dict()}. Build fields with Periods.both/split values.")
    return first, second


# ---------------------------------------------------------------- the four fields
def wind_text(direction: Periods[Direction], force: Periods[Force]) -> str:
    """The wind sentence (without the full stop).

    Raises:
        DomainError: a sub-period has no direction or no force.

    >>> from fathom.domains.shipping.vocab import Slot
    >>> wind_text(Periods.both(Direction("variable")), Periods.both(Force(1, 3)))
    'Variable 3 or less'
    >>> wind_text(Periods.both(Direction.point("SW")),
    ...           Periods(Slot(Force(5, 7)), Slot(Force(5, 7), Force(8))))
    'Southwest 5 to 7, occasionally gale 8 later'
    """
    d1, d2 = _mains(direction, "wind direction")
    f1, f2 = _mains(force, "wind force")
    s1, s2 = force.first.secondary, force.second.secondary
    if d1 == d2 and f1 == f2:
        text = f"{direction_words(d1)} {force_range_words(f1)}"
        return _cap(text + _secondary(s1, s2, force_range_words, timed=False))
    if f1 == f2:
        text = f"{direction_words(d1)} {_change_word(d1, d2)} {direction_words(d2)}, "
        tail = _secondary(s1, s2, force_range_words, timed=False)
        return _cap(text + force_range_words(f1) + tail)
    first = f"{direction_words(d1)} {force_range_words(f1)}"
    first += _secondary(s1, None, force_range_words, timed=True)
    if d1 == d2:
        second = f"{_force_change_word(f1, f2)} {force_range_words(f2)}"
    else:
        second = f"{_change_word(d1, d2)} {direction_words(d2)} {force_range_words(f2)}"
    second += _secondary(None, s2, force_range_words, timed=True)
    return _cap(f"{first}, {second}")


def _class_text(periods: Periods[Any], what: str) -> str:
    m1, m2 = _mains(periods, what)
    s1, s2 = periods.first.secondary, periods.second.secondary

    def say(v: Any) -> str:
        return _class_range_words(v)

    if m1 == m2:
        return _cap(say(m1) + _secondary(s1, s2, say, timed=False))
    first = say(m1) + _secondary(s1, None, say, timed=True)
    second = say(m2) + _secondary(None, s2, say, timed=True)
    return _cap(f"{first}, becoming {second}")


def sea_state_text(sea_state: Periods[SeaState]) -> str:
    """The sea-state sentence ("Moderate or rough, occasionally very rough later").

    Raises:
        DomainError: a sub-period has no sea state.

    >>> sea_state_text(Periods.split(SeaState.of("moderate"), SeaState.of("rough")))
    'Moderate, becoming rough'
    """
    return _class_text(sea_state, "sea state")


def visibility_text(visibility: Periods[Visibility]) -> str:
    """The visibility sentence ("Good, occasionally poor", "Moderate or good").

    Raises:
        DomainError: a sub-period has no visibility.

    >>> visibility_text(Periods.both(Visibility.of("good"), Visibility.of("poor")))
    'Good, occasionally poor'
    """
    return _class_text(visibility, "visibility")


# Weather sets the writer uses, and their words (fog is said separately as "fog patches").
_WEATHER_WORDS: dict[frozenset[str], str] = {
    frozenset({"fair"}): "fair",
    frozenset({"rain"}): "rain",
    frozenset({"showers"}): "showers",
    frozenset({"drizzle"}): "drizzle",
    frozenset({"snow"}): "snow",
    frozenset({"thundery", "showers"}): "thundery showers",
    frozenset({"wintry", "showers"}): "wintry showers",
    frozenset({"rain", "showers"}): "rain or showers",
    frozenset({"rain", "drizzle"}): "rain or drizzle",
    frozenset({"rain", "thundery", "showers"}): "rain or thundery showers",
}
WEATHER_SETS: tuple[frozenset[str], ...] = tuple(_WEATHER_WORDS)
"""The weather sets (without fog) that :func:`weather_text` can say."""


def _weather_words(types: frozenset[str]) -> str:
    words = _WEATHER_WORDS.get(types)
    if words is None:
        shown = "; ".join(sorted(sorted(s).__repr__() for s in WEATHER_SETS))
        raise DomainError(f"The writer cannot word the weather set {sorted(types)}; it says "
                          f"one of: {shown} (plus 'fog').")
    return words


_FOG = frozenset({"fog"})


def _split_fog(slot: Slot[Weather]) -> tuple[frozenset[str] | None, bool, bool]:
    """(types without fog or None, fog in the main value, fog as the secondary value)."""
    if slot.secondary is not None and slot.secondary.types != _FOG:
        raise DomainError(f"The writer's only secondary weather is fog; got {slot.to_dict()}.")
    occasional_fog = slot.secondary is not None
    if slot.main is None:
        return None, False, occasional_fog
    types = slot.main.types
    return (types - _FOG) or None, "fog" in types, occasional_fog


def weather_text(weather: Periods[Weather], *, occasional: bool = False) -> str:
    """The weather sentence: "Rain", "Rain later", "Rain then showers", "Showers, fog patches".

    A sub-period with no main value says nothing (as in "Rain later"); fog is said as
    "fog patches", timed with "at first" or "later" when it is in one sub-period only. Fog as a
    secondary value of the second sub-period (beside weather that holds throughout) is said
    "occasionally fog patches later", since "Showers, fog patches later" reads as showers giving
    way to fog. ``occasional`` says rain or drizzle that holds in both sub-periods as
    "Occasional rain" (the parser reads it as rain: the word grades the amount, not the time).

    Raises:
        DomainError: the weather is empty, has secondary values other than fog, or is a set the
            writer does not word.

    >>> weather_text(Periods.split(None, Weather.of("rain")))
    'Rain later'
    >>> weather_text(Periods.split(Weather.of("rain"), Weather.of("showers", "fog")))
    'Rain then showers, fog patches later'
    >>> weather_text(Periods.both(Weather.of("fog")))
    'Fog patches'
    >>> weather_text(Periods.split(Weather.of("showers"), Weather.of("showers"), None,
    ...                            Weather.of("fog")))
    'Showers, occasionally fog patches later'
    """
    (b1, g1, o1), (b2, g2, o2) = _split_fog(weather.first), _split_fog(weather.second)
    if b1 is None and b2 is None and not (g1 or g2):
        raise DomainError("The writer needs weather in at least one sub-period; got none.")
    if b1 == b2:
        base = "" if b1 is None else _weather_words(b1)
        if occasional and b1 is not None and b1 <= {"rain", "drizzle"} and not (o1 or o2):
            base = f"occasional {base}"
    elif b1 is None:
        base = f"{_weather_words(b2)} later"  # type: ignore[arg-type]
    elif b2 is None:
        base = f"{_weather_words(b1)} at first"
    else:
        base = f"{_weather_words(b1)} then {_weather_words(b2)}"
    fog = ""
    if g1 or g2:
        fog = "fog patches" + ("" if g1 and g2 else " at first" if g1 else " later")
    elif o1 or o2:
        fog = "occasionally fog patches" + ("" if o1 and o2 else " at first" if o1 else " later")
    return _cap(", ".join(p for p in (base, fog) if p))


# ---------------------------------------------------------------- one area or group
def heading(names: tuple[str, ...] | list[str]) -> str:
    """The group heading: area names joined by commas ("Viking, North Utsire")."""
    return ", ".join(names)


def area_text(forecast: AreaForecast, *, with_heading: bool = True,
              occasional: bool = False) -> str:
    """The whole forecast of one area or group: "Names. Wind. Sea state. Weather. Visibility."

    ``occasional`` is passed to :func:`weather_text`.

    Raises:
        DomainError: a field is missing or not in the writer's canonical form.

    >>> from fathom.domains.shipping.vocab import AreaForecast
    >>> fc = AreaForecast(("Viking",), Periods.both(Direction.point("W")), Periods.both(Force(6)),
    ...     Periods.both(SeaState.of("rough")), Periods.both(Weather.of("rain")),
    ...     Periods.both(Visibility.of("moderate", "good")))
    >>> area_text(fc)
    'Viking. West 6. Rough. Rain. Moderate or good.'
    """
    sentences = [
        wind_text(forecast.direction, forecast.force),
        sea_state_text(forecast.sea_state),
        weather_text(forecast.weather, occasional=occasional),
        visibility_text(forecast.visibility),
    ]
    if with_heading and forecast.names:
        sentences.insert(0, heading(forecast.names))
    return ". ".join(sentences) + "."


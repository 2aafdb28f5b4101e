"""Structured Shipping Forecast fields: what one area (or group) forecast says, per sub-period.

This is the common currency of the writer (fields -> text), the parser (text -> fields), the
scorer and the grader. The round trip ``parse(writer_text) == writer_fields`` must hold, so the
representation is the *interpretation* of a text under the Fathom scorer convention
(``docs/shipping-forecast.md`` §7), not a transcript of its words:

* the 24 h are split into two sub-periods, ``first`` (first 12 h) and ``second`` (the rest);
* each field holds, per sub-period, a ``main`` value and an optional ``secondary`` value (from
  "occasionally", "at times", "for a time", "perhaps", or a part of the area such as "in east");
* values are :class:`Direction` (8 points, "X or Y", variable, cyclonic, "mainly X"),
  :class:`Force` (a Beaufort range), :class:`SeaState` and :class:`Visibility` (ranges over
  ordered classes), :class:`Weather` (a set of types) and :class:`Icing`.

Covers: the dataclasses, their validation and their JSON form (``to_dict``/``from_dict``).
Not covered: reading or writing bulletin text (``parse/_parser.py``, the writer), scoring
(``score/_scorer.py``).

>>> fc = AreaForecast(
...     names=("Viking", "North Utsire"),
...     direction=Periods.both(Direction.point("SW")),
...     force=Periods.both(Force(5, 7), secondary=Force(8)),
...     sea_state=Periods.both(SeaState.of("moderate", "rough")),
...     weather=Periods.split(None, Weather.of("rain")),
...     visibility=Periods.both(Visibility.of("good"), secondary=Visibility.of("poor")))
>>> fc.force.to_dict()
{'first': {'main': [5, 7], 'secondary': [8, 8]}, 'second': {'main': [5, 7], 'secondary': [8, 8]}}
>>> AreaForecast.from_dict(fc.to_dict()) == fc
True
>>> fc.missing()
[]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Generic, Self, TypeVar

from fathom.domains.shipping.vocab._vocab import (
    ICING,
    POINT_DEGREES,
    POINTS,
    SEA_STATES,
    VISIBILITY,
    WEATHER_TYPES,
)
from fathom.errors import DomainError

__all__ = [
    "FIELDS",
    "AreaForecast",
    "Direction",
    "Force",
    "Icing",
    "Periods",
    "SeaState",
    "Slot",
    "Visibility",
    "Weather",
]

FIELDS: tuple[str, ...] = ("direction", "force", "sea_state", "weather", "visibility")
"""The scored fields, in the order the scorer reports them."""

DIRECTION_KINDS = ("point", "variable", "cyclonic")


def _bad(what: str, got: object, valid: Iterable[object]) -> DomainError:
    shown = ", ".join(repr(v) for v in valid)
    return DomainError(f"Invalid {what}: {got!r}. Valid: {shown}.")


# ---------------------------------------------------------------- values
@dataclass(frozen=True)
class Direction:
    """A wind direction: compass point(s), or the class "variable" / "cyclonic".

    ``points`` holds one point, two adjacent points ("west or southwest"), or for variable and
    cyclonic the "mainly X" point(s) (empty when none is given). Points are kept in compass
    order so that "west or southwest" equals "southwest or west".

    >>> Direction.point("W", "SW").to_dict()
    'SW or W'
    >>> Direction.from_dict("cyclonic, mainly N")
    Direction(kind='cyclonic', points=('N',))
    >>> Direction.point("SW", "W").degrees
    247.5
    """

    kind: str = "point"
    """"point", "variable" or "cyclonic"."""
    points: tuple[str, ...] = ()
    """Compass points from :data:`POINTS` ("N", "NE", ...)."""

    def __post_init__(self) -> None:
        if self.kind not in DIRECTION_KINDS:
            raise _bad("direction kind", self.kind, DIRECTION_KINDS)
        for p in self.points:
            if p not in POINT_DEGREES:
                raise _bad("compass point", p, POINTS)
        if self.kind == "point" and not self.points:
            raise DomainError("A 'point' direction needs at least one compass point; "
                              "use kind='variable' or 'cyclonic' for a direction without one.")
        ordered = tuple(sorted(set(self.points), key=POINTS.index))
        if len(ordered) == 2 and ordered == ("N", "NW"):
            ordered = ("NW", "N")
        object.__setattr__(self, "points", ordered)

    @classmethod
    def point(cls, *points: str) -> Direction:
        """A compass direction ("SW", or two adjacent points for "X or Y")."""
        return cls("point", tuple(points))

    @property
    def degrees(self) -> float | None:
        """Circular mean of the points in degrees FROM (None for no point)."""
        if not self.points:
            return None
        if len(self.points) == 1:
            return POINT_DEGREES[self.points[0]]
        x = sum(math.cos(math.radians(POINT_DEGREES[p])) for p in self.points)
        y = sum(math.sin(math.radians(POINT_DEGREES[p])) for p in self.points)
        if abs(x) < 1e-9 and abs(y) < 1e-9:
            return None
        return round(math.degrees(math.atan2(y, x)) % 360.0, 6)

    def union(self, other: Direction) -> Direction:
        """Both directions in one period: points merge; otherwise the later one wins."""
        if self.kind == other.kind:
            return Direction(self.kind, self.points + other.points)
        return other

    def to_dict(self) -> str:
        """"SW", "SW or W", "variable", "cyclonic, mainly N"."""
        pts = " or ".join(self.points)
        if self.kind == "point":
            return pts
        return f"{self.kind}, mainly {pts}" if pts else self.kind

    @classmethod
    def from_dict(cls, data: str) -> Direction:
        """Inverse of :meth:`to_dict`."""
        text = str(data).strip()
        for kind in ("variable", "cyclonic"):
            if text == kind:
                return cls(kind)
            if text.startswith(f"{kind}, mainly "):
                return cls(kind, tuple(text[len(kind) + 9:].split(" or ")))
        return cls("point", tuple(text.split(" or ")))


@dataclass(frozen=True)
class _Range:
    """An inclusive range [lo, hi] of class indices on an ordered scale."""

    lo: int
    hi: int = -1
    """Upper class; defaults to ``lo`` (a single class)."""
    SCALE: ClassVar[tuple[str, ...]] = ()
    WHAT: ClassVar[str] = "class"

    def __post_init__(self) -> None:
        if self.hi == -1:
            object.__setattr__(self, "hi", self.lo)
        n = len(self.SCALE)
        ok = all(isinstance(v, int) and not isinstance(v, bool) for v in (self.lo, self.hi))
        if not ok or not 0 <= self.lo <= self.hi < n:
            raise DomainError(f"Invalid {self.WHAT} range [{self.lo!r}, {self.hi!r}]: both ends "
                              f"must be whole numbers 0..{n - 1} with lo <= hi.")

    @classmethod
    def of(cls, lo: str, hi: str | None = None) -> Self:
        """A range from class words ("moderate", "rough")."""
        idx = []
        for word in (lo, hi if hi is not None else lo):
            if word not in cls.SCALE:
                raise _bad(cls.WHAT, word, cls.SCALE)
            idx.append(cls.SCALE.index(word))
        return cls(min(idx), max(idx))

    @property
    def words(self) -> tuple[str, str]:
        """The class words of both ends."""
        return self.SCALE[self.lo], self.SCALE[self.hi]

    def union(self, other: Self) -> Self:
        """The smallest range covering both."""
        return type(self)(min(self.lo, other.lo), max(self.hi, other.hi))

    def to_dict(self) -> list[Any]:
        """``[lo_word, hi_word]``."""
        return list(self.words)

    @classmethod
    def from_dict(cls, data: list[Any]) -> Self:
        """Inverse of :meth:`to_dict` (also accepts a single word)."""
        if isinstance(data, str):
            return cls.of(data)
        return cls.of(*data)


@dataclass(frozen=True)
class Force(_Range):
    """A Beaufort force range [lo, hi] ("5 to 7" -> Force(5, 7); "gale 8" -> Force(8)).

    >>> Force(6, 8).to_dict(), Force.from_dict([4, 4])
    ([6, 8], Force(lo=4, hi=4))
    """

    SCALE: ClassVar[tuple[str, ...]] = tuple(str(f) for f in range(13))
    WHAT: ClassVar[str] = "Beaufort force"

    def to_dict(self) -> list[Any]:
        """``[lo, hi]`` as numbers."""
        return [self.lo, self.hi]

    @classmethod
    def from_dict(cls, data: list[Any]) -> Force:
        """Inverse of :meth:`to_dict` (also accepts one number)."""
        if isinstance(data, int):
            return cls(data)
        return cls(int(data[0]), int(data[-1]))


@dataclass(frozen=True)
class SeaState(_Range):
    """A range over the 8 sea-state classes (smooth .. phenomenal)."""

    SCALE: ClassVar[tuple[str, ...]] = SEA_STATES
    WHAT: ClassVar[str] = "sea state"


@dataclass(frozen=True)
class Visibility(_Range):
    """A range over the 4 visibility classes (very poor, poor, moderate, good)."""

    SCALE: ClassVar[tuple[str, ...]] = VISIBILITY
    WHAT: ClassVar[str] = "visibility"


@dataclass(frozen=True)
class Icing(_Range):
    """A range over the icing classes (light, moderate, severe)."""

    SCALE: ClassVar[tuple[str, ...]] = ICING
    WHAT: ClassVar[str] = "icing"


@dataclass(frozen=True)
class Weather:
    """A set of weather types from :data:`WEATHER_TYPES` ("thundery showers" -> both).

    >>> Weather.of("showers", "thundery").to_dict()
    ['showers', 'thundery']
    """

    types: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        types = frozenset(self.types)
        for t in types:
            if t not in WEATHER_TYPES:
                raise _bad("weather type", t, WEATHER_TYPES)
        object.__setattr__(self, "types", types)

    @classmethod
    def of(cls, *types: str) -> Weather:
        """A weather set from type words."""
        return cls(frozenset(types))

    def union(self, other: Weather) -> Weather:
        """Both sets together."""
        return Weather(self.types | other.types)

    def to_dict(self) -> list[str]:
        """The types in :data:`WEATHER_TYPES` order."""
        return [t for t in WEATHER_TYPES if t in self.types]

    @classmethod
    def from_dict(cls, data: list[str]) -> Weather:
        """Inverse of :meth:`to_dict`."""
        return cls(frozenset(data))


V = TypeVar("V", Direction, Force, SeaState, Visibility, Weather, Icing)


# ---------------------------------------------------------------- periods
@dataclass(frozen=True)
class Slot(Generic[V]):
    """One field in one sub-period: the main value and an optional secondary value."""

    main: V | None = None
    secondary: V | None = None

    def is_empty(self) -> bool:
        """True when the text says nothing for this sub-period."""
        return self.main is None and self.secondary is None

    def to_dict(self) -> dict[str, Any]:
        """``{"main": ..., "secondary": ...}`` with values in their JSON form (or null)."""
        return {"main": None if self.main is None else self.main.to_dict(),
                "secondary": None if self.secondary is None else self.secondary.to_dict()}

    @staticmethod
    def from_dict(data: dict[str, Any], decode: Callable[[Any], V]) -> Slot[V]:
        """Inverse of :meth:`to_dict`; ``decode`` is the value class's ``from_dict``."""
        main, sec = data.get("main"), data.get("secondary")
        return Slot(None if main is None else decode(main), None if sec is None else decode(sec))


@dataclass(frozen=True)
class Periods(Generic[V]):
    """One field over the two sub-periods: ``first`` (first 12 h) and ``second`` (the rest)."""

    first: Slot[V] = field(default_factory=Slot)
    second: Slot[V] = field(default_factory=Slot)

    @staticmethod
    def both(main: V | None, secondary: V | None = None) -> Periods[V]:
        """The same value (and secondary value) in both sub-periods."""
        return Periods(Slot(main, secondary), Slot(main, secondary))

    @staticmethod
    def split(first: V | None, second: V | None, first_secondary: V | None = None,
              second_secondary: V | None = None) -> Periods[V]:
        """Different values in the two sub-periods."""
        return Periods(Slot(first, first_secondary), Slot(second, second_secondary))

    def is_empty(self) -> bool:
        """True when the field says nothing at all."""
        return self.first.is_empty() and self.second.is_empty()

    def slots(self) -> tuple[Slot[V], Slot[V]]:
        """``(first, second)``."""
        return self.first, self.second

    def to_dict(self) -> dict[str, Any]:
        """``{"first": slot, "second": slot}``."""
        return {"first": self.first.to_dict(), "second": self.second.to_dict()}

    @staticmethod
    def from_dict(data: dict[str, Any], decode: Callable[[Any], V]) -> Periods[V]:
        """Inverse of :meth:`to_dict`."""
        return Periods(Slot.from_dict(data.get("first") or {}, decode),
                       Slot.from_dict(data.get("second") or {}, decode))


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "direction": Direction.from_dict,
    "force": Force.from_dict,
    "sea_state": SeaState.from_dict,
    "weather": Weather.from_dict,
    "visibility": Visibility.from_dict,
    "icing": Icing.from_dict,
}


# ---------------------------------------------------------------- one area forecast
@dataclass(frozen=True)
class AreaForecast:
    """The interpreted forecast for one area or group of areas.

    ``names`` are the heading's areas or part-areas as written in canonical spelling
    ("Viking", "West Dogger"); :func:`fathom.domains.shipping.parse._parser.expand_names` maps them to
    the 31 areas. ``unknown`` lists phrases the parser could not place (empty for writer
    output); ``icing`` is None unless the text mentions icing.
    """

    names: tuple[str, ...]
    direction: Periods[Direction] = field(default_factory=Periods)
    force: Periods[Force] = field(default_factory=Periods)
    sea_state: Periods[SeaState] = field(default_factory=Periods)
    weather: Periods[Weather] = field(default_factory=Periods)
    visibility: Periods[Visibility] = field(default_factory=Periods)
    icing: Periods[Icing] | None = None
    unknown: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(self.names))
        object.__setattr__(self, "unknown", tuple(self.unknown))

    def field(self, name: str) -> Periods[Any]:
        """The :class:`Periods` of a scored field by name (see :data:`FIELDS`)."""
        if name not in FIELDS:
            raise _bad("field", name, FIELDS)
        value: Periods[Any] = getattr(self, name)
        return value

    def missing(self) -> list[str]:
        """Scored fields the forecast says nothing about."""
        return [name for name in FIELDS if self.field(name).is_empty()]

    def complete(self) -> bool:
        """Every field present and no unknown phrase."""
        return not self.unknown and not self.missing()

    def with_names(self, names: Iterable[str]) -> AreaForecast:
        """A copy for other names (used when a group is expanded to its areas)."""
        return replace(self, names=tuple(names))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: names, one ``Periods`` dict per field, icing (or null), unknown."""
        out: dict[str, Any] = {"names": list(self.names)}
        for name in FIELDS:
            out[name] = self.field(name).to_dict()
        out["icing"] = None if self.icing is None else self.icing.to_dict()
        out["unknown"] = list(self.unknown)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AreaForecast:
        """Inverse of :meth:`to_dict`.

        Raises:
            DomainError: ``names`` is missing or a value is not valid.
        """
        if not isinstance(data, dict) or "names" not in data:
            got = sorted(data) if isinstance(data, dict) else type(data).__name__
            raise DomainError(f"An area forecast dict needs 'names' and the fields "
                              f"{', '.join(FIELDS)}; got {got}.")
        kwargs: dict[str, Any] = {"names": tuple(data["names"]),
                                  "unknown": tuple(data.get("unknown") or ())}
        for name in (*FIELDS, "icing"):
            if data.get(name) is not None:
                kwargs[name] = Periods.from_dict(data[name], _DECODERS[name])
        return cls(**kwargs)

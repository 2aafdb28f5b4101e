"""The rule-based area-forecast writer: one sea area's statistics -> fields and text.

Covers: checking a statistics area dict (schema ``fathom.shipping.stats/1``), deciding each
field for the two sub-periods (first 12 h, the rest) from the per-field rules of
:mod:`~fathom.domains.shipping.writer._rules`, putting the values into the writer's canonical shapes (the only ones
:mod:`~fathom.domains.shipping.writer._wording` says, so that the parser reads back exactly these fields), and
:class:`WrittenArea`, the fields with their text.

How the halves combine: a value chosen on the whole period is used for both halves when it fits
each (a force or class range covering :data:`HALF_FIT` of each half's cell-hours; a direction
within one compass point of each half's, or "cyclonic" across both); otherwise each half gets its
own value and the text says the change ("veering", "increasing", "becoming", "then").

Not covered: grouping areas and the word limit (``writer/_grouping.py``), the bulletin, gale warnings
and synopsis (``writer/_bulletin.py``, ``writer/_warnings.py``, ``writer/_synopsis.py``).

>>> from fathom.domains.shipping.writer._samples import uniform_area
>>> write_area(uniform_area(direction=270, force=6), name="Viking").text
'Viking. West 6. Rough. Fair. Good.'
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from fathom.domains.shipping.vocab import (
    AreaForecast,
    Direction,
    Force,
    Periods,
    Slot,
    Weather,
)
from fathom.domains.shipping.writer._rules import (
    beaufort_dist,
    covers,
    direction_value,
    force_value,
    sea_dist,
    sea_value,
    vis_dist,
    visibility_value,
    weather_value,
)
from fathom.domains.shipping.writer._wording import area_text
from fathom.errors import DataError, Problem

__all__ = [
    "HALF_FIT",
    "WrittenArea",
    "check_area_stats",
    "class_periods",
    "direction_periods",
    "force_periods",
    "ranged_values",
    "weather_parts",
    "weather_periods",
    "write_area",
]

HALF_FIT = 0.7
"""A whole-period range is used for both halves when it covers this share of each half."""

_PERIODS = ("all", "first", "second")
_SUMMARY_KEYS = {
    "wind": ("beaufort", "dir8", "mean_dir_deg", "steadiness", "kt"),
    "precip": ("frac", "rain", "showers", "drizzle", "snow", "thunder"),
}


@dataclass(frozen=True)
class WrittenArea:
    """One area (or merged group) as the writer says it: the fields and their wording.

    ``fields`` are exactly what the parser reads back from :attr:`text`; ``occasional`` marks
    rain or drizzle said as "occasional" (a wording choice that does not change the fields).
    """

    fields: AreaForecast
    occasional: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        """The areas of the heading, in broadcast order."""
        return self.fields.names

    @cached_property
    def text(self) -> str:
        """"Names. Wind. Sea state. Weather. Visibility." """
        return area_text(self.fields, occasional=self.occasional)

    @property
    def body(self) -> str:
        """The text without the heading."""
        return area_text(self.fields, with_heading=False, occasional=self.occasional)

    def same_forecast(self, other: WrittenArea) -> bool:
        """True when both say the same thing (the names may differ)."""
        return (self.occasional == other.occasional
                and self.fields.with_names(()) == other.fields.with_names(()))

    def to_dict(self) -> dict[str, Any]:
        """JSON form: names, text (without heading) and the structured fields."""
        return {"names": list(self.names), "text": self.body, "fields": self.fields.to_dict()}


# ---------------------------------------------------------------- input check
def check_area_stats(stats_area: Any, where: str = "area") -> list[Problem]:
    """Problems with one area's statistics (missing periods or keys); empty when usable.

    >>> [str(p) for p in check_area_stats({"periods": {}}, "areas.Viking")][:1]
    ['areas.Viking.periods.all: missing (a period summary S)']
    """
    if not isinstance(stats_area, dict) or not isinstance(stats_area.get("periods"), dict):
        return [Problem(where, "needs 'periods' with 'all', 'first' and 'second' summaries")]
    problems = []
    for period in _PERIODS:
        s = stats_area["periods"].get(period)
        here = f"{where}.periods.{period}"
        if not isinstance(s, dict):
            problems.append(Problem(here, "missing (a period summary S)"))
            continue
        for group, keys in _SUMMARY_KEYS.items():
            block = s.get(group)
            if not isinstance(block, dict):
                problems.append(Problem(f"{here}.{group}", "missing"))
                continue
            problems += [Problem(f"{here}.{group}.{k}", "missing") for k in keys if k not in block]
        for gone in ("no cells", "wind", "precip"):
            if gone in (s.get("missing") or ()):
                problems.append(Problem(here, f"has no data for {gone!r} (listed in 'missing')"))
        wind = s.get("wind")
        beaufort = wind.get("beaufort") if isinstance(wind, dict) else None
        if isinstance(wind, dict) and (not isinstance(beaufort, list) or len(beaufort) != 13
                                       or None in beaufort):
            problems.append(Problem(f"{here}.wind.beaufort", "needs 13 fractions (forces 0..12)"))
        if isinstance(wind, dict) and (wind.get("kt") or {}).get("p50") is None:
            problems.append(Problem(f"{here}.wind.kt.p50", "missing"))
        precip = s.get("precip")
        if isinstance(precip, dict) and precip.get("frac") is None:
            problems.append(Problem(f"{here}.precip.frac", "is null"))
    return problems


# ---------------------------------------------------------------- canonical periods
def direction_periods(first: Direction, second: Direction) -> Periods[Direction]:
    """Directions of the two halves (no secondary directions).

    A point that is one of the other half's two points is said as that pair throughout
    (not "north or northeast veering northeast").

    >>> direction_periods(Direction.point("N", "NE"), Direction.point("NE")).second
    Slot(main=Direction(kind='point', points=('N', 'NE')), secondary=None)
    """
    if first != second and first.kind == second.kind == "point":
        a, b = set(first.points), set(second.points)
        if a <= b or b <= a:
            first = second = first if len(a) > len(b) else second
    return Periods.split(first, second)


def force_periods(m1: Force, t1: Force | None, m2: Force, t2: Force | None) -> Periods[Force]:
    """Force ranges with "occasionally" forces above them, in canonical shape.

    A tail not above its range is dropped; with one range for both halves, differing tails
    become the larger one in both (said once, untimed).
    """
    return _class_periods(m1, t1, m2, t2, below=False)


def class_periods(m1: Any, t1: Any, m2: Any, t2: Any, *, below: bool) -> Periods[Any]:
    """Sea-state (tail above, ``below=False``) or visibility (tail below) in canonical shape."""
    return _class_periods(m1, t1, m2, t2, below=below)


def _class_periods(m1: Any, t1: Any, m2: Any, t2: Any, *, below: bool) -> Periods[Any]:
    def keep(main: Any, tail: Any) -> Any:
        if tail is None:
            return None
        return tail if (tail.hi < main.lo if below else tail.lo > main.hi) else None

    t1, t2 = keep(m1, t1), keep(m2, t2)
    if m1 == m2 and t1 is not None and t2 is not None and t1 != t2:
        t1 = t2 = min(t1, t2, key=lambda t: t.lo) if below else max(t1, t2, key=lambda t: t.hi)
    return Periods(Slot(m1, t1), Slot(m2, t2))


def weather_parts(weather: Periods[Weather]) -> tuple[tuple[frozenset[str], bool], ...]:
    """``((base, fog), (base, fog))`` of canonical weather: types without fog (unsaid = fair)."""
    out = []
    for slot in weather.slots():
        types = slot.main.types if slot.main is not None else frozenset()
        fog = "fog" in types or (slot.secondary is not None and "fog" in slot.secondary.types)
        out.append((types - {"fog"} or frozenset({"fair"}), fog))
    return tuple(out)


def weather_periods(b1: frozenset[str], b2: frozenset[str], g1: bool, g2: bool
                    ) -> Periods[Weather]:
    """Weather of the two halves from base types (``{"fair"}`` when dry) and fog flags.

    Fog replaces "fair"; a dry half beside a wetter or foggy one is left unsaid ("Rain later",
    "Fog patches at first"), except wet-then-fair, which says "then fair". Fog in the second
    half only, beside unchanged wet weather, is its secondary value ("Showers, occasionally fog
    patches later").
    """
    fair = frozenset({"fair"})
    if b1 == b2 and b1 != fair and g2 and not g1:
        return Periods(Slot(Weather(b1)), Slot(Weather(b2), Weather(frozenset({"fog"}))))

    def full(base: frozenset[str], fog: bool) -> frozenset[str]:
        return (base - fair) | {"fog"} if fog else base

    w1, w2 = full(b1, g1), full(b2, g2)
    first: frozenset[str] | None = w1
    second: frozenset[str] | None = w2
    if w1 != w2:
        if b1 == fair and not g1:
            first = None
        if b2 == fair and not g2 and b1 == fair:
            second = None
    return Periods(Slot(None if first is None else Weather(first)),
                   Slot(None if second is None else Weather(second)))


# ---------------------------------------------------------------- stats -> fields
def _halves(stats_area: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    p = stats_area["periods"]
    return p["all"], p["first"], p["second"]


def _fits(whole: Direction, half: Direction) -> bool:
    if whole.kind == "cyclonic":
        return True
    if whole.kind != half.kind:
        return False
    if whole.kind == "variable":
        return True
    a, b = whole.degrees, half.degrees
    return a is not None and b is not None and abs((a - b + 540.0) % 360.0 - 180.0) <= 22.5


def _direction(s_all: dict[str, Any], s1: dict[str, Any], s2: dict[str, Any]
               ) -> Periods[Direction]:
    d1, d2 = direction_value(s1), direction_value(s2)
    if d1 != d2:
        whole = direction_value(s_all)
        if _fits(whole, d1) and _fits(whole, d2):
            d1 = d2 = whole
    return direction_periods(d1, d2)


def ranged_values(choose: Any, dist: Any, s_all: dict[str, Any], s1: dict[str, Any],
            s2: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
    """Main values and tails of both halves, using the whole-period range when it fits."""
    whole, _ = choose(s_all)
    d1, d2 = dist(s1), dist(s2)
    fits = d1 is not None and d2 is not None and all(
        covers(d, whole.lo, whole.hi) >= HALF_FIT - 1e-9 for d in (d1, d2))
    m1 = whole if fits else choose(s1)[0]
    m2 = whole if fits else choose(s2)[0]
    return m1, choose(s1, m1)[1], m2, choose(s2, m2)[1]


def _area_fields(stats_area: dict[str, Any], names: tuple[str, ...]) -> tuple[AreaForecast, bool]:
    s_all, s1, s2 = _halves(stats_area)
    force = force_periods(*ranged_values(force_value, beaufort_dist, s_all, s1, s2))
    sea = class_periods(*ranged_values(sea_value, sea_dist, s_all, s1, s2), below=False)
    vis = class_periods(*ranged_values(visibility_value, vis_dist, s_all, s1, s2), below=True)
    fog = [any(v is not None and v.lo == 0 for v in (slot.main, slot.secondary))
           for slot in vis.slots()]
    (b1, o1), (b2, o2) = weather_value(s1), weather_value(s2)
    wet1, wet2 = b1 != {"fair"}, b2 != {"fair"}
    if b1 != b2 and wet1 and wet2 and (b1 <= b2 or b2 <= b1):
        b1 = b2 = b1 | b2
    weather = weather_periods(b1, b2, fog[0], fog[1])
    fields = AreaForecast(names=names, direction=_direction(s_all, s1, s2), force=force,
                          sea_state=sea, weather=weather, visibility=vis)
    return fields, bool(o1 and o2 and b1 == b2)


def write_area(stats_area: dict[str, Any], name: str | None = None) -> WrittenArea:
    """The forecast of one sea area from its statistics.

    Args:
        stats_area: one entry of ``stats["areas"]`` (``periods`` with ``all``, ``first`` and
            ``second`` summaries).
        name: the area's name for the heading (none when omitted).

    Returns:
        The fields (:class:`~fathom.domains.shipping.vocab._fields.AreaForecast`) and their text.

    Raises:
        DataError: the statistics lack a period or a key the writer needs (all listed).
    """
    problems = check_area_stats(stats_area, f"areas.{name}" if name else "area")
    if problems:
        raise DataError(problems, title="statistics the writer cannot use")
    fields, occasional = _area_fields(stats_area, (name,) if name else ())
    return WrittenArea(fields, occasional)


"""Gale warnings: which areas get one, the per-area warning text and the summary sentence.

Covers: the Met Office criterion (``docs/shipping-forecast.md`` §3) applied to the writer's
output and the statistics: an area is warned when its forecast says force 8 or more (as a main
or "occasionally" value), or when the statistics carry gusts (``wind.gust_kt``, an optional
extra key; its ``p90``, else ``max``) of 43 kn or more. The onset is the first hourly step whose
force reached by :data:`~fathom.domains.shipping.writer._rules.TAIL` of the cell-hours is 8 or
more (or the first sub-period that says it, without steps); its lead time from the issue time
gives "imminent" (under 6 h), "expected soon" (6-12 h) or "expected later". A stronger peak adds
", increasing severe gale force 9 later". Examples::

    Southwesterly gale force 8 expected later
    Cyclonic severe gale force 9 imminent, increasing storm force 10 soon
    There are warnings of gales in Viking, North Utsire and Fair Isle.

Not covered: "continuing" and "now ceased" (they need the previous bulletin).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fathom.domains.shipping.vocab import AreaForecast, Direction
from fathom.domains.shipping.writer._rules import TAIL
from fathom.domains.shipping.writer._wording import direction_words

__all__ = ["GUST_GALE_KT", "GaleWarning", "area_gale_warning", "gale_summary",
           "gale_warning_words", "gust_force"]

GUST_GALE_KT = (43.0, 52.0, 61.0, 69.0)
"""Gust speeds (kn) that warn of force 8, 9, 10 and 11."""

_WARNING_WORDS = {8: "gale force 8", 9: "severe gale force 9", 10: "storm force 10",
                  11: "violent storm force 11", 12: "hurricane force 12"}
_TIMING = {"imminent": "imminent", "soon": "expected soon", "later": "expected later"}


def gale_warning_words(force: int) -> str:
    """The warning's force words ("severe gale force 9").

    >>> gale_warning_words(8), gale_warning_words(12)
    ('gale force 8', 'hurricane force 12')
    """
    return _WARNING_WORDS[max(8, min(12, force))]


def gust_force(knots: float) -> int:
    """The warning force a gust implies (0 below 43 kn).

    >>> gust_force(40), gust_force(45), gust_force(70)
    (0, 8, 11)
    """
    return max((8 + i for i, kt in enumerate(GUST_GALE_KT) if knots >= kt), default=0)


def _timing(lead_hours: float, *, change: bool = False) -> str:
    """"imminent" (< 6 h; a change within 12 h is "soon"), "soon" (6-12 h) or "later"."""
    if lead_hours < 6 and not change:
        return "imminent"
    if lead_hours <= 12:
        return "soon"
    return "later"


@dataclass(frozen=True)
class GaleWarning:
    """One area's gale warning."""

    area: str
    force: int
    """Force at onset, 8..12."""
    timing: str
    """"imminent", "soon" or "later"."""
    direction: Direction | None
    peak: int
    """Strongest force in the period (equal to ``force`` when it does not increase)."""
    peak_timing: str
    from_gusts: bool
    """True when only the gust criterion triggered it."""

    @property
    def text(self) -> str:
        """"Southwesterly gale force 8 expected later[, increasing storm force 10 later]"."""
        words = f"{gale_warning_words(self.force)} {_TIMING[self.timing]}"
        if self.direction is not None and self.direction.kind != "variable":
            words = f"{direction_words(self.direction, adjective=True)} {words}"
        if self.peak > self.force:
            words += f", increasing {gale_warning_words(self.peak)} {self.peak_timing}"
        return words[:1].upper() + words[1:]

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"area": self.area, "force": self.force, "timing": self.timing,
                "direction": None if self.direction is None else self.direction.to_dict(),
                "peak": self.peak, "peak_timing": self.peak_timing,
                "from_gusts": self.from_gusts, "text": self.text}


def _step_force(s: dict[str, Any]) -> int:
    """Force reached by at least TAIL of the cell-hours of a summary, or implied by gusts."""
    shares = [max(0.0, float(x)) for x in s["wind"]["beaufort"]]
    total = sum(shares) or 1.0
    level, above = 0, 0.0
    for force in range(12, -1, -1):
        above += shares[force] / total
        if above >= TAIL - 1e-9:
            level = force
            break
    return max(level, gust_force(_gust(s) or 0.0))


def _gust(s: dict[str, Any]) -> float | None:
    gust = (s.get("wind") or {}).get("gust_kt")
    if not isinstance(gust, dict):
        return None
    value = gust.get("p90", gust.get("max"))
    return None if value is None else float(value)


def _field_force(fields: AreaForecast, which: int) -> int:
    slot = fields.force.slots()[which]
    values = [v.hi for v in (slot.main, slot.secondary) if v is not None]
    return max(values, default=0)


def area_gale_warning(name: str, stats_area: dict[str, Any], fields: AreaForecast, *,
                      start: datetime, end: datetime, issued: datetime) -> GaleWarning | None:
    """The gale warning of one area, or None.

    Args:
        name: the area.
        stats_area: its statistics (``periods`` and, for the onset, ``steps``).
        fields: the writer's fields for the area.
        start: start of the forecast period (time of step 0).
        end: end of the period (time of the last step).
        issued: the issue time the lead time is counted from.
    """
    halves = [_field_force(fields, 0), _field_force(fields, 1)]
    gusts = [gust_force(_gust(stats_area["periods"][p]) or 0.0) for p in ("first", "second")]
    if max(halves) < 8 and max(gusts) < 8:
        return None
    steps = [s for s in stats_area.get("steps") or [] if isinstance(s, dict) and "wind" in s]
    levels = [_step_force(s) for s in steps]
    dt = (end - start) / max(len(steps) - 1, 1)
    times = [start + i * dt for i in range(len(steps))]
    if any(level >= 8 for level in levels):
        onset = next(i for i, level in enumerate(levels) if level >= 8)
        force, onset_time = levels[onset], times[onset]
        peak = max(levels)
        peak_time = times[levels.index(peak)]
    else:
        which = 0 if max(halves[0], gusts[0]) >= 8 else 1
        force = max(halves[which], gusts[which])
        onset_time = start + (end - start) / 2 * which
        peak = max(max(halves), max(gusts), force)
        later = 1 if max(halves[1], gusts[1]) >= peak else which
        peak_time = start + (end - start) / 2 * later
    lead = (onset_time - issued) / timedelta(hours=1)
    half = 0 if onset_time < start + (end - start) / 2 else 1
    return GaleWarning(area=name, force=min(force, 12), timing=_timing(lead),
                       direction=fields.direction.slots()[half].main, peak=min(peak, 12),
                       peak_timing=_timing((peak_time - issued) / timedelta(hours=1), change=True),
                       from_gusts=max(halves) < 8)


def _join(names: Sequence[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def gale_summary(warned: Sequence[str], areas: Sequence[str]) -> str:
    """The summary sentence of the gale warnings.

    "all areas except ..." is used when at most 3 of 10 or more areas are not warned.

    >>> gale_summary(["Viking", "Fair Isle"], ["Viking", "Forties", "Fair Isle"])
    'There are warnings of gales in Viking and Fair Isle.'
    >>> gale_summary([], ["Viking"])
    'There are no warnings of gales.'
    """
    warned = [a for a in areas if a in set(warned)]
    if not warned:
        return "There are no warnings of gales."
    excluded = [a for a in areas if a not in set(warned)]
    if not excluded:
        return "There are warnings of gales in all areas."
    if len(excluded) <= 3 and len(areas) >= 10:
        return f"There are warnings of gales in all areas except {_join(excluded)}."
    return f"There are warnings of gales in {_join(warned)}."

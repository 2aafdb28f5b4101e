"""The whole bulletin: preamble, gale warnings, general synopsis and grouped area forecasts.

Covers :func:`write_bulletin` (statistics JSON -> :class:`Bulletin`) and the bulletin's text
in the Met Office print layout (``docs/shipping-forecast.md`` §1)::

    The shipping forecast issued at 00:00 (UTC) on Sun 5 Jan 2025 for the period 00:00 (UTC)
    on Sun 5 Jan 2025 to 00:00 (UTC) on Mon 6 Jan 2025.

    There are warnings of gales in Viking, North Utsire and Fair Isle.

    The general synopsis at midnight
    Low Rockall 985 moving steadily northeast, expected Fair Isle 979 by midnight tonight.

    The area forecasts for the next 24 hours
    Viking, North Utsire. Southwest 6 to gale 8. Rough or very rough. Rain. Moderate or good.
    ...

The preamble keeps the Met Office form but not its attribution ("issued by the Met Office, on
behalf of the Maritime and Coastguard Agency"): these bulletins are machine-written.

Not covered: the per-area rules (``writer/_area.py``), grouping (``writer/_grouping.py``), warnings
(``writer/_warnings.py``), synopsis (``writer/_synopsis.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fathom.domains.shipping.vocab import AREA_ALIASES, AREAS
from fathom.domains.shipping.writer._area import WrittenArea, check_area_stats, write_area
from fathom.domains.shipping.writer._grouping import WORD_LIMIT, group_areas, words
from fathom.domains.shipping.writer._synopsis import Synopsis, parse_time, write_synopsis
from fathom.domains.shipping.writer._warnings import GaleWarning, area_gale_warning, gale_summary
from fathom.errors import DataError, Problem, did_you_mean

__all__ = ["BULLETIN_SCHEMA", "STATS_SCHEMA", "Bulletin", "write_bulletin"]

STATS_SCHEMA = "fathom.shipping.stats/1"
BULLETIN_SCHEMA = "fathom.shipping.bulletin/1"


def _stamp(t: datetime) -> str:
    """"05:05 (UTC) on Sat 7 Dec 2024"."""
    return f"{t:%H:%M} (UTC) on {t:%a} {t.day} {t:%b %Y}"


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Bulletin:
    """A written bulletin: structured parts and the text they make."""

    issued: datetime
    start: datetime
    end: datetime
    gale_warnings: tuple[GaleWarning, ...]
    synopsis: Synopsis
    areas: tuple[WrittenArea, ...]
    """One forecast per area, in broadcast order, before grouping."""
    groups: tuple[WrittenArea, ...]
    """The area forecasts as broadcast: merged groups in broadcast order."""
    skipped: tuple[str, ...] = ()
    """Areas of the statistics that could not be written (no data), with the reason."""

    @property
    def preamble(self) -> str:
        """"The shipping forecast issued at ... for the period ... to ..."."""
        return (f"The shipping forecast issued at {_stamp(self.issued)} for the period "
                f"{_stamp(self.start)} to {_stamp(self.end)}.")

    @property
    def gale_summary(self) -> str:
        """"There are warnings of gales in ..."."""
        return gale_summary([w.area for w in self.gale_warnings], [a.names[0] for a in self.areas])

    @property
    def hours(self) -> int:
        """Length of the forecast period in hours."""
        return round((self.end - self.start).total_seconds() / 3600.0)

    @property
    def area_forecasts_text(self) -> str:
        """The grouped area forecasts, one group per line."""
        return "\n".join(g.text for g in self.groups)

    @property
    def words(self) -> int:
        """Words of the area forecasts (headings included)."""
        return words(self.groups)

    @property
    def text(self) -> str:
        """The whole bulletin as plain text."""
        return "\n".join([
            self.preamble, "", self.gale_summary, "", self.synopsis.heading, self.synopsis.text,
            "", f"The area forecasts for the next {self.hours} hours", self.area_forecasts_text,
        ]) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``--json``): every part structured, plus the text."""
        return {
            "schema": BULLETIN_SCHEMA,
            "issued": _iso(self.issued),
            "period": {"start": _iso(self.start), "end": _iso(self.end)},
            "preamble": self.preamble,
            "gale_warnings": {"summary": self.gale_summary,
                              "areas": [w.to_dict() for w in self.gale_warnings]},
            "synopsis": self.synopsis.to_dict(),
            "area_forecasts": [g.to_dict() for g in self.groups],
            "areas": {a.names[0]: a.fields.to_dict() for a in self.areas},
            "skipped": list(self.skipped),
            "words": self.words,
            "text": self.text,
        }


def _canonical_area(name: str) -> str | None:
    if name in AREAS:
        return name
    return AREA_ALIASES.get(name.lower()) or next((a for a in AREAS if a.lower() == name.lower()),
                                                  None)


def _check(stats: Any) -> tuple[datetime, datetime, dict[str, Any]]:
    """Run times and the areas keyed by canonical name; every problem raised at once."""
    if not isinstance(stats, dict):
        raise DataError([Problem("", f"expected a statistics object, got {type(stats).__name__}")],
                        title="statistics the writer cannot use")
    problems: list[Problem] = []
    if stats.get("schema") not in (None, STATS_SCHEMA):
        problems.append(Problem("schema", f"{stats.get('schema')!r}; the writer reads "
                                          f"{STATS_SCHEMA!r}"))
    start = end = datetime.now(UTC)
    try:
        start, end = parse_time(stats["run"]["start"]), parse_time(stats["run"]["end"])
    except (KeyError, TypeError, ValueError) as exc:
        problems.append(Problem("run", f"needs 'start' and 'end' ISO 8601 times ({exc})"))
    areas: dict[str, Any] = {}
    raw = stats.get("areas")
    if not isinstance(raw, dict) or not raw:
        problems.append(Problem("areas", "needs an object of area name -> statistics"))
        raw = {}
    for name, value in raw.items():
        canonical = _canonical_area(str(name))
        if canonical is None:
            problems.append(Problem(f"areas.{name}", f"unknown sea area. "
                                                     f"{did_you_mean(str(name), AREAS)}".strip()))
        else:
            areas[canonical] = value
    if problems:
        raise DataError(problems, title="statistics the writer cannot use")
    return start, end, areas


_NO_DATA = ("no cells", "wind", "precip")
"""Quantities whose absence (listed in a summary's ``missing``) leaves an area nothing to write."""


def _no_data(name: str, area: Any) -> str | None:
    """Why a well-formed area has nothing to write (off a partial grid, no valid data), or None.

    Such areas are skipped (listed in :attr:`Bulletin.skipped`); statistics that lack a period or a
    key are an error instead (:func:`_broken`), since dropping the area would hide it.
    """
    if isinstance(area, dict) and area.get("cells") == 0:
        return f"{name}: no grid cells"
    periods = area.get("periods") if isinstance(area, dict) else None
    for period, s in periods.items() if isinstance(periods, dict) else ():
        gone = [g for g in _NO_DATA if isinstance(s, dict) and g in (s.get("missing") or ())]
        if gone:
            return f"{name}: areas.{name}.periods.{period}: has no data for {gone[0]!r} (listed in 'missing')"
    return None


def _broken(areas: dict[str, Any]) -> None:
    """Raise for every area whose statistics lack a period or a key the writer needs.

    Raises:
        DataError: one problem per missing period or key, each naming the area.
    """
    problems = [p for name in AREAS if name in areas and _no_data(name, areas[name]) is None
                for p in check_area_stats(areas[name], f"areas.{name}")]
    if problems:
        names = sorted({p.where.split(".")[1] for p in problems if p.where.count(".") >= 1})
        raise DataError(problems, title=f"statistics the writer cannot use: {', '.join(names)} lack periods or "
                                        f"keys (an area is never left out silently; recompute the file with "
                                        f"`fathom shipping stats`, or remove these areas from it)")


def write_bulletin(stats: dict[str, Any], *, issued: datetime | str | None = None,
                   word_limit: int = WORD_LIMIT,
                   area_writer: Callable[[dict[str, Any], str], WrittenArea] = write_area) -> Bulletin:
    """Write the whole bulletin from one run's statistics.

    Args:
        stats: the statistics JSON (schema ``fathom.shipping.stats/1``).
        issued: issue time (datetime or ISO 8601); defaults to the start of the run.
        word_limit: most words the grouped area forecasts may take.
        area_writer: writes one area from its statistics (default: the rule-based
            :func:`write_area`; ``fathom shipping forecast`` passes a language model's).

    Returns:
        The :class:`Bulletin`; areas in broadcast order, merged where neighbours agree (and
        further, by closeness, while over ``word_limit``).

    Raises:
        DataError: the statistics are not usable (every problem listed; an area whose periods or
            keys are missing is one, never silently left out), or no area has data.

    >>> from fathom.domains.shipping.writer._samples import random_stats
    >>> b = write_bulletin(random_stats(0))
    >>> b.words <= 380, b.text.splitlines()[4]
    (True, 'The general synopsis at midnight')
    """
    start, end, areas = _check(stats)
    _broken(areas)
    when = parse_time(issued) if isinstance(issued, str) else issued or start
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    written: list[WrittenArea] = []
    warnings: list[GaleWarning] = []
    skipped: list[str] = []
    for name in (a for a in AREAS if a in areas):
        reason = _no_data(name, areas[name])
        if reason is not None:
            skipped.append(reason)
            continue
        area = area_writer(areas[name], name)
        written.append(area)
        warning = area_gale_warning(name, areas[name], area.fields, start=start, end=end,
                                    issued=when)
        if warning is not None:
            warnings.append(warning)
    if not written:
        raise DataError([Problem("areas", reason) for reason in skipped],
                        title="no area has statistics the writer can use")
    return Bulletin(issued=when, start=start, end=end, gale_warnings=tuple(warnings),
                    synopsis=write_synopsis(stats), areas=tuple(written),
                    groups=tuple(group_areas(written, word_limit)), skipped=tuple(skipped))

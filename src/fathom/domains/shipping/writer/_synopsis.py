"""The general synopsis: pressure centres -> tracked systems -> "Low Rockall 985 moving ...".

Covers: linking the ``pressure_centres`` of the statistics JSON into tracks (each centre joins the
nearest track of its kind seen at the previous time, within a speed limit), choosing the systems
worth a sentence, and wording them in the Met Office pattern (``docs/shipping-forecast.md`` §4)::

    Low Rockall 985 moving steadily northeast, expected Fair Isle 979 by midnight tonight.
    New high expected France 1024 by same time.
    Low Shannon 1004 losing its identity.

Fathom conventions: a track must last :data:`MIN_HOURS` hours; lows below :data:`LOW_MAX_HPA`
(deepest first, at most :data:`MAX_LOWS`) and highs above :data:`HIGH_MIN_HPA` (at most
:data:`MAX_HIGHS`) are mentioned. Movement is the great-circle displacement from first to last
position over the elapsed time, said with the Met Office speed words (slowly < 15 kn, steadily
15-25, rather quickly 25-35, rapidly 35-45, very rapidly > 45) and left out below
:data:`MIN_MOVE_NM`. A low whose central pressure falls (rises) by :data:`TREND_HPA` or more is
"deepening" ("filling"); a track that ends more than 3 hours before the run does is "losing its
identity"; one that starts more than 3 hours after the run does is "New".

Not covered: naming positions (``writer/_places.py``), statistics (``compute_stats``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fathom.domains.shipping.vocab import POINT_NOUNS
from fathom.domains.shipping.writer._places import (
    bearing_deg,
    compass_point,
    distance_nm,
    position_words,
)
from fathom.errors import DataError, Problem

__all__ = [
    "HIGH_MIN_HPA",
    "LOW_MAX_HPA",
    "MAX_HIGHS",
    "MAX_LOWS",
    "MIN_HOURS",
    "MIN_MOVE_NM",
    "TREND_HPA",
    "Fix",
    "Synopsis",
    "SystemSentence",
    "Track",
    "parse_time",
    "speed_words",
    "time_words",
    "track_centres",
    "write_synopsis",
]

MIN_HOURS = 6.0
LOW_MAX_HPA = 1012.0
HIGH_MIN_HPA = 1020.0
MAX_LOWS = 3
MAX_HIGHS = 1
MIN_MOVE_NM = 60.0
TREND_HPA = 8.0
_EDGE_HOURS = 3.0
_MAX_SPEED_KN = 80.0
_SLACK_NM = 90.0
_MAX_GAP_HOURS = 3.0


@dataclass(frozen=True)
class Fix:
    """One pressure centre at one time."""

    time: datetime
    lat: float
    lon: float
    hpa: float


@dataclass
class Track:
    """One low or high followed through the run."""

    kind: str
    fixes: list[Fix] = field(default_factory=list)

    @property
    def first(self) -> Fix:
        """The earliest position."""
        return self.fixes[0]

    @property
    def last(self) -> Fix:
        """The latest position."""
        return self.fixes[-1]

    @property
    def hours(self) -> float:
        """Hours from the first to the last fix."""
        return (self.last.time - self.first.time).total_seconds() / 3600.0

    @property
    def distance_nm(self) -> float:
        """Great-circle displacement from the first to the last fix."""
        return distance_nm(self.first.lat, self.first.lon, self.last.lat, self.last.lon)

    @property
    def speed_kn(self) -> float:
        """Mean speed of the displacement in knots (0 for a single fix)."""
        return self.distance_nm / self.hours if self.hours > 0 else 0.0

    @property
    def heading(self) -> str:
        """8-point direction of travel ("NE")."""
        f, t = self.first, self.last
        return compass_point(bearing_deg(f.lat, f.lon, t.lat, t.lon))

    @property
    def extreme_hpa(self) -> float:
        """Lowest pressure of a low, highest of a high."""
        values = [x.hpa for x in self.fixes]
        return min(values) if self.kind == "low" else max(values)


# ---------------------------------------------------------------- input
def parse_time(text: str) -> datetime:
    """An ISO 8601 time ("2025-01-05T00:00:00Z") as an aware UTC datetime.

    >>> parse_time("2025-01-05T06:00:00Z").hour
    6
    """
    value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _fixes(centres: list[dict[str, Any]]) -> dict[str, list[Fix]]:
    problems: list[Problem] = []
    out: dict[str, list[Fix]] = {"low": [], "high": []}
    for i, c in enumerate(centres):
        where = f"pressure_centres[{i}]"
        try:
            kind = c["kind"]
            fix = Fix(parse_time(c["time"]), float(c["lat"]), float(c["lon"]), float(c["hpa"]))
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(Problem(where, f"needs time (ISO 8601), kind, lat, lon, hpa ({exc})"))
            continue
        if kind not in out:
            problems.append(Problem(f"{where}.kind", f"{kind!r} is not 'low' or 'high'"))
            continue
        out[kind].append(fix)
    if problems:
        raise DataError(problems, title="pressure centres the synopsis cannot use")
    return out


# ---------------------------------------------------------------- tracking
def track_centres(centres: list[dict[str, Any]]) -> list[Track]:
    """Link pressure centres into tracks, nearest first.

    At each time every centre joins the nearest track of its kind whose last fix is at most
    3 hours older and within reach (80 kn times the gap, plus 90 miles for the jitter of a
    gridded centre); pairs are taken shortest first, and a centre left over starts a track.

    Args:
        centres: ``stats["pressure_centres"]`` (dicts with time, kind, lat, lon, hpa).

    Returns:
        Tracks of both kinds, in order of their first fix.

    Raises:
        DataError: a centre lacks a field or has an unknown kind.
    """
    tracks: list[Track] = []
    for kind, fixes in _fixes(centres).items():
        tracks += _link(kind, sorted(fixes, key=lambda f: f.time))
    return sorted(tracks, key=lambda t: (t.first.time, t.kind))


def _link(kind: str, fixes: list[Fix]) -> list[Track]:
    tracks: list[Track] = []
    times = sorted({f.time for f in fixes})
    for time in times:
        now = [f for f in fixes if f.time == time]
        open_tracks = [t for t in tracks
                       if 0 < (time - t.last.time).total_seconds() <= _MAX_GAP_HOURS * 3600]
        pairs = []
        for ti, track in enumerate(open_tracks):
            gap_h = (time - track.last.time).total_seconds() / 3600.0
            for fi, fix in enumerate(now):
                d = distance_nm(track.last.lat, track.last.lon, fix.lat, fix.lon)
                if d <= _MAX_SPEED_KN * gap_h + _SLACK_NM:
                    pairs.append((d, ti, fi))
        used_t: set[int] = set()
        used_f: set[int] = set()
        for _, ti, fi in sorted(pairs):
            if ti not in used_t and fi not in used_f:
                open_tracks[ti].fixes.append(now[fi])
                used_t.add(ti)
                used_f.add(fi)
        tracks += [Track(kind, [f]) for fi, f in enumerate(now) if fi not in used_f]
    return tracks


# ---------------------------------------------------------------- words
def speed_words(knots: float) -> str:
    """The Met Office word for a system's speed.

    >>> [speed_words(k) for k in (10, 20, 30, 40, 50)]
    ['slowly', 'steadily', 'rather quickly', 'rapidly', 'very rapidly']
    """
    if knots < 15:
        return "slowly"
    if knots < 25:
        return "steadily"
    if knots < 35:
        return "rather quickly"
    if knots <= 45:
        return "rapidly"
    return "very rapidly"


def time_words(when: datetime, reference: datetime) -> str:
    """"midnight tonight", "0600 tomorrow", "midday tomorrow", "1800 today", "0600 Thursday".

    >>> ref = parse_time("2025-01-05T00:00:00Z")
    >>> time_words(parse_time("2025-01-06T00:00:00Z"), ref), time_words(ref.replace(hour=18), ref)
    ('midnight tonight', '1800 today')
    """
    days = (when.date() - reference.date()).days
    if when.hour == 0 and when.minute == 0 and days == 1:
        return "midnight tonight"
    clock = "midday" if (when.hour, when.minute) == (12, 0) else f"{when:%H%M}"
    if clock == "0000":
        clock = "midnight"
    day = "today" if days == 0 else "tomorrow" if days == 1 else f"{when:%A}"
    return f"{clock} {day}"


def _heading_time(reference: datetime) -> str:
    if (reference.hour, reference.minute) == (0, 0):
        return "midnight"
    if (reference.hour, reference.minute) == (12, 0):
        return "midday"
    return f"{reference:%H%M}"


@dataclass(frozen=True)
class SystemSentence:
    """One system of the synopsis, structured and worded."""

    kind: str
    """"low" or "high"."""
    new: bool
    lost: bool
    start: Fix | None
    end: Fix
    moving: str | None
    """"steadily northeast", or None when it hardly moves (or is new or lost)."""
    trend: str | None
    """"deepening", "filling" or None."""
    text: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        def fix(f: Fix | None) -> dict[str, Any] | None:
            if f is None:
                return None
            return {"time": f.time.strftime("%Y-%m-%dT%H:%M:%SZ"), "lat": round(f.lat, 2),
                    "lon": round(f.lon, 2), "hpa": round(f.hpa),
                    "where": position_words(f.lat, f.lon)}
        return {"kind": self.kind, "new": self.new, "lost": self.lost, "start": fix(self.start),
                "end": fix(self.end), "moving": self.moving, "trend": self.trend, "text": self.text}


@dataclass(frozen=True)
class Synopsis:
    """The general synopsis: its time and one sentence per system."""

    time: datetime
    systems: tuple[SystemSentence, ...]

    @property
    def heading(self) -> str:
        """"The general synopsis at midnight"."""
        return f"The general synopsis at {_heading_time(self.time)}"

    @property
    def text(self) -> str:
        """The sentences, or a plain statement when no system qualifies."""
        if not self.systems:
            return "No significant pressure systems."
        return " ".join(f"{s.text}." for s in self.systems)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"time": self.time.strftime("%Y-%m-%dT%H:%M:%SZ"), "heading": self.heading,
                "text": self.text, "systems": [s.to_dict() for s in self.systems]}


def _where(f: Fix) -> str:
    return f"{position_words(f.lat, f.lon)} {round(f.hpa)}"


def _sentence(track: Track, start: datetime, end: datetime, last_time: str | None
              ) -> SystemSentence:
    name = "Low" if track.kind == "low" else "High"
    new = (track.first.time - start).total_seconds() > _EDGE_HOURS * 3600
    lost = (end - track.last.time).total_seconds() > _EDGE_HOURS * 3600
    change = track.last.hpa - track.first.hpa
    trend = None
    if track.kind == "low" and abs(change) >= TREND_HPA:
        trend = "deepening" if change < 0 else "filling"
    when = time_words(track.last.time, start)
    by = "same time" if when == last_time else when
    if new:
        text = f"New {name.lower()} expected {_where(track.last)} by {by}"
        return SystemSentence(track.kind, True, lost, None, track.last, None, None, text)
    if lost:
        text = f"{name} {_where(track.first)} losing its identity"
        return SystemSentence(track.kind, False, True, track.first, track.last, None, None, text)
    moving = None
    if track.distance_nm >= MIN_MOVE_NM:
        moving = f"{speed_words(track.speed_kn)} {POINT_NOUNS[track.heading]}"
    parts = [f"{name} {_where(track.first)}"]
    if trend:
        parts.append(f" {trend},")
    if moving:
        parts.append(f" moving {moving},")
    text = "".join(parts) + f" expected {_where(track.last)} by {by}"
    return SystemSentence(track.kind, False, False, track.first, track.last, moving, trend, text)


def _chosen(tracks: list[Track], span_hours: float) -> list[Track]:
    need = min(MIN_HOURS, span_hours)
    long_enough = [t for t in tracks if t.hours >= need - 1e-9]
    lows = sorted((t for t in long_enough if t.kind == "low" and t.extreme_hpa < LOW_MAX_HPA),
                  key=lambda t: t.extreme_hpa)[:MAX_LOWS]
    highs = sorted((t for t in long_enough if t.kind == "high" and t.extreme_hpa > HIGH_MIN_HPA),
                   key=lambda t: -t.extreme_hpa)[:MAX_HIGHS]
    return lows + highs


def write_synopsis(stats: dict[str, Any]) -> Synopsis:
    """The general synopsis of a run from its statistics.

    Args:
        stats: the statistics JSON (uses ``run.start``, ``run.end`` and ``pressure_centres``).

    Returns:
        The :class:`Synopsis` at the run's start time.

    Raises:
        DataError: the run times or a pressure centre cannot be read.

    >>> centres = [{"time": f"2025-01-05T{h:02d}:00:00Z", "kind": "low", "lat": 55.5 + 0.16 * h,
    ...             "lon": -13.0 + 0.43 * h, "hpa": 985 - 0.25 * h} for h in range(24)]
    >>> centres.append({"time": "2025-01-06T00:00:00Z", "kind": "low", "lat": 59.5, "lon": -3.0,
    ...                 "hpa": 979})
    >>> stats = {"run": {"start": "2025-01-05T00:00:00Z", "end": "2025-01-06T00:00:00Z"},
    ...          "pressure_centres": centres}
    >>> write_synopsis(stats).text
    'Low Rockall 985 moving steadily northeast, expected Fair Isle 979 by midnight tonight.'
    """
    run = stats.get("run") or {}
    try:
        start, end = parse_time(run["start"]), parse_time(run["end"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError([Problem("run", f"needs 'start' and 'end' ISO 8601 times ({exc})")],
                        title="statistics the synopsis cannot use") from exc
    tracks = track_centres(list(stats.get("pressure_centres") or []))
    span = max((end - start).total_seconds() / 3600.0, 0.0)
    sentences: list[SystemSentence] = []
    last_time: str | None = None
    for track in _chosen(tracks, span):
        sentence = _sentence(track, start, end, last_time)
        sentences.append(sentence)
        if not sentence.lost:
            last_time = time_words(track.last.time, start)
    return Synopsis(start, tuple(sentences))


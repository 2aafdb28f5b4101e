"""Rules that turn one sea area's statistics into forecast values, field by field.

Input is one summary ``S`` of the statistics JSON (schema ``fathom.shipping.stats/1``, made
by ``compute_stats``): the wind's Beaufort distribution, direction sectors, mean direction
and steadiness; the sea-state classes; precipitation shares by type; visibility shares; and the
hours a low centre spends in or near the area. Each rule returns the value of one sub-period (or
of the whole period, used when it fits both halves). These are the Fathom generator conventions of
``docs/shipping-forecast.md`` §9, with the thresholds below:

* **Force**: the narrowest range of 1-3 forces covering :data:`COVER` of the cell-hours (force 0
  counts as 1, which is never forecast; a range from force 1 reaches at least 3, said
  "3 or less"); a tail of at least :data:`TAIL` above it is "occasionally" the next force.
* **Direction**: "cyclonic" when a low centre is in or near the area for at least
  :data:`CYCLONIC_HOURS` hours and the wind is not steady; "variable" when the median wind is
  force 3 or less and unsteady (or there is no mean direction); otherwise the nearest 8-point
  direction, or two adjacent points ("west or southwest") when the mean lies near the boundary
  between them or the neighbour sector holds a large share too.
* **Sea state**: one class covering :data:`COVER`, else the best adjacent pair; a tail above of
  at least :data:`TAIL` is "occasionally" the next class. Without wave data (``sea`` null, or
  listed in the summary's ``missing``) the classes are estimated from the Beaufort distribution
  with the WMO "probable wave height" of each force.
* **Visibility**: the same on the four visibility classes, with the tail *below* the range; the
  secondary class is the worst one holding at least 5% of the cell-hours.
* **Weather**: fair below 10% wet cell-hours; otherwise snow / wintry showers (snow on 40% of
  the wet cell-hours), showers (convective on half of them; "thundery" when thunder is on 20%),
  rain, drizzle, or their "or" pairs (the second type on 30%). Rain or drizzle on under 30% of
  all cell-hours is "occasional".

Not covered: combining the two halves and wording (``writer/_area.py``, ``writer/_wording.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from fathom.domains.shipping.vocab import (
    POINTS,
    Direction,
    Force,
    SeaState,
    Visibility,
    beaufort_from_knots,
    sea_state_class,
)

__all__ = [
    "COVER",
    "CYCLONIC_HOURS",
    "TAIL",
    "covers",
    "direction_value",
    "force_value",
    "sea_value",
    "visibility_value",
    "weather_value",
]

COVER = 0.8
"""Share of the cell-hours a main range must cover."""
TAIL = 0.1
"""Share of cell-hours beyond the main range that earns an "occasionally" value."""
CYCLONIC_HOURS = 3
"""Hours with a low centre in or within 1 degree of the area that make the wind "cyclonic"."""
_CYCLONIC_STEADINESS = 0.8
_VARIABLE_STEADINESS = 0.5
_PAIR_OFFSET_DEG = 12.5
"""A mean direction this far from a point (of 22.5 to the boundary) is said as two points."""
_PAIR_SHARE = 0.5
_WET = 0.1
_OCCASIONAL = 0.3
_THUNDERY = 0.2
"""Share of the wet cell-hours with thunder (convective rate >= 4 mm/h) that makes showers
"thundery"."""

# WMO probable wave height (m) in the open sea for Beaufort forces 0..12.
_PROBABLE_HS = (0.0, 0.1, 0.2, 0.6, 1.0, 2.0, 3.0, 4.0, 5.5, 7.0, 9.0, 11.5, 14.0)


# ---------------------------------------------------------------- distributions
def _normalised(values: Sequence[float]) -> list[float]:
    clean = [max(0.0, float(v)) for v in values]
    total = sum(clean)
    return [v / total for v in clean] if total > 0 else clean


def beaufort_dist(s: dict[str, Any]) -> list[float]:
    """The Beaufort distribution of a summary with force 0 counted as force 1."""
    dist = _normalised(s["wind"]["beaufort"])
    dist[1] += dist[0]
    dist[0] = 0.0
    return dist


def covers(dist: Sequence[float], lo: int, hi: int) -> float:
    """Share of ``dist`` in classes ``lo..hi``."""
    return float(sum(dist[lo:hi + 1]))


def _window(dist: Sequence[float], max_width: int, first: int, *, prefer_high: bool = False
            ) -> tuple[int, int]:
    """The narrowest window (up to ``max_width`` classes) covering :data:`COVER` of ``dist``.

    Among windows of one width the one covering most wins (ties: the lower one, or the higher
    with ``prefer_high``); when no window reaches :data:`COVER`, the best of the widest.
    """
    n = len(dist)
    best: tuple[int, int] = (first, min(n - 1, first + max_width - 1))
    for width in range(1, max_width + 1):
        starts = range(first, n - width + 1)
        ordered = reversed(starts) if prefer_high else starts
        best = max(((lo, lo + width - 1) for lo in ordered),
                   key=lambda w: covers(dist, *w))
        if covers(dist, *best) >= COVER - 1e-9:
            return best
    return best


def _tail_above(dist: Sequence[float], hi: int) -> int | None:
    return hi + 1 if hi + 1 < len(dist) and sum(dist[hi + 1:]) >= TAIL - 1e-9 else None


# ---------------------------------------------------------------- force
def force_value(s: dict[str, Any], fixed: Force | None = None) -> tuple[Force, Force | None]:
    """Main Beaufort range and "occasionally" force of a summary.

    Args:
        s: one summary ``S``.
        fixed: use this main range (chosen on another summary) and only find the tail.

    >>> s = {"wind": {"beaufort": [0, 0, 0, 0, .3, .4, .15, .15, 0, 0, 0, 0, 0]}}
    >>> force_value(s)
    (Force(lo=4, hi=6), Force(lo=7, hi=7))
    """
    dist = beaufort_dist(s)
    main = fixed
    if main is None:
        lo, hi = _window(dist, 3, 1)
        main = Force(lo, max(hi, 3) if lo == 1 else hi)
    tail = _tail_above(dist, main.hi)
    return main, None if tail is None else Force(tail)


# ---------------------------------------------------------------- direction
def direction_value(s: dict[str, Any]) -> Direction:
    """Wind direction of a summary: a point, two adjacent points, "variable" or "cyclonic".

    >>> wind = {"beaufort": [0, 0, 0, 0, 0, 0, 1] + [0] * 6, "dir8": {"W": 1.0},
    ...         "mean_dir_deg": 270.0, "steadiness": 1.0, "kt": {"p50": 25.0}}
    >>> direction_value({"wind": wind, "low_centre_hours": 0})
    Direction(kind='point', points=('W',))
    """
    wind = s["wind"]
    steadiness = float(wind.get("steadiness") or 0.0)
    if s.get("low_centre_hours", 0) >= CYCLONIC_HOURS and steadiness < _CYCLONIC_STEADINESS:
        return Direction("cyclonic")
    mean = wind.get("mean_dir_deg")
    median_force = beaufort_from_knots(float(wind["kt"]["p50"]))
    if mean is None or (median_force <= 3 and steadiness < _VARIABLE_STEADINESS):
        return Direction("variable")
    mean = float(mean) % 360.0
    idx = math.floor(mean / 45.0 + 0.5) % 8
    offset = (mean - 45.0 * idx + 180.0) % 360.0 - 180.0
    point = POINTS[idx]
    neighbour = POINTS[(idx + (1 if offset > 0 else -1)) % 8]
    shares = wind.get("dir8") or {}
    p_share, n_share = float(shares.get(point, 0.0)), float(shares.get(neighbour, 0.0))
    if abs(offset) >= _PAIR_OFFSET_DEG or (n_share >= 0.2 and n_share >= _PAIR_SHARE * p_share):
        return Direction.point(point, neighbour)
    return Direction.point(point)


# ---------------------------------------------------------------- sea state
def sea_dist(s: dict[str, Any]) -> list[float]:
    """Sea-state class shares; estimated from the Beaufort distribution without wave data."""
    sea = s.get("sea")
    classes = (sea or {}).get("classes") or ()
    if "sea" not in (s.get("missing") or ()) and classes and None not in classes \
            and sum(classes) > 0:
        return _normalised(classes)
    dist = [0.0] * 8
    for force, share in enumerate(_normalised(s["wind"]["beaufort"])):
        dist[sea_state_class(_PROBABLE_HS[force])] += share
    return dist


def sea_value(s: dict[str, Any], fixed: SeaState | None = None
              ) -> tuple[SeaState, SeaState | None]:
    """Main sea-state range and "occasionally" class of a summary.

    >>> sea_value({"sea": {"classes": [0, 0, 0, 1, 0, 0, 0, 0]}, "wind": {}})
    (SeaState(lo=3, hi=3), None)
    """
    dist = sea_dist(s)
    main = fixed or SeaState(*_window(dist, 2, 0))
    tail = _tail_above(dist, main.hi)
    return main, None if tail is None else SeaState(tail)


# ---------------------------------------------------------------- visibility
def vis_dist(s: dict[str, Any]) -> list[float] | None:
    """Shares of very poor, poor, moderate and good visibility, or None without data."""
    vis = s.get("vis")
    keys = ("lt_1000m", "lt_2nm", "lt_5nm")
    if vis is None or "vis" in (s.get("missing") or ()) or any(vis.get(k) is None for k in keys):
        return None
    lt1, lt2, lt5 = (float(vis[k]) for k in keys)
    lt2, lt5 = max(lt1, lt2), max(lt1, lt2, lt5)
    return _normalised([lt1, lt2 - lt1, lt5 - lt2, max(0.0, 1.0 - lt5)])


def visibility_value(s: dict[str, Any], fixed: Visibility | None = None
                     ) -> tuple[Visibility, Visibility | None]:
    """Main visibility range and "occasionally" class of a summary.

    Without visibility data it follows the weather (documented heuristic): fair -> good;
    showers -> good, occasionally moderate; rain, drizzle or snow -> moderate or good.

    >>> s = {"vis": {"lt_1000m": 1.0, "lt_2nm": 1.0, "lt_5nm": 1.0}}
    >>> visibility_value(s)
    (Visibility(lo=0, hi=0), None)
    """
    dist = vis_dist(s)
    if dist is None:
        types, _ = weather_value(s)
        if types == {"fair"}:
            return fixed or Visibility(3), None
        if types <= {"showers", "thundery"}:
            main = fixed or Visibility(3)
            return main, Visibility(2) if main.lo > 2 else None
        return fixed or Visibility(2, 3), None
    main = fixed or Visibility(*_window(dist, 2, 0, prefer_high=True))
    if sum(dist[:main.lo]) < TAIL - 1e-9:
        return main, None
    worst = next((i for i in range(main.lo) if dist[i] >= 0.05), main.lo - 1)
    return main, Visibility(worst)


# ---------------------------------------------------------------- weather
def weather_value(s: dict[str, Any]) -> tuple[frozenset[str], bool]:
    """Weather types of a summary (without fog) and whether they are "occasional".

    >>> p = {"frac": 0.6, "rain": 0.05, "showers": 0.55, "drizzle": 0, "snow": 0, "thunder": 0.15}
    >>> sorted(weather_value({"precip": p})[0])
    ['showers', 'thundery']
    """
    p = s["precip"]
    frac = float(p["frac"])
    if frac < _WET:
        return frozenset({"fair"}), False
    rel = {k: float(p.get(k) or 0.0) / frac for k in ("rain", "showers", "drizzle", "snow",
                                                       "thunder")}
    if rel["snow"] >= 0.4:
        types = {"wintry", "showers"} if rel["showers"] >= 0.5 else {"snow"}
    elif rel["showers"] >= 0.5:
        types = {"showers"}
        if rel["thunder"] >= _THUNDERY:
            types.add("thundery")
        if rel["rain"] >= 0.3:
            types.add("rain")
    else:
        wet = "rain" if rel["rain"] >= rel["drizzle"] else "drizzle"
        other = "drizzle" if wet == "rain" else "rain"
        types = {wet}
        if rel[other] >= 0.3:
            types = {"rain", "drizzle"}
        elif rel["showers"] >= 0.3:
            types = {"rain", "showers"} | ({"thundery"} if rel["thunder"] >= _THUNDERY else set())
    occasional = types <= {"rain", "drizzle"} and frac < _OCCASIONAL
    return frozenset(types), occasional

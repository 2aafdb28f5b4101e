"""The compact statistics prompt for one sea area (the "text intermediary" a model writes from).

The statistics layer does the numeric work; the model does the forecaster's part (which wording,
which range, "occasionally", "later", trends, phrasing). Per half of the period (first 12 h,
second 12 h) the prompt gives:

* wind: direction shares on the 8 points (percent of cell-hours, the largest four of those >= 5%), the
  steadiness (|vector mean| / mean speed, percent), hours with a low centre in or near the area,
  the Beaufort range covering most of the area (the writer's covering rule) and an "occasionally"
  force when a tail above it holds >= 10%;
* sea state: class shares (percent, >= 5%);
* weather: the wet share (precipitation >= 0.1 mm/h) and, of the wet cell-hours, the shares of
  rain, showers, drizzle, snow and thunder;
* visibility: shares of good, moderate, poor and very poor (fog).

Prompts stay short (about 80-110 tokens) because tokens cost training time on a CPU.

>>> from fathom.domains.shipping._writer_samples import uniform_area
>>> print(area_prompt("Viking", uniform_area(direction=270, force=6)))
Viking
first: dir W100 st100 low0 | F6 | sea rough100 | dry | vis good100
second: dir W100 st100 low0 | F6 | sea rough100 | dry | vis good100
"""

from __future__ import annotations

from typing import Any

from fathom.domains.shipping._vocab import POINTS
from fathom.domains.shipping._writer_rules import force_value, sea_dist, vis_dist

__all__ = ["SYSTEM_PROMPT", "area_messages", "area_prompt"]

SYSTEM_PROMPT = ("Write one sea area's Shipping Forecast from its statistics, in Met Office words: "
                 "Wind. Sea state. Weather. Visibility.")

_SEA = ("smooth", "slight", "moderate", "rough", "very rough", "high", "very high", "phenomenal")
_VIS = ("very poor", "poor", "moderate", "good")
_WET_TYPES = ("rain", "showers", "drizzle", "snow", "thunder")


def _pct(x: float) -> int:
    return int(round(100 * float(x)))


def _shares(pairs: list[tuple[str, float]], minimum: float = 0.05, most: int = 4) -> str:
    kept = sorted(((n, v) for n, v in pairs if v >= minimum), key=lambda p: -p[1])[:most]
    return " ".join(f"{n}{_pct(v)}" for n, v in kept)


def _half(s: dict[str, Any]) -> str:
    wind = s["wind"]
    dirs = _shares([(p, float((wind.get("dir8") or {}).get(p, 0.0))) for p in POINTS]) or "none"
    main, tail = force_value(s)
    force = f"F{main.lo}" if main.lo == main.hi else f"F{main.lo}-{main.hi}"
    if tail is not None:
        force += f" occ{tail.lo}"
    parts = [f"dir {dirs} st{_pct(wind.get('steadiness') or 0)} low{int(s.get('low_centre_hours', 0))}", force,
             "sea " + _shares(list(zip(_SEA, sea_dist(s), strict=True)))]
    p = s["precip"]
    frac = float(p["frac"])
    if frac < 0.05:
        parts.append("dry")
    else:
        rel = [(k, float(p.get(k) or 0.0) / frac) for k in _WET_TYPES]
        parts.append(f"wet{_pct(frac)} " + _shares(rel))
    vis = vis_dist(s)
    parts.append("vis " + (_shares(list(zip(reversed(_VIS), reversed(vis), strict=True))) if vis else "unknown"))
    return " | ".join(parts)


def area_prompt(name: str, area: dict[str, Any]) -> str:
    """The prompt text for one area's statistics (one entry of ``stats["areas"]``)."""
    periods = area["periods"]
    return f"{name}\nfirst: {_half(periods['first'])}\nsecond: {_half(periods['second'])}"


def area_messages(name: str, area: dict[str, Any]) -> list[dict[str, str]]:
    """The chat messages (system + user) asking a model for one area's forecast."""
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": area_prompt(name, area)}]

"""The compact statistics prompt for one sea area (the "text intermediary" a model writes from).

The statistics layer does the numeric work; the model does the forecaster's part (which direction
words, "or" pairs, "occasionally", "at first", "later", trends between the halves, which weather
and visibility wording, the phrasing). Per half of the period (first 12 h,
second 12 h) the prompt gives:

* wind: direction shares on the 8 points (percent of cell-hours, the largest four of those >= 5%), the
  steadiness (|vector mean| / mean speed, percent), hours with a low centre in or near the area,
  the Beaufort range of the half and an "occasionally" force when a tail above it holds >= 10%;
* sea state: the class (or adjacent pair) of the half, and an "occasionally" class above it;
* weather: the wet share (precipitation >= 0.1 mm/h) and, of the wet cell-hours, the shares of
  rain, showers, drizzle, snow and thunder;
* visibility: shares of good, moderate, poor and very poor (fog).

The force range and sea-state class of each half are the statistics layer's choice (the writer's
covering rules, with one whole-period range used for both halves when it fits each): picking a
range from a distribution is numeric work, saying it is the model's. Prompts stay short (about
100 tokens) because tokens cost training time on a CPU.

>>> from fathom.domains.shipping.writer import uniform_area
>>> print(area_prompt("Viking", uniform_area(direction=270, force=6)))
Viking
first: dir W100 st100 low0 | F6 | sea rough | dry | vis good100
second: dir W100 st100 low0 | F6 | sea rough | dry | vis good100
"""

from __future__ import annotations

from typing import Any

from fathom.domains.shipping.vocab import POINTS, VISIBILITY
from fathom.domains.shipping.writer import beaufort_dist, force_value, ranged_values, sea_dist, sea_value, vis_dist

__all__ = ["SYSTEM_PROMPT", "area_messages", "area_prompt"]

SYSTEM_PROMPT = "Shipping Forecast for one sea area: wind, sea, weather, visibility."
"""Short on purpose: every token is paid for in every training step and every generation."""

_WET_TYPES = ("rain", "showers", "drizzle", "snow", "thunder")


def _pct(x: float) -> int:
    return round(100 * float(x))


def _shares(pairs: list[tuple[str, float]], minimum: float = 0.05, most: int = 4) -> str:
    kept = sorted(((n, v) for n, v in pairs if v >= minimum), key=lambda p: -p[1])[:most]
    return " ".join(f"{n}{_pct(v)}" for n, v in kept)


def _force(main: Any, tail: Any) -> str:
    text = f"F{main.lo}" if main.lo == main.hi else f"F{main.lo}-{main.hi}"
    return text + (f" occ{tail.lo}" if tail is not None else "")


def _sea(main: Any, tail: Any) -> str:
    text = main.SCALE[main.lo] if main.lo == main.hi else f"{main.SCALE[main.lo]}-{main.SCALE[main.hi]}"
    return "sea " + text + (f" occ {tail.SCALE[tail.lo]}" if tail is not None else "")


def _half(s: dict[str, Any], force: str, sea: str) -> str:
    wind = s["wind"]
    dirs = _shares([(p, float((wind.get("dir8") or {}).get(p, 0.0))) for p in POINTS]) or "none"
    parts = [f"dir {dirs} st{_pct(wind.get('steadiness') or 0)} low{int(s.get('low_centre_hours', 0))}", force, sea]
    p = s["precip"]
    frac = float(p["frac"])
    if frac < 0.05:
        parts.append("dry")
    else:
        rel = [(k, float(p.get(k) or 0.0) / frac) for k in _WET_TYPES]
        parts.append(f"wet{_pct(frac)} " + _shares(rel))
    vis = vis_dist(s)
    parts.append("vis " + (_shares(list(zip(reversed(VISIBILITY), reversed(vis), strict=True))) if vis else "unknown"))
    return " | ".join(parts)


def area_prompt(name: str, area: dict[str, Any]) -> str:
    """The prompt text for one area's statistics (one entry of ``stats["areas"]``)."""
    periods = area["periods"]
    s_all, s1, s2 = periods["all"], periods["first"], periods["second"]
    f1, ft1, f2, ft2 = ranged_values(force_value, beaufort_dist, s_all, s1, s2)
    c1, ct1, c2, ct2 = ranged_values(sea_value, sea_dist, s_all, s1, s2)
    return (f"{name}\nfirst: {_half(s1, _force(f1, ft1), _sea(c1, ct1))}\n"
            f"second: {_half(s2, _force(f2, ft2), _sea(c2, ct2))}")


def area_messages(name: str, area: dict[str, Any]) -> list[dict[str, str]]:
    """The chat messages (system + user) asking a model for one area's forecast."""
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": area_prompt(name, area)}]

"""Plausible statistics without NetCDF: for testing and demonstrating the writer.

Covers: :func:`summarise`, which turns cell-hour samples (wind, waves, precipitation,
visibility, temperature, pressure) into one summary ``S`` of the statistics JSON (schema
``fathom.shipping.stats/1``) by the contract's definitions; :func:`uniform_area`, an area whose
every cell-hour is the same, possibly changing at the middle step (for wording oracles);
:func:`area_from_samples` for any other hand-made area; and :func:`random_stats`, a whole seeded run
with spatially coherent weather (direction and speed drift smoothly along the broadcast order,
a change between the halves, lows and a high that move and make nearby winds cyclonic).

This is not a weather model: it only makes statistics shaped like real ones so that every
wording path of the writer is exercised. Real statistics come from ``compute_stats``.

>>> s = random_stats(0)
>>> len(s["areas"]), s["schema"]
(31, 'fathom.shipping.stats/1')
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fathom.domains.shipping.vocab import (
    AREAS,
    BEAUFORT_KNOTS,
    NAUTICAL_MILE_M,
    POINTS,
    beaufort_from_knots,
    sea_state_class,
)
from fathom.domains.shipping.writer._places import compass_point, near_areas

__all__ = ["Sample", "area_from_samples", "random_stats", "sample", "summarise", "uniform_area"]


@dataclass(frozen=True)
class Sample:
    """One cell-hour."""

    kt: float
    dir_deg: float
    """Direction the wind blows FROM."""
    hs_m: float | None = None
    rate_mmh: float = 0.0
    convective: bool = False
    t2m_c: float = 8.0
    vis_m: float | None = None
    msl_hpa: float = 1012.0


def _pct(values: list[float], q: float) -> float:
    v = sorted(values)
    pos = q / 100.0 * (len(v) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def _share(flags: list[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0


def _wind(samples: list[Sample]) -> dict[str, Any]:
    kts = [s.kt for s in samples]
    n = len(samples)
    beaufort = [0.0] * 13
    for k in kts:
        beaufort[beaufort_from_knots(k)] += 1.0 / n
    dir8 = {p: 0.0 for p in POINTS}
    for s in samples:
        dir8[compass_point(s.dir_deg)] += 1.0 / n
    x = sum(s.kt * math.cos(math.radians(s.dir_deg)) for s in samples) / n
    y = sum(s.kt * math.sin(math.radians(s.dir_deg)) for s in samples) / n
    mean = sum(kts) / n
    vector = math.hypot(x, y)
    return {
        "kt": {**{f"p{q}": _pct(kts, q) for q in (10, 25, 50, 75, 90)}, "max": max(kts),
               "mean": mean},
        "beaufort": beaufort, "dir8": dir8,
        "mean_dir_deg": None if vector < 1e-9 else math.degrees(math.atan2(y, x)) % 360.0,
        "steadiness": 0.0 if mean <= 0 else min(1.0, vector / mean),
    }


def _sea(samples: list[Sample]) -> dict[str, Any] | None:
    hs = [s.hs_m for s in samples if s.hs_m is not None]
    if not hs:
        return None
    classes = [0.0] * 8
    for h in hs:
        classes[sea_state_class(h)] += 1.0 / len(hs)
    return {"hs_m": {"p10": _pct(hs, 10), "p50": _pct(hs, 50), "p90": _pct(hs, 90),
                     "max": max(hs), "mean": sum(hs) / len(hs)}, "classes": classes}


def _precip(samples: list[Sample]) -> dict[str, Any]:
    wet = [s for s in samples if s.rate_mmh >= 0.1]
    n = len(samples)
    rates = [s.rate_mmh for s in wet]

    def share(pred: Any) -> float:
        return sum(1 for s in wet if pred(s)) / n

    return {
        "frac": len(wet) / n,
        "showers": share(lambda s: s.convective),
        "thunder": share(lambda s: s.convective and s.rate_mmh >= 4.0),
        "drizzle": share(lambda s: not s.convective and s.rate_mmh < 0.5),
        "snow": share(lambda s: s.t2m_c <= 1.0),
        "rain": share(lambda s: not s.convective and s.rate_mmh >= 0.5),
        "mean_rate_mmh": sum(rates) / len(rates) if rates else 0.0,
        "p90_rate_mmh": _pct(rates, 90) if rates else 0.0,
    }


def _vis(samples: list[Sample]) -> dict[str, Any] | None:
    vis = [s.vis_m for s in samples if s.vis_m is not None]
    if not vis:
        return None
    return {"lt_1000m": _share([v < 1000 for v in vis]),
            "lt_2nm": _share([v < 2 * NAUTICAL_MILE_M for v in vis]),
            "lt_5nm": _share([v < 5 * NAUTICAL_MILE_M for v in vis]),
            "p10_m": _pct(vis, 10), "p50_m": _pct(vis, 50)}


def summarise(samples: list[Sample], low_centre_hours: int = 0) -> dict[str, Any]:
    """One summary ``S`` (statistics contract) of a list of cell-hours.

    >>> s = summarise([Sample(kt=25.0, dir_deg=270.0, hs_m=3.0)] * 4)
    >>> s["wind"]["beaufort"][6], s["wind"]["dir8"]["W"], s["sea"]["classes"][3]
    (1.0, 1.0, 1.0)
    """
    vis = _vis(samples)
    t2m = [s.t2m_c for s in samples]
    msl = [s.msl_hpa for s in samples]
    return {
        "wind": _wind(samples), "sea": _sea(samples), "precip": _precip(samples), "vis": vis,
        "fog": vis["lt_1000m"] if vis else 0.0,
        "t2m_c": {"mean": sum(t2m) / len(t2m), "min": min(t2m)},
        "mslp_hpa": {"mean": sum(msl) / len(msl), "min": min(msl), "max": max(msl)},
        "low_centre_hours": int(low_centre_hours),
    }


def area_from_samples(hours: list[list[Sample]], low_hours: list[bool] | None = None,
                      steps: bool = True) -> dict[str, Any]:
    """An area entry (``cells``, ``periods``, ``steps``) from the samples of each hourly step.

    Args:
        hours: per step (hour 0..N), the samples of the area's cells.
        low_hours: per step, whether a low centre is in or near the area.
        steps: include the per-step summaries.

    The first period is the steps before the middle one (hours 0..11 of 25 steps), the second
    the rest, as ``compute_stats`` splits them.
    """
    flags = low_hours if low_hours is not None else [False] * len(hours)
    half = (len(hours) - 1) // 2
    first = [s for h in hours[:half] for s in h]
    second = [s for h in hours[half:] for s in h]
    return {
        "cells": len(hours[0]),
        "periods": {"all": summarise(first + second, sum(flags)),
                    "first": summarise(first, sum(flags[:half])),
                    "second": summarise(second, sum(flags[half:]))},
        "steps": [summarise(h, int(f)) for h, f in zip(hours, flags, strict=True)]
        if steps else [],
    }


def sample(direction: float = 270.0, force: int = 6, *, hs_m: float | None = 3.0,
           vis_m: float | None = 20000.0, rate_mmh: float = 0.0, convective: bool = False,
           t2m_c: float = 8.0) -> Sample:
    """One cell-hour with the wind in the middle of a Beaufort force.

    >>> sample(270, 6).kt
    24.5
    """
    top = BEAUFORT_KNOTS[force + 1] if force < 12 else 70.0
    return Sample(kt=(BEAUFORT_KNOTS[force] + top) / 2.0 - 0.5, dir_deg=direction, hs_m=hs_m,
                  rate_mmh=rate_mmh, convective=convective, t2m_c=t2m_c, vis_m=vis_m)


def uniform_area(direction: float = 270.0, force: int = 6, *, later: dict[str, Any] | None = None,
                 low_centre_hours: int = 0, steps: int = 25, **weather: Any) -> dict[str, Any]:
    """An area whose every cell-hour has the same weather (see :func:`sample` for the keywords).

    Args:
        direction: wind direction FROM, degrees.
        force: Beaufort force.
        later: keywords of :func:`sample` that change from the middle step on (the second
            period), e.g. ``{"direction": 315}``.
        low_centre_hours: the first this many steps have a low centre in the area.
        steps: number of hourly steps.
        **weather: other keywords of :func:`sample` (``hs_m``, ``vis_m``, ``rate_mmh`` ...).

    >>> uniform_area(270, 6)["periods"]["all"]["wind"]["kt"]["p50"]
    24.5
    """
    early = {"direction": direction, "force": force, **weather}
    late = {**early, **(later or {})}
    half = (steps - 1) // 2
    hours = [[sample(**(early if h < half else late))] * 4 for h in range(steps)]
    return area_from_samples(hours, [h < low_centre_hours for h in range(steps)])


# ---------------------------------------------------------------- random runs
@dataclass(frozen=True)
class _System:
    kind: str
    lat: float
    lon: float
    speed_kn: float
    heading: float
    hpa: float
    dp_per_h: float
    first_hour: int
    last_hour: int

    def at(self, hour: int) -> tuple[float, float, float]:
        d = self.speed_kn * hour / 60.0
        lat = self.lat + d * math.cos(math.radians(self.heading))
        lon = self.lon + d * math.sin(math.radians(self.heading)) / math.cos(math.radians(self.lat))
        return lat, lon, self.hpa + self.dp_per_h * hour


def _systems(rng: random.Random, hours: int) -> list[_System]:
    out = []
    for _ in range(rng.choice((1, 1, 2, 2, 3))):
        first = 0 if rng.random() < 0.8 else rng.randrange(4, hours // 2)
        last = hours if rng.random() < 0.85 else rng.randrange(first + 8, hours + 1)
        out.append(_System("low", rng.uniform(44, 64), rng.uniform(-28, 6), rng.uniform(3, 50),
                           rng.gauss(50, 40), rng.uniform(955, 1008), rng.uniform(-0.8, 0.6),
                           first, last))
    out.append(_System("high", rng.uniform(38, 56), rng.uniform(-30, 10), rng.uniform(0, 15),
                       rng.uniform(0, 360), rng.uniform(1018, 1040), rng.uniform(-0.2, 0.2),
                       0, hours))
    return out


def _walk(rng: random.Random, n: int, start: float, step: float, lo: float, hi: float
          ) -> list[float]:
    values, v = [], start
    for _ in range(n):
        v = min(hi, max(lo, v + rng.gauss(0.0, step)))
        values.append(v)
    return values


def random_stats(seed: int, *, start: str = "2025-01-05T00:00:00Z", hours: int = 24,
                 cells: int = 4, waves: bool = True, visibility: bool = True,
                 steps: bool = True) -> dict[str, Any]:
    """A seeded, plausible statistics JSON for all 31 areas (see the module docstring).

    Args:
        seed: random seed; the same seed gives the same statistics.
        start: run start (ISO 8601, UTC).
        hours: run length; steps are hourly, ``hours + 1`` of them.
        cells: samples per area and hour.
        waves: include sea-state statistics (else ``sea`` is null).
        visibility: include visibility statistics (else ``vis`` is null).
        steps: include the per-step summaries (the slowest part; the area forecasts do not
            need them, the gale-warning onset does).
    """
    rng = random.Random(seed)
    t0 = datetime.fromisoformat(start.replace("Z", "+00:00")).astimezone(UTC)
    n = len(AREAS)
    speed = _walk(rng, n, rng.uniform(4, 36), 3.0, 2.0, 45.0)
    direction = _walk(rng, n, rng.uniform(0, 360), 12.0, -1e9, 1e9)
    turn = rng.choice((0.0, 0.0, rng.gauss(0, 60)))
    growth = rng.choice((1.0, rng.uniform(0.5, 1.5)))
    wet = _walk(rng, n, rng.uniform(0, 0.6), 0.1, 0.0, 0.9)
    conv = _walk(rng, n, rng.uniform(0, 1), 0.15, 0.0, 1.0)
    fog = [max(0.0, v) for v in _walk(rng, n, rng.uniform(-0.3, 0.3), 0.08, -0.3, 0.6)]
    cold = rng.uniform(-4, 14)
    systems = _systems(rng, hours)
    centres, low_near = _centres(systems, t0, hours)
    areas: dict[str, Any] = {}
    for k, name in enumerate(AREAS):
        hourly = []
        for h in range(hours + 1):
            late = h >= hours // 2
            near_low = name in low_near[h]
            mu = min(55.0, speed[k] * (growth if late else 1.0))
            theta = direction[k] + (turn if late else 0.0)
            spread = 100.0 if near_low or mu < 9.0 else rng.uniform(8, 35)
            hourly.append([_cell(rng, mu, theta, spread, wet[k], conv[k], fog[k],
                                 cold - 0.3 * (k - 15), waves, visibility)
                           for _ in range(cells)])
        areas[name] = area_from_samples(hourly, [name in low_near[h] for h in range(hours + 1)],
                                        steps)
    end = t0 + timedelta(hours=hours)
    return {"schema": "fathom.shipping.stats/1",
            "run": {"start": _iso(t0), "end": _iso(end), "steps": hours + 1,
                    "grid": {"dlat": 0.25, "dlon": 0.25},
                    "sources": [f"random_stats(seed={seed})"]},
            "areas": areas, "pressure_centres": centres}


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _centres(systems: list[_System], t0: datetime, hours: int
             ) -> tuple[list[dict[str, Any]], list[set[str]]]:
    centres: list[dict[str, Any]] = []
    near: list[set[str]] = [set() for _ in range(hours + 1)]
    for h in range(hours + 1):
        for sysm in systems:
            if not sysm.first_hour <= h <= sysm.last_hour:
                continue
            lat, lon, hpa = sysm.at(h)
            centres.append({"time": _iso(t0 + timedelta(hours=h)), "kind": sysm.kind,
                            "lat": round(lat, 2), "lon": round(lon, 2), "hpa": round(hpa, 1)})
            if sysm.kind == "low":
                near[h].update(near_areas(lat, lon, 60.0))
    return centres, near


def _cell(rng: random.Random, mu: float, theta: float, spread: float, wet: float, conv: float,
          fog: float, t2m: float, waves: bool, visibility: bool) -> Sample:
    kt = max(0.0, mu * math.exp(rng.gauss(0.0, 0.22)))
    rain = rng.random() < wet
    convective = rain and rng.random() < conv
    rate = rng.lognormvariate(0.0 if convective else -0.7, 0.9) if rain else 0.0
    vis = None
    if visibility:
        vis = rng.uniform(300, 950) if rng.random() < fog else 30000.0 / (1.0 + 2.5 * rate)
        vis *= rng.uniform(0.6, 1.4)
    hs = max(0.1, 0.3 + 0.0025 * kt * kt + rng.uniform(0.0, 1.5)) if waves else None
    return Sample(kt=kt, dir_deg=rng.gauss(theta, spread) % 360.0, hs_m=hs, rate_mmh=rate,
                  convective=convective, t2m_c=t2m + rng.gauss(0, 1.5), vis_m=vis)


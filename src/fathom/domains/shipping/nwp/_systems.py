"""The synthetic weather state: seasons, the background pressure and moving lows and highs.

Covers: the generator's clock (hours since 2000-01-01T00Z), the seasonal cycle, the climatological
sea-level pressure (Azores high, Icelandic low, European winter high, Iberian summer heat low), and
the weather systems. Lows are born each day west of the British Isles on a seeded track, deepen,
fill and die within a few days, and carry a warm and a cold front that rotate cyclonically as they
age; highs drift slowly. Every system is a closed-form function of time drawn from the seed and its
birth day alone, so the state at any hour is the same whichever run asks for it.

Not covered: turning the state into fields on a grid (``nwp._weather``).

>>> lows = systems(3, 100_000.0, 100_024.0, kind="low")
>>> all(s.t_birth < 100_024.0 and s.t_birth + s.life_h > 100_000.0 for s in lows)
True
>>> systems(3, 100_000.0, 100_024.0, kind="low") == lows
True
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import numpy as np

__all__ = ["EPOCH", "PressureSystem", "background_pressure", "hours_since_epoch", "systems",
           "winter_index"]

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
"""Time zero of the generator's clock."""

_YEAR_H = 365.2425 * 24
_WINDOW_H = 24.0
"""Systems are drawn per birth window of this length; each window has its own random stream."""
_LOOKBACK = {"low": 6, "high": 11}
"""How many windows back a system still alive could have been born (its longest life)."""


def hours_since_epoch(when: datetime) -> float:
    """Hours from 2000-01-01T00Z to ``when`` (naive datetimes are taken as UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - EPOCH).total_seconds() / 3600.0


def winter_index(hours: np.ndarray | float) -> np.ndarray:
    """1 in mid-January, 0 in mid-July, smooth in between (the season's storminess)."""
    day = np.mod(np.asarray(hours, float), _YEAR_H) / 24.0
    return 0.5 * (1.0 + np.cos(2 * np.pi * (day - 20.0) / 365.2425))


@dataclass(frozen=True)
class PressureSystem:
    """One low or high: its track, life cycle and (for lows) fronts."""

    sign: int
    """-1 for a low, +1 for a high."""
    t_birth: float
    """Birth time (hours since the epoch)."""
    life_h: float
    """Lifetime in hours; the pressure anomaly is zero at birth and at death."""
    lat0: float
    """Latitude at birth."""
    lon0: float
    """Longitude at birth."""
    v_east: float
    """Eastward speed (km/h)."""
    v_north: float
    """Northward speed at birth (km/h)."""
    a_north: float
    """Northward acceleration (km/h^2): lows curve poleward as they age."""
    depth_hpa: float
    """Largest size of the pressure anomaly (hPa, positive)."""
    radius_km: float
    """Gaussian radius of the anomaly at birth; it grows by half over the system's life."""
    peak: float
    """Share of the life at which the anomaly peaks (lows deepen faster than they fill)."""
    cold_front: tuple[float, float]
    """Cold-front angle (radians anticlockwise from east) at birth and at death."""
    warm_front: tuple[float, float]
    """Warm-front angle at birth and at death."""
    front_km: float
    """Length of the fronts from the centre."""
    wetness: float
    """Rain-rate multiplier of this system's fronts."""

    def state(self, hours: np.ndarray) -> dict[str, np.ndarray]:
        """Centre, strength and shape at ``hours`` (each array has the shape of ``hours``).

        Keys: ``lat``, ``lon``, ``amp`` (signed hPa, 0 outside the life), ``life`` (share of the
        life elapsed, clipped to 0..1), ``radius`` (km), ``cold`` and ``warm`` (front angles).
        """
        age = np.asarray(hours, float) - self.t_birth
        u = np.clip(age / self.life_h, 0.0, 1.0)
        gamma = np.log(0.5) / np.log(self.peak)
        amp = self.sign * self.depth_hpa * np.sin(np.pi * u**gamma) ** 1.5
        north_km = self.v_north * age + 0.5 * self.a_north * age**2
        lat = self.lat0 + north_km / 111.32
        mid_cos = np.cos(np.radians(0.5 * (lat + self.lat0)))
        lon = self.lon0 + self.v_east * age / (111.32 * mid_cos)
        return {
            "lat": lat, "lon": lon, "amp": amp, "life": u,
            "radius": self.radius_km * (1.0 + 0.5 * u),
            "cold": self.cold_front[0] + (self.cold_front[1] - self.cold_front[0]) * u,
            "warm": self.warm_front[0] + (self.warm_front[1] - self.warm_front[0]) * u,
        }


def systems(seed: int, start: float, end: float, *, kind: Literal["low", "high"]) -> list[PressureSystem]:
    """Every low (or high) alive at some time in ``[start, end]`` (hours since the epoch).

    Args:
        seed: the weather seed.
        start: first hour of interest.
        end: last hour of interest.
        kind: ``"low"`` or ``"high"``.

    Returns:
        The systems, ordered by birth time.
    """
    first = int(np.floor(start / _WINDOW_H)) - _LOOKBACK[kind]
    last = int(np.floor(end / _WINDOW_H))
    draw = _draw_low if kind == "low" else _draw_high
    found: list[PressureSystem] = []
    for window in range(first, last + 1):
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5953, window, kind == "high"]))
        w = float(winter_index((window + 0.5) * _WINDOW_H))
        for s in draw(rng, window * _WINDOW_H, w):
            if s.t_birth <= end and s.t_birth + s.life_h >= start:
                found.append(s)
    return sorted(found, key=lambda s: s.t_birth)


def _draw_low(rng: np.random.Generator, t0: float, w: float) -> list[PressureSystem]:
    out = []
    for _ in range(rng.poisson(1.3 + 0.6 * w)):
        atlantic = rng.random() < 0.6
        if atlantic:
            lat0 = float(np.clip(rng.normal(49.0 - 2.0 * w, 5.5), 37.0, 63.0))
            lon0 = rng.uniform(-32.0, -14.0)
        else:  # a secondary low forming on a front nearer the islands
            lat0, lon0 = rng.uniform(45.0, 61.0), rng.uniform(-20.0, 4.0)
        speed = rng.uniform(20.0, 45.0) * (0.75 + 0.35 * w)
        bearing = np.radians(rng.normal(68.0, 18.0))
        cold0 = np.radians(rng.normal(-110.0, 12.0))
        warm0 = np.radians(rng.normal(-8.0, 12.0))
        out.append(PressureSystem(
            sign=-1, t_birth=t0 + rng.uniform(0.0, _WINDOW_H), life_h=rng.uniform(72.0, 160.0),
            lat0=lat0, lon0=lon0, v_east=speed * np.sin(bearing), v_north=speed * np.cos(bearing),
            a_north=rng.uniform(-0.04, 0.18),
            depth_hpa=5.0 + rng.gamma(3.0, 2.0 + 2.5 * w),
            radius_km=rng.uniform(450.0, 850.0), peak=rng.uniform(0.25, 0.5),
            cold_front=(cold0, cold0 + np.radians(rng.uniform(60.0, 100.0))),
            warm_front=(warm0, warm0 + np.radians(rng.uniform(15.0, 40.0))),
            front_km=rng.uniform(700.0, 1400.0), wetness=rng.uniform(0.6, 1.4),
        ))
    return out


def _draw_high(rng: np.random.Generator, t0: float, w: float) -> list[PressureSystem]:
    out = []
    for _ in range(rng.poisson(0.45)):
        speed = rng.uniform(3.0, 15.0)
        bearing = np.radians(rng.normal(90.0, 40.0))
        out.append(PressureSystem(
            sign=1, t_birth=t0 + rng.uniform(0.0, _WINDOW_H), life_h=rng.uniform(72.0, 240.0),
            lat0=rng.uniform(40.0, 62.0), lon0=rng.uniform(-30.0, -2.0),
            v_east=speed * np.sin(bearing), v_north=speed * np.cos(bearing), a_north=0.0,
            depth_hpa=rng.uniform(6.0, 20.0) * (1.2 - 0.4 * w),
            radius_km=rng.uniform(1000.0, 1800.0), peak=0.5,
            cold_front=(0.0, 0.0), warm_front=(0.0, 0.0), front_km=0.0, wetness=0.0,
        ))
    return out


def _bump(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float, s_lat: float,
          s_lon: float) -> np.ndarray:
    return np.exp(-0.5 * (((lat - lat0) / s_lat) ** 2 + ((lon - lon0) / s_lon) ** 2))


def background_pressure(lat: np.ndarray, lon: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """Climatological mean sea-level pressure (hPa) on ``hours x lat x lon``.

    The Azores high strengthens and moves north in summer; the Icelandic low deepens in winter;
    a weak continental high sits over Europe in winter and a heat low over Iberia in summer.
    """
    la, lo = np.meshgrid(np.asarray(lat, float), np.asarray(lon, float), indexing="ij")
    out = np.empty((np.size(hours), *la.shape))
    for i, w in enumerate(np.atleast_1d(winter_index(hours))):
        s = 1.0 - w
        out[i] = (1013.5
                  + (7.0 + 5.0 * s) * _bump(la, lo, 36.0 + 4.0 * s, -28.0, 7.0, 14.0)
                  - (5.0 + 10.0 * w) * _bump(la, lo, 62.0, -30.0, 6.0, 15.0)
                  + 3.0 * w * _bump(la, lo, 50.0, 18.0, 8.0, 10.0)
                  - 3.0 * s * _bump(la, lo, 40.0, -4.0, 3.0, 4.0))
    return out

"""Significant wave height of the synthetic model: wind sea plus Atlantic swell.

Covers: the upwind fetch to land for 16 directions, the fetch-limited and fully developed wind-sea
height for the local wind, the relaxation of the sea toward it (waves take hours to build and to
die down, so the model is spun up from two days before the run), and swell from the lows to the
west that reaches only the coasts open to the Atlantic (and, less, to the Norwegian Sea).

Not covered: wave direction and period, refraction, tides and currents.

>>> from fathom.domains.shipping.nwp._grid import make_grid
>>> g = make_grid(1.0)
>>> f = upwind_fetch(g)
>>> f.shape[0], bool(f[12][g.index(50.0, -20.0)] > 1000), bool(f[4][g.index(54.0, 3.0)] < 500)
(16, True, True)
"""

from __future__ import annotations

from functools import cache

import numpy as np

from fathom.domains.shipping.nwp._grid import KM_PER_DEG, Grid, coarse_grid, make_grid, regrid
from fathom.domains.shipping.nwp._noise import moving_noise
from fathom.domains.shipping.nwp._systems import systems, winter_index

__all__ = ["SPIN_UP_H", "fully_developed_hs", "significant_wave_height", "spin_up_hours", "upwind_fetch"]

SPIN_UP_H = 48
"""Hours of wind the wave model integrates before the run starts."""
SPIN_UP_STEP_H = 1
"""Hours between spin-up steps: the same hourly lattice as the runs, so overlapping runs agree exactly."""
MAX_FETCH_KM = 1500.0
G = 9.81
_SECTORS = 16
_HS_NOISE = 9


def upwind_fetch(grid: Grid) -> np.ndarray:
    """Distance (km) over sea to the nearest land upwind, for winds from 16 directions.

    Index ``k`` is the wind blowing from ``22.5 * k`` degrees (0 = from the north). Marching
    off the grid counts as open sea, up to :data:`MAX_FETCH_KM`. Grids finer than 0.2 degrees
    get the fetch of a 0.2-degree grid, interpolated (at least 10 km at sea). ``grid`` is a
    :func:`~fathom.domains.shipping.nwp._grid.make_grid` grid; the result is cached per resolution and read-only.

    Returns:
        Array of shape ``(16, lat, lon)``; 0 on land.
    """
    return _fetch_cached(grid.resolution)


@cache
def _fetch_cached(resolution: float) -> np.ndarray:
    """The fetch depends only on the grid, so it is computed once per resolution (read-only)."""
    grid = make_grid(resolution)
    coarse = coarse_grid(grid, 0.2)
    if coarse is grid:
        fetch = _march_fetch(grid)
    else:
        fetch = np.where(grid.land, 0.0, np.maximum(regrid(_march_fetch(coarse), coarse, grid), 10.0))
    fetch.setflags(write=False)
    return fetch


def _march_fetch(grid: Grid) -> np.ndarray:
    ny, nx = grid.shape
    land = grid.land
    step_km = max(grid.resolution * KM_PER_DEG, 20.0)
    rows = np.arange(ny)[:, None]
    cols = np.arange(nx)[None, :]
    km_per_col = grid.resolution * KM_PER_DEG * np.cos(np.radians(grid.lat))[:, None]
    out = np.zeros((_SECTORS, ny, nx))
    for k in range(_SECTORS):
        bearing = np.radians(22.5 * k)
        fetch = np.full((ny, nx), MAX_FETCH_KM)
        alive = ~land
        for n in range(1, int(MAX_FETCH_KM / step_km) + 1):
            r = np.rint(rows + n * step_km * np.cos(bearing) / (grid.resolution * KM_PER_DEG)).astype(int)
            c = np.rint(cols + n * step_km * np.sin(bearing) / km_per_col).astype(int)
            inside = (r >= 0) & (r < ny) & (c >= 0) & (c < nx)
            hit = inside & land[np.clip(r, 0, ny - 1), np.clip(c, 0, nx - 1)] & alive
            fetch[hit] = (n - 0.5) * step_km
            alive &= ~hit
            if not alive.any():
                break
        fetch[land] = 0.0
        out[k] = fetch
    return out


def fully_developed_hs(speed: np.ndarray, fetch_km: np.ndarray) -> np.ndarray:
    """Wind-sea height (m) the wind would raise given unlimited time, capped by the JONSWAP fetch
    law ``Hs = 0.0016 U sqrt(F / g)``.

    The fully developed height has the Pierson-Moskowitz form ``c (U - 0.5)^2`` with ``c = 0.018``,
    below Pierson-Moskowitz's 0.025 for 10 m winds: a value tuned so that the synthetic sea
    states match the frequencies of the real bulletins (``benchmarks/shipping_climatology.py``).

    >>> [round(float(h), 1) for h in fully_developed_hs(np.array([5.0, 10.0, 20.0]), np.array(1500.0))]
    [0.4, 1.6, 6.8]
    >>> round(float(fully_developed_hs(np.array(20.0), np.array(50.0))), 1)
    2.3
    """
    pm = 0.018 * np.clip(speed - 0.5, 0.0, None) ** 2
    fetch_law = 1.6e-3 * speed * np.sqrt(fetch_km * 1000.0 / G)
    return np.minimum(pm, fetch_law)


def _fetch_along(fetch: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Fetch for the wind (u, v), interpolated between the two nearest of the 16 directions."""
    from_deg = np.mod(np.degrees(np.arctan2(-u, -v)), 360.0)
    pos = from_deg / (360.0 / _SECTORS)
    k0 = np.floor(pos).astype(int) % _SECTORS
    k1 = (k0 + 1) % _SECTORS
    frac = pos - np.floor(pos)
    f0 = np.take_along_axis(fetch, k0[None], axis=0)[0]
    f1 = np.take_along_axis(fetch, k1[None], axis=0)[0]
    return (1 - frac) * f0 + frac * f1


def _exposure(fetch: np.ndarray) -> np.ndarray:
    """0..1: how open a cell is to swell from the Atlantic (W, SW, NW) or the Norwegian Sea (N)."""
    west = np.clip(fetch[[8, 9, 10, 11, 12, 13, 14]] / 900.0, 0.0, 1.0).mean(axis=0)
    north = np.clip(fetch[[15, 0, 1]] / 900.0, 0.0, 1.0).mean(axis=0)
    return np.maximum(west, 0.35 * north)


def _swell(seed: int, grid: Grid, hours: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    """Swell height (m): a seasonal background plus the lows of 18 h earlier, nearer ones more."""
    lag = hours - 18.0
    fine, grid = grid, coarse_grid(grid, 0.5)
    lat, lon = grid.lat[:, None], grid.lon[None, :]
    out = np.zeros((hours.size, *grid.shape))
    out += (0.15 + 0.9 * winter_index(hours))[:, None, None]
    for s in systems(seed, float(lag.min()), float(lag.max()), kind="low"):
        st = s.state(lag)
        for i in range(hours.size):
            if st["amp"][i] == 0.0:
                continue
            dx = (lon - st["lon"][i]) * KM_PER_DEG * np.cos(np.radians(lat))
            dy = (lat - st["lat"][i]) * KM_PER_DEG
            out[i] += 0.035 * abs(st["amp"][i]) * np.exp(-np.hypot(dx, dy) / 1500.0)
    return regrid(out, grid, fine) * exposure


def spin_up_hours(t0: float) -> np.ndarray:
    """Times (hours since the epoch) at which the wave model is stepped before a run at ``t0``.

    Every :data:`SPIN_UP_STEP_H` hours from 00Z of the day at least :data:`SPIN_UP_H` hours before
    ``t0``: the 00Z and 12Z runs of a day start from the same state on the same hourly lattice, so
    their waves agree where they overlap.

    >>> spin_up_hours(48.0)[[0, -1]].tolist(), spin_up_hours(60.0)[[0, -1]].tolist()
    ([0.0, 47.0], [0.0, 59.0])
    """
    first = np.floor((t0 - SPIN_UP_H) / 24.0) * 24.0
    return np.arange(first, t0, SPIN_UP_STEP_H, dtype=float)


def significant_wave_height(seed: int, grid: Grid, hours: np.ndarray, u10: np.ndarray,
                            v10: np.ndarray, spin_hours: np.ndarray, spin_u: np.ndarray,
                            spin_v: np.ndarray) -> np.ndarray:
    """Significant wave height (m) at ``hours``; NaN on land.

    Args:
        seed: the weather seed.
        grid: the grid.
        hours: the run's times (hours since the epoch).
        u10: eastward 10 m wind at ``hours``, shape ``(time, lat, lon)``.
        v10: northward 10 m wind at ``hours``.
        spin_hours: the spin-up times before the run (:func:`spin_up_hours`).
        spin_u: eastward wind at ``spin_hours``.
        spin_v: northward wind at ``spin_hours``.
    """
    fetch = upwind_fetch(grid)
    all_hours = np.concatenate([spin_hours, hours])
    all_u = np.concatenate([spin_u, u10])
    all_v = np.concatenate([spin_v, v10])
    speed = np.hypot(all_u[0], all_v[0])
    sea = fully_developed_hs(speed, _fetch_along(fetch, all_u[0], all_v[0]))
    out = np.empty((hours.size, *grid.shape))
    for i in range(1, all_hours.size):
        speed = np.hypot(all_u[i], all_v[i])
        target = fully_developed_hs(speed, _fetch_along(fetch, all_u[i], all_v[i]))
        sea = _relax(sea, target, speed, float(all_hours[i] - all_hours[i - 1]))
        if i >= spin_hours.size:
            out[i - spin_hours.size] = sea
    swell = _swell(seed, grid, hours, _exposure(fetch))
    noise = moving_noise(seed, _HS_NOISE, grid.lat, grid.lon, hours, scale_km=300.0)
    hs = np.sqrt(out**2 + swell**2) * (1.0 + 0.06 * noise)
    return np.where(grid.land, np.nan, hs)


def _relax(sea: np.ndarray, target: np.ndarray, speed: np.ndarray, dt_h: float) -> np.ndarray:
    """Move the wind sea toward ``target``: growth takes ~6-14 h, decay ~10 h."""
    tau = np.where(target > sea, 6.0 + 0.4 * speed, 10.0)
    return target + (sea - target) * np.exp(-dt_h / tau)

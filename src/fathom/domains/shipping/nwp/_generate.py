"""Synthetic NWP model output for the Shipping Forecast: one model run as two CF-1.8 datasets.

Covers: :func:`generate_run`, which computes a run (hourly, T+0..T+``hours``) on the grid over the
31 sea areas and wraps it as an atmosphere dataset (``u10``, ``v10``, ``msl``, ``tp``, ``cp``,
``vis``, ``t2m``, ``lsm``) and a wave dataset (``swh``) with CF standard names and units. The
weather is a closed-form function of time for a given seed (see ``nwp._systems``), so runs that
overlap agree, and the same seed always gives identical arrays.

Not covered: writing files (``nwp._write``); the physics itself (``nwp._weather``, ``nwp._waves``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from fathom.errors import DomainError

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["generate_run"]

_SECONDS_PER_HOUR = 3600.0
_ZERO_C = 273.15


def generate_run(start: datetime, *, seed: int = 0, resolution: float = 0.25,
                 hours: int = 24) -> tuple[xr.Dataset, xr.Dataset]:
    """Compute one synthetic model run starting at ``start``.

    Args:
        start: analysis time (UTC; naive datetimes are taken as UTC), on the hour.
        seed: weather seed; the same seed gives the same weather, and consecutive runs agree.
        resolution: grid spacing in degrees (0.25 is ERA5-like; 0.02 to 2 are accepted).
        hours: forecast length; the run has ``hours + 1`` hourly steps, T+0..T+hours.

    Returns:
        ``(atmosphere, wave)`` datasets on the same grid and times.

    Raises:
        DomainError: an argument is out of range.

    >>> atm, wave = generate_run(datetime(2025, 1, 5), seed=1, resolution=2.0, hours=3)
    >>> sorted(atm.data_vars), list(wave.data_vars), atm.sizes["time"]
    (['cp', 'lsm', 'msl', 't2m', 'tp', 'u10', 'v10', 'vis'], ['swh'], 4)
    >>> atm.u10.attrs["standard_name"], atm.attrs["Conventions"]
    ('eastward_wind', 'CF-1.8')
    """
    from fathom.domains.shipping.nwp._grid import make_grid
    from fathom.domains.shipping.nwp._systems import hours_since_epoch
    from fathom.domains.shipping.nwp._waves import significant_wave_height, spin_up_hours
    from fathom.domains.shipping.nwp._weather import atmosphere

    start = _check(start, seed, hours)
    grid = make_grid(resolution)
    t0 = hours_since_epoch(start)
    times = t0 + np.arange(hours + 1, dtype=float)
    spin = spin_up_hours(t0)
    air = atmosphere(seed, grid, times)
    spin_air = atmosphere(seed, grid, spin, winds_only=True)
    hs = significant_wave_height(seed, grid, times, air.u10, air.v10, spin, spin_air.u10, spin_air.v10)
    return _to_datasets(start, seed, grid, air, hs)


def _check(start: datetime, seed: int, hours: int) -> datetime:
    problems = []
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        problems.append(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(hours, (int, np.integer)) or not 1 <= hours <= 240:
        problems.append(f"hours must be an integer from 1 to 240, got {hours!r}")
    if not isinstance(start, datetime):
        problems.append(f"start must be a datetime, got {type(start).__name__} {start!r}")
    elif start.minute or start.second or start.microsecond:
        problems.append(f"start must be on the hour, got {start.isoformat()}")
    if problems:
        raise DomainError("cannot generate a synthetic run: " + "; ".join(problems)
                          + ". Example: generate_run(datetime(2025, 1, 1, 0), seed=0, hours=24).")
    if start.tzinfo is not None:
        start = start.astimezone(UTC).replace(tzinfo=None)
    return start


def _to_datasets(start: datetime, seed: int, grid: Any, air: Any, hs: np.ndarray) -> tuple[xr.Dataset, xr.Dataset]:
    import xarray as xr

    nt = air.u10.shape[0]
    coords = {
        "time": ("time", np.array([np.datetime64(start, "ns") + np.timedelta64(h, "h") for h in range(nt)]),
                 {"standard_name": "time", "long_name": "time", "axis": "T"}),
        "latitude": ("latitude", grid.lat.astype(np.float64),
                     {"standard_name": "latitude", "long_name": "latitude", "units": "degrees_north", "axis": "Y"}),
        "longitude": ("longitude", grid.lon.astype(np.float64),
                      {"standard_name": "longitude", "long_name": "longitude", "units": "degrees_east", "axis": "X"}),
        "forecast_reference_time": ((), np.datetime64(start, "ns"),
                                    {"standard_name": "forecast_reference_time", "long_name": "analysis time"}),
    }
    dims = ("time", "latitude", "longitude")

    def var(data: np.ndarray, name: str, long_name: str, units: str, **extra: str) -> tuple[Any, ...]:
        attrs = {"standard_name": name, "long_name": long_name, "units": units, **extra}
        return (dims if data.ndim == 3 else dims[1:], data.astype(np.float32), attrs)

    atm = xr.Dataset({
        "u10": var(air.u10, "eastward_wind", "10 metre eastward wind", "m s-1"),
        "v10": var(air.v10, "northward_wind", "10 metre northward wind", "m s-1"),
        "msl": var(air.msl_hpa * 100.0, "air_pressure_at_mean_sea_level", "mean sea-level pressure", "Pa"),
        "tp": var(air.rain_mmh / _SECONDS_PER_HOUR, "precipitation_flux", "total precipitation rate",
                  "kg m-2 s-1"),
        "cp": var(air.conv_mmh / _SECONDS_PER_HOUR, "convective_precipitation_flux",
                  "convective precipitation rate", "kg m-2 s-1"),
        "vis": var(air.vis_m, "visibility_in_air", "horizontal visibility", "m"),
        "t2m": var(air.t2m_c + _ZERO_C, "air_temperature", "2 metre temperature", "K"),
        "lsm": var(grid.land.astype(np.float64), "land_binary_mask", "land-sea mask (1 land, 0 sea)", "1"),
    }, coords=coords, attrs=_global_attrs(start, seed, grid, "atmosphere"))
    wave = xr.Dataset({
        "swh": var(hs, "sea_surface_wave_significant_height", "significant height of wind waves and swell", "m"),
    }, coords=coords, attrs=_global_attrs(start, seed, grid, "wave"))
    return atm, wave


def _global_attrs(start: datetime, seed: int, grid: Any, part: str) -> dict[str, Any]:
    return {
        "Conventions": "CF-1.8",
        "title": f"Fathom synthetic NWP run {start:%Y-%m-%dT%HZ} ({part})",
        "institution": "Fathom (synthetic data; not a real forecast)",
        "source": "fathom.domains.shipping synthetic weather generator: analytic lows and highs "
                  "with fronts, geostrophic winds, relaxation wave model",
        "references": "land mask: NOAA GLOBE 30-arc-second land mask (via global-land-mask)",
        "comment": "Synthetic model output for testing the Shipping Forecast pipeline.",
        "fathom_seed": int(seed),
        "fathom_resolution_deg": float(grid.resolution),
        "forecast_reference_time": f"{start:%Y-%m-%dT%H:%M:%SZ}",
    }

"""Atmospheric fields of the synthetic model, computed from the weather state at given hours.

Covers, on a :class:`~fathom.domains.shipping.nwp._grid.Grid` and in the model's own units (hPa, m/s, deg C, mm/h, m):

* sea-level pressure: climatology + a slow large-scale anomaly + the lows and highs;
* 10 m wind: geostrophic from the pressure gradient, turned across the isobars toward low
  pressure and slowed by the surface (more over land, less in unstable air), saturating in the
  deepest lows, with small gusty perturbations, and wandering in direction where the gradient
  is slack (light winds are "variable");
* sea-surface and 2 m temperature: a seasonal and latitudinal climate, the air mass of each low's
  warm and cold sectors, warm or cold advection by the wind, colder air off Iceland and Norway in
  winter; a diurnal cycle over land;
* precipitation: warm-front and cold-front rain bands, drizzle in warm sectors, rain near the
  centres, and showers (convective) where cold air lies over a warmer sea;
* visibility: haze, reduction in rain, drizzle and snow, and fog patches where warm moist air
  flows over a cooler sea in light or moderate winds.

Not covered: waves (``nwp._waves``), units and metadata of the files (``nwp._write``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fathom.domains.shipping.nwp._grid import KM_PER_DEG, Grid, coarse_grid, regrid
from fathom.domains.shipping.nwp._noise import moving_noise
from fathom.domains.shipping.nwp._systems import PressureSystem, background_pressure, systems, winter_index

__all__ = ["Atmosphere", "atmosphere", "sea_surface_temperature"]

RHO_AIR = 1.25  # kg m-3
OMEGA = 7.292e-5  # s-1
MAX_WIND = 30.0  # m/s: the saturation speed of the surface wind
_FRONT_GRID_DEG = 0.5
"""Air masses and frontal rain vary on scales of 100 km and more: computed this coarse, then
interpolated to the run's grid."""
# noise tags: one independent field per use
_REGIME, _GUST, _VEER, _RAIN, _DRIZZLE, _SHOWER, _FOG, _HAZE, _BREEZE_U, _BREEZE_V, _SWIRL = range(1, 12)


@dataclass(frozen=True, eq=False)
class Atmosphere:
    """Fields on ``(time, lat, lon)``, model units."""

    msl_hpa: np.ndarray
    """Mean sea-level pressure, hPa."""
    u10: np.ndarray
    """Eastward 10 m wind, m/s."""
    v10: np.ndarray
    """Northward 10 m wind, m/s."""
    t2m_c: np.ndarray
    """2 m air temperature (deg C)."""
    sst_c: np.ndarray
    """Sea-surface temperature (deg C)."""
    rain_mmh: np.ndarray
    """Total precipitation rate (large-scale plus convective), mm/h."""
    conv_mmh: np.ndarray
    """Convective precipitation rate, mm/h."""
    vis_m: np.ndarray
    """Horizontal visibility, m."""


def atmosphere(seed: int, grid: Grid, hours: np.ndarray, *, winds_only: bool = False) -> Atmosphere:
    """Every atmospheric field at ``hours`` (hours since the epoch) for the weather ``seed``.

    Args:
        seed: the weather seed.
        grid: where to compute.
        hours: the times.
        winds_only: compute only pressure and wind (the other fields are empty arrays); used
            for the wave model's spin-up.

    Returns:
        The fields.
    """
    hours = np.asarray(hours, float)
    lows = systems(seed, float(hours.min()), float(hours.max()), kind="low")
    highs = systems(seed, float(hours.min()), float(hours.max()), kind="high")
    msl = background_pressure(grid.lat, grid.lon, hours)
    msl += 5.0 * moving_noise(seed, _REGIME, grid.lat, grid.lon, hours, scale_km=3500.0, modes=24,
                              drift_kmh=(8.0, 0.0), life_h=300.0)
    for s in highs + lows:
        _add_pressure(s, grid, hours, msl)
    coarse = coarse_grid(grid, _FRONT_GRID_DEG)
    fronts = _Fronts(coarse, hours.size)
    for s in lows:
        fronts.add(s, hours)
    fronts.regrid(coarse, grid)
    ug, vg = _geostrophic(grid, msl)
    sst = sea_surface_temperature(grid, hours)
    season_w = winter_index(hours)[:, None, None]
    arctic = np.clip((grid.lat[:, None] - 58.0) / 6.0, 0.0, 1.0)  # winter air off Iceland and Norway
    air_sea = _air_sea_offset(hours)[:, None, None] - 1.5 * season_w * arctic
    cold = np.minimum(fronts.cold, 0.8 + 2.6 * season_w)  # overlapping cold sectors do not add up
    anomaly = np.minimum(fronts.warm, 3.0) - cold + np.clip(0.1 * vg, -2.5, 2.5)
    t_sea = sst + air_sea + anomaly
    instability = np.clip((sst - t_sea + 0.3) / 3.5 + 0.3 * np.clip(cold, 0.0, 1.0), 0.0, 1.0)
    stable = np.clip((t_sea - sst) / 3.0, 0.0, 1.0)
    u10, v10 = _surface_wind(seed, grid, hours, ug, vg, instability, stable)
    if winds_only:
        empty = np.empty((0,))
        return Atmosphere(msl, u10, v10, empty, empty, empty, empty, empty)
    land_weight = grid.land_frac**2  # coastal sea cells keep mostly sea air
    t2m = land_weight * _land_temperature(grid, hours, anomaly) + (1 - land_weight) * t_sea
    frontal, drizzle = _frontal_rain(seed, grid, hours, fronts, season_w)
    conv = _showers(seed, grid, hours, instability)
    rain = frontal + drizzle + conv
    vis = _visibility(seed, grid, hours, frontal, drizzle, conv, t2m, t_sea - sst,
                      np.hypot(u10, v10), fronts.warm_sector)
    return Atmosphere(msl, u10, v10, t2m, sst, rain, conv, vis)


def _add_pressure(s: PressureSystem, grid: Grid, hours: np.ndarray, msl: np.ndarray) -> None:
    """Add the system's anomaly: Gaussians in latitude x longitude, scaled at the centre's latitude
    (separable, so each step costs one outer product)."""
    st = s.state(hours)
    for i in np.nonzero(st["amp"])[0]:
        radius_deg = st["radius"][i] / KM_PER_DEG
        y2 = ((grid.lat - st["lat"][i]) / radius_deg) ** 2
        x2 = ((grid.lon - st["lon"][i]) * np.cos(np.radians(st["lat"][i])) / radius_deg) ** 2
        if s.sign < 0:  # a peaked core inside a broad envelope, as real depressions have
            shape = (0.65 * np.outer(np.exp(-y2 / 0.5), np.exp(-x2 / 0.5))
                     + 0.35 * np.outer(np.exp(-y2 / 4.5), np.exp(-x2 / 4.5)))
        else:
            shape = np.outer(np.exp(-0.5 * y2), np.exp(-0.5 * x2))
        msl[i] += st["amp"][i] * shape


class _Fronts:
    """Accumulates each low's warm sector, cold air behind its cold front, and frontal rain."""

    def __init__(self, grid: Grid, nt: int):
        self.lat = grid.lat[:, None]
        self.lon = grid.lon[None, :]
        shape = (nt, grid.lat.size, grid.lon.size)
        self.warm = np.zeros(shape)
        self.cold = np.zeros(shape)
        self.rain = np.zeros(shape)
        self.warm_sector = np.zeros(shape)

    def regrid(self, src: Grid, dst: Grid) -> None:
        """Interpolate every accumulated field from ``src`` (where they were computed) to ``dst``."""
        for name in ("warm", "cold", "rain", "warm_sector"):
            setattr(self, name, regrid(getattr(self, name), src, dst))

    def add(self, s: PressureSystem, hours: np.ndarray) -> None:
        """Accumulate low ``s`` at ``hours`` (highs have no fronts)."""
        st = s.state(hours)
        idx = np.nonzero(st["amp"])[0]
        if idx.size == 0:
            return
        at = {k: v[idx][:, None, None] for k, v in st.items()}
        dx = (self.lon - at["lon"]) * KM_PER_DEG * np.cos(np.radians(self.lat))
        dy = (self.lat - at["lat"]) * KM_PER_DEG
        self._low(idx, s, at, np.hypot(dx, dy), np.arctan2(dy, dx), winter_index(hours[idx])[:, None, None])

    def _low(self, idx: np.ndarray, s: PressureSystem, at: dict[str, np.ndarray], r: np.ndarray,
             theta: np.ndarray, w: np.ndarray) -> None:
        strength = (np.abs(at["amp"]) / s.depth_hpa) ** 0.7
        reach = np.exp(-((r / s.front_km) ** 4))
        d_cold = r * _wrap(theta - at["cold"])  # > 0: ahead of the cold front (warm sector)
        d_warm = r * _wrap(theta - at["warm"])  # > 0: ahead of the warm front (cold air)
        sector = _sigmoid(d_cold / 80.0) * _sigmoid(-d_warm / 80.0) * reach * strength
        behind = _sigmoid(-d_cold / 150.0) * (d_cold > -2.6 * r) * np.exp(-((r / (1.4 * s.front_km)) ** 4))
        self.warm_sector[idx] = np.maximum(self.warm_sector[idx], sector)
        self.warm[idx] += (1.2 + 1.6 * (1 - w)) * sector
        self.cold[idx] += (0.8 + 1.7 * w) * behind * strength
        warm_band = np.exp(-(((d_warm - 120.0) / 120.0) ** 2))
        cold_band = np.exp(-(((d_cold + 30.0) / 65.0) ** 2))
        core = np.exp(-((r / 300.0) ** 2))
        self.rain[idx] += s.wetness * strength * (reach * (1.6 * warm_band + 3.0 * cold_band) + 1.0 * core)


def _wrap(angle: np.ndarray) -> np.ndarray:
    return np.mod(angle + np.pi, 2 * np.pi) - np.pi


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _geostrophic(grid: Grid, msl_hpa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Geostrophic wind (m/s) from sea-level pressure (hPa)."""
    dy = grid.resolution * KM_PER_DEG * 1000.0
    dx = dy * np.cos(np.radians(grid.lat))[:, None]
    dpdy = np.gradient(msl_hpa * 100.0, dy, axis=1)
    dpdx = np.gradient(msl_hpa * 100.0, axis=2) / dx
    f = 2 * OMEGA * np.sin(np.radians(grid.lat))[:, None]
    return -dpdy / (RHO_AIR * f), dpdx / (RHO_AIR * f)


def _surface_wind(seed: int, grid: Grid, hours: np.ndarray, ug: np.ndarray, vg: np.ndarray,
                  instability: np.ndarray, stable: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Turn the geostrophic wind toward low pressure and slow it down near the surface.

    Where the gradient is slack the direction wanders (sea breezes, shower outflows): light winds
    are variable, as the bulletins say. Computed in float32 (the files store float32): the largest
    arrays of a run are here.
    """
    f4 = np.float32
    land = grid.land_frac.astype(f4)
    unstable, stable = instability.astype(f4), stable.astype(f4)
    factor = (f4(0.72) + f4(0.1) * unstable - f4(0.14) * stable) * (1 - land) + f4(0.5) * land
    gust = 1 + f4(0.1) * moving_noise(seed, _GUST, grid.lat, grid.lon, hours, scale_km=150.0, life_h=6.0).astype(f4)
    ug, vg = ug.astype(f4), vg.astype(f4)
    geo = np.hypot(ug, vg)
    speed = f4(MAX_WIND) * np.tanh(geo * factor / f4(MAX_WIND)) * gust
    turn_deg = (f4(20.0) - f4(5.0) * unstable + f4(10.0) * stable) * (1 - land) + f4(35.0) * land
    turn_deg += f4(8.0) * moving_noise(seed, _VEER, grid.lat, grid.lon, hours, scale_km=400.0).astype(f4)
    swirl = moving_noise(seed, _SWIRL, grid.lat, grid.lon, hours, scale_km=140.0, life_h=5.0).astype(f4)
    turn_deg += f4(110.0) * np.exp(-speed / f4(5.0)) * swirl
    turn = np.radians(turn_deg)
    scale = speed / np.maximum(geo, f4(1e-6))
    cos_t, sin_t = np.cos(turn), np.sin(turn)  # anticlockwise turn: toward low pressure
    u = scale * (ug * cos_t - vg * sin_t)
    v = scale * (ug * sin_t + vg * cos_t)
    amplitude = f4(1.0) + f4(1.6) * np.exp(-speed / f4(4.0))
    for tag, comp in ((_BREEZE_U, u), (_BREEZE_V, v)):
        comp += amplitude * moving_noise(seed, tag, grid.lat, grid.lon, hours, scale_km=140.0, life_h=5.0).astype(f4)
    return u, v


def sea_surface_temperature(grid: Grid, hours: np.ndarray) -> np.ndarray:
    """Sea-surface temperature (deg C): warmer south, a lagged seasonal cycle (warmest in August),
    and colder winters and warmer summers in enclosed shallow seas (North Sea, Irish Sea)."""
    from scipy.ndimage import uniform_filter

    size = max(3, round(5.0 / grid.resolution) | 1)  # ~5 degrees: how enclosed the sea is
    enclosed = uniform_filter(grid.land_frac, size=size, mode="nearest")
    lat = grid.lat[:, None]
    day = np.mod(np.asarray(hours, float), 365.2425 * 24) / 24.0
    season = np.cos(2 * np.pi * (day - 228.0) / 365.2425)[:, None, None]
    mean = 18.5 - 0.42 * (lat - 36.0) + 0.15 * np.clip(lat - 50.0, 0.0, None) - 0.5 * enclosed
    amplitude = 2.6 + 4.0 * enclosed
    return mean + amplitude * season


def _air_sea_offset(hours: np.ndarray) -> np.ndarray:
    """Climatological air-minus-sea temperature: air colder in autumn and winter."""
    day = np.mod(np.asarray(hours, float), 365.2425 * 24) / 24.0
    return -0.3 + 0.6 * np.sin(2 * np.pi * (day - 80.0) / 365.2425)


def _land_temperature(grid: Grid, hours: np.ndarray, anomaly: np.ndarray) -> np.ndarray:
    lat, lon = grid.lat[:, None], grid.lon[None, :]
    day = np.mod(hours, 365.2425 * 24) / 24.0
    season = np.cos(2 * np.pi * (day - 200.0) / 365.2425)[:, None, None]
    local_hour = (np.mod(hours, 24.0)[:, None, None] + lon / 15.0)
    diurnal = 4.0 * np.cos(2 * np.pi * (local_hour - 15.0) / 24.0)
    mean = 17.0 - 0.45 * (lat - 36.0) - 0.08 * (lon + 5.0)
    return mean + (5.0 + 0.2 * (lon + 10.0)) * season + diurnal + 1.3 * anomaly


def _frontal_rain(seed: int, grid: Grid, hours: np.ndarray, fronts: _Fronts,
                  winter: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Large-scale rain (patchy bands with sharp edges, weaker in summer) and warm-sector drizzle."""
    patchy = np.clip(0.3 + 0.9 * moving_noise(seed, _RAIN, grid.lat, grid.lon, hours, scale_km=250.0), 0.0, None)
    frontal = fronts.rain * (0.6 + 0.4 * winter) * patchy
    frontal = np.where(frontal < 1.1, 0.0, frontal)
    patches = moving_noise(seed, _DRIZZLE, grid.lat, grid.lon, hours, scale_km=200.0) > 1.6
    drizzle = np.where(patches & (frontal == 0), 0.3 * fronts.warm_sector, 0.0)
    return frontal, np.where(drizzle < 0.1, 0.0, drizzle)


def _showers(seed: int, grid: Grid, hours: np.ndarray, instability: np.ndarray) -> np.ndarray:
    """Convective rain (mm/h): scattered cells whose cover and strength grow with instability."""
    cells = moving_noise(seed, _SHOWER, grid.lat, grid.lon, hours, scale_km=90.0, modes=64,
                         drift_kmh=(30.0, -5.0), life_h=4.0)
    threshold = 2.2 - 1.4 * instability
    rate = 2.8 * (0.5 + instability) * np.clip(cells - threshold, 0.0, None)
    return np.where(rate < 0.1, 0.0, rate)


def _visibility(seed: int, grid: Grid, hours: np.ndarray, frontal: np.ndarray, drizzle: np.ndarray,
                conv: np.ndarray, t2m: np.ndarray, air_minus_sea: np.ndarray, wind: np.ndarray,
                warm_sector: np.ndarray) -> np.ndarray:
    """Visibility (m): haze, precipitation and fog."""
    haze = moving_noise(seed, _HAZE, grid.lat, grid.lon, hours, scale_km=500.0)
    clear_m = 30000.0 * (1.0 - 0.3 * np.clip(warm_sector, 0, 1)) * np.exp(0.25 * haze)
    snow = t2m <= 1.0
    extinction = (1.0 / clear_m + frontal**1.3 / np.where(snow, 1500.0, 16000.0)
                  + drizzle / 2000.0 + conv**1.3 / np.where(snow, 1200.0, 16000.0))
    vis = 1.0 / extinction
    fog_cells = moving_noise(seed, _FOG, grid.lat, grid.lon, hours, scale_km=160.0, life_h=12.0)
    potential = (np.clip((air_minus_sea - 0.2) / 1.2, 0.0, 1.0) * np.clip((13.0 - wind) / 6.0, 0.0, 1.0)
                 * (0.3 + 0.7 * np.clip(warm_sector, 0.0, 1.0)) * (1 - grid.land_frac))
    excess = fog_cells - (2.5 - 1.5 * potential)
    fog_m = 150.0 + 800.0 * np.exp(-2.0 * np.clip(excess, 0.0, None))
    return np.clip(np.where(excess > 0, np.minimum(vis, fog_m), vis), 50.0, 50000.0)

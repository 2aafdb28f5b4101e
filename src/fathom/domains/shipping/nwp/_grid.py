"""The synthetic model's grid and land-sea mask.

Covers: the regular lat/lon grid over the 31 sea areas (34N-66N, 20W-12E at any resolution), the
land fraction of each grid cell from the land table shipped with the package
(``_land.json``: 0.05-degree cells over 33N-67N, 21W-13E, built from the GLOBE 1 km land mask)
and the rebuild of that table from the ``global-land-mask`` package.

Not covered: anything that changes with time (``nwp._weather``, ``nwp._waves``).

>>> g = make_grid(1.0)
>>> float(g.lat[0]), float(g.lat[-1]), float(g.lon[0]), float(g.lon[-1]), g.shape
(34.0, 66.0, -20.0, 12.0, (33, 33))
>>> bool(g.land[g.index(52.0, 0.0)]), bool(g.land[g.index(48.0, -10.0)])  # East Anglia, open sea
(True, False)
"""

from __future__ import annotations

import base64
import json
import math
import zlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from fathom.errors import DomainError, MissingDependencyError

__all__ = ["DOMAIN", "Grid", "build_land_table", "coarse_grid", "land_fraction", "make_grid", "regrid"]

DOMAIN = (34.0, 66.0, -20.0, 12.0)
"""South, north, west, east edges (degrees) of the grid: every sea area with a margin."""

KM_PER_DEG = 111.32
_TABLE = "_land.json"
_TABLE_EXTENT = (33.0, 67.0, -21.0, 13.0)
_TABLE_STEP = 0.05
_GLOBE_PER_DEG = 120  # GLOBE samples per degree (30 arc-seconds)


@dataclass(frozen=True, eq=False)
class Grid:
    """A regular lat/lon grid with its land fraction."""

    lat: np.ndarray
    """Latitudes of the rows, south to north (degrees north)."""
    lon: np.ndarray
    """Longitudes of the columns, west to east (degrees east)."""
    resolution: float
    """Spacing in degrees (the same in latitude and longitude)."""
    land_frac: np.ndarray
    """Share of each cell that is land, 0..1, shape ``(lat, lon)``."""

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, columns)``."""
        return (self.lat.size, self.lon.size)

    @property
    def land(self) -> np.ndarray:
        """Boolean land mask: at least half of the cell is land."""
        return self.land_frac >= 0.5

    def index(self, lat: float, lon: float) -> tuple[int, int]:
        """Row and column of the cell nearest to ``(lat, lon)``."""
        return int(np.abs(self.lat - lat).argmin()), int(np.abs(self.lon - lon).argmin())


def make_grid(resolution: float = 0.25) -> Grid:
    """The grid over all 31 sea areas at ``resolution`` degrees.

    Args:
        resolution: grid spacing in degrees, 0.02 to 2.

    Raises:
        DomainError: the resolution is out of range.
    """
    if not 0.02 <= resolution <= 2.0 or not math.isfinite(resolution):
        raise DomainError(f"resolution {resolution!r} deg is out of range: use 0.02 to 2 "
                          f"(0.25 is the default, 0.1 the benchmark's fine grid).")
    south, north, west, east = DOMAIN
    lat = np.round(south + resolution * np.arange(math.ceil((north - south) / resolution - 1e-9) + 1), 6)
    lon = np.round(west + resolution * np.arange(math.ceil((east - west) / resolution - 1e-9) + 1), 6)
    return Grid(lat=lat, lon=lon, resolution=float(resolution),
                land_frac=land_fraction(lat, lon, resolution))


def coarse_grid(grid: Grid, resolution: float) -> Grid:
    """``grid`` itself if it is already at least as coarse as ``resolution``, else a coarser grid
    for fields that vary only on large scales (computed there, then :func:`regrid`-ded)."""
    return grid if grid.resolution >= resolution else make_grid(resolution)


def regrid(values: np.ndarray, src: Grid, dst: Grid) -> np.ndarray:
    """Bilinear interpolation of ``values`` (last two axes on ``src``) onto ``dst``.

    >>> g1, g2 = make_grid(1.0), make_grid(0.5)
    >>> field = np.add.outer(g1.lat, 2 * g1.lon)
    >>> bool(np.allclose(regrid(field, g1, g2), np.add.outer(g2.lat, 2 * g2.lon)))
    True
    """
    if src is dst:
        return values
    out = _interp_axis(values, src.lat, dst.lat, axis=-2)
    return _interp_axis(out, src.lon, dst.lon, axis=-1)


def _interp_axis(values: np.ndarray, x: np.ndarray, new: np.ndarray, axis: int) -> np.ndarray:
    pos = np.clip(np.interp(new, x, np.arange(x.size)), 0, x.size - 1)
    i0 = np.minimum(np.floor(pos).astype(int), x.size - 2)
    frac = pos - i0
    shape = [1] * values.ndim
    shape[axis] = new.size
    frac = frac.reshape(shape)
    return np.take(values, i0, axis=axis) * (1 - frac) + np.take(values, i0 + 1, axis=axis) * frac


@cache
def _table() -> np.ndarray:
    text = resources.files("fathom.domains.shipping.nwp").joinpath(_TABLE).read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    counts = np.frombuffer(zlib.decompress(base64.b64decode(doc["data"])), dtype=np.uint8)
    frac = counts.reshape(doc["nlat"], doc["nlon"]).astype(np.float64) / doc["samples_per_cell"]
    frac.setflags(write=False)
    return frac


def land_fraction(lat: np.ndarray, lon: np.ndarray, resolution: float) -> np.ndarray:
    """Land fraction of grid cells centred on ``lat`` x ``lon`` with sides of ``resolution`` degrees.

    Each cell averages the 0.05-degree table cells whose centres fall inside it (the nearest
    table cell when the grid is finer than the table).

    Args:
        lat: row latitudes (degrees north), inside 33N-67N.
        lon: column longitudes (degrees east), inside 21W-13E.
        resolution: cell side in degrees.

    Returns:
        Array of shape ``(lat.size, lon.size)`` with values 0..1.
    """
    table = _table()
    sat = np.zeros((table.shape[0] + 1, table.shape[1] + 1))
    sat[1:, 1:] = table.cumsum(0).cumsum(1)
    south, _, west, _ = _TABLE_EXTENT
    r0, r1 = _cell_range(np.asarray(lat, float), south, resolution, table.shape[0])
    c0, c1 = _cell_range(np.asarray(lon, float), west, resolution, table.shape[1])
    total = (sat[r1][:, c1] - sat[r0][:, c1] - sat[r1][:, c0] + sat[r0][:, c0])
    count = np.outer(r1 - r0, c1 - c0)
    return total / count


def _cell_range(centres: np.ndarray, origin: float, size: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Half-open index ranges of table cells whose centres lie within each grid cell."""
    pos = (centres - origin) / _TABLE_STEP - 0.5  # fractional table index of each grid centre
    half = size / _TABLE_STEP / 2
    lo = np.ceil(pos - half - 1e-9).astype(int)
    hi = np.floor(pos + half - 1e-9).astype(int) + 1
    nearest = np.rint(pos).astype(int)
    empty = hi <= lo
    lo = np.where(empty, nearest, lo)
    hi = np.where(empty, nearest + 1, hi)
    if lo.min() < 0 or hi.max() > n:
        raise DomainError(f"grid cells reach outside the land table ({_TABLE_EXTENT}); "
                          f"keep the grid inside 33N-67N, 21W-13E.")
    return lo, hi


def build_land_table(out: str | Path) -> Path:
    """Rebuild ``_land.json`` from the GLOBE land mask in the ``global-land-mask`` package.

    Needs about 1 GB of memory and 20 s (the package unpacks the whole 1 km globe).

    Args:
        out: where to write the JSON table.

    Returns:
        The path written.

    Raises:
        MissingDependencyError: ``global-land-mask`` is not installed.
    """
    from fathom._manifest import atomic_write_text

    try:
        from global_land_mask import globe
    except ImportError as exc:
        raise MissingDependencyError("global-land-mask", "pip install global-land-mask") from exc
    south, north, west, east = _TABLE_EXTENT
    per = round(_TABLE_STEP * _GLOBE_PER_DEG)
    top, bottom = round((90 - north) * _GLOBE_PER_DEG), round((90 - south) * _GLOBE_PER_DEG)
    left, right = round((west + 180) * _GLOBE_PER_DEG), round((east + 180) * _GLOBE_PER_DEG)
    land = ~globe._mask[top:bottom, left:right][::-1]  # rows south to north
    rows, cols = land.shape[0] // per, land.shape[1] // per
    counts = land.reshape(rows, per, cols, per).sum(axis=(1, 3)).astype(np.uint8)
    doc = {
        "description": "Land fraction of 0.05-degree cells over 33N-67N, 21W-13E, for Fathom's "
                       "synthetic NWP generator. Each value is the number of land samples out of "
                       "36 (6 x 6 GLOBE 30-arc-second samples per cell); lakes count as land.",
        "source": "NOAA NGDC GLOBE 30-arc-second digital elevation model (public domain), "
                  "land/ocean mask as packaged by the PyPI package global-land-mask 1.0.0 (MIT "
                  "licence, Todd Karin); rebuilt with "
                  "fathom.domains.shipping.nwp._grid.build_land_table",
        "lat_south": south, "lon_west": west, "step_deg": _TABLE_STEP, "nlat": rows, "nlon": cols,
        "samples_per_cell": per * per,
        "encoding": "uint8 row-major, rows south to north, columns west to east; zlib-compressed, "
                    "then base64",
        "data": base64.b64encode(zlib.compress(counts.tobytes(), 9)).decode(),
    }
    atomic_write_text(out, json.dumps(doc, indent=1) + "\n")
    return Path(out)

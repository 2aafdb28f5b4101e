"""Pressure centres (lows and highs) in mean sea-level pressure, and which areas they touch.

Covers (Fathom convention):

* A **low** at a time step is a grid cell whose pressure is the minimum of the square
  ``window_deg`` x ``window_deg`` neighbourhood around it (5 deg by default) and lies at least
  ``depth_hpa`` (2 hPa) below the mean of the ring of cells on that square's border. A **high** is
  the same with maximum and above. Beyond the grid edge the edge values are repeated; cells
  closer than a quarter window to the edge are not considered, so a pressure that keeps falling
  towards the edge is never taken for a centre. Of centres closer than half a window to each
  other only the deepest (lowest low, highest high) is kept.
* Grids finer than 0.25 deg are subsampled to about 0.25 deg first (pressure is smooth; this keeps
  the search cheap); positions are those of the subsampled cells.
* A low "touches" an area when it lies inside the area's straight polygon or within
  ``radius_deg`` (1 deg, longitude scaled by cos(lat)) of it (:meth:`SeaArea.contains` and
  :meth:`SeaArea.edge_distance_deg`, the same tests the synopsis writer uses).

Not covered: tracking centres through time, fronts, troughs, fitting sub-grid positions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from fathom.domains.shipping.stats._filters import box_mean, maximum_filter, minimum_filter

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from fathom.domains.shipping.areas import SeaArea

__all__ = ["Centre", "areas_touched", "find_centres"]


@dataclass(frozen=True)
class Centre:
    """One pressure centre at one time step."""

    step: int
    """Index of the time step."""
    kind: str
    """``"low"`` or ``"high"``."""
    lat: float
    lon: float
    hpa: float
    """Central pressure."""
    depth_hpa: float
    """How far below (low) or above (high) the mean of the surrounding ring it lies."""


def find_centres(msl: NDArray[np.float64], lat: NDArray[np.float64], lon: NDArray[np.float64], *,
                 window_deg: float = 5.0, depth_hpa: float = 2.0) -> list[Centre]:
    """Lows and highs of ``msl`` (hPa, shape ``(time, lat, lon)``), ordered by step then pressure.

    >>> import numpy as np
    >>> lat = np.arange(40.0, 70.0, 0.5); lon = np.arange(-30.0, 10.0, 0.5)
    >>> la, lo = np.meshgrid(lat, lon, indexing="ij")
    >>> p = 1010 - 25 * np.exp(-((la - 58) ** 2 + (lo + 12) ** 2) / 20)
    >>> [(c.kind, c.lat, c.lon, round(c.hpa)) for c in find_centres(p[None], lat, lon)]
    [('low', 58.0, -12.0, 985)]
    """
    spacing = float(np.median(np.abs(np.diff(lat)))) if lat.size > 1 else 1.0
    stride = max(1, round(0.25 / spacing)) if spacing < 0.25 else 1
    p = msl[:, ::stride, ::stride]
    la, lo = lat[::stride], lon[::stride]
    w = round(window_deg / (spacing * stride)) | 1  # odd
    if w < 3 or p.shape[1] < w or p.shape[2] < w:
        return []
    size = (w, w)
    filled = np.where(np.isfinite(p), p, np.nanmean(p))
    big = box_mean(filled, size) * w * w
    small = box_mean(filled, (w - 2, w - 2)) * (w - 2) ** 2
    ring = (big - small) / (w * w - (w - 2) ** 2)
    inner = np.zeros(p.shape[1:], dtype=bool)
    h = max(1, w // 4)
    inner[h: p.shape[1] - h, h: p.shape[2] - h] = True
    found: list[Centre] = []
    for kind, extreme, sign in (("low", minimum_filter, -1.0), ("high", maximum_filter, 1.0)):
        is_extreme = (filled == extreme(filled, size)) & np.isfinite(p) & inner
        depth = sign * (filled - ring)
        t, i, j = np.nonzero(is_extreme & (depth >= depth_hpa))
        found.extend(_suppress(kind, t, la[i], lo[j], filled[t, i, j], depth[t, i, j], window_deg / 2, sign))
    found.sort(key=lambda c: (c.step, c.kind != "low", c.hpa if c.kind == "low" else -c.hpa))
    return found


def _suppress(kind: str, t: NDArray[np.intp], lat: NDArray[np.float64], lon: NDArray[np.float64],
              hpa: NDArray[np.float64], depth: NDArray[np.float64], min_sep: float,
              sign: float) -> list[Centre]:
    """Keep the deepest of centres closer than ``min_sep`` degrees at the same step."""
    order = np.lexsort((-sign * hpa, t))  # by step, deepest first
    kept: list[Centre] = []
    for k in order:
        c = Centre(int(t[k]), kind, float(lat[k]), float(lon[k]), float(hpa[k]), float(depth[k]))
        if all(o.step != c.step or _distance(o.lat, o.lon, c.lat, c.lon) >= min_sep for o in kept):
            kept.append(c)
    return kept


def _distance(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance in degrees of latitude, longitude scaled by cos(mean latitude)."""
    scale = np.cos(np.radians(0.5 * (lat1 + lat2)))
    return float(np.hypot((lon1 - lon2) * scale, lat1 - lat2))


def areas_touched(lat: float, lon: float, areas: list[SeaArea], radius_deg: float) -> list[int]:
    """Indices of the areas whose straight polygon contains the point or lies within ``radius_deg``."""
    return [k for k, area in enumerate(areas)
            if area.contains(lat, lon) or area.edge_distance_deg(lat, lon) <= radius_deg]

"""Sea areas on a model grid: one integer label per cell, following the coast where land is known.

Covers the gridding recipe of ``docs/shipping-forecast.md`` §6 (Fathom convention):

1. **Rasterise** each area's straight polygon on cell centres; a centre exactly on an edge counts
   as inside. A cell inside several polygons goes to the area whose centroid is nearest.
2. **Land**: cells with land fraction >= 0.5 get no label.
3. **Fill**: every unlabelled sea cell goes to the area nearest *through sea cells* (8-neighbour
   Dijkstra, distances in degrees of latitude with longitude scaled by cos(lat)), provided it lies
   within that area's ``fill_radius_deg`` (1 deg; Biscay 5, Irish Sea 2.5, German Bight and Lundy
   2.2, Cromarty 1.6, Forth 1.4). The fill never crosses an outer limit (:func:`outer_limits`)
   and never enters another area's cells.

Without a land mask there is no coast: the coast edges become barriers as well, so the areas are
the straight polygons plus the slivers between neighbours, and land inside them is counted as sea.
The result is cached per grid (coordinates and land mask): in memory, at most eight grids, and on
disk under ``$FATHOM_HOME/cache/area-labels/`` (one small ``.npy`` per grid, named by a digest of
the grid and of the code and corners that made it, so a change to either makes a new entry), since
gridding a 0.1-degree run costs more than half a second, most of it importing SciPy's graph code.

Labels are ``int16``: ``-1`` for no area, ``k`` for ``sea_areas()[k]`` (broadcast order - 1).

Not covered: plotting (:mod:`~fathom.domains.shipping.areas._masks_plot`), statistics.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fathom._files import atomic_write_bytes
from fathom._home import fathom_home
from fathom.domains.shipping.areas._areas import SeaArea, outer_limits, sea_areas

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

__all__ = ["area_labels", "area_masks", "missing_areas"]

_ON_EDGE_DEG = 1e-6


@dataclass(frozen=True)
class _GridKey:
    lat: bytes
    lon: bytes
    land: bytes | None
    digest: str


def area_labels(lat: ArrayLike, lon: ArrayLike, land: ArrayLike | None = None) -> NDArray[np.int16]:
    """Label every cell of a regular or irregular lat/lon grid with its sea area.

    Args:
        lat: 1-D cell-centre latitudes (either direction).
        lon: 1-D cell-centre longitudes, in [-180, 180) or [0, 360).
        land: optional ``(lat, lon)`` land fraction or boolean land mask; cells >= 0.5 are land.
            Without it the areas are the straight polygons (see the module notes).

    Returns:
        A read-only ``int16`` array of shape ``(len(lat), len(lon))``: -1 where no area, else the
        index of the area in :func:`sea_areas`. The same grid returns the cached array.

    >>> import numpy as np
    >>> labels = area_labels(np.arange(35, 66, 1.0), np.arange(-20, 12, 1.0))
    >>> sea_areas()[labels[59 - 35, 2 + 20]].name      # 59N 2E
    'Viking'
    """
    return _labels_cached(_grid_key(lat, lon, land))


def area_masks(lat: ArrayLike, lon: ArrayLike, land: ArrayLike | None = None) -> dict[str, NDArray[np.bool_]]:
    """One boolean ``(lat, lon)`` mask per area, keyed by canonical name in broadcast order.

    The masks never overlap; land cells (when ``land`` is given) are in none. See
    :func:`area_labels` for the arguments and the gridding rules.
    """
    labels = area_labels(lat, lon, land)
    return {a.name: labels == k for k, a in enumerate(sea_areas())}


def missing_areas(labels: NDArray[np.integer]) -> list[str]:
    """Names of the areas that have no cell in ``labels`` (broadcast order)."""
    present = np.bincount(labels[labels >= 0].ravel(), minlength=len(sea_areas()))
    return [a.name for k, a in enumerate(sea_areas()) if present[k] == 0]


def _grid_key(lat: ArrayLike, lon: ArrayLike, land: ArrayLike | None) -> _GridKey:
    lat_a = np.ascontiguousarray(lat, dtype=np.float64)
    lon_a = np.ascontiguousarray(lon, dtype=np.float64)
    if lat_a.ndim != 1 or lon_a.ndim != 1:
        raise ValueError(f"lat and lon must be 1-D cell-centre coordinates, got shapes "
                         f"{lat_a.shape} and {lon_a.shape}")
    land_b = None
    if land is not None:
        land_a = np.asarray(land)
        if land_a.shape != (lat_a.size, lon_a.size):
            raise ValueError(f"land has shape {land_a.shape}; expected (lat, lon) = "
                             f"{(lat_a.size, lon_a.size)}")
        land_b = np.packbits(np.nan_to_num(land_a.astype(np.float64), nan=0.0) >= 0.5).tobytes()
    h = hashlib.sha1(lat_a.tobytes() + b"|" + lon_a.tobytes() + b"|" + (land_b or b"-"))
    return _GridKey(lat_a.tobytes(), lon_a.tobytes(), land_b, h.hexdigest())


@lru_cache(maxsize=8)
def _labels_cached(key: _GridKey) -> NDArray[np.int16]:
    lat = np.frombuffer(key.lat, dtype=np.float64)
    lon = (np.frombuffer(key.lon, dtype=np.float64) + 180.0) % 360.0 - 180.0
    land = None
    if key.land is not None:
        bits = np.unpackbits(np.frombuffer(key.land, dtype=np.uint8), count=lat.size * lon.size)
        land = bits.reshape(lat.size, lon.size).astype(bool)
    path = _disk_path(key)
    labels = _read_labels(path, (lat.size, lon.size))
    if labels is None:
        labels = _compute_labels(lat, lon, land)
        _write_labels(path, labels)
    labels.setflags(write=False)
    return labels


@cache
def _code_digest() -> str:
    """Digest of what the labels depend on besides the grid: this code, the areas code, the corners."""
    here = Path(__file__).parent
    h = hashlib.sha1()
    for name in ("_masks.py", "_areas.py", "sea_areas.json"):
        h.update((here / name).read_bytes())
    return h.hexdigest()[:16]


def _disk_path(key: _GridKey) -> Path:
    return fathom_home() / "cache" / "area-labels" / f"{key.digest}-{_code_digest()}.npy"


def _read_labels(path: Path, shape: tuple[int, int]) -> NDArray[np.int16] | None:
    """The cached labels, or None when absent or unreadable (then they are computed again)."""
    try:
        labels = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    ok = labels.shape == shape and labels.dtype == np.int16
    return labels if ok else None


def _write_labels(path: Path, labels: NDArray[np.int16]) -> None:
    """Keep the labels for the next process; a cache that cannot be written only costs time (warned)."""
    import io

    buf = io.BytesIO()
    np.save(buf, labels, allow_pickle=False)
    try:
        atomic_write_bytes(path, buf.getvalue())
    except OSError as exc:
        import warnings

        from fathom.errors import FathomWarning

        warnings.warn(f"could not cache the area labels in {path.parent} ({exc}); they will be computed "
                      f"again next time (set FATHOM_HOME to a writable folder)", FathomWarning, stacklevel=4)


def _compute_labels(lat: NDArray[np.float64], lon: NDArray[np.float64],
                    land: NDArray[np.bool_] | None) -> NDArray[np.int16]:
    areas = sea_areas()
    lon2, lat2 = np.meshgrid(lon, lat)
    labels = _rasterise(areas, lon2, lat2)
    sea = np.ones(labels.shape, dtype=bool) if land is None else ~land
    labels[~sea] = -1
    barriers = list(outer_limits())
    if land is None:  # no coastline known: never fill across a coast edge either
        barriers += [e for a in areas for i, e in enumerate(a.edges) if a.is_coast_edge(i)]
    _fill(labels, sea, lon2, lat2, areas, barriers)
    return labels


def _rasterise(areas: list[SeaArea], lon2: NDArray[np.float64], lat2: NDArray[np.float64]) -> NDArray[np.int16]:
    labels = np.full(lon2.shape, -1, dtype=np.int16)
    best = np.full(lon2.shape, np.inf)
    for k, area in enumerate(areas):
        inside = _inside_polygon(lon2, lat2, area.vertices)
        cx, cy = area.centroid
        d = np.hypot((lon2 - cx) * np.cos(np.radians(lat2)), lat2 - cy)
        take = inside & (d < best)
        labels[take] = k
        best[take] = d[take]
    return labels


def _inside_polygon(x: NDArray[np.float64], y: NDArray[np.float64],
                    vertices: tuple[tuple[float, float], ...]) -> NDArray[np.bool_]:
    """Even-odd rule on points; points on an edge (within 1e-6 deg) count as inside."""
    vx = np.array([v[0] for v in vertices])
    vy = np.array([v[1] for v in vertices])
    box = ((x >= vx.min() - _ON_EDGE_DEG) & (x <= vx.max() + _ON_EDGE_DEG)
           & (y >= vy.min() - _ON_EDGE_DEG) & (y <= vy.max() + _ON_EDGE_DEG))
    px, py = x[box], y[box]
    odd = np.zeros(px.shape, dtype=bool)
    on_edge = np.zeros(px.shape, dtype=bool)
    n = len(vx)
    for i in range(n):
        ax, ay, bx, by = vx[i], vy[i], vx[(i + 1) % n], vy[(i + 1) % n]
        straddles = (ay > py) != (by > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            xcross = ax + (py - ay) * (bx - ax) / (by - ay)
        odd ^= straddles & (px < xcross)
        dx, dy = bx - ax, by - ay
        t = np.clip(((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
        on_edge |= np.hypot(px - ax - t * dx, py - ay - t * dy) <= _ON_EDGE_DEG
    out = np.zeros(x.shape, dtype=bool)
    out[box] = odd | on_edge
    return out


def _links(sea: NDArray[np.bool_]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """8-neighbour links between sea cells; a diagonal needs one of its two corners at sea."""
    ny, nx = sea.shape
    idx = np.arange(ny * nx).reshape(ny, nx)
    src, dst = [], []
    for di, dj in ((0, 1), (1, 0), (1, 1), (1, -1)):
        j0, j1 = max(0, -dj), nx - max(0, dj)
        a = idx[: ny - di, j0:j1]
        b = idx[di:, j0 + dj: j1 + dj]
        ok = sea.ravel()[a] & sea.ravel()[b]
        if di and dj:  # diagonal: no squeezing between two land corners
            c1 = sea.ravel()[a + dj]          # same row as a, column of b
            c2 = sea.ravel()[a + di * nx]     # row of b, same column as a
            ok &= c1 | c2
        src.append(a[ok])
        dst.append(b[ok])
    return np.concatenate(src), np.concatenate(dst)


def _blocked(x1: NDArray[np.float64], y1: NDArray[np.float64], x2: NDArray[np.float64],
             y2: NDArray[np.float64], barriers: list[tuple[tuple[float, float], tuple[float, float]]]
             ) -> NDArray[np.bool_]:
    """Which links p1-p2 cross or touch (within 1e-6 deg) any barrier segment."""
    hit = np.zeros(x1.shape, dtype=bool)
    for (qx1, qy1), (qx2, qy2) in barriers:
        near = ((np.minimum(x1, x2) <= max(qx1, qx2) + _ON_EDGE_DEG)
                & (np.maximum(x1, x2) >= min(qx1, qx2) - _ON_EDGE_DEG)
                & (np.minimum(y1, y2) <= max(qy1, qy2) + _ON_EDGE_DEG)
                & (np.maximum(y1, y2) >= min(qy1, qy2) - _ON_EDGE_DEG))
        if not near.any():
            continue
        ax, ay, bx, by = x1[near], y1[near], x2[near], y2[near]
        qlen = np.hypot(qx2 - qx1, qy2 - qy1)
        plen = np.hypot(bx - ax, by - ay)
        s1 = _side((qx2 - qx1) * (ay - qy1) - (qy2 - qy1) * (ax - qx1), qlen)
        s2 = _side((qx2 - qx1) * (by - qy1) - (qy2 - qy1) * (bx - qx1), qlen)
        s3 = _side((bx - ax) * (qy1 - ay) - (by - ay) * (qx1 - ax), plen)
        s4 = _side((bx - ax) * (qy2 - ay) - (by - ay) * (qx2 - ax), plen)
        hit[np.flatnonzero(near)[(s1 * s2 <= 0) & (s3 * s4 <= 0)]] = True
    return hit


def _side(cross: NDArray[np.float64], length: NDArray[np.float64] | float) -> NDArray[np.int8]:
    """Which side of a line a point lies on (-1, 0, 1), with points within 1e-6 deg counted on it."""
    dist = cross / length
    return np.where(np.abs(dist) <= _ON_EDGE_DEG, 0, np.sign(dist)).astype(np.int8)


def _fill(labels: NDArray[np.int16], sea: NDArray[np.bool_], lon2: NDArray[np.float64],
          lat2: NDArray[np.float64], areas: list[SeaArea],
          barriers: list[tuple[tuple[float, float], tuple[float, float]]]) -> None:
    """Give unlabelled sea cells to the nearest area through sea, within its radius (in place)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra

    flat = labels.ravel()
    todo = sea.ravel() & (flat < 0)
    if not todo.any():
        return
    x, y = lon2.ravel(), lat2.ravel()
    src, dst = _links(sea)
    keep = ~_blocked(x[src], y[src], x[dst], y[dst], barriers)
    src, dst = src[keep], dst[keep]
    weight = np.hypot((x[src] - x[dst]) * np.cos(np.radians(0.5 * (y[src] + y[dst]))), y[src] - y[dst])
    weight = np.maximum(weight, 1e-9)
    n = flat.size
    best = np.full(n, np.inf)
    owner = np.full(n, -1, dtype=np.int16)
    radii = np.array([a.fill_radius_deg for a in areas])
    for radius in np.unique(radii):
        group = np.flatnonzero(radii == radius)
        seeds = np.flatnonzero(np.isin(flat, group))
        if seeds.size == 0:
            continue
        allowed = todo | np.isin(flat, group)
        use = allowed[src] & allowed[dst]
        graph = coo_matrix((weight[use], (src[use], dst[use])), shape=(n, n)).tocsr()
        dist, _, sources = dijkstra(graph, directed=False, indices=seeds, limit=float(radius),
                                    min_only=True, return_predecessors=True)
        better = todo & np.isfinite(dist) & (dist < best) & (sources >= 0)
        best[better] = dist[better]
        owner[better] = flat[sources[better]]
    flat[todo & (owner >= 0)] = owner[todo & (owner >= 0)]

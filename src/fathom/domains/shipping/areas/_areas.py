"""The 31 Shipping Forecast sea areas: names, aliases, corner co-ordinates and coast edges.

Covers: loading the package's ``sea_areas.json`` (Met Office Factsheet 8 corners, OGL v3), looking
areas up by name or alias, the point tests on one area's straight polygon (:meth:`SeaArea.contains`,
:meth:`SeaArea.edge_distance_deg`, used by the pressure-centre statistics and the synopsis writer),
and the outer limits of the forecast region (the polygon edges that are
neither coast nor shared with a neighbour), which the gridding fill must never cross.

Not covered: putting the areas on a model grid (:mod:`~fathom.domains.shipping.areas._masks`) or any statistics.

>>> [a.name for a in sea_areas()][:3]
['Viking', 'North Utsire', 'South Utsire']
>>> sea_area("fitzroy").name
'FitzRoy'
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from fathom.errors import DomainError, did_you_mean

__all__ = ["SeaArea", "UnknownSeaAreaError", "outer_limits", "sea_area", "sea_areas"]

_SHARED_TOLERANCE_DEG = 0.06
"""Two edges closer than this count as shared: the Factsheet rounds corners to the minute (0.017 deg)."""
_SAMPLE_STEP_DEG = 0.02
_JOIN_DEG = 0.15
"""Outer-limit ends closer than this are joined, so no gap opens where two areas' limits meet."""
_COAST_OVERHANG_DEG = 0.3
"""An outer limit ending on a coast vertex is prolonged this far over land, so the fill cannot slip
round its end where the model's coastline differs from the Factsheet's."""

Point = tuple[float, float]
Segment = tuple[Point, Point]


class UnknownSeaAreaError(DomainError):
    """A sea-area name that is neither a canonical name nor an alias."""


@dataclass(frozen=True)
class SeaArea:
    """One sea area as the Met Office defines it, plus Fathom's gridding settings."""

    name: str
    """Canonical name, e.g. ``"FitzRoy"``."""
    order: int
    """Position in broadcast order, 1 (Viking) .. 31 (Southeast Iceland)."""
    aliases: tuple[str, ...]
    """Other names seen in bulletins or used formerly (matched case-insensitively)."""
    vertices: tuple[Point, ...]
    """Corners as ``(lon, lat)`` in decimal degrees, east positive, in the Factsheet's order."""
    coast_edges: tuple[tuple[int, int], ...]
    """0-based vertex pairs ``(i, i+1 mod n)`` whose boundary follows the coastline."""
    fill_radius_deg: float
    """How far (degrees of latitude, through sea) gridding may extend the area into unlabelled sea."""

    @property
    def edges(self) -> list[Segment]:
        """The straight edges, vertex ``i`` to vertex ``i + 1`` (closing back to the first)."""
        n = len(self.vertices)
        return [(self.vertices[i], self.vertices[(i + 1) % n]) for i in range(n)]

    def is_coast_edge(self, i: int) -> bool:
        """Whether edge ``i`` (vertex ``i`` to ``i + 1``) follows the coast."""
        return (i, (i + 1) % len(self.vertices)) in self.coast_edges

    def contains(self, lat: float, lon: float) -> bool:
        """Whether the point lies inside the straight polygon (even-odd rule, degrees as a plane).

        >>> sea_area("Viking").contains(59.5, 2.0), sea_area("Viking").contains(50.0, 2.0)
        (True, False)
        """
        odd = False
        n = len(self.vertices)
        for i in range(n):
            (ax, ay), (bx, by) = self.vertices[i], self.vertices[(i + 1) % n]
            if (ay > lat) != (by > lat) and lon < ax + (lat - ay) * (bx - ax) / (by - ay):
                odd = not odd
        return odd

    def edge_distance_deg(self, lat: float, lon: float) -> float:
        """Distance from the point to the nearest edge of the straight polygon, in degrees of latitude.

        A local flat projection: longitudes are scaled by cos(lat) of the point (1 deg = 60 nautical
        miles). Points inside the polygon get their distance to the boundary too.

        >>> round(sea_area("Viking").edge_distance_deg(59.5, 2.0), 2)  # 1 deg north of its southern edge
        1.0
        """
        scale = math.cos(math.radians(lat))
        best = math.inf
        px = lon * scale
        for (ax, ay), (bx, by) in self.edges:
            ax_, bx_ = ax * scale, bx * scale
            dx, dy = bx_ - ax_, by - ay
            den = dx * dx + dy * dy
            t = 0.0 if den == 0 else min(1.0, max(0.0, ((px - ax_) * dx + (lat - ay) * dy) / den))
            best = min(best, math.hypot(px - ax_ - t * dx, lat - ay - t * dy))
        return best

    @property
    def centroid(self) -> Point:
        """Area-weighted centroid ``(lon, lat)`` of the straight polygon."""
        xs = [v[0] for v in self.vertices]
        ys = [v[1] for v in self.vertices]
        n = len(xs)
        a = cx = cy = 0.0
        for i in range(n):
            j = (i + 1) % n
            cross = xs[i] * ys[j] - xs[j] * ys[i]
            a += cross
            cx += (xs[i] + xs[j]) * cross
            cy += (ys[i] + ys[j]) * cross
        return (cx / (3 * a), cy / (3 * a))


@cache
def _load() -> tuple[tuple[SeaArea, ...], tuple[Segment, ...]]:
    text = resources.files("fathom.domains.shipping.areas").joinpath("sea_areas.json").read_text("utf-8")
    raw: dict[str, Any] = json.loads(text)
    areas = tuple(_area_from_json(a) for a in raw["areas"])
    barriers: list[Segment] = []
    for b in raw.get("barriers_lonlat", []):
        pts = [(float(x), float(y)) for x, y in b["vertices_lonlat"]]
        barriers.extend(itertools.pairwise(pts))
    return areas, tuple(barriers)


def _area_from_json(a: dict[str, Any]) -> SeaArea:
    vertices = tuple((float(x), float(y)) for x, y in a["vertices_lonlat"])
    n = len(vertices)
    coast = tuple((i - 1, j - 1) for i, j in a.get("coast_edges", []))
    for i, j in coast:
        if j != (i + 1) % n:
            raise DomainError(f"sea_areas.json: {a['name']} coast edge {i + 1}-{j + 1} does not join "
                              f"consecutive vertices (the area has {n}); fix the package data file.")
    return SeaArea(name=a["name"], order=int(a["order"]), aliases=tuple(a.get("aliases", [])),
                   vertices=vertices, coast_edges=coast, fill_radius_deg=float(a["fill_radius_deg"]))


def sea_areas() -> list[SeaArea]:
    """The 31 sea areas in broadcast order (Viking first, Southeast Iceland last).

    >>> len(sea_areas()), sea_areas()[17].name
    (31, 'Trafalgar')
    """
    return list(_load()[0])


def sea_area(name: str) -> SeaArea:
    """Look an area up by canonical name or alias, ignoring case, spaces and hyphens.

    Raises:
        UnknownSeaAreaError: the name matches no area (the message suggests the closest).

    >>> sea_area("South-east Iceland").name
    'Southeast Iceland'
    """
    def key(s: str) -> str:
        return "".join(ch for ch in s.lower() if ch.isalnum())

    index = {}
    for area in sea_areas():
        for n in (area.name, *area.aliases):
            index[key(n)] = area
    found = index.get(key(name))
    if found is None:
        names = [a.name for a in sea_areas()]
        raise UnknownSeaAreaError(f"Unknown sea area {name!r}. {did_you_mean(name, names)} "
                                  f"Valid names: {', '.join(names)}.")
    return found


def outer_limits() -> list[Segment]:
    """Segments the gridding fill must not cross: the outer limits of the forecast region.

    An outer limit is the part of an area's straight edge that is not a coast edge and not shared
    with a neighbouring area (15 deg W, 35 deg N, the Skagerrak line, 61 deg N east of 0 deg, the
    northern edges of Fair Isle, Faeroes and Southeast Iceland ...), plus the extra barriers in
    ``sea_areas.json`` (the Strait of Gibraltar). Ends on a coast vertex are prolonged 0.3 deg over
    land.

    >>> any(abs(a[0] + 15) < 1e-9 and abs(b[0] + 15) < 1e-9 for a, b in outer_limits())
    True
    """
    areas, barriers = _load()
    return list(_outer_limits(areas)) + list(barriers)


@cache
def _outer_limits(areas: tuple[SeaArea, ...]) -> tuple[Segment, ...]:
    out: list[Segment] = []
    for k, area in enumerate(areas):
        others = [e for j, o in enumerate(areas) if j != k for e in o.edges]
        coast_vertices = {i for edge in area.coast_edges for i in edge}
        n = len(area.vertices)
        for i, (p, q) in enumerate(area.edges):
            if area.is_coast_edge(i):
                continue
            for t0, t1 in _unshared_runs(p, q, others):
                a, b = _lerp(p, q, t0), _lerp(p, q, t1)
                if t0 == 0.0 and i in coast_vertices:
                    a = _extend(b, a, _COAST_OVERHANG_DEG)
                if t1 == 1.0 and (i + 1) % n in coast_vertices:
                    b = _extend(a, b, _COAST_OVERHANG_DEG)
                out.append((a, b))
    return tuple(out) + _connectors(out)


def _connectors(segments: list[Segment]) -> tuple[Segment, ...]:
    """Short segments joining outer-limit ends that almost meet (at shared corners), closing gaps."""
    ends = [(k, pt) for k, seg in enumerate(segments) for pt in seg]
    joins: list[Segment] = []
    for i, (k1, p1) in enumerate(ends):
        for k2, p2 in ends[i + 1:]:
            gap = ((p1[0] - p2[0]) ** 2 + (p1[1] - p2[1]) ** 2) ** 0.5
            if k1 != k2 and 0.0 < gap <= _JOIN_DEG:
                joins.append((p1, p2))
    return tuple(joins)


def _unshared_runs(p: Point, q: Point, others: list[Segment]) -> list[tuple[float, float]]:
    """Parameter intervals ``[t0, t1]`` of edge p-q that no other area's edge runs along.

    A sample point of p-q counts as shared when an edge of another area that is nearly parallel
    (within about 18 deg) passes within the tolerance; edges meeting p-q at an angle do not count.
    """
    import numpy as np

    length = float(np.hypot(q[0] - p[0], q[1] - p[1]))
    n = max(2, int(length / _SAMPLE_STEP_DEG) + 1)
    ts = np.linspace(0.0, 1.0, n)
    px = p[0] + ts * (q[0] - p[0])
    py = p[1] + ts * (q[1] - p[1])
    ux, uy = (q[0] - p[0]) / length, (q[1] - p[1]) / length
    ends = np.asarray(others, dtype=np.float64).reshape(-1, 4)  # rows: ax, ay, bx, by
    ax, ay = ends[:, 0], ends[:, 1]
    dx, dy = ends[:, 2] - ax, ends[:, 3] - ay
    norm = np.hypot(dx, dy)
    keep = norm > 0
    keep[keep] = np.abs(ux * dx[keep] + uy * dy[keep]) / norm[keep] >= 0.95  # nearly parallel edges only
    ax, ay, dx, dy, norm = (a[keep, None] for a in (ax, ay, dx, dy, norm))
    t = np.clip(((px - ax) * dx + (py - ay) * dy) / (norm * norm), 0.0, 1.0)
    near = (np.hypot(px - ax - t * dx, py - ay - t * dy) <= _SHARED_TOLERANCE_DEG).any(axis=0)
    runs: list[tuple[float, float]] = []
    bounds = np.flatnonzero(np.diff(np.concatenate([[0], (~near).astype(np.int8), [0]])))
    for start, stop in zip(bounds[0::2].tolist(), bounds[1::2].tolist(), strict=True):  # samples start..stop-1
        # widen the run by half a sample step on each side (clamped to the edge)
        # and snap an end that stops within the tolerance of a corner onto the corner
        snap = 1.5 * _SHARED_TOLERANCE_DEG / length
        t0 = float(ts[start]) - 0.5 / (n - 1)
        t1 = float(ts[stop - 1]) + 0.5 / (n - 1)
        runs.append((0.0 if t0 <= snap else t0, 1.0 if t1 >= 1.0 - snap else t1))
    return runs


def _lerp(p: Point, q: Point, t: float) -> Point:
    return (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))


def _extend(frm: Point, to: Point, by: float) -> Point:
    dx, dy = to[0] - frm[0], to[1] - frm[1]
    norm = (dx * dx + dy * dy) ** 0.5
    return (to[0] + by * dx / norm, to[1] + by * dy / norm)

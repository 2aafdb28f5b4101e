"""Where a pressure centre is, in the words of the general synopsis.

Covers: naming a position ("Rockall", "200 miles west of Bailey", "just north of Viking",
"Iceland", "southern Norway"), great-circle distance and bearing in nautical miles and degrees,
and 8-point compass words. A point inside a sea area's straight polygon (the package's
``sea_areas.json``) takes the area's name; otherwise a land or sea place whose circle holds it
(:data:`PLACES`, Fathom's own gazetteer); otherwise its distance from the nearest area's edge
(rounded to 50 miles, "just" under 50) and its bearing from that area's centre. The polygon tests
are the sea-area type's own (:meth:`SeaArea.contains`, :meth:`SeaArea.edge_distance_deg`).

Not covered: tracking centres and the synopsis sentences (``writer/_synopsis.py``).

>>> position_words(57.0, -14.0)
'Rockall'
>>> position_words(64.8, -18.0)
'Iceland'
"""

from __future__ import annotations

import math
from functools import cache

from fathom.domains.shipping.areas import SeaArea, sea_areas
from fathom.domains.shipping.vocab import POINT_NOUNS, POINTS

__all__ = ["PLACES", "bearing_deg", "compass_point", "distance_nm", "locate_area",
           "near_areas", "position_words"]

EARTH_RADIUS_NM = 3440.065

PLACES: tuple[tuple[str, float, float, float], ...] = (
    ("Iceland", 64.9, -18.6, 190.0),
    ("Norwegian Basin", 67.0, -1.0, 200.0),
    ("southern Norway", 60.0, 8.5, 140.0),
    ("Norway", 64.5, 13.0, 180.0),
    ("Denmark", 56.0, 9.3, 90.0),
    ("southern Sweden", 57.5, 14.5, 130.0),
    ("the Baltic", 56.0, 18.0, 150.0),
    ("Germany", 51.5, 10.0, 180.0),
    ("the Netherlands", 52.3, 5.6, 70.0),
    ("Belgium", 50.6, 4.6, 55.0),
    ("France", 46.8, 2.5, 240.0),
    ("Spain", 40.2, -3.7, 240.0),
    ("Portugal", 39.6, -8.0, 110.0),
    ("northern Ireland", 54.7, -6.7, 45.0),
    ("Ireland", 53.2, -8.0, 110.0),
    ("Scotland", 57.0, -4.3, 110.0),
    ("northern England", 54.5, -2.0, 70.0),
    ("southern England", 51.5, -1.0, 80.0),
    ("Wales", 52.4, -3.7, 55.0),
    ("Shetland", 60.4, -1.3, 35.0),
    ("the Azores", 38.5, -28.0, 200.0),
    ("Morocco", 32.0, -6.0, 240.0),
)
"""(name, lat, lon, radius in nautical miles): land and seas around the sea areas, as the
synopsis names them. A point takes the place whose circle holds it most centrally."""


def distance_nm(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in nautical miles.

    >>> round(distance_nm(50.0, 0.0, 51.0, 0.0))
    60
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_NM * math.asin(min(1.0, math.sqrt(a)))


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial bearing from point 1 to point 2, degrees clockwise from north.

    >>> round(bearing_deg(50.0, 0.0, 51.0, 1.0))
    32
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(y, x)) % 360.0


def compass_point(degrees: float) -> str:
    """The nearest of the 8 points ("NE") to a bearing.

    >>> compass_point(30.0), compass_point(350.0)
    ('NE', 'N')
    """
    return POINTS[math.floor((degrees % 360.0) / 45.0 + 0.5) % 8]


def _edge_distance_nm(lat: float, lon: float, area: SeaArea) -> float:
    """Distance to the nearest edge of the straight polygon (local flat projection; 1 deg = 60 nm)."""
    return area.edge_distance_deg(lat, lon) * 60.0


@cache
def _areas() -> tuple[SeaArea, ...]:
    return tuple(sea_areas())


def locate_area(lat: float, lon: float) -> str | None:
    """The sea area whose straight polygon holds the point (first in broadcast order), or None.

    >>> locate_area(59.5, 2.0), locate_area(30.0, -40.0)
    ('Viking', None)
    """
    for area in _areas():
        if area.contains(lat, lon):
            return area.name
    return None


def near_areas(lat: float, lon: float, radius_nm: float) -> list[str]:
    """Areas holding the point or with an edge within ``radius_nm`` of it, in broadcast order.

    >>> near_areas(59.5, 2.0, 0.0)
    ['Viking']
    """
    return [a.name for a in _areas()
            if a.contains(lat, lon) or _edge_distance_nm(lat, lon, a) <= radius_nm]


def _place(lat: float, lon: float) -> str | None:
    best, best_ratio = None, 1.0
    for name, plat, plon, radius in PLACES:
        ratio = distance_nm(lat, lon, plat, plon) / radius
        if ratio <= best_ratio:
            best, best_ratio = name, ratio
    return best


def position_words(lat: float, lon: float) -> str:
    """Name a position the way the general synopsis does.

    >>> position_words(59.0, -12.0)
    'Bailey'
    >>> position_words(60.5, -20.0)
    '150 miles west of Bailey'
    """
    area = locate_area(lat, lon)
    if area is not None:
        return area
    place = _place(lat, lon)
    if place is not None:
        return place
    nearest = min(_areas(), key=lambda a: _edge_distance_nm(lat, lon, a))
    distance = _edge_distance_nm(lat, lon, nearest)
    clon, clat = nearest.centroid
    side = POINT_NOUNS[compass_point(bearing_deg(clat, clon, lat, lon))]
    if distance < 50.0:
        return f"just {side} of {nearest.name}"
    return f"{int(50 * round(distance / 50.0))} miles {side} of {nearest.name}"

"""Sea areas on grids: coverage at 0.25 and 0.1 deg, no overlap, land excluded, coast-following fill.

The land mask is the package's own GLOBE-derived land table (the synthetic generator's
``land_fraction``), so these tests need no download.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fathom.domains.shipping.areas._areas import UnknownSeaAreaError, outer_limits, sea_area, sea_areas
from fathom.domains.shipping.areas._masks import area_labels, area_masks, missing_areas
from fathom.domains.shipping.areas._masks_plot import plot_area_masks

NAMES = [a.name for a in sea_areas()]


def grid(res: float) -> tuple[np.ndarray, np.ndarray]:
    return np.round(np.arange(34.0, 66.0 + 1e-9, res), 6), np.round(np.arange(-20.0, 12.0 + 1e-9, res), 6)


def land_for(lat: np.ndarray, lon: np.ndarray, res: float) -> np.ndarray:
    from fathom.domains.shipping.nwp._grid import land_fraction

    return land_fraction(lat, lon, res)


@pytest.fixture(scope="module", params=[0.25, 0.1], ids=["0.25deg", "0.1deg"])
def gridded(request: pytest.FixtureRequest) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    res = request.param
    lat, lon = grid(res)
    land = land_for(lat, lon, res)
    return res, lat, lon, land, area_labels(lat, lon, land)


def label_at(labels: np.ndarray, lat: np.ndarray, lon: np.ndarray, y: float, x: float) -> str | None:
    k = int(labels[np.abs(lat - y).argmin(), np.abs(lon - x).argmin()])
    return NAMES[k] if k >= 0 else None


def test_area_table() -> None:
    assert len(NAMES) == 31 and NAMES[0] == "Viking" and NAMES[-1] == "Southeast Iceland"
    assert [a.order for a in sea_areas()] == list(range(1, 32))
    assert sea_area("Finisterre").name == "FitzRoy" and sea_area("se iceland").name == "Southeast Iceland"
    with pytest.raises(UnknownSeaAreaError, match="Did you mean 'Viking'"):
        sea_area("Vikings")
    biscay = sea_area("Biscay")
    assert biscay.is_coast_edge(1) and not biscay.is_coast_edge(0) and biscay.fill_radius_deg > 1


def test_outer_limits_are_the_region_edge() -> None:
    limits = outer_limits()

    def on(x: float, y: float) -> bool:  # a point on some outer-limit segment
        for (ax, ay), (bx, by) in limits:
            d = np.array([bx - ax, by - ay])
            t = np.clip(np.dot([x - ax, y - ay], d) / d.dot(d), 0, 1)
            if np.hypot(x - ax - t * d[0], y - ay - t * d[1]) < 1e-4:
                return True
        return False

    assert on(-15.0, 45.0) and on(-10.0, 35.0) and on(2.0, 61.0)  # 15W, 35N, 61N
    assert on(-5.0, 62.583333)  # the northern edge of Faeroes
    assert on(7.291667, 57.875) and on(8.041667, 57.416667)  # the Skagerrak line (South Utsire, Fisher)
    assert not on(4.0, 57.0) and not on(-6.25, 46.0) and not on(-1.0, 57.5)  # shared edges inside


def test_every_area_gets_cells_without_land() -> None:
    for res in (0.25, 0.1):
        labels = area_labels(*grid(res))
        assert missing_areas(labels) == []
        assert np.bincount(labels[labels >= 0], minlength=31).min() > 0


def test_every_area_gets_cells_with_land(gridded: tuple) -> None:
    res, _lat, _lon, _land, labels = gridded
    counts = np.bincount(labels[labels >= 0], minlength=31)
    assert missing_areas(labels) == [], res
    assert counts.min() >= (15 if res == 0.25 else 90)


def test_masks_do_not_overlap_and_exclude_land(gridded: tuple) -> None:
    _res, lat, lon, land, labels = gridded
    masks = area_masks(lat, lon, land)
    assert list(masks) == NAMES
    stacked = np.stack(list(masks.values()))
    assert stacked.sum(axis=0).max() == 1
    assert not (stacked.any(axis=0) & (land >= 0.5)).any()
    assert (stacked.any(axis=0) == (labels >= 0)).all()


@pytest.mark.parametrize(("where", "lat", "lon"), [
    ("Biscay", 45.5, -2.0),            # the Bay of Biscay off Arcachon
    ("Biscay", 43.75, -3.5),           # the Cantabrian coast east of FitzRoy's corner
    ("Lundy", 51.3, -4.0),             # Bristol Channel
    ("Cromarty", 57.75, -3.75),        # inner Moray Firth
    ("Forth", 56.1, -3.0),             # Firth of Forth (0.1 deg only: at 0.25 deg it is cut off by land)
    ("Irish Sea", 53.5, -3.4),         # Liverpool Bay
    ("Irish Sea", 54.7, -3.6),         # Solway Firth
    ("German Bight", 53.8, 8.3),       # Elbe mouth, Wadden Sea
    ("Trafalgar", 36.6, -6.6),         # Gulf of Cadiz
])
def test_coast_following_fill(gridded: tuple, where: str, lat: float, lon: float) -> None:
    """Each point lies beyond its area's straight polygon, in water the fill must reach."""
    res, glat, glon, _land, labels = gridded
    if where == "Forth" and res == 0.25:
        assert label_at(labels, glat, glon, lat, lon) is None  # an isolated sea cell stays unlabelled
        return
    assert label_at(labels, glat, glon, lat, lon) == where


@pytest.mark.parametrize(("lat", "lon"), [
    (58.2, 9.5),    # Skagerrak, beyond the line from Lindesnes to Hanstholm
    (57.0, 11.5),   # Kattegat
    (61.6, 3.0),    # north of 61N, east of 0
    (50.0, -16.0),  # west of 15W
    (36.3, -4.0),   # Mediterranean, beyond the Strait of Gibraltar
    (64.0, -2.0),   # Norwegian Sea, north of Faeroes
])
def test_fill_never_crosses_outer_limits(gridded: tuple, lat: float, lon: float) -> None:
    _res, glat, glon, _land, labels = gridded
    assert label_at(labels, glat, glon, lat, lon) is None


def test_without_land_the_bay_is_not_biscay() -> None:
    lat, lon = grid(0.25)
    labels = area_labels(lat, lon)
    assert label_at(labels, lat, lon, 45.5, -2.0) is None  # straight triangle only
    assert label_at(labels, lat, lon, 47.0, -5.8) == "Biscay"


def test_labels_are_cached_and_read_only() -> None:
    lat, lon = grid(0.5)
    a = area_labels(lat, lon)
    b = area_labels(lat.copy(), lon.copy())
    assert a is b and not a.flags.writeable
    c = area_labels(lat, lon, np.zeros((lat.size, lon.size)))
    assert c is not a


def test_longitudes_0_360_give_the_same_labels() -> None:
    lat, lon = grid(0.5)
    lon360 = lon % 360.0
    order = np.argsort(lon360)
    assert (area_labels(lat, lon360[order]) == area_labels(lat, lon)[:, order]).all()


def test_bad_shapes() -> None:
    with pytest.raises(ValueError, match="land has shape"):
        area_labels(np.arange(3.0), np.arange(4.0), np.zeros((4, 3)))


def test_plot(tmp_path: Path) -> None:
    lat, lon = grid(0.5)
    out = plot_area_masks(lat, lon, land_for(lat, lon, 0.5), tmp_path / "areas.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000

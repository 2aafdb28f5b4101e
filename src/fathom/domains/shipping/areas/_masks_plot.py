"""A picture of the gridded sea areas, to check by eye that the coast-following fill looks right.

Covers: one PNG with every area's cells in its own colour, land in grey, unlabelled sea in white,
the straight Factsheet polygons outlined in black and the outer limits in red.
Not covered: any computation (the labels come from :func:`area_labels`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fathom._manifest import save_figure
from fathom.domains.shipping.areas._areas import outer_limits, sea_areas
from fathom.domains.shipping.areas._masks import area_labels

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["plot_area_masks"]


def plot_area_masks(lat: ArrayLike, lon: ArrayLike, land: ArrayLike | None, path: str | os.PathLike[str],
                    *, title: str | None = None) -> Path:
    """Draw the area labels of a grid and write them to ``path`` as a PNG (atomically).

    Args:
        lat: 1-D cell-centre latitudes.
        lon: 1-D cell-centre longitudes.
        land: ``(lat, lon)`` land fraction or mask, or None (straight polygons only).
        path: where to write the PNG.
        title: optional figure title (default: the grid spacing and whether land was given).

    Returns:
        The path written.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure

    lat_a = np.asarray(lat, dtype=float)
    lon_a = (np.asarray(lon, dtype=float) + 180.0) % 360.0 - 180.0
    labels = area_labels(lat_a, lon_a, land).astype(float)
    areas = sea_areas()
    image = labels.copy()
    image[labels < 0] = np.nan
    land_img = None
    if land is not None:
        land_img = np.where(np.asarray(land, dtype=float) >= 0.5, 1.0, np.nan)

    fig = Figure(figsize=(11, 11), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.set_facecolor("white")
    colours = [_colour(k) for k in range(len(areas))]
    ax.pcolormesh(lon_a, lat_a, image, cmap=ListedColormap(colours), vmin=-0.5,
                  vmax=len(areas) - 0.5, shading="nearest")
    if land_img is not None:
        ax.pcolormesh(lon_a, lat_a, land_img, cmap=ListedColormap(["#9a9a9a"]), shading="nearest")
    for k, area in enumerate(areas):
        xs = [v[0] for v in area.vertices] + [area.vertices[0][0]]
        ys = [v[1] for v in area.vertices] + [area.vertices[0][1]]
        ax.plot(xs, ys, color="black", linewidth=0.6)
        rows, cols = np.nonzero(labels == k)
        if rows.size and np.isfinite(image).any():
            ax.text(float(np.median(lon_a[cols])), float(np.median(lat_a[rows])), area.name,
                    fontsize=7, ha="center", va="center")
    for (x1, y1), (x2, y2) in outer_limits():
        ax.plot([x1, x2], [y1, y2], color="red", linewidth=1.4)
    spacing = float(np.median(np.abs(np.diff(lat_a)))) if lat_a.size > 1 else float("nan")
    ax.set_title(title or f"Sea areas at {spacing:g} deg ({'land mask' if land is not None else 'no land mask'})")
    ax.set_xlim(float(lon_a.min()), float(lon_a.max()))
    ax.set_ylim(float(lat_a.min()), float(lat_a.max()))
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_aspect(1.0 / np.cos(np.radians(float(np.mean(lat_a)))))
    fig.tight_layout()

    return save_figure(fig, path)


def _colour(k: int) -> str:
    """31 distinguishable colours: neighbours in broadcast order get far-apart hues."""
    import colorsys

    hue = (k * 0.381966) % 1.0
    light = 0.55 + 0.15 * (k % 3) / 2
    r, g, b = colorsys.hls_to_rgb(hue, light, 0.75)
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"

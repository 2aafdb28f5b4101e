"""The 31 sea areas: corners, aliases and coast edges, and their cells on a model grid.

Covers: the shipped ``sea_areas.json`` (Met Office Factsheet 8), area look-ups, rasterising the
areas onto any regular grid following the coast, and a PNG of the result. Not covered: any
statistic over the cells (``stats``).
"""

from __future__ import annotations

from fathom.domains.shipping.areas._areas import SeaArea, sea_area, sea_areas
from fathom.domains.shipping.areas._masks import area_labels, area_masks, missing_areas
from fathom.domains.shipping.areas._masks_plot import plot_area_masks

__all__ = [
    "SeaArea", "area_labels", "area_masks", "missing_areas", "plot_area_masks", "sea_area",
    "sea_areas"
]

"""Sea-area statistics of one model run: the ``fathom.shipping.stats/1`` JSON object.

Covers :func:`compute_stats`: open the run (:func:`open_run`), label the grid with the 31 areas
(:func:`area_labels`, using the run's land-sea mask when it has one), and summarise wind, sea
state, precipitation, visibility, temperature and pressure per area for every time step and for
the periods ``all``, ``first`` (steps less than ``first_hours`` after the first time) and
``second`` (the rest); find pressure centres. The schema, thresholds and fallbacks are documented
in ``docs/shipping-stats.md``; the arithmetic lives in :mod:`~fathom.domains.shipping.stats._groups`.

Missing data: NaN cells are left out of every summary. When a summary has no valid cell-hour for a
quantity, its numbers are null and the quantity's name is listed in the summary's ``missing``
list (never a silently wrong number). An area the grid does not reach raises
:class:`ShippingDataError`, or with ``allow_partial=True`` gets ``cells: 0``, null numbers and
``"no cells"`` in ``missing``.

Not covered: many runs in parallel (:mod:`~fathom.domains.shipping.stats._scale`), writing files (the CLI),
text generation.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from fathom.domains.shipping.areas import area_labels, missing_areas, sea_areas
from fathom.domains.shipping.reader import (
    NETCDF_LOCK,
    REQUIRED,
    PlainRun,
    ShippingDataError,
    check_values,
    open_run,
    read_plain_run,
)
from fathom.domains.shipping.stats._centres import areas_touched, find_centres
from fathom.domains.shipping.stats._groups import Layout
from fathom.domains.shipping.stats._summary import summaries
from fathom.errors import FathomWarning

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["SCHEMA", "StatsOptions", "compute_stats"]

SCHEMA = "fathom.shipping.stats/1"


@dataclass(frozen=True)
class StatsOptions:
    """Thresholds of the statistics (Fathom conventions; defaults follow the shared contract)."""

    first_hours: float = 12.0
    """Steps less than this many hours after the first time form the ``first`` period."""
    low_radius_deg: float = 1.0
    """A low centre within this distance of an area's polygon counts towards ``low_centre_hours``."""
    centre_window_deg: float = 5.0
    """Side of the square neighbourhood a pressure centre must be the extreme of."""
    centre_depth_hpa: float = 2.0
    """How far a centre must lie below (low) or above (high) the mean of its neighbourhood's ring."""
    allow_partial: bool = False
    """Accept a grid that misses some areas (they are marked missing) instead of raising."""

    def __post_init__(self) -> None:
        if not self.first_hours > 0:
            raise ShippingDataError(f"first_hours must be > 0, got {self.first_hours}.")
        if self.centre_window_deg <= 0 or self.low_radius_deg < 0 or self.centre_depth_hpa < 0:
            raise ShippingDataError(
                f"centre_window_deg must be > 0 and low_radius_deg, centre_depth_hpa >= 0; got "
                f"{self.centre_window_deg}, {self.low_radius_deg}, {self.centre_depth_hpa}.")


def compute_stats(source: Any, *, options: StatsOptions | None = None, force: bool = False,
                  **open_kwargs: Any) -> dict[str, Any]:
    """Statistics of one run per sea area, per step and per period (schema ``fathom.shipping.stats/1``).

    Args:
        source: a run folder, NetCDF file(s), a raw ``xr.Dataset``, or the canonical Dataset that
            :func:`open_run` returns.
        options: thresholds; see :class:`StatsOptions`.
        force: use values that fail the reader's plausibility check for their units (each becomes a
            :class:`~fathom.errors.FathomWarning` and a line of ``run.data_warnings``) instead of raising.
        **open_kwargs: passed to :func:`open_run` (``variables=``, ``accumulation=``, ``chunks=``).
            Files are read without dask unless ``chunks=`` asks for it: one run fits in memory, and
            a process computing one run need not import dask. Plain CF files are read without
            xarray at all (:func:`~fathom.domains.shipping.reader.read_plain_run`, same values).

    Returns:
        A JSON-serialisable dict (see ``docs/shipping-stats.md``).

    Raises:
        ShippingDataError: unreadable input, values implausible for their units (unless
            ``force``), or a grid that misses areas (unless ``options.allow_partial``).
    """
    options = options or StatsOptions()
    plain = _plain(source, open_kwargs)
    if plain is not None:  # plain CF files, read without xarray (the reader's notes on `read_plain_run`)
        forced = _forced(plain.data, plain.attrs, force)
        result = stats_from_arrays(plain.data, plain.lat, plain.lon, plain.times, sources=plain.sources,
                                   notes=[], options=options)
        result["run"]["data_warnings"] = [*forced, *_no_waves(list(plain.data), plain.sources)]
        return result
    # Files are opened, read and closed under one process-wide lock (see the reader's notes on
    # threads); the statistics run outside it, in parallel where the caller uses threads.
    with NETCDF_LOCK:
        if _is_canonical(source) and not open_kwargs:
            loaded = _load(source)
        else:
            with open_run(source, **{"chunks": False, **open_kwargs}, check_ranges=False) as ds:
                loaded = _load(ds)  # checked below, on the arrays in memory (no second read)
            names = list(map(str, loaded.data_vars))
            loaded.attrs["data_warnings"] = _forced({n: loaded[n].values for n in names},
                                                    {n: loaded[n].attrs for n in names}, force)
    result = _from_dataset(loaded, options)
    result["run"]["data_warnings"] = [*loaded.attrs.get("data_warnings", []),
                                      *_no_waves(list(map(str, loaded.data_vars)), loaded.attrs.get("sources", []))]
    return result


def _plain(source: Any, open_kwargs: dict[str, Any]) -> PlainRun | None:
    """The run read by :func:`read_plain_run` when nothing asks for the full reader, else None."""
    if set(open_kwargs) - {"variables", "accumulation", "chunks"} or open_kwargs.get("chunks") not in (None, False):
        return None
    return read_plain_run(source, open_kwargs.get("variables"))


def _forced(values: dict[str, Any], attrs: dict[str, Any], force: bool) -> list[str]:
    """The reader's plausibility check on the loaded arrays: raises, or (``force``) warns and lists."""
    import warnings

    problems = check_values(values, attrs, force=force)
    for problem in problems:
        warnings.warn(f"used anyway (force): {problem}", FathomWarning, stacklevel=3)
    return [f"used anyway (force): {p}" for p in problems]


def _no_waves(names: list[str], inputs: list[Any]) -> list[str]:
    """The loud note for a run without wave data (a missing wave file), whose sea state gets guessed."""
    if "swh" in names:
        return []
    sources = ", ".join(str(s) for s in inputs) or "the input"
    return [f"no wave variable (swh) in {sources}: the statistics have no sea state, so the writer "
            f"estimates it from the wind (WMO probable wave height of each Beaufort force). Add the "
            f"run's wave file (e.g. wave.nc) to use the wave model's."]


def _is_canonical(source: Any) -> bool:
    xr = sys.modules.get("xarray")  # no Dataset exists before xarray is imported: don't import it to check
    return (xr is not None and isinstance(source, xr.Dataset)
            and set(REQUIRED) <= set(map(str, source.data_vars))
            and {"time", "lat", "lon"} <= set(map(str, source.dims)))


def _load(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with every array read into memory, in this thread."""
    if sys.modules.get("dask") is None:  # dask never imported (or kept out): nothing is dask-backed
        return ds.compute()
    import dask

    # A threaded compute (or, inside a dask.distributed task, the cluster) would hand the open
    # HDF5 files to other threads (HDF5 is not thread-safe: "HDF error", segfaults).
    with dask.config.set(scheduler="synchronous"):
        return ds.compute()


def _from_dataset(ds: xr.Dataset, options: StatsOptions) -> dict[str, Any]:
    data = {str(name): np.asarray(ds[name].values) for name in ds.data_vars}
    return stats_from_arrays(data, ds["lat"].values, ds["lon"].values, ds["time"].values,
                             sources=[str(s) for s in ds.attrs.get("sources", [])],
                             notes=list(ds.attrs.get("notes", [])), options=options)


def stats_from_arrays(data: dict[str, np.ndarray], lat: np.ndarray, lon: np.ndarray, times: np.ndarray, *,
                      sources: list[str], notes: list[str], options: StatsOptions) -> dict[str, Any]:
    """:func:`compute_stats` on arrays already in memory (canonical names and units, ``(time, lat, lon)``)."""
    areas = sea_areas()
    land = data.get("lsm")
    labels = area_labels(lat, lon, land)
    gone = missing_areas(labels)
    if gone and not options.allow_partial:
        raise ShippingDataError(
            f"the grid (lat {lat.min():g}..{lat.max():g}, lon {lon.min():g}..{lon.max():g}) has no sea "
            f"cell in {len(gone)} area(s): {', '.join(gone)}. Use a grid covering about 34N-66N, 20W-12E, "
            f"or allow partial coverage (allow_partial=True, --allow-partial).")
    flat = labels.ravel()
    cells = np.flatnonzero(flat >= 0)
    cells = cells[np.argsort(flat[cells], kind="stable")]
    hours = (times - times[0]) / np.timedelta64(1, "h")
    layout = Layout(area_of_cell=flat[cells].astype(np.intp), n_areas=len(areas),
                    first=hours < options.first_hours)
    fields = {name: arr.reshape(arr.shape[0], -1)[:, cells] for name, arr in data.items() if arr.ndim == 3}
    step_hours = float(np.median(np.diff(hours))) if hours.size > 1 else 1.0
    centres = find_centres(data["msl"], lat, lon, window_deg=options.centre_window_deg,
                           depth_hpa=options.centre_depth_hpa)
    low_steps = np.zeros((layout.n_steps, len(areas)))
    for c in centres:
        if c.kind == "low":
            low_steps[c.step, areas_touched(c.lat, c.lon, areas, options.low_radius_deg)] = step_hours
    per_row = summaries(fields, layout, layout.rollup(low_steps))
    n_cells = np.bincount(layout.area_of_cell, minlength=len(areas))
    out_areas: dict[str, Any] = {}
    for k, area in enumerate(areas):
        rows = [per_row(r, k) for r in range(layout.n_steps + 3)]
        if n_cells[k] == 0:
            for s in rows:
                s["missing"] = ["no cells", *s["missing"]]
        out_areas[area.name] = {
            "cells": int(n_cells[k]),
            "periods": {"all": rows[-3], "first": rows[-2], "second": rows[-1]},
            "steps": rows[:-3],
        }
    grid_note = ("land-sea mask from the model (lsm >= 0.5 is land); coast-following fill"
                 if land is not None else
                 "no land-sea mask in the input: areas are the straight Factsheet polygons, "
                 "land inside them counts as sea")
    return {
        "schema": SCHEMA,
        "run": {
            "start": _iso(times[0]), "end": _iso(times[-1]), "steps": int(times.size),
            "grid": {"dlat": _spacing(lat), "dlon": _spacing(lon)},
            "sources": sources,
            "first_hours": options.first_hours,
            "land_mask": land is not None,
            "missing_areas": gone,
            "notes": [*notes, grid_note],
        },
        "areas": out_areas,
        "pressure_centres": [
            {"time": _iso(times[c.step]), "kind": c.kind, "lat": round(c.lat, 2), "lon": round(c.lon, 2),
             "hpa": round(c.hpa, 1), "depth_hpa": round(c.depth_hpa, 1)} for c in centres],
    }


def _iso(t: np.datetime64) -> str:
    return str(np.asarray(t).astype("datetime64[s]")) + "Z"


def _spacing(coord: np.ndarray) -> float:
    return round(float(np.median(np.abs(np.diff(coord)))), 6) if coord.size > 1 else 0.0

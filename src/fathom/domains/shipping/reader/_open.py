"""Read NWP model output (NetCDF) into one canonical, lazy ``xarray.Dataset``.

Covers: opening one file, several files or a run folder (every ``*.nc`` in it); finding variables
by CF ``standard_name`` or ERA5 / Met Office short name (:mod:`~fathom.domains.shipping.reader._vars`); converting units
(:mod:`~fathom.domains.shipping.reader._units`); turning accumulations into rates; normalising coordinates; and merging
atmosphere and wave files that may sit on different grids.

The result has dims ``(time, lat, lon)`` with ``lat`` ascending and ``lon`` in [-180, 180), and
these variables (those marked * are optional):

============ ======= ==========================================================
name         units   from
============ ======= ==========================================================
u10, v10     m s-1   10 m wind components
msl          hPa     mean sea-level pressure
precip_rate  mm h-1  precipitation (a rate, or an accumulation differenced in time)
conv_rate*   mm h-1  convective precipitation (same rules)
snow_rate*   mm h-1  snowfall, water equivalent (same rules)
swh*         m       significant wave height (NaN over land)
vis*         m       visibility
t2m*         degC    2 m air temperature
lsm*         1       land fraction, dims ``(lat, lon)`` only
tcc*         1       total cloud cover
============ ======= ==========================================================

**Accumulations** (units of length or ``kg m-2``) become rates. ``accumulation="running"`` means
amounts summed since the run started: the rate at step t is ``(A[t] - A[t-1]) / dt``, a drop
(a reset between concatenated files) counts as ``A[t]`` since the reset, and step 0 takes step 1's
rate. ``"interval"`` means each value is the amount over the step ending at that time (ERA5
hourly reanalysis ``tp``): the rate is ``A[t] / dt``. ``"auto"`` (default) reads a sparse sample
of the field (every 8th cell, all times): running if at least 99% of its step-to-step changes
where the cell is wet at either end are non-negative, else interval; a CF ``cell_methods``
naming an ``interval`` decides without reading.

**Grids.** The grid of the file holding ``u10`` (else the first file) is the target. A variable on
another grid (a wave model on 0.5 deg) is interpolated onto it lazily: bilinear, with the nearest
value used where bilinear meets NaN (so coastal wave cells are not lost); times that differ are
interpolated linearly. ``ds.attrs["notes"]`` records every interpolation.

**Checks.** After conversion every variable is checked against the range a real field of it has
(:mod:`~fathom.domains.shipping.reader._ranges`: hPa labelled ``Pa``, degC labelled ``K``, km
labelled ``m``, km/h labelled ``m s-1`` stop with an error naming the variable, its units and the
values seen); ``force=True`` makes that a warning. A folder that is, or holds, the leftover of an
interrupted write (a hidden ``*.tmp``) is refused (:func:`check_finished`).

Nothing is read until needed (dask-backed), except the ``auto`` accumulation sample and the
range check's sample (up to 4 time steps; ``check_ranges=False`` skips it).

**Threads.** The netCDF-C and HDF5 libraries in the PyPI ``netCDF4`` wheels are not thread-safe,
and xarray's own locks miss some paths: two threads reading different files crash the process
(SIGSEGV or SIGBUS, pydata/xarray#9779, Unidata/netcdf4-python#1452). Code here that may run in
several threads of one process takes :data:`NETCDF_LOCK` around opening, reading and closing
files (:func:`~fathom.domains.shipping.compute_stats` does); :func:`open_run` closes what it
opened when it fails, so no file is left for the garbage collector to close in another thread.

Not covered: curvilinear or rotated grids (regrid first), ensembles (select a member first:
``open_run(xr.open_dataset(f).isel(number=0))``), GRIB (convert to NetCDF, or open with cfgrib
and pass the Dataset).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from fathom._files import is_leftover
from fathom.domains.shipping.reader._ranges import check_dataset
from fathom.domains.shipping.reader._units import KINDS, to_target
from fathom.domains.shipping.reader._vars import (
    REQUIRED,
    ROLES,
    Role,
    ShippingDataError,
    describe,
    expected,
    find_variable,
)

if TYPE_CHECKING:
    import xarray as xr

NETCDF_LOCK = threading.RLock()
"""Held by this package around every open, read and close of NetCDF files that may happen in threads."""

__all__ = ["ShippingDataError", "check_finished", "open_run", "run_files"]

Accumulation = Literal["auto", "running", "interval"]

_LAT = ("lat", "latitude", "nav_lat", "y")
_LON = ("lon", "longitude", "nav_lon", "x")
_TIME = ("time", "valid_time", "t", "times")


def run_files(source: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The NetCDF files of a run: a folder gives every ``*.nc`` in it (sorted), files pass through.

    Raises:
        ShippingDataError: a path does not exist, a folder holds no ``*.nc``, or it is (or holds) the
            leftover of an interrupted write (see :func:`check_finished`).
    """
    items = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    files: list[Path] = []
    for item in items:
        p = Path(item)
        check_finished(p if p.is_dir() else p.parent, inside=p.is_dir())
        if p.is_dir():
            found = sorted(p.glob("*.nc"))
            if not found:
                raise ShippingDataError(f"{p} is a folder with no *.nc files; a run folder holds the "
                                        f"model's NetCDF files (e.g. atmosphere.nc, wave.nc).")
            files.extend(found)
        elif p.exists():
            files.append(p)
        else:
            raise ShippingDataError(f"{p} does not exist; pass a run folder or NetCDF files.")
    if not files:
        raise ShippingDataError("no input given: pass a run folder or one or more NetCDF files.")
    return files


def check_finished(folder: Path, *, inside: bool = True) -> None:
    """Refuse a run folder that an interrupted write left behind, so it cannot pass for a whole run.

    ``fathom shipping nwp`` (and :func:`fathom._files.atomic_dir`) write a run into a hidden
    temporary sibling ``.NAME.<random>.tmp`` and rename it when whole; earlier versions wrote each
    file as a hidden ``.FILE.<random>.tmp`` inside the run folder. Either leftover means a write
    was killed (or is still running), and the run may lack a file (the wave file: then the sea
    state would silently come from the wind).

    Args:
        folder: the run folder (or the folder of a file given directly).
        inside: also look for leftover temporary files inside ``folder`` (for run folders; a file's
            own folder, such as ``/tmp``, may hold other programs' temporaries).

    Raises:
        ShippingDataError: naming the leftover and what to do.
    """
    if is_leftover(folder):
        raise ShippingDataError(
            f"{folder} is the temporary folder of a run whose writing was interrupted (e.g. `fathom "
            f"shipping nwp` killed) or is still running, not a finished run. Re-run the same `fathom "
            f"shipping nwp` command to finish the run (it removes this folder), or delete it.")
    leftovers = sorted(p.name for p in folder.glob(".*") if is_leftover(p)) if inside else []
    if leftovers:
        raise ShippingDataError(
            f"{folder} holds {', '.join(leftovers)}, left by a write that was interrupted (or is still "
            f"running), so the run may be incomplete (a missing wave file would make the sea state an "
            f"estimate from the wind). Re-run the command that wrote it (`fathom shipping nwp` rewrites "
            f"unfinished runs), or delete the leftover if the run is complete.")


def open_run(source: Any, *, chunks: Mapping[str, int] | str | Literal[False] | None = None,
             variables: Mapping[str, str] | None = None, accumulation: Accumulation = "auto",
             require: Sequence[str] = REQUIRED, force: bool = False, check_ranges: bool = True) -> xr.Dataset:
    """Open model output as one canonical Dataset (see the module notes for the conventions).

    Args:
        source: a run folder, a NetCDF path, an open ``xr.Dataset``, or a list mixing these.
        chunks: dask chunks per file; None (default) uses each file's own chunking; False reads
            without dask (xarray's own lazy arrays, loaded on first computation; dask is not imported).
        variables: overrides, canonical name -> variable name in the files (``{"u10": "U_10M"}``).
        accumulation: how to turn accumulated amounts into rates: ``"auto"``, ``"running"``
            (since the run started) or ``"interval"`` (per step).
        require: canonical names that must be found (default: u10, v10, msl, precip_rate).
        force: use values that fail the plausibility check for their units
            (:func:`~fathom.domains.shipping.reader._ranges.check_values`): each problem becomes a
            :class:`~fathom.errors.FathomWarning` and a line of ``attrs["data_warnings"]``.
        check_ranges: run that check here, on up to 4 time steps (reading them). False skips it,
            for callers that check the arrays once loaded (``compute_stats`` does).

    Returns:
        A lazy Dataset with dims ``(time, lat, lon)``; ``attrs["sources"]`` lists the inputs.
        Closing it (``ds.close()`` or ``with open_run(...) as ds``) closes the files.

    Raises:
        ShippingDataError: a required variable is missing (the message lists what each file
            holds), a unit is unknown, the values are implausible for their units (unless
            ``force``), a folder is the leftover of an interrupted write, or the coordinates cannot
            be read.
    """
    import xarray as xr

    explicit = dict(variables or {})
    unknown = sorted(set(explicit) - {r.name for r in ROLES})
    if unknown:
        raise ShippingDataError(f"variables= names unknown canonical variables {unknown}; valid: "
                                f"{', '.join(r.name for r in ROLES)}.")
    inputs = source if isinstance(source, (list, tuple)) else [source]
    opened: list[tuple[str, xr.Dataset]] = []
    ours: list[xr.Dataset] = []  # files opened here (closed again if anything below fails)
    try:
        for item in inputs:
            if isinstance(item, xr.Dataset):
                opened.append((str(item.encoding.get("source", "<in-memory Dataset>")), item))
            else:
                for f in run_files(item):
                    ours.append(_open_file(f, chunks))
                    opened.append((str(f), ours[-1]))
        ds = _canonical(opened, explicit, accumulation, require)
        if check_ranges:
            _warn_forced(ds, check_dataset(ds, force=force))
    except BaseException:
        for d in ours:
            d.close()
        raise

    def close_files() -> None:
        for _, d in opened:
            d.close()

    ds.set_close(close_files)
    return ds


def _warn_forced(ds: xr.Dataset, problems: list[str]) -> None:
    """Report values used despite the plausibility check (``force=True``)."""
    import warnings

    from fathom.errors import FathomWarning

    for problem in problems:
        warnings.warn(f"used anyway (force): {problem}", FathomWarning, stacklevel=3)
    if problems:
        ds.attrs["data_warnings"] = [f"used anyway (force): {p}" for p in problems]


def _canonical(opened: list[tuple[str, xr.Dataset]], explicit: dict[str, str], accumulation: Accumulation,
               require: Sequence[str]) -> xr.Dataset:
    """Find, convert and combine the canonical variables of the opened inputs."""
    found: dict[str, list[tuple[str, xr.DataArray]]] = {}
    for where, raw in opened:
        names = {role: find_variable(raw, role, explicit, where) for role in ROLES}
        picked = {role: name for role, name in names.items() if name is not None}
        if not picked:
            continue
        ds = _normalise_coords(raw[sorted(set(picked.values()))], where)
        for role, name in picked.items():
            da = _convert(ds[name], role, where, accumulation)
            found.setdefault(role.name, []).append((where, da))
    missing = [r for r in ROLES if r.name in require and r.name not in found]
    if missing:
        contents = "\n".join(f"  {w}: {describe(d)}" for w, d in opened)
        wanted = "\n".join(f"  {r.name}: {expected(r)}" for r in missing)
        raise ShippingDataError(f"missing {', '.join(r.name for r in missing)}. Expected:\n{wanted}\n"
                                f"The input holds:\n{contents}\nIf a variable is there under another "
                                f"name, pass variables={{'CANONICAL': 'NAME'}}.")
    return _combine(found, [w for w, _ in opened])


def _open_file(path: Path, chunks: Mapping[str, int] | str | Literal[False] | None) -> xr.Dataset:
    import xarray as xr

    try:
        return xr.open_dataset(path, chunks=None if chunks is False else
                               dict(chunks) if isinstance(chunks, Mapping) else (chunks or {}))
    except (OSError, ValueError) as exc:
        raise ShippingDataError(f"{path}: cannot open as NetCDF ({exc}). Pass NetCDF-3 or NetCDF-4 "
                                f"files (GRIB: convert first or open with cfgrib and pass the Dataset).") from exc


def _coord_name(ds: xr.Dataset, names: tuple[str, ...], std: str, units: tuple[str, ...]) -> str | None:
    for c in map(str, ds.coords):
        attrs = ds[c].attrs
        if attrs.get("standard_name") == std or str(attrs.get("units", "")).lower() in units:
            return c
    for c in names:
        if c in ds.coords or c in ds.dims:
            return c
    return None


def _normalise_coords(ds: xr.Dataset, where: str) -> xr.Dataset:
    """Rename to time/lat/lon, squeeze singleton dims, sort lat ascending, wrap lon to [-180, 180)."""
    import numpy as np

    lat = _coord_name(ds, _LAT, "latitude", ("degrees_north", "degree_north", "degrees_n", "degree_n"))
    lon = _coord_name(ds, _LON, "longitude", ("degrees_east", "degree_east", "degrees_e", "degree_e"))
    if lat is None or lon is None:
        raise ShippingDataError(f"{where}: no latitude/longitude coordinates found (looked for "
                                f"standard_name latitude/longitude, units degrees_north/east, or names "
                                f"{'/'.join(_LAT)} and {'/'.join(_LON)}). Coordinates present: "
                                f"{', '.join(map(str, ds.coords)) or 'none'}.")
    if ds[lat].ndim != 1 or ds[lon].ndim != 1:
        raise ShippingDataError(f"{where}: latitude/longitude are {ds[lat].ndim}-D; only regular "
                                f"lat/lon grids with 1-D coordinates are supported. Regrid first.")
    time = next((c for c in (*_TIME, *map(str, ds.coords)) if c in ds.coords
                 and np.issubdtype(ds[c].dtype, np.datetime64) and ds[c].ndim == 1), None)
    rename = {k: v for k, v in ((lat, "lat"), (lon, "lon"), (time, "time")) if k and k != v}
    if time and time not in ds.dims and ds[time].ndim == 1:  # e.g. valid_time along dim "step"
        ds = ds.swap_dims({ds[time].dims[0]: time})
    ds = ds.rename(rename)
    extra = [d for d in ds.dims if d not in ("time", "lat", "lon")]
    singleton = [d for d in extra if ds.sizes[d] == 1]
    ds = ds.isel({d: 0 for d in singleton}, drop=False)
    big = [d for d in extra if ds.sizes.get(d, 1) > 1]
    if big:
        raise ShippingDataError(f"{where}: dimensions {big} have more than one value (ensemble "
                                f"members, levels, ...). Select one first, e.g. "
                                f"open_run(xr.open_dataset(path).isel({big[0]}=0)).")
    lon_values = ((ds["lon"].values + 180.0) % 360.0) - 180.0
    ds = ds.assign_coords(lon=("lon", lon_values, ds["lon"].attrs))
    for dim in ("lon", "lat", "time"):  # sorting an already sorted axis would still copy it
        if dim in ds.dims and not ds.indexes[dim].is_monotonic_increasing:
            ds = ds.sortby(dim)
    return ds


def _convert(da: xr.DataArray, role: Role, where: str, accumulation: Accumulation) -> xr.DataArray:
    """Units to the role's target; accumulations to rates; dims to (time, lat, lon)."""
    units = da.attrs.get("units")
    for kind in role.kinds:
        conv = to_target(units, kind)
        if conv is not None:
            break
    else:
        accepted = " | ".join(KINDS[k][1] for k in role.kinds)
        raise ShippingDataError(f"{where}: variable {da.name!r} ({role.description}) has units "
                                f"{units!r}, which Fathom cannot convert. Accepted: {accepted}. Fix the "
                                f"file's units attribute or pass the variable already converted.")
    scale, offset = conv
    attrs = {"long_name": role.description, "source_variable": str(da.name), "source_units": units,
             "source_file": where}
    import numpy as np

    out = da if np.issubdtype(da.dtype, np.floating) else da.astype("float64")  # float32 stays float32
    if (scale, offset) != (1.0, 0.0):
        out = out * scale + offset
    if kind == "water_amount":
        out = _amount_to_rate(out, da, where, accumulation)
        attrs["accumulation"] = out.attrs.get("accumulation", "")
    if role.name == "lsm":
        out = out.isel(time=0, drop=True) if "time" in out.dims else out
        out = out.transpose("lat", "lon")
    else:
        if "time" not in out.dims:
            raise ShippingDataError(f"{where}: {da.name!r} ({role.description}) has no time dimension "
                                    f"(dims {tuple(map(str, da.dims))}).")
        out = out.transpose("time", "lat", "lon")
    out = out.reset_coords(drop=True)
    out.attrs = {**attrs, "units": KINDS["water_rate" if kind == "water_amount" else kind][0]}
    return out.rename(role.name)


def _amount_to_rate(amount: xr.DataArray, raw: xr.DataArray, where: str,
                    accumulation: Accumulation) -> xr.DataArray:
    import numpy as np
    import xarray as xr

    if "time" not in amount.dims or amount.sizes["time"] < 2:
        raise ShippingDataError(f"{where}: {raw.name!r} is an accumulation (units {raw.attrs.get('units')!r}) "
                                f"but has fewer than 2 time steps, so no rate can be derived.")
    hours = (np.diff(amount["time"].values) / np.timedelta64(1, "h")).astype(float)
    if (hours <= 0).any():
        raise ShippingDataError(f"{where}: times of {raw.name!r} are not strictly increasing.")
    dt = xr.DataArray(np.concatenate([hours[:1], hours]), dims="time", coords={"time": amount["time"]})
    mode = accumulation if accumulation != "auto" else _guess_accumulation(amount, raw)
    if mode == "interval":
        rate = amount / dt
    else:
        step = amount.diff("time", label="upper")
        step = step.where(step >= 0, amount.isel(time=slice(1, None)))  # a drop is a reset
        rate = step / dt.isel(time=slice(1, None))
        rate = xr.concat([rate.isel(time=[0]).assign_coords(time=amount["time"][:1]), rate], dim="time")
    rate = rate.clip(min=0.0)
    rate.attrs["accumulation"] = mode
    return rate


def _guess_accumulation(amount: xr.DataArray, raw: xr.DataArray) -> str:
    import numpy as np

    if "interval" in str(raw.attrs.get("cell_methods", "")):
        return "interval"
    sparse = amount.isel(lat=slice(None, None, 8), lon=slice(None, None, 8))
    if sparse.chunks is None:  # not dask-backed (chunks=False): read here, in this thread
        sample = np.asarray(sparse.values)
    else:
        import dask

        with dask.config.set(scheduler="synchronous"):  # read in this thread (HDF5 is not thread-safe)
            sample = np.asarray(sparse.values)
    steps = np.diff(sample, axis=0)
    wet = (np.abs(sample[1:]) > 1e-9) | (np.abs(sample[:-1]) > 1e-9)
    steps = steps[wet & np.isfinite(steps)]
    if steps.size == 0:  # dry everywhere sampled: both readings give zero rates
        return "running"
    return "running" if (steps >= -1e-9).mean() >= 0.99 else "interval"


def _combine(found: dict[str, list[tuple[str, xr.DataArray]]], sources: list[str]) -> xr.Dataset:
    """One Dataset on the target grid: concat repeated variables in time, interpolate other grids."""
    import xarray as xr

    notes: list[str] = []
    merged: dict[str, xr.DataArray] = {}
    for name, parts in found.items():
        arrays = [da for _, da in parts]
        if len(arrays) > 1 and "time" in arrays[0].dims:
            da = xr.concat(arrays, dim="time").sortby("time")
            da = da.isel(time=~da.get_index("time").duplicated())
            da.attrs = arrays[0].attrs
        else:
            da = arrays[0]
        merged[name] = da
    target = merged.get("u10", next(iter(merged.values())))
    for name, da in list(merged.items()):
        if not _same_grid(da, target):
            merged[name] = _regrid(da, target)
            notes.append(f"{name} interpolated from a {da.sizes['lat']}x{da.sizes['lon']} grid onto "
                         f"the {target.sizes['lat']}x{target.sizes['lon']} grid of u10")
        if "time" in da.dims and "time" in target.dims and not _same_axis(da["time"], target["time"]):
            attrs = merged[name].attrs
            merged[name] = merged[name].interp(time=target["time"])
            merged[name].attrs = attrs
            notes.append(f"{name} interpolated in time onto the times of u10")
    ds = xr.Dataset({r.name: merged[r.name] for r in ROLES if r.name in merged})
    ds.attrs = {"sources": sources, "notes": notes, "Conventions": "CF-1.8"}
    return ds


def _same_axis(a: xr.DataArray, b: xr.DataArray) -> bool:
    import numpy as np

    if a.size != b.size:
        return False
    if np.issubdtype(a.dtype, np.datetime64):
        return bool((a.values == b.values).all())
    return bool(np.allclose(a.values, b.values, atol=1e-6))


def _same_grid(a: xr.DataArray, b: xr.DataArray) -> bool:
    return _same_axis(a["lat"], b["lat"]) and _same_axis(a["lon"], b["lon"])


def _regrid(da: xr.DataArray, target: xr.DataArray) -> xr.DataArray:
    """Bilinear onto the target grid, nearest where bilinear is NaN (coasts); lazy."""
    attrs = da.attrs
    coords = {"lat": target["lat"], "lon": target["lon"]}
    linear = da.interp(coords, method="linear")
    nearest = da.interp(coords, method="nearest")
    out = linear.fillna(nearest)
    out.attrs = attrs
    return out

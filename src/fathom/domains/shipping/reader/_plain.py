"""One run of plain CF NetCDF read straight into NumPy arrays, for the statistics of a single run.

:func:`open_run` gives a lazy ``xarray.Dataset`` and handles every input the reader accepts. For
one run that is read whole and reduced at once (``fathom shipping stats RUN``), importing xarray
(pandas with it) costs about 0.4 s on a 2-core machine: more than the statistics of a 0.1-degree
run. :func:`read_plain_run` reads the common case with ``netCDF4`` alone and returns the arrays
:func:`~fathom.domains.shipping.stats.stats_from_arrays` takes, with the same values
``open_run(...).load()`` gives (a test compares the two on every kind of input).

The rules are the reader's own, not a copy: variables are found by
:func:`~fathom.domains.shipping.reader._vars.find_variable`, units converted by
:func:`~fathom.domains.shipping.reader._units.to_target`, with the same arithmetic
(``values * scale + offset``, float32 kept). Only the file access differs.

The plain case: every file is NetCDF that ``netCDF4`` opens; each data variable found is float32
or float64 with no ``scale_factor``/``add_offset``, on dims ``(time, lat, lon)`` (the land mask
``(lat, lon)``); coordinates are 1-D, ascending once longitudes are wrapped to [-180, 180), and
shared by all files; times are ``<unit> since <ISO date>`` in the standard calendar; no variable
is an accumulation; no role is found in two files. Anything else returns None, and the caller
uses :func:`open_run`, which also gives the precise error for a broken input.

Not covered: range checks (the caller checks the arrays it gets), dask, GRIB.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fathom.domains.shipping.reader._open import NETCDF_LOCK, run_files
from fathom.domains.shipping.reader._units import to_target
from fathom.domains.shipping.reader._vars import REQUIRED, ROLES, ShippingDataError, find_variable

__all__ = ["PlainRun", "read_plain_run"]

_CALENDARS = ("standard", "gregorian", "proleptic_gregorian")
_NS_PER = {"days": 86_400 * 10**9, "day": 86_400 * 10**9, "hours": 3_600 * 10**9, "hour": 3_600 * 10**9,
           "minutes": 60 * 10**9, "minute": 60 * 10**9, "seconds": 10**9, "second": 10**9}


class _NotPlain(Exception):
    """The input needs the full reader (:func:`open_run`)."""


@dataclass
class PlainRun:
    """What :func:`read_plain_run` returns: canonical arrays and the grid they are on."""

    data: dict[str, np.ndarray]
    """Canonical name -> values in canonical units, ``(time, lat, lon)`` (``lsm``: ``(lat, lon)``)."""
    lat: np.ndarray
    lon: np.ndarray
    times: np.ndarray
    """``datetime64[ns]``."""
    sources: list[str]
    attrs: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Canonical name -> ``source_variable``, ``source_units``, ``source_file`` (for range messages)."""


class _Variable:
    """The bits of ``xarray.DataArray`` that :func:`find_variable` looks at."""

    def __init__(self, var: Any) -> None:
        self.raw = var
        self.attrs = {k: var.getncattr(k) for k in var.ncattrs()}
        self.dims = tuple(var.dimensions)
        self.coords: dict[str, Any] = {}  # only read for heights, which are not plain


class _File:
    """The bits of ``xarray.Dataset`` that :func:`find_variable` looks at, over one ``netCDF4.Dataset``."""

    def __init__(self, nc: Any) -> None:
        self.nc = nc
        named = set(str(getattr(nc, "coordinates", "")).split())
        for var in nc.variables.values():
            named.update(str(var.getncattr("coordinates")).split() if "coordinates" in var.ncattrs() else ())
        coords = set(nc.dimensions) | named
        self.data_vars = [n for n in nc.variables if n not in coords]
        self._vars = {n: _Variable(v) for n, v in nc.variables.items()}

    def __getitem__(self, name: str) -> _Variable:
        return self._vars[name]


def read_plain_run(source: Any, variables: Mapping[str, str] | None = None) -> PlainRun | None:
    """Read one run whole without xarray when it is plain CF (see the module notes), else None.

    Args:
        source: a run folder, a NetCDF path, or a list of them (an ``xr.Dataset`` gives None).
        variables: overrides, canonical name -> variable name in the files.

    Raises:
        ShippingDataError: what :func:`run_files` raises (no ``*.nc``, an interrupted write).
    """
    items = list(source) if isinstance(source, (list, tuple)) else [source]
    if not items or not all(isinstance(s, (str, Path)) for s in items):
        return None  # an open Dataset (or a mix): the full reader's
    files = run_files(items)
    try:
        import netCDF4
    except ImportError:
        return None
    with NETCDF_LOCK:
        opened = []
        try:
            for f in files:
                try:
                    opened.append((str(f), netCDF4.Dataset(f)))
                except OSError:
                    return None
            return _read(opened, dict(variables or {}))
        except _NotPlain:
            return None
        finally:
            for _, nc in opened:
                nc.close()


def _read(opened: list[tuple[str, Any]], explicit: dict[str, str]) -> PlainRun:
    grid: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    data: dict[str, np.ndarray] = {}
    attrs: dict[str, dict[str, Any]] = {}
    for where, nc in opened:
        nc.set_auto_maskandscale(False)
        file = _File(nc)
        try:
            names = {role: find_variable(file, role, explicit, where) for role in ROLES}  # type: ignore[arg-type]
        except ShippingDataError as exc:
            raise _NotPlain from exc
        picked = {role: name for role, name in names.items() if name is not None}
        if not picked:
            continue
        file_grid = _grid(file, picked.values())
        if grid is not None and not all(np.array_equal(a, b) for a, b in zip(grid, file_grid, strict=True)):
            raise _NotPlain  # another grid or other times: interpolation is the full reader's
        grid = file_grid
        for role, name in picked.items():
            if role.name in data:
                raise _NotPlain  # the same variable in two files: concatenated by the full reader
            data[role.name] = _values(file[name], role, where)
            attrs[role.name] = {"source_variable": name, "source_units": file[name].attrs.get("units"),
                                "source_file": where}
    if grid is None or any(name not in data for name in REQUIRED):
        raise _NotPlain  # the full reader says what is missing
    ordered = {r.name: data[r.name] for r in ROLES if r.name in data}
    lat, lon, times = grid
    return PlainRun(ordered, lat, lon, times, [w for w, _ in opened], attrs)


def _grid(file: _File, names: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lat, lon, times) of the picked variables, which must all lie on ``(time, lat, lon)``."""
    dims = {file[n].dims for n in names}
    full = [d for d in dims if len(d) == 3]
    if len(full) != 1 or any(d not in (full[0], full[0][1:]) for d in dims):
        raise _NotPlain
    t, y, x = full[0]
    lat, lon = _axis(file, y, "latitude"), _axis(file, x, "longitude")
    lon = ((lon + 180.0) % 360.0) - 180.0
    times = _times(file[t]) if t in file.nc.variables else None
    if times is None:
        raise _NotPlain
    for axis in (lat, lon, times):
        if axis.size > 1 and not (axis[1:] > axis[:-1]).all():
            raise _NotPlain  # sorting (and dropping repeated times) is the full reader's
    return lat, lon, times


def _axis(file: _File, dim: str, standard_name: str) -> np.ndarray:
    """A 1-D coordinate variable named like its dimension and labelled by its CF standard name."""
    var = file.nc.variables.get(dim)
    if var is None or var.dimensions != (dim,):
        raise _NotPlain
    attrs = set(var.ncattrs())
    if "standard_name" not in attrs or var.getncattr("standard_name") != standard_name:
        raise _NotPlain
    if attrs & {"scale_factor", "add_offset"} or var.dtype.kind != "f" or not _nan_fill_only(var):
        raise _NotPlain
    return np.asarray(var[:])  # the file's own dtype, as xarray keeps it


def _nan_fill_only(var: Any) -> bool:
    """No fill value, or NaN (which masking leaves as it is): what xarray writes for float coordinates."""
    fills = [var.getncattr(a) for a in ("_FillValue", "missing_value") if a in var.ncattrs()]
    return all(np.isnan(np.asarray(f, dtype=np.float64)).all() for f in fills)


def _times(var: _Variable) -> np.ndarray | None:
    """``<unit> since <ISO date>`` in the standard calendar as ``datetime64[ns]``, else None."""
    units = str(var.attrs.get("units", ""))
    calendar = str(var.attrs.get("calendar", "standard")).lower()
    unit, sep, origin = units.partition(" since ")
    ns = _NS_PER.get(unit.strip().lower())
    origin = origin.strip().replace(" ", "T")
    if not sep or ns is None or calendar not in _CALENDARS or var.raw.dtype.kind not in "iu":
        return None
    if set(var.attrs) & {"scale_factor", "add_offset", "_FillValue", "missing_value"} or \
            any(c in origin for c in "Z+") or origin.count("-") > 2:  # time zones: the full reader
        return None
    try:
        start = np.datetime64(origin, "ns")
    except ValueError:
        return None
    out: np.ndarray = start + (np.asarray(var.raw[:]).astype(np.int64) * ns).astype("timedelta64[ns]")
    return out


def _values(var: _Variable, role: Any, where: str) -> np.ndarray:
    """The variable whole, masked where the file says (``_FillValue``, ``missing_value``), converted."""
    if var.raw.dtype not in (np.float32, np.float64) or {"scale_factor", "add_offset"} & set(var.attrs):
        raise _NotPlain
    expected = ("lat", "lon") if role.name == "lsm" else ("time", "lat", "lon")
    if len(var.dims) != len(expected):
        raise _NotPlain
    units = var.attrs.get("units")
    kind = next((k for k in role.kinds if to_target(units, k) is not None), None)
    conv = to_target(units, kind) if kind is not None else None
    if conv is None or kind == "water_amount":
        raise _NotPlain  # unknown units (the full reader explains) or an accumulation (rates are derived there)
    values = np.asarray(var.raw[:])
    for attr in ("_FillValue", "missing_value"):
        for fill in np.atleast_1d(np.asarray(var.attrs.get(attr, np.nan), dtype=values.dtype)):
            if not np.isnan(fill):  # masked as xarray masks it: equal values become NaN
                values = np.where(values == fill, np.nan, values)
    scale, offset = conv
    if (scale, offset) != (1.0, 0.0):
        values = values * scale + offset
    return values

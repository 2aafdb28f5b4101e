"""Which variable in a model file is which: CF standard names, ERA5 / Met Office short names.

Covers: the table of canonical variables the Shipping Forecast statistics use (:data:`ROLES`),
finding each one in an ``xarray.Dataset`` (an explicit name, then ``standard_name``, then short
name), and describing a file's contents for error messages.

Not covered: units (:mod:`~fathom.domains.shipping.reader._units`), coordinates and merging files
(:mod:`~fathom.domains.shipping.reader._open`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fathom.errors import DomainError

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["ROLES", "Role", "ShippingDataError", "describe", "find_variable"]


class ShippingDataError(DomainError):
    """Model output the Shipping Forecast domain cannot use: a missing variable, unknown units,
    a grid it cannot read. The message says what was expected and what the file holds."""


@dataclass(frozen=True)
class Role:
    """One canonical variable of the reader's output."""

    name: str
    """Canonical name in the returned Dataset (``u10``, ``msl`` ...)."""
    description: str
    """What it is, for messages and the ``long_name`` attribute."""
    standard_names: tuple[str, ...]
    """CF standard names that identify it."""
    short_names: tuple[str, ...]
    """ERA5 / Met Office / CMIP short names that identify it (matched case-insensitively)."""
    kinds: tuple[str, ...]
    """Unit kinds accepted (see ``reader._units.KINDS``); the first that matches wins."""
    height_m: float | None = None
    """Preferred height above ground when several variables share a standard name."""


ROLES: tuple[Role, ...] = (
    Role("u10", "10 m eastward wind", ("eastward_wind", "x_wind"),
         ("u10", "10u", "u10m", "uas", "u"), ("speed",), 10.0),
    Role("v10", "10 m northward wind", ("northward_wind", "y_wind"),
         ("v10", "10v", "v10m", "vas", "v"), ("speed",), 10.0),
    Role("msl", "mean sea-level pressure", ("air_pressure_at_mean_sea_level", "air_pressure_at_sea_level"),
         ("msl", "mslp", "prmsl", "psl", "pmsl", "slp"), ("pressure",)),
    Role("precip_rate", "precipitation rate",
         ("precipitation_flux", "lwe_precipitation_rate", "rainfall_flux", "rainfall_rate",
          "precipitation_amount", "lwe_thickness_of_precipitation_amount", "thickness_of_rainfall_amount",
          "rainfall_amount"),
         ("tp", "pr", "precip", "prate", "tprate", "mtpr", "precipitation", "apcp", "totprec", "rr"),
         ("water_rate", "water_amount")),
    Role("conv_rate", "convective precipitation rate",
         ("convective_precipitation_flux", "lwe_convective_precipitation_rate",
          "convective_precipitation_amount", "lwe_thickness_of_convective_precipitation_amount",
          "convective_rainfall_flux", "convective_rainfall_amount"),
         ("cp", "cprate", "cpr", "crr", "mcpr", "prc", "acpcp"), ("water_rate", "water_amount")),
    Role("snow_rate", "snowfall rate (water equivalent)",
         ("snowfall_flux", "lwe_snowfall_rate", "snowfall_amount", "lwe_thickness_of_snowfall_amount"),
         ("sf", "prsn", "snowfall", "msr", "asnow"), ("water_rate", "water_amount")),
    Role("swh", "significant wave height", ("sea_surface_wave_significant_height",),
         ("swh", "hs", "vhm0", "hsig"), ("length",)),
    Role("vis", "visibility", ("visibility_in_air",), ("vis", "visibility"), ("length",)),
    Role("t2m", "2 m air temperature", ("air_temperature",), ("t2m", "2t", "tas", "t2", "tmp2m"),
         ("temperature",), 2.0),
    Role("lsm", "land fraction (1 land, 0 sea)", ("land_binary_mask", "land_area_fraction"),
         ("lsm", "landmask", "land_sea_mask", "lsmask", "sftlf", "land"), ("fraction",)),
    Role("tcc", "total cloud cover", ("cloud_area_fraction",), ("tcc", "clt", "cloud_cover"), ("fraction",)),
)
"""Every canonical variable, in output order."""

REQUIRED = ("u10", "v10", "msl", "precip_rate")
"""What ``compute_stats`` cannot do without; the rest is optional."""


def find_variable(ds: xr.Dataset, role: Role, explicit: Mapping[str, str], where: str) -> str | None:
    """The name of ``role``'s variable in ``ds``, or None when the file has none.

    Args:
        ds: one opened file.
        role: the canonical variable sought.
        explicit: user overrides, canonical name -> variable name.
        where: the file, for messages.

    Raises:
        ShippingDataError: several variables match and nothing tells them apart.
    """
    if role.name in explicit and explicit[role.name] in ds.data_vars:
        return explicit[role.name]
    by_std = [n for n in map(str, ds.data_vars) if ds[n].attrs.get("standard_name") in role.standard_names]
    shorts = {s.lower(): k for k, s in enumerate(role.short_names)}
    by_short = sorted((n for n in map(str, ds.data_vars) if n.lower() in shorts), key=lambda n: shorts[n.lower()])
    both = [n for n in by_std if n in by_short]
    if both:
        return both[0]
    if len(by_std) > 1 and role.height_m is not None:
        at_height = [n for n in by_std if _height(ds[n]) == role.height_m]
        by_std = at_height or by_std
    if len(by_std) > 1:
        raise ShippingDataError(
            f"{where}: several variables could be the {role.description}: {', '.join(by_std)}. "
            f"Name the one to use, e.g. variables={{{role.name!r}: {by_std[0]!r}}} "
            f"(--var {role.name}={by_std[0]} on the command line).")
    if by_std:
        return by_std[0]
    return by_short[0] if by_short else None


def _height(da: xr.DataArray) -> float | None:
    """The height (m) of a single-level variable, from a size-1 height coordinate, else None."""
    for name, coord in da.coords.items():
        is_height = coord.attrs.get("standard_name") == "height" or str(name).lower().startswith("height")
        if is_height and coord.size == 1:
            return float(coord.values.ravel()[0])
    return None


def describe(ds: xr.Dataset) -> str:
    """One line per data variable: name, standard_name, units, dims."""
    lines = []
    for name in map(str, ds.data_vars):
        attrs: dict[str, Any] = ds[name].attrs
        std = attrs.get("standard_name", "no standard_name")
        units = attrs.get("units", "no units")
        lines.append(f"{name} ({std}, {units}, dims {tuple(map(str, ds[name].dims))})")
    return "; ".join(lines) if lines else "no data variables"


def expected(role: Role) -> str:
    """What the reader looks for, for 'missing variable' messages."""
    return (f"the {role.description}: a variable with standard_name "
            f"{' / '.join(role.standard_names)}, or named {' / '.join(role.short_names)}")

"""Reading NWP model output (NetCDF) into one canonical ``xarray.Dataset`` (or, for one plain CF run, NumPy).

Covers: opening a file, several files or a run folder; reading one plain CF run whole without
xarray (:func:`read_plain_run`, same values); finding each variable by CF standard name or
ERA5 / Met Office short name; converting units; checking the values are plausible for their declared
units (a mislabelled ``units`` attribute stops with an error, or a warning with ``force``); refusing
the leftovers of interrupted writes; the process-wide NetCDF lock. Not covered: what the fields mean
for a forecast (``stats``) or writing NetCDF (``nwp``).
"""

from __future__ import annotations

from fathom.domains.shipping.reader._open import NETCDF_LOCK, check_finished, open_run, run_files
from fathom.domains.shipping.reader._plain import PlainRun, read_plain_run
from fathom.domains.shipping.reader._ranges import BOUNDS, Bounds, check_values
from fathom.domains.shipping.reader._vars import REQUIRED, ShippingDataError

__all__ = [
    "BOUNDS",
    "NETCDF_LOCK",
    "REQUIRED",
    "Bounds",
    "PlainRun",
    "ShippingDataError",
    "check_finished",
    "check_values",
    "open_run",
    "read_plain_run",
    "run_files",
]

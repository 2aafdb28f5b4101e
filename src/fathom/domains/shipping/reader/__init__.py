"""Reading NWP model output (NetCDF) into one canonical ``xarray.Dataset``.

Covers: opening a file, several files or a run folder; finding each variable by CF standard name or
ERA5 / Met Office short name; converting units; the process-wide NetCDF lock. Not covered: what the
fields mean for a forecast (``stats``) or writing NetCDF (``nwp``).
"""

from __future__ import annotations

from fathom.domains.shipping.reader._open import NETCDF_LOCK, open_run, run_files
from fathom.domains.shipping.reader._vars import REQUIRED, ShippingDataError

__all__ = [
    "NETCDF_LOCK", "REQUIRED", "ShippingDataError", "open_run", "run_files"
]

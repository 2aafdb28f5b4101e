"""Synthetic NWP model output: runs of a weather model over the 31 sea areas, as CF NetCDF.

Covers: the grid and land-sea mask, moving lows and highs with seasons, atmospheric fields (pressure,
wind, rain and showers, fog, temperature), fetch-limited waves plus swell, and writing a date range
of runs to disk resumably (``fathom shipping nwp``). Not covered: reading runs back (``reader``) or
anything about the forecast text.
"""

from __future__ import annotations

from fathom.domains.shipping.nwp._generate import generate_run
from fathom.domains.shipping.nwp._write import is_complete_run, run_folder_name, run_starts, write_runs

__all__ = [
    "generate_run", "is_complete_run", "run_folder_name", "run_starts", "write_runs"
]

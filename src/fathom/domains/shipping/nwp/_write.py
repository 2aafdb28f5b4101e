"""Writing synthetic model runs to disk: one folder per run, resumable.

Covers: :func:`write_runs`, which writes ``OUT/YYYYMMDDTHHZ/atmosphere.nc`` and ``wave.nc`` for
every run in a date range (NetCDF-4, zlib-compressed float32, CF-1.8), each run folder atomically
(both files are written into a hidden temporary sibling folder, ``.YYYYMMDDTHHZ.<random>.tmp``,
renamed into place when both are whole: :func:`fathom._files.atomic_dir`), so an interrupted
command (even ``kill -9``) never leaves a run folder that looks complete; skipping runs whose two
files already exist; and :func:`run_starts` / :func:`run_folder_name` for the layout. A leftover
temporary folder of a run is removed when that run is written again.

Not covered: computing the fields (:func:`~fathom.domains.shipping.nwp._generate.generate_run`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from fathom._files import atomic_dir, is_leftover
from fathom.errors import DomainError

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["RUN_FILES", "is_complete_run", "run_folder_name", "run_starts", "write_runs"]

RUN_FILES = ("atmosphere.nc", "wave.nc")
"""The files of a complete run folder."""
_VALID_RUNS_PER_DAY = (1, 2, 3, 4, 6, 8, 12, 24)


def run_folder_name(start: datetime) -> str:
    """``20250101T00Z`` for a run starting 2025-01-01 00 UTC.

    >>> run_folder_name(datetime(2025, 1, 1, 12))
    '20250101T12Z'
    """
    return f"{start:%Y%m%dT%H}Z"


def is_complete_run(folder: str | os.PathLike[str]) -> bool:
    """Whether ``folder`` holds both files of a run (the folder is renamed into place only when whole)."""
    return all((Path(folder) / f).is_file() for f in RUN_FILES)


def run_starts(start: datetime, days: int, runs_per_day: int = 2) -> list[datetime]:
    """Start times of the runs: ``runs_per_day`` evenly spaced runs on each of ``days`` days.

    The first run is at ``start`` rounded down to its day's first run hour (00Z).

    >>> [f"{t:%d %HZ}" for t in run_starts(datetime(2025, 1, 1), 2)]
    ['01 00Z', '01 12Z', '02 00Z', '02 12Z']
    """
    problems = []
    if not isinstance(days, int) or days < 1:
        problems.append(f"days must be a whole number >= 1, got {days!r}")
    if runs_per_day not in _VALID_RUNS_PER_DAY:
        problems.append(f"runs_per_day must divide 24 ({', '.join(map(str, _VALID_RUNS_PER_DAY))}), "
                        f"got {runs_per_day!r}")
    if problems:
        raise DomainError("cannot plan synthetic runs: " + "; ".join(problems) + ".")
    if start.tzinfo is not None:
        start = start.astimezone(UTC).replace(tzinfo=None)
    day0 = start.replace(hour=0, minute=0, second=0, microsecond=0)
    step = 24 // runs_per_day
    return [day0 + timedelta(days=d, hours=k * step) for d in range(days) for k in range(runs_per_day)]


def write_runs(start: datetime, days: int, out: str | os.PathLike[str], *, seed: int = 0,
               resolution: float = 0.25, runs_per_day: int = 2, hours: int = 24,
               progress: bool = True) -> list[Path]:
    """Write synthetic runs for ``days`` days from ``start`` under ``out``.

    Args:
        start: first day (its 00Z run is the first run).
        days: number of days.
        out: parent folder; each run gets ``out/YYYYMMDDTHHZ/``.
        seed: weather seed (the same seed gives identical files).
        resolution: grid spacing in degrees.
        runs_per_day: runs per day (2: 00Z and 12Z).
        hours: forecast length of each run (T+0..T+hours, hourly).
        progress: show a rich progress bar.

    Returns:
        The run folders in time order, including those that already existed and were skipped.

    Raises:
        DomainError: an argument is out of range.
    """
    from fathom.domains.shipping.nwp._generate import generate_run
    from fathom.domains.shipping.nwp._grid import make_grid

    make_grid(resolution)  # fail on a bad resolution before anything is written
    starts = run_starts(start, days, runs_per_day)
    root = Path(out)
    folders = []
    with _bar(progress, len(starts)) as advance:
        for t0 in starts:
            folder = root / run_folder_name(t0)
            folders.append(folder)
            _remove_leftovers(folder)
            if not is_complete_run(folder):
                atm, wave = generate_run(t0, seed=seed, resolution=resolution, hours=hours)
                with atomic_dir(folder, exists="replace") as tmp:  # an incomplete folder is replaced
                    _write_netcdf(atm, tmp / RUN_FILES[0])
                    _write_netcdf(wave, tmp / RUN_FILES[1])
            advance()
    return folders


@contextmanager
def _bar(show: bool, total: int) -> Iterator[Callable[[], None]]:
    """A rich progress bar over the runs (or nothing); yields its ``advance()``."""
    if not show:
        yield lambda: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("synthetic runs"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn()) as progress:
        task = progress.add_task("runs", total=total)
        yield lambda: progress.advance(task)


def _encoding(ds: xr.Dataset) -> dict[str, dict[str, object]]:
    enc: dict[str, dict[str, object]] = {}
    for name in ds.data_vars:
        fill = {"_FillValue": float("nan")} if name == "swh" else {"_FillValue": None}
        enc[str(name)] = {"zlib": True, "complevel": 1, "shuffle": True, **fill}
    start = ds["forecast_reference_time"].values
    units = f"hours since {str(start)[:19].replace('T', ' ')}"
    for name in ("time", "forecast_reference_time"):
        enc[name] = {"units": units, "calendar": "proleptic_gregorian", "dtype": "int32"}
    for name in ("latitude", "longitude"):
        enc[name] = {"_FillValue": None}
    return enc


def _write_netcdf(ds: xr.Dataset, path: Path) -> None:
    """Write one file of a run (into the run's temporary folder; the umask applies)."""
    ds.to_netcdf(path, engine="netcdf4", format="NETCDF4", encoding=_encoding(ds))


def _remove_leftovers(folder: Path) -> None:
    """Delete what an interrupted earlier write of this run left: its temporary sibling folders, and
    the hidden per-file temporaries (``.wave.nc.<random>.tmp``) that earlier versions wrote inside it."""
    stale = [*folder.parent.glob(f".{folder.name}.*"), *folder.glob(".*")] if folder.parent.is_dir() else []
    for path in stale:
        if is_leftover(path) and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif is_leftover(path):
            path.unlink(missing_ok=True)

"""``fathom shipping nwp``: write synthetic model runs (NetCDF) for testing the pipeline."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

_DATE = click.DateTime(formats=["%Y-%m-%d"])


@click.command()
@click.option("--start", required=True, type=_DATE, help="First day (YYYY-MM-DD); its 00Z run comes first.")
@click.option("--days", required=True, type=click.IntRange(min=1), help="Number of days of runs.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Parent folder; each run is written to OUT/YYYYMMDDTHHZ/{atmosphere,wave}.nc.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0),
              help="Weather seed: the same seed writes identical data.")
@click.option("--resolution", default=0.25, show_default=True, type=click.FloatRange(0.02, 2.0),
              help="Grid spacing in degrees.")
@click.option("--runs-per-day", default=2, show_default=True,
              type=click.Choice(["1", "2", "3", "4", "6", "8", "12", "24"]), help="Runs per day (2: 00Z and 12Z).")
@click.option("--hours", default=24, show_default=True, type=click.IntRange(1, 240),
              help="Forecast length of each run (hourly steps T+0..T+HOURS).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def nwp(start: datetime, days: int, out: Path, seed: int, resolution: float, runs_per_day: str,
        hours: int, quiet: bool) -> None:
    """Write synthetic NWP runs over the 31 sea areas: an atmosphere file (10 m wind, sea-level
    pressure, precipitation and convective precipitation, visibility, 2 m temperature, land-sea
    mask) and a wave file (significant wave height) per run, hourly, CF-1.8.

    Runs already complete in OUT are kept, so an interrupted command can be re-run.
    """
    from fathom.domains.shipping.nwp import is_complete_run, run_folder_name, run_starts, write_runs

    planned = [out / run_folder_name(t) for t in run_starts(start, days, int(runs_per_day))]
    existing = sum(is_complete_run(f) for f in planned)
    folders = write_runs(start, days, out, seed=seed, resolution=resolution, runs_per_day=int(runs_per_day),
                         hours=hours, progress=not quiet)
    click.echo(f"{len(folders)} run(s) in {out} ({len(folders) - existing} written, {existing} already "
               f"complete): {folders[0].name} .. {folders[-1].name}")

"""``fathom shipping stats RUN... [--out PATH]``: sea-area statistics of model runs (thin layer).

One run is read without dask, and this process keeps dask out altogether (:func:`keep_dask_out`):
xarray imports ``dask.array`` (about half a second) the first time it builds an array whenever dask
is installed, although nothing here is dask-backed. Several runs use dask as before.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

FORCE_OPTION = click.option(
    "--force", is_flag=True,
    help="Use values that look implausible for their declared units (e.g. msl in hPa labelled Pa) "
         "instead of stopping; each is reported as a warning.")


@click.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="Where to write. One run: a JSON file (default: print to stdout). Several runs: "
                   "a .json path gets one JSON list; any other path is a folder of RUN.json files "
                   "(finished runs are kept, so a re-run resumes).")
@click.option("--scheduler", default=None,
              help="Several runs: a Dask scheduler ADDRESS (tcp://host:8786), or processes, threads, "
                   "synchronous. Default: a local cluster of --workers processes.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(min=1),
              help="Worker processes for several runs.")
@click.option("--var", "var", multiple=True, metavar="CANONICAL=NAME",
              help="Name a variable the reader cannot find, e.g. --var u10=U_10M (repeatable).")
@click.option("--accumulation", type=click.Choice(["auto", "running", "interval"]), default="auto",
              show_default=True, help="How accumulated precipitation amounts become rates.")
@click.option("--first-hours", default=12.0, show_default=True, type=float,
              help="Length of the 'first' period in hours.")
@click.option("--allow-partial", is_flag=True, help="Accept grids that miss some areas (marked missing).")
@FORCE_OPTION
def stats(runs: tuple[Path, ...], out: Path | None, scheduler: str | None, workers: int, var: tuple[str, ...],
          accumulation: str, first_hours: float, allow_partial: bool, force: bool) -> None:
    """Sea-area statistics (schema fathom.shipping.stats/1) of one or more model runs.

    RUN is a run folder (every *.nc in it), an archive folder whose sub-folders are runs, or
    NetCDF files that together form one run (atmosphere.nc wave.nc).
    """
    from fathom._manifest import atomic_write_text
    from fathom.domains.shipping.stats import (
        StatsOptions,
        compute_stats,
        compute_stats_many,
        find_runs,
        run_name,
        stats_json,
    )

    variables = _parse_vars(var)
    options = StatsOptions(first_hours=first_hours, allow_partial=allow_partial)
    kwargs: dict[str, Any] = {"variables": variables, "accumulation": accumulation, "force": force}
    quiet_forced_warnings()
    found = find_runs(runs)
    if len(found) == 1:
        keep_dask_out()
        result = compute_stats(found[0], options=options, **kwargs)
        text = stats_json(result, indent=True)
        if out is None:
            click.echo(text, nl=False)
        else:
            atomic_write_text(out, text)
            click.echo(f"wrote {out}: {_summary(result)}", err=True)
        echo_data_warnings([result])
        return
    if out is None:
        raise click.UsageError(f"{len(found)} runs found: pass --out FILE.json (one JSON list) or "
                               f"--out FOLDER (one file per run).")
    as_list = out.suffix.lower() == ".json"
    results = compute_stats_many(found, scheduler=scheduler, workers=workers,
                                 out_dir=None if as_list else out, options=options, **kwargs)
    if as_list:
        atomic_write_text(out, stats_json(results))
    click.echo(f"wrote {out}: {len(results)} runs ({', '.join(run_name(f) for f in found[:3])}"
               f"{', ...' if len(found) > 3 else ''})", err=True)
    echo_data_warnings(results, [run_name(f) for f in found])


def keep_dask_out() -> None:
    """Make ``import dask`` fail in this process (so xarray sees no dask), unless it is imported already.

    Only for a command process that computes one run in memory and exits: xarray caches "dask is
    absent", so a later dask-backed Dataset in the same process would not be recognised.
    """
    if "dask" not in sys.modules:
        sys.modules["dask"] = None  # type: ignore[assignment]  # Python's documented way to block an import


def quiet_forced_warnings() -> None:
    """Hide the Python warnings of ``force``: :func:`echo_data_warnings` prints them, counted."""
    import warnings

    from fathom.errors import FathomWarning

    warnings.filterwarnings("ignore", message="used anyway", category=FathomWarning)


def echo_data_warnings(results: list[Any], names: list[str] | None = None, limit: int = 20) -> int:
    """Print every run's ``run.data_warnings`` (no wave file, forced values) to stderr, counted."""
    lines = []
    for k, result in enumerate(results):
        run = result.get("run") if isinstance(result, dict) else None
        for line in (run.get("data_warnings") or []) if isinstance(run, dict) else []:
            lines.append(f"{names[k]}: {line}" if names else str(line))
    for line in lines[:limit]:
        click.echo(f"warning: {line}", err=True)
    if len(lines) > limit:
        click.echo(f"warning: ... and {len(lines) - limit} more", err=True)
    if lines:
        click.echo(f"{len(lines)} warning(s) about the input data (also in run.data_warnings of the "
                   f"statistics)", err=True)
    return len(lines)


def _parse_vars(items: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise click.BadParameter(f"{item!r} is not CANONICAL=NAME (e.g. u10=U_10M).", param_hint="--var")
        out[key.strip()] = value.strip()
    return out


def _summary(result: dict[str, object]) -> str:
    run = result["run"]
    assert isinstance(run, dict)  # internal invariant: compute_stats always returns a run block
    centres = result["pressure_centres"]
    n = len(centres) if isinstance(centres, list) else 0
    return f"{len(result['areas'])} areas, {run['steps']} steps, {n} pressure centres"  # type: ignore[arg-type]

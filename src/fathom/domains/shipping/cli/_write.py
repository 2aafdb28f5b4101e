"""``fathom shipping write RUN... | --stats FILE [--json]``: write a bulletin (thin layer)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from fathom._textfile import read_utf8
from fathom.domains.shipping.cli._stats import FORCE_OPTION, echo_data_warnings, quiet_forced_warnings
from fathom.errors import DataError, Problem


def _load_stats(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(read_utf8(path))  # DataError naming the byte when it is not UTF-8 text
    except json.JSONDecodeError as exc:
        raise DataError([Problem(f"{path}:{exc.lineno}", f"not valid JSON: {exc.msg}")],
                        title="unreadable statistics file") from exc
    if isinstance(data, list):
        if len(data) != 1:
            raise DataError([Problem(str(path), f"holds {len(data)} runs; the writer takes one "
                                                "(split the list, or pass one RUN)")],
                            title="unreadable statistics file")
        data = data[0]
    return data  # type: ignore[no-any-return]


@click.command()
@click.argument("runs", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--stats", "stats_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Statistics JSON (from `fathom shipping stats`) instead of RUN.")
@click.option("--json", "as_json", is_flag=True, help="Print the structured bulletin as JSON.")
@click.option("--issued", default=None, metavar="ISO-TIME",
              help="Issue time, e.g. 2025-01-05T05:05Z (default: the start of the run).")
@click.option("--word-limit", default=380, show_default=True, type=click.IntRange(min=50),
              help="Most words the grouped area forecasts may take.")
@FORCE_OPTION
def write(runs: tuple[Path, ...], stats_file: Path | None, as_json: bool, issued: str | None,
          word_limit: int, force: bool) -> None:
    """Write a Shipping Forecast bulletin from a model run or its statistics.

    RUN is a run folder (every *.nc in it) or NetCDF files that together form one run; their
    statistics are computed first. With --stats, no NetCDF is needed.
    """
    from fathom.domains.shipping.writer import parse_time, write_bulletin

    if bool(runs) == bool(stats_file):
        raise click.UsageError("Give either RUN (a run folder or NetCDF files) or --stats FILE.")
    when = None
    if issued is not None:
        try:
            when = parse_time(issued)
        except ValueError as exc:
            raise click.BadParameter(f"{issued!r} is not an ISO 8601 time such as "
                                     f"2025-01-05T05:05Z ({exc}).", param_hint="--issued") from exc
    if stats_file is not None:
        stats = _load_stats(stats_file)
    else:
        from fathom.domains.shipping.stats import compute_stats

        quiet_forced_warnings()
        stats = compute_stats(list(runs) if len(runs) > 1 else runs[0], force=force)
    echo_data_warnings([stats])
    bulletin = write_bulletin(stats, issued=when, word_limit=word_limit)
    if as_json:
        click.echo(json.dumps(bulletin.to_dict(), indent=1))
    else:
        click.echo(bulletin.text, nl=False)

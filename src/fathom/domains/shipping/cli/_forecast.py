"""``fathom shipping forecast RUN... --model M``: a whole bulletin with a model writing the area texts."""

from __future__ import annotations

import json

import click

from fathom.cli import parallel_option
from fathom.domains.shipping.cli._stats import FORCE_OPTION, echo_data_warnings, quiet_forced_warnings


@click.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--model", required=True, help="Model spec, e.g. runs/shipping-forecast/sft/model or smollm2-135m.")
@click.option("--json", "as_json", is_flag=True, help="Print the structured bulletin as JSON.")
@click.option("--max-tokens", default=64, show_default=True, help="Most new tokens per area text.")
@parallel_option(32, "--batch-size")
@click.option("--issued", help="Issue time (ISO 8601); default: the start of the run.")
@FORCE_OPTION
def forecast(runs: tuple[str, ...], model: str, as_json: bool, max_tokens: int, parallel: int,
             issued: str | None, force: bool) -> None:
    """Write the bulletin for one model RUN (a run folder or its NetCDF files) with MODEL writing each area.

    Area texts that do not parse fall back to the rule-based writer (listed on stderr), so the output is
    always a valid bulletin.
    """
    from fathom.backends import load_backend
    from fathom.domains.shipping.lm import forecast_bulletin
    from fathom.domains.shipping.stats import compute_stats

    quiet_forced_warnings()
    stats = compute_stats(list(runs) if len(runs) > 1 else runs[0], force=force)
    echo_data_warnings([stats])
    result = forecast_bulletin(stats, load_backend(model, parallel=parallel), max_tokens=max_tokens, issued=issued)
    for name, why in result.fallbacks.items():
        click.echo(f"{name}: the model's text did not parse ({why}); used the rule-based writer", err=True)
    click.echo(f"{len(result.generated) - len(result.fallbacks)} of {len(result.generated)} areas written by "
               f"the model in {result.seconds['total']:.1f} s", err=True)
    click.echo(json.dumps(result.to_dict(), indent=2) if as_json else result.bulletin.text)

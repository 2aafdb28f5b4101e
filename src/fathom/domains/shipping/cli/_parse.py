"""``fathom shipping parse FILE`` and ``fathom shipping score --pred P --ref R`` (thin layers).

FILE, P and R are plain-text bulletins, JSON Lines (the shared real-bulletin layout, or the
structured forecasts ``parse`` prints) or structured JSON (a list of forecasts, or the writer's
``--json`` bulletin).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command()
@click.argument("file", type=_FILE)
@click.option("--groups", is_flag=True,
              help="Keep XML group entries whole instead of expanding their per-area items.")
@click.option("--failures", is_flag=True,
              help="Print only forecasts with unknown phrases or missing fields.")
def parse(file: Path, groups: bool, failures: bool) -> None:
    """Parse area forecasts and print one JSON object per area forecast.

    Each object has `names`, the interpreted fields (`direction`, `force`, `sea_state`,
    `weather`, `visibility`, each per sub-period `first`/`second` with `main` and `secondary`
    values; `icing`) and `unknown`, the phrases that could not be placed. A summary goes to
    stderr.
    """
    from fathom.domains.shipping.parse import read_forecasts

    forecasts = read_forecasts(file, per_area=not groups)
    bad = 0
    for fc in forecasts:
        failed = not fc.complete()
        bad += failed
        if failed or not failures:
            click.echo(json.dumps(fc.to_dict(), ensure_ascii=False))
    share = 100.0 * (len(forecasts) - bad) / len(forecasts) if forecasts else 0.0
    click.echo(f"{len(forecasts)} area forecasts; {len(forecasts) - bad} ({share:.2f}%) parse "
               f"with every field and no unknown phrase; {bad} do not.", err=True)


@click.command()
@click.option("--pred", "pred_file", required=True, type=_FILE, help="The predicted bulletin.")
@click.option("--ref", "ref_file", required=True, type=_FILE, help="The reference bulletin.")
@click.option("--per-area", is_flag=True, help="Include per-area accuracies.")
def score(pred_file: Path, ref_file: Path, per_area: bool) -> None:
    """Score a predicted bulletin against a reference, field by field, and print JSON.

    Groups are expanded to areas; each field is compared per sub-period with the Met Office
    tolerances (direction within 45 degrees, force within 1 Beaufort at both ends, sea state
    and visibility within one class, weather by F1) and strictly.
    """
    from fathom.domains.shipping.parse import read_forecasts
    from fathom.domains.shipping.score import score_bulletin

    result = score_bulletin(read_forecasts(pred_file), read_forecasts(ref_file))
    if not per_area:
        result.pop("per_area")
    click.echo(json.dumps(result, indent=1))
    problems = _nothing_read(result, pred_file, ref_file)
    for line in problems:
        click.echo(f"warning: {line}", err=True)
    if problems:
        click.get_current_context().exit(1)  # a score of junk is not a score


def _nothing_read(result: dict[str, object], pred_file: Path, ref_file: Path) -> list[str]:
    """Warnings for inputs in which no area forecast was found (the score then means nothing)."""
    unparsed = result.get("unparsed")
    counts = unparsed if isinstance(unparsed, dict) else {}
    out = []
    for side, path in (("ref", ref_file), ("pred", pred_file)):
        if (counts.get(side) or {}).get("forecasts", 0) == 0:
            what = "nothing to score against" if side == "ref" else "every area scores 0"
            out.append(f"no area forecast could be read from --{side} {path} ({what}); expected a "
                       f"bulletin in plain text, JSON Lines or structured JSON (see `fathom shipping parse`)")
    if not out and result.get("areas") == 0:
        out.append(f"--ref {ref_file} names no sea area that could be scored")
    return out

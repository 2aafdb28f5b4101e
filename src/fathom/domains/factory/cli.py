"""``fathom factory ...``: simulate the biscuit line, write its documents and its query categories.

Thin: each verb parses, calls the library (imported when the verb runs) and prints what it wrote.
Bad input (an unknown fault, an hour count out of range, an output path that is a file) exits 2.
"""

from __future__ import annotations

from pathlib import Path

import click

_FAULT_NAMES = "tunnel_temp_drift, former_pressure_loss, camera_lens_fouling, belt_slip"  # checked by a test


@click.group()
def factory() -> None:
    """Factory maintenance: a simulated biscuit line, its OEM documents and the agent's query categories."""


@factory.command()
@click.option("--hours", required=True, type=float, help="Length of the run in hours (1 minute to 336 h).")
@click.option("--fault", "faults", multiple=True, metavar="NAME",
              help=f"Fault to inject (repeatable): {_FAULT_NAMES}. None: normal running.")
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="Folder for telemetry.csv, alarms.csv and simulation.json (created if missing).")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0),
              help="The same seed writes identical telemetry.")
@click.option("--onset", type=click.IntRange(min=0), default=None,
              help="Minute the faults start [default: a quarter of the way in].")
def simulate(hours: float, faults: tuple[str, ...], out: Path, seed: int, onset: int | None) -> None:
    """Simulate line 1's sensors once a minute (temperatures, speeds, pressures, reject rates) and its alarms."""
    from fathom.domains.factory.simulator import simulate as run
    from fathom.domains.factory.simulator import write_telemetry

    telemetry = run(hours, faults, seed=seed, onset=onset)
    write_telemetry(telemetry, out)
    faults_text = f"faults {', '.join(telemetry.faults)} from minute {telemetry.onset}" if telemetry.faults \
        else "no faults"
    click.echo(f"{telemetry.minutes} minutes of telemetry ({faults_text}), {len(telemetry.alarms)} alarm(s) "
               f"in {out}")


@factory.command()
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="Folder to write the documents into (created if missing; other files are kept).")
def docs(out: Path) -> None:
    """Write the plant's documents: manuals (PDF, markdown, text), a service bulletin, site rules,
    the fault-code table (CSV) and the maintenance log (CSV)."""
    from fathom.domains.factory.docs import write_documents

    paths = write_documents(out)
    click.echo(f"{len(paths)} documents in {out}: {', '.join(p.name for p in paths)}")


@factory.command()
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="YAML file to write (its folder is created if missing).")
def categories(out: Path) -> None:
    """Write the query categories and their expected tool calls as YAML (for a synth mapping file)."""
    from fathom.domains.factory.categories import CATEGORIES, write_categories

    write_categories(out)
    click.echo(f"{len(CATEGORIES)} categories in {out}")

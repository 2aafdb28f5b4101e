"""``fathom run RECIPE.yaml [--set key=value ...] [--from STAGE]``."""

from __future__ import annotations

import click


@click.command()
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a recipe value, e.g. --set sft.max_steps=20 (repeatable).")
@click.option("--from", "from_stage", metavar="STAGE", help="Re-run from this stage on, even if done.")
@click.option("--runs-dir", type=click.Path(file_okay=False),
              help="Where run folders go (default: the recipe's runs_dir, 'runs').")
@click.option("--check", is_flag=True, help="Validate the recipe and exit without running anything.")
def run(recipe: str, overrides: tuple[str, ...], from_stage: str | None, runs_dir: str | None, check: bool) -> None:
    """Run the stages of a RECIPE in order; finished stages are skipped, interrupted ones resume."""
    from fathom.recipes import load_recipe, run_recipe

    loaded = load_recipe(recipe, list(overrides))
    if check:
        click.echo(f"{recipe}: valid ({len(loaded.stages)} stages: {', '.join(s.name for s in loaded.stages)})")
        return
    run_recipe(loaded, from_stage=from_stage, runs_dir=runs_dir)

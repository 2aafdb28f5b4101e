"""``fathom models list|pull``."""

from __future__ import annotations

import click


@click.group()
def models() -> None:
    """List and fetch models (bundled, Hugging Face hub, local folders)."""


@models.command("list")
def list_() -> None:
    """Show the models Fathom knows about and whether they are ready offline."""
    from rich.console import Console
    from rich.table import Table

    from fathom.models import list_models

    table = Table("name", "kind", "status", "location", "description")
    for m in list_models():
        table.add_row(m.name, m.kind, m.status, m.location, m.description)
    Console().print(table)


@models.command()
@click.argument("name")
def pull(name: str) -> None:
    """Make model NAME available offline (converts the bundled GGUF once; downloads hub ids)."""
    from fathom.models import pull_model

    click.echo(pull_model(name))

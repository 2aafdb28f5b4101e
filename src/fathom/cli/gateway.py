"""``fathom gateway``: serve the gateway, and manage its keys, prompt templates and usage reports.

* ``fathom gateway --config gateway.yaml [--host H] [--port P]`` serves until interrupted.
* ``fathom gateway keys create|list|revoke --config gateway.yaml ...`` (the secret is printed once).
* ``fathom gateway templates add|list --config gateway.yaml ...``.
* ``fathom gateway usage --config gateway.yaml --by key|model|adapter [--since 7d] [--format table|csv|json]``.

A thin layer over :mod:`fathom.gateway`; every command reads the state folder the config names.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

_SINCE = re.compile(r"^(\d+(?:\.\d+)?)([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _config(path: str) -> Any:
    from fathom.gateway import load_config

    return load_config(Path(path))


config_option = click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False),
                             help="The gateway.yaml (see docs/gateway.md).")


@click.group(invoke_without_command=True)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="The gateway.yaml to serve.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: a free one).")
@click.pass_context
def gateway(ctx: click.Context, config_path: str | None, host: str, port: int) -> None:
    """Serve an OpenAI-compatible gateway with keys, limits, a usage ledger, guardrails and metrics."""
    if ctx.invoked_subcommand is not None:
        return
    if config_path is None:
        raise click.UsageError("give --config gateway.yaml to serve (or a subcommand: keys, templates, usage)")
    from fathom.gateway import create_gateway
    from fathom.serve import bind_socket, run_server

    config = _config(config_path)
    sock = bind_socket(host, port)  # a busy port is reported before anything else starts
    app = create_gateway(config)
    models = ", ".join(config.models)

    def ready(url: str) -> None:
        click.echo(f"Gateway on {url} (models: {models}; state: {config.state_dir})", err=True)

    run_server(app, log_level="warning", on_ready=ready, sock=sock)


@gateway.group()
def keys() -> None:
    """Create, list and revoke API keys."""


def _key_row(record: Any) -> dict[str, Any]:
    data: dict[str, Any] = record.as_dict()
    return data


@keys.command("create")
@config_option
@click.option("--name", required=True, help="Who or what the key is for (unique among active keys).")
@click.option("--models", default=None, help="Comma-separated models the key may use (default: all).")
@click.option("--rpm", type=click.IntRange(min=1), default=None, help="Requests a minute (default: no limit).")
@click.option("--tpm", type=click.IntRange(min=1), default=None, help="Tokens a minute (default: no limit).")
@click.option("--budget", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Budget in USD, priced by the config's price table (default: none).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (with the secret as 'key').")
def keys_create(config_path: str, name: str, models: str | None, rpm: int | None, tpm: int | None,
                budget: float | None, as_json: bool) -> None:
    """Create a key; its secret is printed once and stored only as a hash."""
    from fathom.gateway import KeyStore

    config = _config(config_path)
    allowed = [m.strip() for m in models.split(",") if m.strip()] if models else None
    unknown = [m for m in allowed or [] if "*" not in m and m not in config.models]
    if unknown:
        raise click.BadParameter(f"{', '.join(unknown)} not in the config's models ({', '.join(config.models)})",
                                 param_hint="--models")
    store = KeyStore(config.state_dir / "keys.db")
    try:
        record, secret = store.create(name, models=allowed, rpm=rpm, tpm=tpm, budget_usd=budget)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps({**_key_row(record), "key": secret}))
        return
    click.echo(f"Created key {record.id} ({name}). The secret, shown only now:\n{secret}")


@keys.command("list")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def keys_list(config_path: str, as_json: bool) -> None:
    """List keys (never their secrets)."""
    from fathom.gateway import KeyStore

    config = _config(config_path)
    store = KeyStore(config.state_dir / "keys.db")
    try:
        rows = [_key_row(r) for r in store.list()]
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(rows, default=str))
        return
    _table(rows, ["id", "name", "prefix", "models", "rpm", "tpm", "budget_usd", "created", "revoked"])


@keys.command("revoke")
@config_option
@click.argument("key")
def keys_revoke(config_path: str, key: str) -> None:
    """Revoke KEY (its id or name); gateways stop accepting it within about a second."""
    from fathom.gateway import KeyStore

    config = _config(config_path)
    store = KeyStore(config.state_dir / "keys.db")
    try:
        record = store.revoke(key)
    finally:
        store.close()
    click.echo(f"Revoked {record.id} ({record.name}).")


@gateway.group()
def templates() -> None:
    """Add and list versioned prompt templates (requests name them as name@version)."""


@templates.command("add")
@config_option
@click.option("--name", required=True, help="Template name.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def templates_add(config_path: str, name: str, file: str) -> None:
    """Store FILE (YAML or JSON: a list of {role, content} messages with {variable} fields) as NAME's next
    version."""
    import yaml

    from fathom.gateway import TemplateStore

    config = _config(config_path)
    try:
        messages = yaml.safe_load(Path(file).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise click.BadParameter(f"{file} is not YAML or JSON: {exc}", param_hint="FILE") from None
    store = TemplateStore(config.state_dir / "templates.db")
    try:
        version = store.add(name, messages)
    finally:
        store.close()
    click.echo(f"Stored {name}@{version}.")


@templates.command("list")
@config_option
def templates_list(config_path: str) -> None:
    """List templates, their latest versions and the variables they need."""
    from fathom.gateway import TemplateStore

    config = _config(config_path)
    store = TemplateStore(config.state_dir / "templates.db")
    try:
        rows = store.list()
    finally:
        store.close()
    _table([{**r, "variables": ", ".join(r["variables"])} for r in rows], ["name", "version", "variables"])


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    match = _SINCE.match(value.strip())
    if match:
        return datetime.now(UTC) - timedelta(**{_UNITS[match[2]]: float(match[1])})
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is neither a duration (30m, 12h, 7d, 2w) nor an ISO date "
                                 f"(2026-12-01 or 2026-12-01T09:00)", param_hint="--since") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@gateway.command()
@config_option
@click.option("--by", type=click.Choice(["key", "model", "adapter"]), default="key", show_default=True,
              help="What to group by.")
@click.option("--since", default=None, help="Only requests since: a duration (30m, 12h, 7d, 2w) or an ISO date.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def usage(config_path: str, by: str, since: str | None, fmt: str) -> None:
    """Requests, tokens, cost and errors from the ledger, grouped by key, model or adapter."""
    from fathom.gateway import Ledger

    config = _config(config_path)
    path = config.state_dir / "ledger.db"
    if not path.exists():
        raise click.ClickException(f"no ledger at {path} yet: the gateway writes it when it serves requests")
    ledger = Ledger(path)
    try:
        rows = ledger.usage(by=by, since=_since(since))
    finally:
        ledger.close()
    if fmt == "json":
        click.echo(json.dumps(rows))
    elif fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=Ledger.usage_columns(by))
        writer.writeheader()
        writer.writerows(rows)
        click.echo(out.getvalue(), nl=False)
    else:
        _table(rows, Ledger.usage_columns(by))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) < 1 else f"{value:,.1f}"
    return str(value)


def _table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns)
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in columns))
    # not a terminal (a pipe, a file): wide enough that no header is cut
    console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 250)
    console.print(table)

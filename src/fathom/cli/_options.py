"""Options shared by several commands."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

from fathom.errors import ConfigError, Problem

F = TypeVar("F", bound=Callable[..., Any])

grader_option = click.option(
    "--grader", required=True, metavar="SPEC",
    help='A grader name ("exact", "tool_call", "shipping", ...) or a JSON spec such as '
         '\'{"name": "tool_call", "weights": {"name_f1": 0.5, "arg_accuracy": 0.5}}\'.')


def parse_grader(text: str) -> str | dict[str, Any]:
    """A grader name, or a JSON object spec."""
    text = text.strip()
    if not text.startswith("{"):
        return text
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError([Problem("--grader", f"not valid JSON ({exc.msg}): {text!r}")]) from exc
    if not isinstance(spec, dict) or "name" not in spec:
        raise ConfigError([Problem("--grader", 'a JSON grader spec is an object with a "name" key')])
    return spec


PARALLEL_HELP = "Requests in flight at once: the batch size of a local model, concurrent requests to an endpoint."
_ALIAS_KEY = "fathom.cli.parallel_alias"


def _alias_callback(old: str) -> Callable[[click.Context, click.Parameter, int | None], None]:
    def record(ctx: click.Context, param: click.Parameter, value: int | None) -> None:
        if value is not None:
            click.echo(f"Warning: {old} is deprecated; use --parallel {value} instead. --parallel: {PARALLEL_HELP}",
                       err=True)
            ctx.meta[_ALIAS_KEY] = value
    return record


def _parallel_callback(ctx: click.Context, param: click.Parameter, value: int) -> int:
    """A deprecated alias counts only when ``--parallel`` itself was not given."""
    if ctx.get_parameter_source(param.name or "") is click.core.ParameterSource.COMMANDLINE:
        return value
    return int(ctx.meta.get(_ALIAS_KEY, value))


def parallel_option(default: int, *deprecated: str, help_text: str = PARALLEL_HELP) -> Callable[[F], F]:
    """``--parallel N`` (one meaning for every model-running command), plus hidden deprecated aliases.

    Each alias (``--batch-size``, ``--concurrency``...) still works: it warns on stderr and sets
    ``--parallel`` unless that was given too. The value reaches the command as ``parallel`` and is
    passed on as :func:`fathom.backends.load_backend`'s ``parallel=``.
    """
    def decorate(f: F) -> F:
        for old in deprecated:
            f = click.option(old, "_deprecated_" + old.lstrip("-").replace("-", "_"), hidden=True,
                             type=click.IntRange(min=1), expose_value=False,
                             callback=_alias_callback(old))(f)
        return click.option("--parallel", default=default, show_default=True, type=click.IntRange(min=1),
                            metavar="N", help=help_text, callback=_parallel_callback)(f)
    return decorate

"""Options shared by several commands."""

from __future__ import annotations

import json
from typing import Any

import click

from fathom.errors import ConfigError, Problem

grader_option = click.option(
    "--grader", required=True, metavar="SPEC",
    help='A grader name ("exact", "tool_call", "shipping", ...) or a JSON spec such as '
         '\'{"name": "tool_call", "weights": {"name_f1": 0.5, "args": 0.5}}\'.')


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

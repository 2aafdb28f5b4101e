"""``fathom grade --grader G --data examples.jsonl --completions c.jsonl``."""

from __future__ import annotations

import json

import click

from fathom.cli._options import grader_option, parse_grader


@click.command()
@grader_option
@click.option("--data", required=True, type=click.Path(exists=True, dir_okay=False), help="Examples (JSONL).")
@click.option("--completions", required=True, type=click.Path(exists=True, dir_okay=False),
              help="One OpenAI assistant message object per line, optionally with 'id'.")
def grade(grader: str, data: str, completions: str) -> None:
    """Grade existing completions; print one JSON object per example, in input order."""
    from fathom.datasets import read_jsonl
    from fathom.evaluate import grade_completions
    from fathom.graders import build_grader

    spec = parse_grader(grader)
    for row in grade_completions(build_grader(spec), read_jsonl(data), read_jsonl(completions)):
        click.echo(json.dumps(row, ensure_ascii=False))

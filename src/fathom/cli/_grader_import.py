"""``fathom grader import FILE.json [--out grader.yaml] [--data D --completions C]``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from fathom.errors import ConfigError, Problem


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Write a Fathom grader spec (YAML) to use as a recipe stage's `grader:`.")
@click.option("--model", default=None, metavar="SPEC",
              help="Judge for score_model/label_model graders (OpenAI model names cannot run here): a local "
                   "model, a folder or http://host:port/v1#name.")
@click.option("--data", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Examples (JSONL) to grade, with --completions.")
@click.option("--completions", type=click.Path(exists=True, dir_okay=False), default=None,
              help="One assistant message per line (optionally with 'id'), graded against --data.")
def import_(file: str, out: str | None, model: str | None, data: str | None, completions: str | None) -> None:
    """Load an OpenAI grader configuration (string_check, text_similarity, score_model, label_model,
    python, multi) as a Fathom grader: check it, print its tree, optionally save it and grade rows.

    FILE holds the grader object, a {"grader": ...} wrapper or a fine-tuning job with
    method.reinforcement.grader.
    """
    from fathom.graders import openai_grader

    if (data is None) != (completions is None):
        raise ConfigError([Problem("--data/--completions", "give both, or neither (scores need examples and "
                                                           "their completions)")])
    grader = openai_grader(file=file, model=model)
    click.echo(f"OpenAI grader from {file}: OK")
    click.echo(grader.describe())
    spec: dict[str, Any] = {"name": "openai", "config": grader.config}
    if model is not None:
        spec["model"] = model
    if out is not None:
        _write_spec(Path(out), spec, file)
        click.echo(f"wrote {out}: use it as a recipe stage's `grader:` (or inline it)")
    if data is not None and completions is not None:
        from fathom.datasets import read_jsonl
        from fathom.evaluate import grade_completions

        examples = read_jsonl(data)
        missing = grader.item_problems(examples)
        if missing:
            raise ConfigError(missing, title=f"the grader's {{{{item.*}}}} templates do not fit {data}")
        try:
            rows = grade_completions(grader, examples, read_jsonl(completions))
        finally:
            grader.close()
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        if rows:
            click.echo(f"mean score {sum(r['score'] for r in rows) / len(rows):.4f} over {len(rows)} example(s)",
                       err=True)


def _write_spec(path: Path, spec: dict[str, Any], source: str) -> None:
    import yaml

    from fathom._files import atomic_write_text

    class _Dumper(yaml.SafeDumper):
        """Multi-line strings (python grader source, prompts) as readable ``|`` blocks."""

    def text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)

    _Dumper.add_representer(str, text)
    header = (f"# A Fathom grader spec imported from {source} by `fathom grader import`.\n"
              f"# In a recipe: put these keys under a stage's `grader:`; or pass it as JSON to --grader.\n")
    body = yaml.dump(spec, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    try:
        atomic_write_text(path, header + body)
    except OSError as exc:
        from fathom.errors import OutputError

        raise OutputError(f"cannot write {path}: {exc.strerror or exc}. Choose another --out.") from None

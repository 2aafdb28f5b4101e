"""``fathom data validate|convert|split|pairs``: check, convert and split example files (JSON Lines), and mine
preference pairs from a model's own graded samples."""

from __future__ import annotations

from pathlib import Path

import click

from fathom.cli._options import grader_option, parallel_option

_FORMAT_CHOICE = click.Choice(["fathom", "openai", "nova", "sharegpt"])
_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group()
def data() -> None:
    """Validate, convert and split example files (JSON Lines, one example per line); mine DPO pairs."""


@data.command()
@click.argument("file", type=_FILE)
@click.option("--prompts", is_flag=True, help="Rows are prompts for generation: no assistant turn is required.")
@click.option("--from", "from_", type=_FORMAT_CHOICE, default=None,
              help="The file's format (default: detected from the first rows).")
@click.pass_context
def validate(ctx: click.Context, file: Path, prompts: bool, from_: str | None) -> None:
    """Check FILE and print every problem (line, field path, message) and a summary.

    Fathom and OpenAI rows are checked against the example schema; Nova rows also against Nova's
    rules; ShareGPT rows after reading them as Fathom examples. Tool-call references
    (reference.tool_calls, free_args, order, groups) are checked against the row's own tools.
    Exits with status 2 when there are problems, 0 when the file is clean.
    """
    from fathom.datasets import check_file

    result = check_file(file, needs_assistant=not prompts, from_=from_)
    for problem in result.problems:
        click.echo(str(problem))
    click.echo(result.summary(), err=not result.ok)
    if not result.ok:
        ctx.exit(2)


@data.command()
@click.argument("file", type=_FILE)
@click.option("--to", "to", type=_FORMAT_CHOICE, required=True, help="The output format.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The output JSONL file (written only when every row converts).")
@click.option("--from", "from_", type=_FORMAT_CHOICE, default=None,
              help="The input format (default: detected from the first rows).")
@click.option("--keep-extra/--drop-extra", default=None,
              help="Keep meta and reference in the output (default: keep, except for nova).")
def convert(file: Path, to: str, out: Path, from_: str | None, keep_extra: bool | None) -> None:
    """Convert FILE between the Fathom, OpenAI, Amazon Nova and ShareGPT formats.

    Chat and preference (DPO) rows are both handled. Every problem is listed with its line;
    nothing is written unless all rows convert.
    """
    from fathom.datasets import convert_file

    report = convert_file(file, out, to=to, from_=from_, keep_extra=keep_extra)
    click.echo(f"wrote {report.rows} row(s) to {report.target} ({report.from_format} -> {report.to_format})")
    if report.dropped_extra:
        click.echo(f"left out meta/reference of {report.dropped_extra} row(s): {report.to_format} has no place "
                   "for them (--keep-extra writes them as extra keys)")
    for name, rows in report.dropped_fields.items():
        click.echo(f"left out {name} in {rows} row(s): {report.to_format} has no such field")


@data.command()
@click.argument("file", type=_FILE)
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for <split>.jsonl files and manifest.json.")
@click.option("--ratios", default="0.8,0.1,0.1", show_default=True, help="Shares of the splits, summing to 1.")
@click.option("--names", default=None, help="Split names, comma-separated (default: train,val,test).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed for assigning groups to splits.")
@click.option("--group-key", default="meta.source", show_default=True,
              help="Dotted field that groups examples (one group never spans two splits); '' for none.")
@click.option("--fail-on-leak", is_flag=True, help="Exit with status 1 when a prompt occurs in two splits.")
@click.pass_context
def split(ctx: click.Context, file: Path, out: Path, ratios: str, names: str | None, seed: int, group_key: str,
          fail_on_leak: bool) -> None:
    """Split FILE into train/val/test by source, then report prompts shared between splits."""
    from fathom.datasets import parse_ratios, split_file

    shares = parse_ratios(ratios, names)
    result = split_file(file, out, ratios=shares, seed=seed, group_key=group_key or None)
    for name, path in result.paths.items():
        click.echo(f"{name:>8}: {result.sizes[name]:6d} example(s) -> {path}")
        if not result.sizes[name] and shares[name] > 0:
            click.echo(f"warning: split {name!r} is empty; there are fewer groups ({group_key or 'examples'}) "
                       "than splits", err=True)
    click.echo(f"leakage: {result.leakage}")
    if fail_on_leak and result.leakage:
        ctx.exit(1)


@data.command()
@click.option("--model", "-m", required=True,
              help="Model spec that samples the answers: smollm2-135m, a hub id, a folder or adapter, or "
                   "http://host:port/v1#name.")
@click.option("--data", "-d", "data_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="JSONL of Fathom examples with the references the grader needs; a trailing assistant turn is "
                   "left out of the prompt.")
@grader_option
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The pairs file (Fathom DPO rows); the summary goes beside it as <name>.summary.json.")
@click.option("--n", "n", default=8, show_default=True, type=int, help="Answers sampled per prompt (at least 2).")
@click.option("--margin", default=0.1, show_default=True, type=float,
              help="Keep a pair only when the best answer's score exceeds the worst's by more than this.")
@click.option("--temperature", default=0.8, show_default=True, type=float, help="Sampling temperature (> 0).")
@click.option("--max-tokens", default=256, show_default=True, type=int, help="Most new tokens per answer.")
@click.option("--limit", default=None, type=click.IntRange(min=1), help="Use only the first N prompts.")
@click.option("--seed", default=0, show_default=True, type=int, help="Sample j of prompt i uses seed + i*n + j.")
@parallel_option(8)
@click.option("--device", default=None, help="Local models: cpu, cuda, ... (default: a GPU if there is one).")
def pairs(model: str, data_file: Path, grader: str, out: Path, n: int, margin: float, temperature: float,
          max_tokens: int, limit: int | None, seed: int, parallel: int, device: str | None) -> None:
    """Mine DPO pairs: sample --n answers per prompt with --model, grade them with --grader against each
    example's reference, and keep the best as chosen and the worst as rejected where best - worst > --margin.

    Prompts whose answers all score the same (ties) or differ by at most the margin are dropped and counted.
    The pairs train with `fathom train dpo --data OUT`; `fathom data convert OUT --to nova` writes Amazon Nova
    DPO rows. Every bad input is reported (exit status 2) before the model loads. Example:

    \b
        fathom data pairs --model runs/sft --data train_prompts.jsonl \\
            --grader shipping --n 8 --out pairs.jsonl
    """
    from fathom.cli._options import parse_grader
    from fathom.graders import build_grader
    from fathom.train import mine_pairs_file

    summary = mine_pairs_file(build_grader(parse_grader(grader)), data_file, out, limit=limit, model=model, n=n,
                              margin=margin, temperature=temperature, max_tokens=max_tokens, seed=seed,
                              parallel=parallel, device=device, progress=True,
                              grader_name=grader if not grader.strip().startswith("{") else None)
    click.echo(summary.render())

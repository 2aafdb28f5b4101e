"""``fathom synth --config synth.yaml --out DIR``: documents to validated training examples."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("Asking the teacher", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The synth.yaml (see above); its relative paths are taken from its folder.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder; run again with the same folder to resume an interrupted run.")
@click.option("--nova", is_flag=True, default=None, help="Also write Amazon Nova files under DIR/nova/.")
@click.option("--parallel", type=click.IntRange(min=1), default=None, metavar="N",
              help="Teacher requests in flight at once (default: the config's concurrency).")
@click.option("--max-chunks", type=click.IntRange(min=1), default=None, metavar="N",
              help="Ask about the first N chunks only (a trial run).")
@click.option("--progress/--no-progress", default=None, help="Show a progress bar (default: on a terminal).")
def synth(config_path: Path, out: Path, nova: bool | None, parallel: int | None, max_chunks: int | None,
          progress: bool | None) -> None:
    """Turn a folder of documents into validated training examples.

    Chunks the documents (txt, md, html, pdf, csv) in the target tokenizer, asks the teacher for
    examples per chunk, checks every example (category, tool calls against the tool schemas and the
    category's tool sequence, quotes present in the chunk), drops duplicates, splits by document and
    writes DIR/train.jsonl, val.jsonl, test.jsonl, rejected.jsonl (with reason codes), summary.json
    and manifest.json. A bad config, an empty documents folder or an unreachable teacher stops it
    before any work (exit 2). A config:

    \b
      documents: docs/
      tools: tools.yaml               # OpenAI tool schemas, or {ref: "pkg.module:attr"}
      categories: categories.yaml     # {categories: {name: {description, tools: [...]}}}
      teacher: {url: "http://127.0.0.1:8000/v1", model: teacher}   # or {ref: "pkg.module:Class"}
      tokenizer: smollm2-135m
      chunk_tokens: 512
      overlap_tokens: 64
      n_per_chunk: 4
      dedupe_threshold: 0.9
      splits: {train: 0.8, val: 0.1, test: 0.1}
      holdout_families: 0.2           # or [family, ...]; omit for none
      seed: 0
      concurrency: 8
    """
    import sys

    from fathom.synth import load_config, run_synth

    config = load_config(config_path)
    if parallel is not None:
        config = dataclasses.replace(config, concurrency=parallel)
    if max_chunks is not None:
        config = dataclasses.replace(config, max_chunks=max_chunks)
    show = sys.stderr.isatty() if progress is None else progress
    with _progress(show) as advance:
        summary = run_synth(config, out, nova=nova, progress=advance)
    click.echo(summary.line())
    click.echo("splits: " + ", ".join(f"{name} {n}" for name, n in summary.splits.items()))
    click.echo("categories: " + ", ".join(f"{name} {c['kept']} ({c['share']:.0%})"
                                          for name, c in summary.categories.items()))
    leak = summary.leakage
    near = ", ".join(f"{pair} {n}" for pair, n in leak["near_duplicates_across_splits"].items()) or "not checked"
    click.echo(f"leakage: documents in two splits {len(leak['document_overlap'])}, "
               f"families across the holdout {len(leak['family_overlap'] or [])}, "
               f"prompts in two splits {leak['leaked_prompts']}, near-duplicate questions across splits: {near}")
    cached = f" ({summary.cached_chunks} chunk(s) from the cache)" if summary.cached_chunks else ""
    click.echo(f"teacher requests: {summary.teacher_calls}{cached}; wrote {out}/")
    for name, c in summary.categories.items():
        if not c["kept"]:
            click.echo(f"warning: category {name!r} has no kept example", err=True)
    for name, size in summary.splits.items():
        if not size and config.splits.get(name):
            click.echo(f"warning: split {name!r} is empty (too few documents or families for the shares)", err=True)

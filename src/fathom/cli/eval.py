"""``fathom eval --model M --data test.jsonl --grader G --out DIR`` and ``fathom eval compare RUN...``."""

from __future__ import annotations

import json

import click

from fathom.cli._options import parallel_option, parse_grader


@click.group(invoke_without_command=True)
@click.option("--model", help="Model spec: smollm2-135m, a folder, an adapter, a .gguf file, or http://host:port/v1#name.")
@click.option("--data", type=click.Path(exists=True, dir_okay=False), help="Test examples (JSONL).")
@click.option("--grader", metavar="SPEC", help="Grader name or JSON spec (see `fathom grade --help`).")
@click.option("--out", type=click.Path(file_okay=False), help="Run folder (re-use it to resume).")
@click.option("--max-tokens", default=256, show_default=True)
@click.option("--temperature", default=0.0, show_default=True)
@parallel_option(8, "--batch-size", "--concurrency")
@click.option("--limit", type=int, help="Evaluate only the first N examples.")
@click.option("--fewshot", type=click.Path(exists=True, dir_okay=False),
              help="Examples (JSONL) whose turns are put before every prompt.")
@click.option("--engine", type=click.Choice(["transformers", "llamacpp", "vllm", "openai"]), default=None,
              help="Backend (default: openai for URLs, llamacpp for .gguf files, else transformers).")
@click.option("--gguf-type", default=None, metavar="TYPE",
              help="llamacpp on a model that is not a GGUF file: run this export of it (f16, q8_0, q4_0...).")
@click.pass_context
def eval_(ctx: click.Context, model: str | None, data: str | None, grader: str | None, out: str | None,
          max_tokens: int, temperature: float, parallel: int, limit: int | None,
          fewshot: str | None, engine: str | None, gguf_type: str | None) -> None:
    """Evaluate a model: generate (cached), grade, write results.jsonl, summary.json and report.html."""
    if ctx.invoked_subcommand is not None:
        return
    missing = [f"--{n}" for n, v in (("model", model), ("data", data), ("grader", grader), ("out", out)) if not v]
    if missing:
        raise click.UsageError(f"missing {', '.join(missing)} (or use `fathom eval compare RUN1 RUN2 ...`)")
    from fathom.datasets import read_jsonl
    from fathom.evaluate import EvalConfig, evaluate_model

    spec = parse_grader(grader or "")
    summary = evaluate_model(model or "", data or "", spec, out or "", max_tokens=max_tokens, temperature=temperature,
                             batch_size=max(parallel, EvalConfig.batch_size),  # each cache flush holds a full batch
                             limit=limit, fewshot=read_jsonl(fewshot) if fewshot else [],
                             backend_options={"parallel": parallel, "backend": engine,
                                              **({"gguf_type": gguf_type} if gguf_type else {})})
    s = summary.score
    click.echo(f"score {s.mean:.3f} (95% CI {s.ci_low:.3f}-{s.ci_high:.3f}) over {summary.n} examples; "
               f"generated {summary.cache.generated}, reused {summary.cache.reused}")
    click.echo(f"wrote {out}/results.jsonl, summary.json, report.html")


@eval_.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--out", type=click.Path(file_okay=False), help="Write compare.json/.png/.html here.")
def compare(runs: tuple[str, ...], out: str | None) -> None:
    """Compare evaluation RUNS side by side (paired bootstrap differences against the first)."""
    from fathom.evaluate import compare_runs

    result = compare_runs(list(runs), out)
    click.echo(json.dumps(result, indent=2))

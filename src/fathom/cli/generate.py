"""``fathom generate``: complete every example of a JSONL file with a model."""

from __future__ import annotations

import click

from fathom.cli._options import parallel_option


@click.command()
@click.option("--model", "-m", required=True,
              help="Model spec: smollm2-135m, a hub id, a folder or adapter, or http://host:port/v1#name.")
@click.option("--data", "-d", required=True, type=click.Path(exists=True, dir_okay=False),
              help="JSONL of Fathom examples; a trailing assistant turn (a reference) is left out of the prompt.")
@click.option("--out", "-o", required=True, type=click.Path(dir_okay=False),
              help="JSONL to write: one OpenAI assistant message per example, plus id, finish_reason, usage.")
@click.option("--max-tokens", default=256, show_default=True, type=click.IntRange(min=1),
              help="Most new tokens per completion.")
@click.option("--temperature", default=0.0, show_default=True, type=click.FloatRange(min=0.0),
              help="0 is greedy; higher samples.")
@click.option("--top-p", default=1.0, show_default=True, type=click.FloatRange(0.0, 1.0, min_open=True),
              help="Nucleus sampling mass.")
@click.option("--seed", default=None, type=int, help="Seed for sampling; example i uses seed + i.")
@click.option("--stop", multiple=True, help="A string that ends generation (repeatable).")
@parallel_option(8, "--batch-size")
@click.option("--device", default=None, help="Local models: cpu, cuda, ... (default: a GPU if there is one).")
def generate(model: str, data: str, out: str, max_tokens: int, temperature: float, top_p: float,
             seed: int | None, stop: tuple[str, ...], parallel: int, device: str | None) -> None:
    """Generate a completion for every example in --data and write them to --out."""
    from fathom._manifest import check_writable
    from fathom.backends import Sampling, check_prompt_file, generate_file, load_backend

    check_prompt_file(data)  # a bad --data or --out is reported now, not after the model has loaded
    check_writable(out)
    backend = load_backend(model, parallel=parallel, device=device, progress=True)
    sampling = Sampling(max_tokens=max_tokens, temperature=temperature, top_p=top_p, stop=stop, seed=seed)
    summary = generate_file(backend, data, out, sampling=sampling)
    tokens_per_s = summary.completion_tokens / summary.seconds if summary.seconds else 0.0
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(summary.finish_reasons.items()))
    click.echo(f"Wrote {summary.examples} completions to {summary.out} ({summary.completion_tokens} tokens "
               f"in {summary.seconds:.1f} s, {tokens_per_s:.1f} tokens/s; {reasons})")

"""``fathom eval --model M --data test.jsonl --grader G --out DIR``, ``fathom eval compare RUN...`` and
``fathom eval forgetting --base M --tuned M2 --out DIR``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click

from fathom.cli._options import parallel_option, parse_grader
from fathom.errors import ConfigError, Problem


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


@eval_.command()
@click.option("--base", "base", required=True, metavar="[NAME=]SPEC",
              help="The model before fine-tuning (named 'base' unless NAME= is given).")
@click.option("--tuned", "tuned", required=True, multiple=True, metavar="[NAME=]SPEC",
              help="A fine-tuned model to compare with the base (repeatable; named after its folder unless NAME=).")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output folder (re-use it to resume).")
@click.option("--data", type=click.Path(dir_okay=False),
              help="Your own set (JSONL with meta.category and meta.check); default: the shipped general set.")
@click.option("--max-tokens", default=64, show_default=True, type=click.IntRange(min=1),
              help="New tokens per answer (greedy).")
@parallel_option(8, "--batch-size", "--concurrency")
@click.option("--limit", type=click.IntRange(min=1), help="Use only the first N examples.")
@click.option("--per-category", type=click.IntRange(min=1), metavar="N",
              help="Use only the first N examples of each category (a quick, balanced subset).")
@click.option("--seed", default=0, show_default=True, help="Bootstrap (and lm-eval) seed.")
@click.option("--engine", type=click.Choice(["transformers", "llamacpp", "vllm", "openai"]), default=None,
              help="Backend for every model (default: from each spec, as in `fathom eval`).")
@click.option("--gguf-type", default=None, metavar="TYPE",
              help="llamacpp on a model that is not a GGUF file: run this export of it (f16, q8_0, q4_0...).")
@click.option("--lm-eval-task", "lm_eval_tasks", multiple=True, metavar="NAME",
              help="Also run this lm-evaluation-harness task on every model (repeatable; needs `pip install lm-eval`).")
@click.option("--lm-eval-include", "lm_eval_include", multiple=True, type=click.Path(file_okay=False),
              help="A folder of lm-eval task YAML files of your own (repeatable).")
@click.option("--lm-eval-limit", type=click.IntRange(min=1), help="Documents per lm-eval task.")
@click.option("--lm-eval-chat/--no-lm-eval-chat", default=True, show_default=True,
              help="Let lm-eval build chats (rendered with each model's template), or send each prompt as one turn.")
@click.option("--json", "as_json", is_flag=True,
              help="Print forgetting.json instead of the summary (no progress bars).")
def forgetting(base: str, tuned: tuple[str, ...], out: str, data: str | None, max_tokens: int, parallel: int,
               limit: int | None, per_category: int | None, seed: int, engine: str | None, gguf_type: str | None,
               lm_eval_tasks: tuple[str, ...], lm_eval_include: tuple[str, ...], lm_eval_limit: int | None,
               lm_eval_chat: bool, as_json: bool) -> None:
    """Measure forgetting: score the base and each tuned model on a general-ability set (arithmetic, units,
    dates, capitals, answer formats, refusing to invent), with paired-bootstrap differences from the base.

    Writes OUT/forgetting.json, forgetting.md and forgetting.png, and one evaluation run per model in
    OUT/runs/. Example: fathom eval forgetting --base smollm2-135m --tuned sft=runs/demo/sft/model --out runs/forget
    """
    from fathom.evaluate import forgetting_check

    base_name, base_spec = _named(base)
    named = [(name or _default_name(spec), spec) for name, spec in map(_named, tuned)]
    repeated = sorted({name for name, _ in named if [n for n, _ in named].count(name) > 1})
    if repeated:
        raise ConfigError([Problem("--tuned", f"{len([n for n, _ in named if n == name])} tuned models are named "
                                              f"{name!r}; name them with NAME=SPEC (--tuned a=PATH --tuned b=PATH)")
                           for name in repeated], title="forgetting check: invalid input")
    options: dict[str, object] = {"parallel": parallel, "backend": engine}
    if gguf_type:
        options["gguf_type"] = gguf_type
    result = forgetting_check(base_spec, dict(named), out, base_name=base_name or "base", data=data,
                              max_tokens=max_tokens, batch_size=max(parallel, 16), limit=limit,
                              per_category=per_category, seed=seed, backend_options=options,
                              lm_eval_tasks=lm_eval_tasks, lm_eval_include=lm_eval_include,
                              lm_eval_limit=lm_eval_limit, lm_eval_chat=lm_eval_chat,
                              quiet=as_json)  # progress bars would mix with the JSON on stdout
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    for name, model in result["models"].items():
        cats = ", ".join(f"{c} {100 * v:.1f}" for c, v in model["per_category"].items())
        click.echo(f"{name}: {100 * model['score']:.1f} points over {model['n']} examples ({cats})")
    for key, text in result["verdicts"].items():
        click.echo(f"{key}: {text}")
    click.echo(f"wrote {out}/forgetting.json, forgetting.md, forgetting.png")


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _named(text: str) -> tuple[str | None, str]:
    """``NAME=SPEC`` -> ``(NAME, SPEC)``; anything else is a bare spec (``(None, text)``).

    >>> _named("sft=runs/demo/sft/model"), _named("http://127.0.0.1:8000/v1?model=x")
    (('sft', 'runs/demo/sft/model'), (None, 'http://127.0.0.1:8000/v1?model=x'))
    """
    name, sep, spec = text.partition("=")
    return (name, spec) if sep and spec and _NAME.match(name) else (None, text)


def _default_name(spec: str) -> str:
    """A bare spec's name: a URL's ``#model``, else the last part of the path (without ``.gguf``).

    >>> _default_name("runs/demo/sft/model/"), _default_name("http://127.0.0.1:8000/v1#tuned")
    ('model', 'tuned')
    """
    if spec.startswith(("http://", "https://")) and "#" in spec:
        return spec.rpartition("#")[2]
    tail = Path(spec.rstrip("/")).name
    return (tail[:-5] if tail.lower().endswith(".gguf") else tail) or spec

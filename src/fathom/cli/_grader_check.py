"""``fathom grader check --grader G --data D --model M [--n 8]``: is a grader ready to be an RL reward?

Thin: checks every input before the model loads, calls :func:`fathom.graders.run_reward_check`,
prints its report (or its JSON) and exits 0 when the advice is ``ready``, 3 when it is not.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from fathom.cli._options import grader_option, parallel_option, parse_grader
from fathom.errors import ConfigError, Problem

if TYPE_CHECKING:
    from fathom.graders import Grader

NOT_READY_EXIT = 3
"""Exit status when the check ran but the advice is not ``ready`` (1 is left to failures, 2 to bad input)."""


def _grader(text: str, flag: str) -> Grader:
    """The grader a ``--grader``-style option names; a malformed spec is reported under ``flag``."""
    from fathom.graders import build_grader

    try:
        spec = parse_grader(text)
    except ConfigError as exc:
        raise ConfigError([Problem(flag, p.message) for p in exc.problems]) from exc
    return build_grader(spec)


def _at_least_two(ctx: click.Context, param: click.Parameter, value: int) -> int:
    if value < 2:
        raise click.BadParameter(f"got {value}; need at least 2 samples per prompt to measure a spread (GRPO learns "
                                 f"from the differences within a prompt's group); try --n 8.")
    return value


@click.command()
@grader_option
@click.option("--data", "-d", required=True, type=click.Path(exists=True, dir_okay=False),
              help="JSONL of Fathom examples with references; a trailing assistant turn is left out of the prompt.")
@click.option("--model", "-m", required=True,
              help="Model spec: smollm2-135m, a hub id, a folder or adapter, or http://host:port/v1#name.")
@click.option("--n", "n", default=8, show_default=True, type=int, callback=_at_least_two,
              help="Completions sampled per prompt (at least 2).")
@click.option("--limit", default=32, show_default=True, type=click.IntRange(min=1),
              help="Prompts sampled: the first N examples (all of them supply the probes' wrong answers).")
@click.option("--temperature", default=1.0, show_default=True, type=click.FloatRange(min=0.0, min_open=True),
              help="Sampling temperature (> 0); use the RFT run's.")
@click.option("--max-tokens", default=256, show_default=True, type=click.IntRange(min=1),
              help="Most new tokens per completion.")
@click.option("--seed", default=0, show_default=True, type=int, help="Sample j of prompt i uses seed + i*n + j.")
@click.option("--strict", "strict_spec", metavar="SPEC",
              help='A grader whose score is strict correctness, e.g. \'{"name": "shipping", "mode": "strict"}\' '
                   "(default: reward == 1).")
@parallel_option(8)
@click.option("--device", default=None, help="Local models: cpu, cuda, ... (default: a GPU if there is one).")
@click.option("--json", "as_json", is_flag=True, help="Print the check as one JSON object instead of the report.")
@click.option("--out", type=click.Path(dir_okay=False), help="Also write the JSON object to this file.")
def check(grader: str, data: str, model: str, n: int, limit: int, temperature: float, max_tokens: int, seed: int,
          strict_spec: str | None, parallel: int, device: str | None, as_json: bool, out: str | None) -> None:
    """Sample --n completions per prompt and check --grader as an RL reward.

    Reports, for the reward and each component, the mean and spread, and the share of prompts
    whose samples all get the same reward (no learning signal for GRPO); how the reward tracks
    strict correctness; and hack probes (an empty answer, the prompt echoed, a repeated phrase,
    an over-long answer, a duplicated tool call, another example's answer) that must score
    low, each named when it does not. It ends with advice: hackable, too_hard (SFT first),
    too_easy, binary (add partial credit) or ready.

    Exit status: 0 ready, 3 checked but not ready, 2 bad input (before any model loads),
    1 any other failure.

    --json prints (and --out writes) one object:

    \b
      {"schema": "fathom.reward_check/1", "grader", "prompts", "n",
       "reward": {"mean", "std", "spread", "zero_spread_share", "n"},
       "components": {NAME: {the same keys}}, "gates": {NAME: pass rate},
       "zero_spread_share", "all_zero_share", "all_full_share", "extreme_share",
       "strict": {"source", "mean", "correlation", "reward_when_correct",
                  "reward_when_wrong"},
       "probes": [{"name", "description", "threshold", "mean", "max", "n",
                   "passed", "answer"}],
       "reference_score", "advice", "advice_text", "issues": [...],
       "warnings": [...], "thresholds": {...},
       "meta": {"model", "temperature", "max_tokens", "seed", "truncated_share"}}

    Scores and shares are floats in [0, 1], the correlation in [-1, 1]; a value that cannot
    be measured (a probe that fits no example, a correlation with a constant side) is null.
    """
    from fathom._manifest import atomic_write_text, check_writable
    from fathom.backends import check_prompt_file
    from fathom.datasets import read_jsonl
    from fathom.graders import run_reward_check

    reward = _grader(grader, "--grader")
    strict = _grader(strict_spec, "--strict") if strict_spec else None
    check_prompt_file(data)  # every bad input is reported now, not after the model has loaded
    if out:
        check_writable(out)
    result = run_reward_check(reward, read_jsonl(data), model=model, n=n, temperature=temperature,
                              max_tokens=max_tokens, limit=limit, parallel=parallel, seed=seed, strict=strict,
                              device=device, progress=True)
    text = json.dumps(result.to_dict(), indent=2, ensure_ascii=False)
    if out:
        atomic_write_text(out, text + "\n")
    click.echo(text if as_json else result.render())
    if result.advice != "ready":
        raise SystemExit(NOT_READY_EXIT)

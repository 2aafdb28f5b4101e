"""``fathom distill``: a teacher's graded answers into a student (the library side: :mod:`fathom.train._distill`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from fathom.cli._options import grader_option, parallel_option
from fathom.errors import ConfigError, Problem


def _options(values: tuple[str, ...], flag: str) -> dict[str, Any]:
    """``KEY=VALUE`` pairs, each value read as JSON when it parses (``epochs=2``, ``lora_rank=null``)."""
    out: dict[str, Any] = {}
    problems = []
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            problems.append(Problem(flag, f"expected KEY=VALUE, got {item!r}"))
            continue
        try:
            out[key.strip().replace("-", "_")] = json.loads(raw)
        except ValueError:
            out[key.strip().replace("-", "_")] = raw
    if problems:
        raise ConfigError(problems, title="invalid options")
    return out


@click.command()
@click.option("--teacher", required=True,
              help="Who answers: a model spec (smollm2-135m, a folder, a hub id), an endpoint "
                   "http://host:port/v1#name (e.g. a hosted large model), or a rule-based model rule:NAME "
                   "(rule:shipping-writer).")
@click.option("--student", required=True, help="The model that learns (local weights).")
@click.option("--data", "data", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="JSONL of prompts with the references the grader needs; a trailing assistant turn is left out.")
@grader_option
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The run folder (teacher answers, kept.jsonl, rejected.jsonl, student/, result.json).")
@click.option("--threshold", default=0.8, show_default=True, type=float,
              help="Keep a teacher answer graded at or above this; the rest go to rejected.jsonl with reasons.")
@click.option("--method", type=click.Choice(["sft", "logits"]), default="sft", show_default=True,
              help="sft: fine-tune on the kept answers. logits: on-policy logit distillation (TRL's "
                   "DistillationTrainer); needs a local teacher sharing the student's vocabulary.")
@click.option("--max-tokens", default=256, show_default=True, type=int, help="Most tokens per teacher answer.")
@click.option("--eval-data", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Held-out examples with answers for the student's evaluation loss (sft).")
@click.option("--teacher-option", "teacher_options", multiple=True, metavar="KEY=VALUE",
              help="An option of the teacher's backend (repeatable), e.g. api_key_env=OPENAI_API_KEY.")
@click.option("--student-option", "student_options", multiple=True, metavar="KEY=VALUE",
              help="A training option (repeatable): fathom train sft's, e.g. epochs=2 learning_rate=2e-3; with "
                   "--method logits: max_steps, learning_rate, batch_size, max_completion_length, beta, "
                   "temperature, lora_rank.")
@click.option("--kl-examples", default=32, show_default=True, type=click.IntRange(min=0),
              help="Kept examples held out to measure KL(teacher || student) before and after (local teachers).")
@click.option("--keep-cut-off", is_flag=True,
              help="Grade teacher answers cut off at --max-tokens instead of rejecting them.")
@parallel_option(8)
@click.option("--device", default=None, help="Local models: cpu, cuda, ... (default: a GPU if there is one).")
@click.option("--resume", is_flag=True, help="Continue an interrupted run in --out (same arguments).")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def distill(teacher: str, student: str, data: Path, grader: str, out: Path, threshold: float, method: str,
            max_tokens: int, eval_data: Path | None, teacher_options: tuple[str, ...],
            student_options: tuple[str, ...], kl_examples: int, keep_cut_off: bool, parallel: int,
            device: str | None, resume: bool, quiet: bool) -> None:
    """Distil a teacher into a student: the teacher answers every prompt, --grader scores each answer against
    the example's reference, answers at or above --threshold become the student's training data and the rest
    land in OUT/rejected.jsonl with their score and reason (empty, cut_off, below_threshold, grader_error).

    Every bad input is reported (exit status 2) before a model loads. Teacher answers are cached in
    OUT/teacher/answers.jsonl, so --resume continues without asking again. Example (the Shipping Forecast's
    rule-based writer, reading only the prompt, taught to the bundled model):

    \b
        fathom distill --teacher rule:shipping-writer --student smollm2-135m \\
            --data runs/shipping-forecast/data/train_prompts.jsonl --grader shipping \\
            --threshold 0.9 --out runs/distill-writer --student-option epochs=1
    """
    from fathom.cli._options import parse_grader
    from fathom.train import distill as run_distill

    result = run_distill(teacher=teacher, student=student, data=data, grader=parse_grader(grader), out=out,
                         threshold=threshold, method=method, max_tokens=max_tokens, eval_data=eval_data,
                         parallel=parallel, device=device,
                         teacher_options=_options(teacher_options, "--teacher-option"),
                         student_options=_options(student_options, "--student-option"), kl_examples=kl_examples,
                         keep_cut_off=keep_cut_off,
                         resume=resume, progress=not quiet)
    click.echo(result.render())

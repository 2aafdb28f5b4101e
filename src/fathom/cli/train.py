"""``fathom train sft|rft|dpo|cpt|merge``: fine-tune a model on chat examples (SFT), reinforcement-fine-tune it
on prompts with a grader as the reward (RFT), preference-optimise it on chosen/rejected pairs (DPO, or online
with a grader), continue its pre-training on raw text (CPT), merge a LoRA adapter into its base.

Thin: options map one to one onto :class:`fathom.train.SFTArgs` / :class:`~fathom.train.RFTArgs` /
:class:`~fathom.train.DPOArgs` / :class:`~fathom.train.CPTArgs` (their help is the field docstrings), the work
is :func:`fathom.train.train_sft`, :func:`~fathom.train.train_rft`, :func:`~fathom.train.train_dpo`,
:func:`~fathom.train.train_cpt` and :func:`~fathom.train.merge_adapter`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from fathom.train import ALGORITHMS, DTYPES, REWARD_CHECKS, CPTArgs, DPOArgs, RFTArgs, SFTArgs, field_help

F = TypeVar("F", bound=Callable[..., Any])
_HELP = field_help(SFTArgs)
_RFT_HELP = field_help(RFTArgs)
_DPO_HELP = field_help(DPOArgs)
_CPT_HELP = field_help(CPTArgs)


def _opt(name: str, type_: Any = None, *, cls: type = SFTArgs, **kwargs: Any) -> Callable[[F], F]:
    """A ``--kebab-case`` option for field ``name`` of ``cls``, with the field's default and docstring."""
    flag = "--" + name.replace("_", "-")
    field = {f.name: f for f in dataclasses.fields(cls)}[name]
    default = field.default
    if default is None or default is dataclasses.MISSING:
        default = None
    return click.option(flag, name, type=type_, default=default, show_default=default is not None,
                        help=field_help(cls)[name], **kwargs)


def _rft(name: str, type_: Any = None, **kwargs: Any) -> Callable[[F], F]:
    return _opt(name, type_, cls=RFTArgs, **kwargs)


def _dpo(name: str, type_: Any = None, **kwargs: Any) -> Callable[[F], F]:
    return _opt(name, type_, cls=DPOArgs, **kwargs)


def _cpt(name: str, type_: Any = None, **kwargs: Any) -> Callable[[F], F]:
    return _opt(name, type_, cls=CPTArgs, **kwargs)


def _shared(opt: Callable[..., Callable[[F], F]], helps: dict[str, str]) -> Callable[[F], F]:
    """The options every trainer-driven method shares (LoRA, schedule, intervals, precision, resume, quiet)."""
    decorators: list[Callable[[F], F]] = [
        click.option("--full", is_flag=True, help=helps["full"]),
        opt("lora_rank", int), opt("lora_alpha", int), opt("lora_dropout", float),
        click.option("--target-modules", help=helps["target_modules"] + " Comma-separated, e.g. q_proj,v_proj."),
        opt("lora_layers", int), opt("epochs", float), opt("max_steps", int), opt("learning_rate", float),
        opt("lr_scheduler", str), opt("warmup", float), opt("batch_size", int), opt("grad_accum", int),
        opt("max_seq_len", int), opt("weight_decay", float), opt("eval_steps", int), opt("save_steps", int),
        opt("logging_steps", int), opt("early_stopping_patience", int), opt("save_total_limit", int),
        opt("seed", int), opt("device", str), opt("dtype", str),
        click.option("--gradient-checkpointing/--no-gradient-checkpointing", default=None,
                     help=helps["gradient_checkpointing"]),
        click.option("--resume", is_flag=True, help=helps["resume"]),
        click.option("--quiet", is_flag=True, help="No progress bar."),
    ]

    def decorate(f: F) -> F:
        for decorator in reversed(decorators):
            f = decorator(f)
        return f
    return decorate


@click.group()
def train() -> None:
    """Fine-tune models: supervised (sft), reinforcement (rft), preference (dpo), continued pre-training (cpt);
    LoRA or full; merging adapters."""


@train.command()
@_opt("model", str, required=True)
@_opt("data", click.Path(path_type=Path), required=True)
@_opt("out", click.Path(path_type=Path), required=True)
@_opt("eval_data", click.Path(path_type=Path))
@click.option("--full", is_flag=True, help=_HELP["full"])
@_opt("lora_rank", int)
@_opt("lora_alpha", int)
@_opt("lora_dropout", float)
@click.option("--target-modules", help=_HELP["target_modules"] + " Comma-separated, e.g. q_proj,v_proj.")
@_opt("lora_layers", int)
@_opt("epochs", float)
@_opt("max_steps", int)
@_opt("learning_rate", float)
@_opt("lr_scheduler", str)
@_opt("warmup", float)
@_opt("batch_size", int)
@_opt("grad_accum", int)
@_opt("max_seq_len", int)
@_opt("weight_decay", float)
@_opt("eval_steps", int)
@_opt("save_steps", int)
@_opt("logging_steps", int)
@_opt("early_stopping_patience", int)
@_opt("save_total_limit", int)
@_opt("seed", int)
@_opt("device", str)
@_opt("dtype", str)
@_opt("chat_template", str)
@click.option("--gradient-checkpointing/--no-gradient-checkpointing", default=None,
              help=_HELP["gradient_checkpointing"])
@click.option("--loss-positions-only/--all-positions", default=True, show_default=True,
              help=_HELP["loss_positions_only"])
@click.option("--group-by-length/--no-group-by-length", default=True, show_default=True,
              help=_HELP["group_by_length"])
@click.option("--resume", is_flag=True, help=_HELP["resume"])
@click.option("--quiet", is_flag=True, help="No progress bar.")
def sft(quiet: bool, target_modules: str | None, **options: Any) -> None:
    """Supervised fine-tuning of MODEL on chat examples (loss on assistant turns and tool calls only).

    Writes the final adapter (or full model with --full) and its tokenizer into --out, so the folder is a
    model spec; with --eval-data it is the best checkpoint. A killed run continues with the same command
    plus --resume. Example:

    \b
        fathom train sft --model smollm2-135m --data train.jsonl \\
            --eval-data val.jsonl --out runs/sft
    """
    from rich.console import Console

    from fathom.train import train_sft

    args = SFTArgs(**options, target_modules=target_modules.split(",") if target_modules else None,
                   progress=not quiet)
    result = train_sft(args)
    console = Console()
    losses = f"{result.first_train_loss:.4f} -> {result.train_loss:.4f}" if result.train_loss is not None else "-"
    console.print(f"[bold]Fine-tuned[/bold] {result.kind} model in {result.out}")
    console.print(f"  steps {result.steps}/{result.planned_steps}{' (stopped early)' if result.stopped_early else ''}"
                  f", train loss {losses}" + (f", best eval loss {result.eval_loss:.4f}" if result.eval_loss else ""))
    if result.tokens_per_s:
        console.print(f"  {result.tokens_per_s:.0f} tokens/s, training {result.train_seconds:.1f} s, "
                      f"total {result.total_seconds:.1f} s")
    console.print(f"  metrics {result.metrics}, loss curve {result.plot}")
    console.print(f"  use it: fathom generate --model {result.out} ...")


@train.command()
@_rft("model", str, required=True)
@_rft("data", click.Path(path_type=Path), required=True)
@_rft("out", click.Path(path_type=Path), required=True)
@click.option("--grader", required=True, help=_RFT_HELP["grader"] + " A name or a JSON object spec.")
@_rft("eval_data", click.Path(path_type=Path))
@_rft("algorithm", click.Choice(ALGORITHMS))
@_rft("num_generations", int)
@_rft("max_completion_length", int)
@_rft("temperature", float)
@_rft("top_p", float)
@_rft("beta", float)
@_rft("loss_type", str)
@_rft("scale_rewards", str)
@_rft("learning_rate", float)
@_rft("lr_scheduler", str)
@_rft("warmup", float)
@_rft("epochs", float)
@_rft("max_steps", int)
@_rft("batch_size", int)
@_rft("grad_accum", int)
@_rft("eval_steps", int)
@_rft("eval_limit", int)
@_rft("logging_steps", int)
@_rft("early_stopping_patience", int)
@_rft("save_total_limit", int)
@_rft("reward_check", click.Choice(REWARD_CHECKS))
@_rft("reward_check_prompts", int)
@click.option("--full", is_flag=True, help=_RFT_HELP["full"])
@_rft("lora_rank", int)
@_rft("lora_alpha", int)
@_rft("lora_layers", int)
@click.option("--target-modules", help=_RFT_HELP["target_modules"] + " Comma-separated, e.g. q_proj,v_proj.")
@_rft("seed", int)
@_rft("device", str)
@_rft("dtype", str)
@_rft("chat_template", str)
@click.option("--gradient-checkpointing/--no-gradient-checkpointing", default=None,
              help=_RFT_HELP["gradient_checkpointing"])
@click.option("--vllm", "use_vllm", is_flag=True, help=_RFT_HELP["use_vllm"])
@click.option("--resume", is_flag=True, help=_RFT_HELP["resume"])
@click.option("--quiet", is_flag=True, help="No progress bar.")
def rft(quiet: bool, grader: str, target_modules: str | None, **options: Any) -> None:
    """Reinforcement fine-tuning of MODEL on prompts, with a Fathom grader as the reward (GRPO or RLOO).

    MODEL may be a base model (a new LoRA adapter is trained) or an SFT adapter folder (that adapter
    continues). Before the first step the reward is checked on sampled completions (reward_check.json);
    with --eval-data the grader scores greedy answers every --eval-steps and the best checkpoint is kept.
    A killed run continues with the same command plus --resume. Example:

    \b
        fathom train rft --model runs/sft --data prompts.jsonl --eval-data val_prompts.jsonl \\
            --grader shipping --out runs/rft
    """
    from rich.console import Console

    from fathom.cli._options import parse_grader
    from fathom.train import train_rft

    args = RFTArgs(**options, grader=parse_grader(grader),
                   target_modules=target_modules.split(",") if target_modules else None, progress=not quiet)
    result = train_rft(args)
    console = Console()
    console.print(f"[bold]Reinforcement-fine-tuned[/bold] {result.kind} model ({result.algorithm}) in {result.out}")
    console.print(f"  steps {result.steps}/{result.planned_steps}{' (stopped early)' if result.stopped_early else ''}"
                  f", reward {_num(result.first_reward)} -> {_num(result.last_reward)}, groups without spread "
                  f"{_num(result.zero_spread_share)}")
    if result.best_val_score is not None:
        console.print(f"  validation score {_num(result.first_val_score)} -> best {_num(result.best_val_score)}")
    console.print(f"  {_num(result.s_per_step)} s/step, rollouts {_num(result.rollout_tokens_per_s)} tokens/s, "
                  f"training {result.train_seconds:.1f} s")
    console.print(f"  metrics {result.metrics}, reward curve {result.plot}")
    console.print(f"  use it: fathom eval --model {result.out} ...")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


@train.command()
@_dpo("model", str, required=True)
@_dpo("data", click.Path(path_type=Path), required=True)
@_dpo("out", click.Path(path_type=Path), required=True)
@_dpo("eval_data", click.Path(path_type=Path))
@_dpo("beta", float)
@_dpo("loss_type", str)
@_dpo("loss_weights", str)
@click.option("--online", is_flag=True, help=_DPO_HELP["online"])
@click.option("--grader", default=None, help=_DPO_HELP["grader"] + " A name or a JSON object spec.")
@_dpo("max_completion_length", int)
@_dpo("temperature", float)
@_dpo("missing_eos_penalty", float)
@_shared(_dpo, _DPO_HELP)
def dpo(quiet: bool, grader: str | None, target_modules: str | None, **options: Any) -> None:
    """Direct preference optimisation of MODEL on chosen/rejected pairs (TRL's DPOTrainer), LoRA or --full.

    MODEL may be a base model (a new adapter is trained; the base is the reference) or an SFT adapter folder
    (that adapter continues; a frozen copy of it is the reference). --data holds Fathom DPO rows (messages
    ending in a user turn, chosen and rejected assistant messages) or OpenAI / Amazon Nova DPO rows; `fathom
    data pairs` mines them from a model's own samples. With --online, --data holds prompts and --grader ranks
    two answers sampled per prompt (TRL's experimental OnlineDPOTrainer). A killed run continues with the same
    command plus --resume. Example:

    \b
        fathom train dpo --model runs/sft --data pairs.jsonl --eval-data val_pairs.jsonl \\
            --beta 0.1 --out runs/dpo
    """
    from rich.console import Console

    from fathom.cli._options import parse_grader
    from fathom.train import train_dpo

    args = DPOArgs(**options, grader=parse_grader(grader) if grader else "",
                   target_modules=target_modules.split(",") if target_modules else None, progress=not quiet)
    result = train_dpo(args)
    console = Console()
    console.print(f"[bold]Preference-optimised[/bold] {result.kind} model ({result.mode} DPO, "
                  f"{'+'.join(result.loss_type)}, beta {result.beta}) in {result.out}")
    console.print(f"  steps {result.steps}/{result.planned_steps}{' (stopped early)' if result.stopped_early else ''}"
                  f", loss {_num(result.first_train_loss)} -> {_num(result.train_loss)}, reward margin "
                  f"{_num(result.first_margin)} -> {_num(result.last_margin)}, pairs ranked right "
                  f"{_num(result.last_accuracy)}")
    if result.eval_loss is not None:
        console.print(f"  held-out pairs: loss {_num(result.eval_loss)}, margin {_num(result.eval_margin)}, "
                      f"ranked right {_num(result.eval_accuracy)}")
    if result.best_val_score is not None:
        console.print(f"  validation score {_num(result.first_val_score)} -> best {_num(result.best_val_score)}")
    if result.dropped_pairs:
        console.print(f"  dropped {result.dropped_pairs} pair(s) whose prompt fills --max-seq-len")
    console.print(f"  {result.train_pairs} {'prompts' if result.mode == 'online' else 'pairs'}, training "
                  f"{result.train_seconds:.1f} s; metrics {result.metrics}, curves {result.plot}")
    console.print(f"  use it: fathom eval --model {result.out} ...")


@train.command()
@_cpt("model", str, required=True)
@_cpt("data", click.Path(path_type=Path), required=True)
@_cpt("out", click.Path(path_type=Path), required=True)
@click.option("--mix", "mix", multiple=True, metavar="PATH:RATIO", help=_CPT_HELP["mix"])
@click.option("--general-eval", "general_eval", multiple=True, metavar="PATH", help=_CPT_HELP["general_eval"])
@_cpt("heldout_fraction", float)
@_cpt("eval_limit", int)
@_shared(_cpt, _CPT_HELP)
def cpt(quiet: bool, mix: tuple[str, ...], general_eval: tuple[str, ...], target_modules: str | None,
        **options: Any) -> None:
    """Continued pre-training of MODEL on raw domain text (next-token loss on every token), LoRA or --full.

    --data is a folder of .txt/.md files, one such file, or JSONL with a "text" field. Documents are joined
    with the end-of-sequence token and cut into blocks of --max-seq-len tokens; the end of each corpus is held
    out. --mix PATH:RATIO (repeatable) draws RATIO of the training blocks from general text against
    forgetting; --general-eval PATH scores general text without training on it (the same held-out blocks a
    mix of it would hold out). Held-out perplexity, domain and general, is measured before and after and kept
    in result.json. A killed run continues with the same command plus --resume. Example:

    \b
        fathom train cpt --model smollm2-135m --data docs/ --mix general.jsonl:0.2 \\
            --max-seq-len 512 --out runs/cpt
    """
    from rich.console import Console

    from fathom.train import train_cpt

    args = CPTArgs(**options, mix=list(mix), general_eval=list(general_eval),
                   target_modules=target_modules.split(",") if target_modules else None,
                   progress=not quiet)
    result = train_cpt(args)
    console = Console()
    console.print(f"[bold]Continued pre-training[/bold] of a {result.kind} model in {result.out}")
    console.print(f"  steps {result.steps}/{result.planned_steps}{' (stopped early)' if result.stopped_early else ''}"
                  f", train loss {_num(result.first_train_loss)} -> {_num(result.train_loss)}")
    for name, values in result.perplexity.items():
        if values["before"] is not None:
            console.print(f"  held-out {name} perplexity {_num(values['before'])} -> {_num(values['after'])}")
    blocks = ", ".join(f"{Path(name).name or name} {counts.get('train', 0)}" for name, counts in result.blocks.items())
    console.print(f"  training blocks: {blocks}; {_num(result.tokens_per_s)} tokens/s, training "
                  f"{result.train_seconds:.1f} s")
    console.print(f"  metrics {result.metrics}, loss curve {result.plot}")
    console.print(f"  use it: fathom generate --model {result.out} ...")


@train.command()
@click.argument("adapter", type=click.Path(path_type=Path))
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Folder for the merged model.")
@click.option("--dtype", default=None, help=f"Weight dtype to save, one of {', '.join(DTYPES)} (default: float32).")
@click.option("--overwrite", is_flag=True, help="Replace --out when it already holds files.")
def merge(adapter: Path, out: Path, dtype: str | None, overwrite: bool) -> None:
    """Merge the LoRA ADAPTER (a `fathom train sft` folder) into its base: a full model folder with tokenizer."""
    from fathom.train import merge_adapter

    click.echo(f"Merged model written to {merge_adapter(adapter, out, dtype=dtype, overwrite=overwrite)}")

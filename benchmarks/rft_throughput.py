"""RFT (GRPO) step time and rollout speed of Fathom's default path against a plain TRL ``GRPOTrainer`` run.

Run:  .venv/bin/python benchmarks/rft_throughput.py                  (expect minutes on a CPU: plain TRL
                                                                       samples up to 512 tokens per completion)
      .venv/bin/python benchmarks/rft_throughput.py --json           (only the figures, as JSON, on stdout)

What it does, with the bundled ``smollm2-135m`` (``--model``) on the same prompts (``--data FILE``;
default: the training prompts of a small synthetic Shipping Forecast data set, about 30, from 2 days of
coarse model runs with the second held out, built in a temporary folder by the ``shipping_data`` stage),
the same reward (the ``shipping`` grader, tolerant field accuracy), the same LoRA settings (Fathom's: r=16
on every linear projection), the same seed and the same work per step (``--prompts-per-step`` prompts x
``--generations`` completions, ``--steps`` steps):

1. Fathom: :func:`fathom.train.train_rft` with its defaults: at most 64 tokens per completion
   (``--max-completion-length``), no gradient checkpointing unless memory says so, bf16 autocast only on
   CPUs with native bf16. The reward check before the first step is turned off (``reward_check="off"``):
   it is not part of a step, and plain TRL has none.
2. Plain TRL: ``GRPOTrainer(model=<the same weights folder>, reward_funcs=[<the grader via
   fathom.graders.as_trl_reward>], train_dataset=<{"prompt": messages, "reference": ...}>,
   peft_config=<the same LoRA config>)`` with ``GRPOConfig`` defaults (512 tokens per completion
   (``--trl-max-completion-length``), gradient checkpointing, bf16, learning rate 1e-6) except what the
   comparison fixes: ``max_steps``, ``per_device_train_batch_size`` (completions per step, as TRL counts
   them), ``num_generations``, ``seed``, ``report_to="none"`` and, on a machine without CUDA,
   ``use_cpu=True`` (TRL's default ``bf16=True`` needs it there; the one setting ``sft_throughput.py``
   adds too). With ``--model`` an SFT adapter, Fathom continues training the adapter
   while plain TRL gets its base weights and a new adapter of Fathom's default shape.

Both trainers get the same callback, which times each optimizer step from ``on_step_begin`` to
``on_step_end``: the rollouts (sampling the completions), grading and the update, but not logging or
checkpoint saving. ``s_per_step`` is the mean over every step, the first included. Rollout speed is
completion tokens per second of generation, timed around TRL's ``_generate_single_turn`` (Fathom's
trainer logs it as ``rollout/tokens_per_s`` in ``metrics.jsonl``; the plain TRL run is wrapped the same
way, only to time it), averaged over steps. The printed speed-up, ``ratio`` in the JSON, is plain TRL's
seconds per step over Fathom's (above 1: Fathom is faster; the goal is 1.5x); the rollout tokens/s ratio
(Fathom over TRL) is printed too. Runs alternate (``--repeats`` pairs, Fathom first then TRL, then swapped)
so a change in machine load hits both alike; the ratio is the median of the per-pair ratios. ``--json``
prints ``{"fathom": {"tokens_per_s", "s_per_step", ...}, "trl": {...}, "ratio"}`` on stdout (each side's
figures are medians over the repeats, its single runs under ``runs``; ``fathom.tokens_per_s_ratio`` is the
rollout ratio) and the table on stderr.

There is no assertion on speed: figures depend on the machine and what else runs on it (the load
average is printed). Not covered: vLLM rollouts, RLOO, multi-turn tool rollouts, full fine-tuning.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

GRADER = "shipping"
"""The reward of both runs: the shipping grader's tolerant field accuracy."""


def step_timer() -> Any:
    """A ``TrainerCallback`` that records the seconds of each optimizer step in ``.seconds``, and the
    precision and checkpointing the trainer ran with in ``.settings``."""
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        def __init__(self) -> None:
            self.seconds: list[float] = []
            self.started = 0.0
            self.settings: dict[str, bool] = {}

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.settings = {"bf16": bool(args.bf16), "gradient_checkpointing": bool(args.gradient_checkpointing)}

        def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.started = time.perf_counter()

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.seconds.append(time.perf_counter() - self.started)

    return StepTimer()


def build_prompts(folder: Path, seed: int) -> Path:
    """The training prompts of a small synthetic shipping data set (one day of training runs)."""
    from fathom.domains.shipping.lm import build_dataset_stage
    from fathom.recipes import StageContext

    out = build_dataset_stage(StageContext("data", folder, "rft-throughput", seed=seed, quiet=True), days=2,
                              runs_per_day=1, resolution=1.0, val_days=0, test_days=1, max_val=0, fewshot=0)
    return Path(out["train_prompts"])


def _figures(timer: Any, rates: list[float], tokens: float, completions: int, rollout_seconds: float,
             train_seconds: float) -> dict[str, Any]:
    step_seconds: list[float] = timer.seconds
    steps = len(step_seconds)
    return {**timer.settings, "tokens_per_s": statistics.fmean(rates) if rates else float("nan"),
            "s_per_step": sum(step_seconds) / steps if steps else float("nan"),
            "steps": steps, "completion_tokens": tokens / completions if completions else float("nan"),
            "rollout_share": rollout_seconds / sum(step_seconds) if steps else float("nan"),
            "train_seconds": train_seconds}


def run_fathom(model: str, data: Path, out: Path, opts: argparse.Namespace) -> dict[str, Any]:
    from fathom.train import RFTArgs, read_metrics, train_rft

    timer = step_timer()
    result = train_rft(RFTArgs(model=model, data=data, out=out, grader=GRADER, max_steps=opts.steps,
                               batch_size=opts.prompts_per_step, num_generations=opts.generations,
                               max_completion_length=opts.max_completion_length, seed=opts.seed,
                               reward_check="off", progress=False), callbacks=[timer])
    records = [r for r in read_metrics(result.metrics) if r.get("rollout/tokens_per_s") is not None]
    completions = opts.prompts_per_step * opts.generations * len(records)
    tokens = sum(r.get("completions/mean_length", 0.0) for r in records) * opts.prompts_per_step * opts.generations
    return _figures(timer, [r["rollout/tokens_per_s"] for r in records], tokens, completions,
                    sum(r["rollout/seconds"] for r in records), result.train_seconds)


def _timed_grpo_trainer() -> Any:
    """TRL's ``GRPOTrainer``, its generation timed the way Fathom's trainer times it (nothing else changed)."""
    from trl.trainer.grpo_trainer import GRPOTrainer

    base: Any = GRPOTrainer

    class TimedGRPOTrainer(base):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.rollouts: list[tuple[int, int, float]] = []  # (completions, tokens, seconds) per training rollout
            super().__init__(*args, **kwargs)

        def _generate_single_turn(self, prompt_ids: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            completion_ids, *rest = super()._generate_single_turn(prompt_ids, *args, **kwargs)
            seconds = time.perf_counter() - started
            if self.model.training:
                self.rollouts.append((len(completion_ids), sum(len(ids) for ids in completion_ids), seconds))
            return (completion_ids, *rest)

    return TimedGRPOTrainer


def trl_weights(model: str) -> str:
    """The weights folder plain TRL loads: the model's own, or an adapter's base."""
    from fathom.models import AdapterSpec, model_folder, resolve_model

    spec = resolve_model(model)
    return model_folder(spec.base if isinstance(spec, AdapterSpec) else spec)


def run_plain_trl(model: str, prompts: list[dict[str, Any]], out: Path, opts: argparse.Namespace) -> dict[str, Any]:
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from trl.trainer.grpo_config import GRPOConfig

    from fathom.graders import as_trl_reward, build_grader
    from fathom.models import prepare_messages
    from fathom.train import RFTArgs

    rows = [{"prompt": prepare_messages(ex["messages"]), "reference": json.dumps(ex.get("reference")),
             "meta": json.dumps(ex.get("meta"))} for ex in prompts]
    args = GRPOConfig(output_dir=str(out), max_steps=opts.steps,
                      per_device_train_batch_size=opts.prompts_per_step * opts.generations,
                      num_generations=opts.generations, max_completion_length=opts.trl_max_completion_length,
                      seed=opts.seed, report_to="none", use_cpu=not torch.cuda.is_available())
    ours = RFTArgs(model=model, data="-", out="-", grader=GRADER).effective_lora()  # Fathom's LoRA settings
    assert ours is not None
    lora = LoraConfig(r=ours["lora_rank"], lora_alpha=ours["lora_alpha"], lora_dropout=ours["lora_dropout"],
                      target_modules=ours["target_modules"], task_type="CAUSAL_LM")
    timer = step_timer()
    trainer = _timed_grpo_trainer()(model=trl_weights(model), args=args, train_dataset=Dataset.from_list(rows),
                                    reward_funcs=[as_trl_reward(build_grader(GRADER), name=GRADER)],
                                    peft_config=lora, callbacks=[timer])
    started = time.perf_counter()
    trainer.train()
    train_seconds = time.perf_counter() - started
    rollouts: list[tuple[int, int, float]] = trainer.rollouts
    return _figures(timer, [t / s for _, t, s in rollouts if s > 0], sum(t for _, t, _ in rollouts),
                    sum(n for n, _, _ in rollouts), sum(s for _, _, s in rollouts), train_seconds)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="smollm2-135m",
                        help="model spec for both runs (an SFT adapter: plain TRL gets its base weights)")
    parser.add_argument("--data", type=Path, help="RFT prompts (JSONL ending in a user turn, with 'reference'); "
                                                  "default: synthetic shipping prompts")
    parser.add_argument("--steps", type=int, default=3, help="optimizer steps per run")
    parser.add_argument("--prompts-per-step", type=int, default=4, help="prompts per step (Fathom's default 4)")
    parser.add_argument("--generations", type=int, default=4, help="completions per prompt (Fathom's default 4)")
    parser.add_argument("--max-completion-length", type=int, default=64, help="Fathom's tokens per completion "
                                                                              "(its default 64)")
    parser.add_argument("--trl-max-completion-length", type=int, default=512,
                        help="plain TRL's tokens per completion (TRL's default 512)")
    parser.add_argument("--repeats", type=int, default=1, help="pairs of runs, alternating which goes first")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print only the figures, as JSON, on stdout "
                                                            "(the table goes to stderr)")
    return parser


def _check(parser: argparse.ArgumentParser, opts: argparse.Namespace) -> None:
    low = {"steps": 1, "prompts_per_step": 1, "generations": 2, "max_completion_length": 1,
           "trl_max_completion_length": 1, "repeats": 1}
    bad = [f"--{k.replace('_', '-')} must be at least {v}, got {getattr(opts, k)}" for k, v in low.items()
           if getattr(opts, k) < v]
    if bad:
        parser.error("; ".join(bad))


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure over the repeats (settings as in the first run), and the runs themselves."""
    return {**{k: v if isinstance(v, bool) else statistics.median(r[k] for r in runs) for k, v in runs[0].items()},
            "runs": runs}


def _table(result: dict[str, Any], opts: argparse.Namespace, ratios: list[float],
           load: tuple[tuple[float, ...], tuple[float, ...]], file: Any) -> None:
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(f"\nRFT (GRPO, LoRA) throughput, {opts.model}, {opts.steps} steps x {opts.prompts_per_step} prompts x "
          f"{opts.generations} completions, {device}, {os.cpu_count()} cores, {torch.get_num_threads()} torch "
          f"threads", file=file)
    print(f"{'run':<11}{'max tok':>8}{'bf16':>6}{'ckpt':>6}{'s/step':>9}{'rollout tok/s':>15}{'tok/compl':>11}"
          f"{'rollout %':>11}{'train s':>9}", file=file)
    for name, label, limit in (("fathom", "fathom", opts.max_completion_length),
                               ("trl", "plain TRL", opts.trl_max_completion_length)):
        for run in result[name]["runs"]:
            flags = f"{'yes' if run.get('bf16') else 'no':>6}{'yes' if run.get('gradient_checkpointing') else 'no':>6}"
            print(f"{label:<11}{limit:>8}{flags}{run['s_per_step']:>9.2f}{run['tokens_per_s']:>15.1f}"
                  f"{run['completion_tokens']:>11.1f}{100 * run['rollout_share']:>10.0f}%"
                  f"{run['train_seconds']:>9.1f}", file=file)
    print(f"speed-up (plain TRL s/step / fathom s/step): {result['ratio']:.2f}x (goal 1.5x; per pair: "
          f"{', '.join(f'{r:.2f}' for r in ratios)})", file=file)
    print(f"rollout tokens/s ratio (fathom / plain TRL): {result['fathom']['tokens_per_s_ratio']:.2f}x", file=file)
    print(f"load average before {load[0][0]:.1f}, after {load[1][0]:.1f}", file=file)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    opts = parser.parse_args(argv)
    _check(parser, opts)

    import logging
    import warnings

    from fathom.models import BundledSpec, bundled_dir, resolve_model
    from fathom.train import read_prompts

    warnings.filterwarnings("ignore")
    for name in ("transformers", "trl", "peft", "accelerate", "datasets"):
        logging.getLogger(name).setLevel(logging.ERROR)
    spec = resolve_model(opts.model)
    if isinstance(spec, BundledSpec):
        bundled_dir(spec.spec)  # converted once, before anything is timed
    runs: dict[str, list[dict[str, Any]]] = {"fathom": [], "trl": []}
    with tempfile.TemporaryDirectory(prefix="fathom-rft-bench-") as tmp:
        data = opts.data or build_prompts(Path(tmp) / "data", opts.seed)
        prompts = read_prompts(data)
        load_before = os.getloadavg()
        for pair in range(opts.repeats):
            order = ["fathom", "trl"] if pair % 2 == 0 else ["trl", "fathom"]
            for name in order:
                out = Path(tmp) / f"{name}-{pair}"
                print(f"[{pair + 1}/{opts.repeats}] {name} ...", file=sys.stderr, flush=True)
                with contextlib.redirect_stdout(sys.stderr):  # TRL's log lines must not mix with --json
                    if name == "fathom":
                        runs[name].append(run_fathom(opts.model, data, out, opts))
                    else:
                        runs[name].append(run_plain_trl(opts.model, prompts, out, opts))
        load_after = os.getloadavg()

    ratios = [t["s_per_step"] / f["s_per_step"] for f, t in zip(runs["fathom"], runs["trl"], strict=True)]
    result: dict[str, Any] = {"fathom": _median(runs["fathom"]), "trl": _median(runs["trl"]),
                              "ratio": statistics.median(ratios)}
    result["fathom"]["tokens_per_s_ratio"] = result["fathom"]["tokens_per_s"] / result["trl"]["tokens_per_s"]
    _table(result, opts, ratios, (load_before, load_after), sys.stderr if opts.json else sys.stdout)
    if opts.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The generic recipe stages: ``sft``, ``grader_check``, ``rft``, ``pairs``, ``dpo``, ``cpt``, ``distill``, ``eval``,
``compare`` and ``forgetting``.

Each is a thin, readable wrapper: turn recipe parameters into library arguments, call the library,
return the paths and figures later stages need.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fathom.recipes._recipe import InputPath
from fathom.recipes._stages import StageContext

__all__ = ["compare_stage", "cpt_stage", "distill_stage", "dpo_stage", "eval_stage", "forgetting_stage",
           "grader_check_stage", "pairs_stage", "rft_stage", "sft_stage"]


def sft_stage(ctx: StageContext, **params: Any) -> dict[str, Any]:
    """Supervised fine-tuning (:func:`fathom.train.train_sft`); parameters are :class:`SFTArgs` fields.

    An interrupted run resumes from its latest checkpoint in the stage folder.
    """
    from fathom.train import SFTArgs, train_sft

    params.setdefault("seed", ctx.seed)
    result = train_sft(SFTArgs(**params, out=ctx.out_dir / "model", resume=ctx.resume, progress=not ctx.quiet))
    return {"model": result.out, "steps": result.steps, "train_loss": result.train_loss,
            "eval_loss": result.eval_loss, "tokens_per_s": result.tokens_per_s,
            "train_seconds": round(result.train_seconds, 1), "metrics": result.metrics, "plot": result.plot}


sft_stage.config_class = "fathom.train:SFTArgs"  # type: ignore[attr-defined]
sft_stage.runner_fields = ("out", "resume", "progress")  # type: ignore[attr-defined]
sft_stage.outputs = ("model", "steps", "train_loss", "eval_loss", "tokens_per_s",  # type: ignore[attr-defined]
                     "train_seconds", "metrics", "plot")


def rft_stage(ctx: StageContext, **params: Any) -> dict[str, Any]:
    """Reinforcement fine-tuning (:func:`fathom.train.train_rft`); parameters are :class:`RFTArgs` fields.

    An interrupted run resumes from its latest checkpoint in the stage folder.
    """
    from fathom.train import RFTArgs, train_rft

    params.setdefault("seed", ctx.seed)
    result = train_rft(RFTArgs(**params, out=ctx.out_dir / "model", resume=ctx.resume, progress=not ctx.quiet))
    return {"model": result.out, "steps": result.steps, "first_reward": result.first_reward,
            "last_reward": result.last_reward, "best_val_score": result.best_val_score,
            "s_per_step": result.s_per_step, "rollout_tokens_per_s": result.rollout_tokens_per_s,
            "train_seconds": round(result.train_seconds, 1), "metrics": result.metrics, "plot": result.plot}


rft_stage.config_class = "fathom.train:RFTArgs"  # type: ignore[attr-defined]
rft_stage.runner_fields = ("out", "resume", "progress")  # type: ignore[attr-defined]
rft_stage.outputs = ("model", "steps", "first_reward", "last_reward",  # type: ignore[attr-defined]
                     "best_val_score", "s_per_step", "rollout_tokens_per_s", "train_seconds", "metrics", "plot")


def dpo_stage(ctx: StageContext, **params: Any) -> dict[str, Any]:
    """Preference optimisation (:func:`fathom.train.train_dpo`); parameters are :class:`DPOArgs` fields.

    An interrupted run resumes from its latest checkpoint in the stage folder.
    """
    from fathom.train import DPOArgs, train_dpo

    params.setdefault("seed", ctx.seed)
    result = train_dpo(DPOArgs(**params, out=ctx.out_dir / "model", resume=ctx.resume, progress=not ctx.quiet))
    return {"model": result.out, "steps": result.steps, "train_loss": result.train_loss,
            "last_margin": result.last_margin, "eval_loss": result.eval_loss, "eval_margin": result.eval_margin,
            "best_val_score": result.best_val_score, "train_seconds": round(result.train_seconds, 1),
            "metrics": result.metrics, "plot": result.plot}


dpo_stage.config_class = "fathom.train:DPOArgs"  # type: ignore[attr-defined]
dpo_stage.runner_fields = ("out", "resume", "progress")  # type: ignore[attr-defined]
dpo_stage.outputs = ("model", "steps", "train_loss", "last_margin", "eval_loss",  # type: ignore[attr-defined]
                     "eval_margin", "best_val_score", "train_seconds", "metrics", "plot")


def cpt_stage(ctx: StageContext, **params: Any) -> dict[str, Any]:
    """Continued pre-training (:func:`fathom.train.train_cpt`); parameters are :class:`CPTArgs` fields.

    An interrupted run resumes from its latest checkpoint in the stage folder.
    """
    from fathom.train import CPTArgs, train_cpt

    params.setdefault("seed", ctx.seed)
    result = train_cpt(CPTArgs(**params, out=ctx.out_dir / "model", resume=ctx.resume, progress=not ctx.quiet))
    return {"model": result.out, "steps": result.steps, "train_loss": result.train_loss,
            "perplexity": result.perplexity, "tokens_per_s": result.tokens_per_s,
            "train_seconds": round(result.train_seconds, 1), "metrics": result.metrics, "plot": result.plot}


cpt_stage.config_class = "fathom.train:CPTArgs"  # type: ignore[attr-defined]
cpt_stage.runner_fields = ("out", "resume", "progress")  # type: ignore[attr-defined]
cpt_stage.outputs = ("model", "steps", "train_loss", "perplexity", "tokens_per_s",  # type: ignore[attr-defined]
                     "train_seconds", "metrics", "plot")


def pairs_stage(ctx: StageContext, model: str, data: InputPath, grader: str | dict[str, Any], n: int = 8,
                margin: float = 0.1, temperature: float = 0.8, max_tokens: int = 256, limit: int | None = None,
                batch_size: int = 16) -> dict[str, Any]:
    """Mine DPO pairs (see ``fathom data pairs``): ``n`` answers per prompt of ``data`` by ``model``, graded by
    ``grader``; the best and worst become a pair where they differ by more than ``margin``. Writes ``pairs.jsonl``
    and ``pairs.summary.json``; a stage that already wrote both is not sampled again.
    """
    import json

    from fathom.graders import build_grader
    from fathom.train import PairSummary, mine_pairs_file

    out = ctx.out_dir / "pairs.jsonl"
    report = ctx.out_dir / "pairs.summary.json"
    if ctx.resume and out.is_file() and report.is_file():
        summary = PairSummary(**json.loads(report.read_text(encoding="utf-8")))
    else:
        summary = mine_pairs_file(build_grader(grader), data, out, limit=limit, model=model, n=n, margin=margin,
                                  temperature=temperature, max_tokens=max_tokens, seed=ctx.seed,
                                  parallel=batch_size, progress=not ctx.quiet,
                                  grader_name=grader if isinstance(grader, str) else None)
    if not ctx.quiet:
        from rich.console import Console

        Console(stderr=True).print(summary.render(), markup=False, highlight=False)
    return {"pairs": str(out), "summary": str(report), "kept": summary.pairs, "dropped_tie": summary.dropped_tie,
            "dropped_below_margin": summary.dropped_below_margin}


pairs_stage.outputs = ("pairs", "summary", "kept", "dropped_tie",  # type: ignore[attr-defined]
                       "dropped_below_margin")


def _pairs_check_args(known: dict[str, Any]) -> list[Any]:
    """The ``pairs`` stage's ranges, checked before the recipe runs."""
    from fathom.errors import Problem

    problems = []
    if isinstance(known.get("n"), int) and known["n"] < 2:
        problems.append(Problem("n", f"must be at least 2 (a pair needs a best and a worst answer), got {known['n']}"))
    if isinstance(known.get("margin"), (int, float)) and not 0 <= known["margin"] < 1:
        problems.append(Problem("margin", f"must be in [0, 1) (grades are in [0, 1]), got {known['margin']}"))
    if isinstance(known.get("temperature"), (int, float)) and not known["temperature"] > 0:
        problems.append(Problem("temperature", f"must be above 0, got {known['temperature']}"))
    return problems


pairs_stage.check_args = _pairs_check_args  # type: ignore[attr-defined]


def grader_check_stage(ctx: StageContext, model: str, data: InputPath, grader: str | dict[str, Any],
                       n: int = 8, limit: int | None = 32, temperature: float = 1.0, max_tokens: int = 256,
                       batch_size: int = 16, require_ready: bool = False) -> dict[str, Any]:
    """Check ``grader`` as a reward on ``n`` sampled completions of ``limit`` prompts of ``data`` by ``model``
    (see ``fathom grader check``); writes ``reward_check.json``. With ``require_ready`` the recipe stops
    unless the advice is ``ready``; otherwise only a hackable reward stops it.
    """
    import json

    from fathom.datasets import read_jsonl
    from fathom.errors import TrainingError
    from fathom.graders import build_grader, run_reward_check

    check = run_reward_check(build_grader(grader), read_jsonl(data), limit=limit, model=model, n=n,
                             temperature=temperature, max_tokens=max_tokens, parallel=batch_size, seed=ctx.seed)
    (ctx.out_dir / "reward_check.json").write_text(json.dumps(check.to_dict(), indent=2) + "\n", encoding="utf-8")
    if not ctx.quiet:
        from rich.console import Console

        Console(stderr=True).print(check.render(), markup=False, highlight=False)
    if check.advice == "hackable" or (require_ready and check.advice != "ready"):
        raise TrainingError(f"grader check: {check.advice_text} (details in {ctx.out_dir / 'reward_check.json'})")
    return {"advice": check.advice, "report": str(ctx.out_dir / "reward_check.json")}


grader_check_stage.outputs = ("advice", "report")  # type: ignore[attr-defined]


def eval_stage(ctx: StageContext, model: str, data: InputPath, grader: str | dict[str, Any],
               max_tokens: int = 256, temperature: float = 0.0, batch_size: int = 16,
               limit: int | None = None, fewshot: int = 0, fewshot_data: InputPath | None = None,
               label: str | None = None, engine: str | None = None, gguf_type: str | None = None,
               parallel: int | None = None) -> dict[str, Any]:
    """Evaluate ``model`` on ``data`` with ``grader``; ``fewshot`` examples from ``fewshot_data`` go first.

    ``engine`` picks the backend (``transformers``, ``llamacpp``...; default: from the spec), ``gguf_type``
    the GGUF export llama.cpp runs (``f16``, ``q8_0``...), ``parallel`` the requests generated at once.
    An interrupted evaluation resumes from its completion cache in the stage folder.
    """
    from fathom.datasets import read_jsonl
    from fathom.evaluate import evaluate_model

    shots = read_jsonl(fewshot_data)[:fewshot] if fewshot and fewshot_data else []
    options: dict[str, Any] = {"backend": engine, "parallel": parallel}
    if gguf_type is not None:
        options["gguf_type"] = gguf_type
    summary = evaluate_model(model, data, grader, ctx.out_dir, max_tokens=max_tokens, temperature=temperature,
                             seed=ctx.seed, batch_size=batch_size, limit=limit, fewshot=shots, quiet=ctx.quiet,
                             backend_options={k: v for k, v in options.items() if v is not None})
    return {"score": summary.score.mean, "n": summary.n, "label": label or ctx.name,
            "model": model, "summary": str(ctx.out_dir / "summary.json"),
            "results": str(ctx.out_dir / "results.jsonl")}


eval_stage.outputs = ("score", "n", "label", "model", "summary", "results")  # type: ignore[attr-defined]


def compare_stage(ctx: StageContext, runs: list[str], names: list[str] | None = None) -> dict[str, Any]:
    """Compare evaluation run folders (paired bootstrap against the first)."""
    from fathom.evaluate import compare_runs

    result = compare_runs(runs, ctx.out_dir, names=names, seed=ctx.seed)
    return {"compare": str(ctx.out_dir / "compare.json"),
            "scores": {name: r["means"]["score"] for name, r in result["runs"].items()}}


compare_stage.outputs = ("compare", "scores")  # type: ignore[attr-defined]


def forgetting_stage(ctx: StageContext, base_model: str, tuned: dict[str, str], base_name: str = "base",
                     data: InputPath | None = None, max_tokens: int = 64, batch_size: int = 16,
                     limit: int | None = None, per_category: int | None = None, engine: str | None = None,
                     gguf_type: str | None = None, parallel: int | None = None,
                     lm_eval_tasks: list[str] | None = None, lm_eval_include: list[str] | None = None,
                     lm_eval_limit: int | None = None) -> dict[str, Any]:
    """The forgetting check (:func:`fathom.evaluate.forgetting_check`): ``base_model`` and each of ``tuned``
    (name -> model spec, e.g. ``{sft: "${sft.model}"}``) on the general-ability set (or ``data``).

    Returns the paths of ``forgetting.json``, ``forgetting.md`` and ``forgetting.png`` (for a report to
    show), each model's score, each tuned model's paired difference from the base and its verdict.
    An interrupted check resumes from the completion caches in the stage folder.
    """
    from fathom.evaluate import forgetting_check

    options: dict[str, Any] = {"backend": engine, "parallel": parallel, "gguf_type": gguf_type}
    result = forgetting_check(base_model, tuned, ctx.out_dir, base_name=base_name, data=data, max_tokens=max_tokens,
                              batch_size=batch_size, limit=limit, per_category=per_category, seed=ctx.seed,
                              quiet=ctx.quiet,
                              backend_options={k: v for k, v in options.items() if v is not None},
                              lm_eval_tasks=lm_eval_tasks or (), lm_eval_include=lm_eval_include or (),
                              lm_eval_limit=lm_eval_limit)
    return {"forgetting": str(ctx.out_dir / "forgetting.json"), "report": str(ctx.out_dir / "forgetting.md"),
            "figure": str(ctx.out_dir / "forgetting.png"),
            "scores": {name: m["score"] for name, m in result["models"].items()},
            "differences": {k: {"mean": d["mean"], "low": d["low"], "high": d["high"]}
                            for k, d in result["differences"].items()},
            "verdicts": result["verdicts"]}


def _forgetting_args(known: dict[str, Any]) -> list[Any]:
    """Each tuned model spec names something loadable (checked like ``model`` parameters); at least one."""
    from fathom.errors import ModelError, Problem
    from fathom.models import resolve_model

    tuned = known.get("tuned")
    if not isinstance(tuned, dict):
        return []
    problems = [Problem("tuned", "give at least one tuned model, {name: spec}")] if not tuned else []
    for name, spec in tuned.items():
        if isinstance(spec, str) and "${" not in spec:
            try:
                resolve_model(spec)
            except ModelError as exc:
                problems.append(Problem(f"tuned.{name}", str(exc)))
    return problems


forgetting_stage.outputs = ("forgetting", "report", "figure", "scores",  # type: ignore[attr-defined]
                            "differences", "verdicts")
forgetting_stage.check_args = _forgetting_args  # type: ignore[attr-defined]


def distill_stage(ctx: StageContext, teacher: str, student: str, data: InputPath, grader: str | dict[str, Any],
                  threshold: float = 1.0, method: str = "sft", max_tokens: int = 256,
                  eval_data: InputPath | None = None, parallel: int | None = None,
                  teacher_options: dict[str, Any] | None = None, student_options: dict[str, Any] | None = None,
                  kl_examples: int = 32, keep_cut_off: bool = False) -> dict[str, Any]:
    """Distillation (:func:`fathom.train.distill`, ``fathom distill``): ``teacher`` answers the prompts of
    ``data``, ``grader`` keeps those at or above ``threshold`` (the rest go to ``rejected.jsonl`` with their
    reason), ``student`` learns the kept answers (``method`` ``sft`` or ``logits``).

    An interrupted run resumes: cached teacher answers, the student's checkpoints.
    """
    from fathom.train import distill

    result = distill(teacher=teacher, student=student, data=data, grader=grader, out=ctx.out_dir / "run",
                     threshold=threshold, method=method, max_tokens=max_tokens, eval_data=eval_data,
                     parallel=parallel, teacher_options=teacher_options,
                     student_options={"seed": ctx.seed, **(student_options or {})}, kl_examples=kl_examples,
                     keep_cut_off=keep_cut_off, resume=ctx.resume,
                     progress=not ctx.quiet)
    if not ctx.quiet:
        from rich.console import Console

        Console(stderr=True).print(result.render(), markup=False, highlight=False)
    summary = result.teacher
    return {"model": result.student, "kept": summary.kept, "rejected": summary.rejected,
            "reasons": summary.reasons, "teacher_mean_score": summary.mean_score,
            "kept_file": summary.kept_file, "rejected_file": summary.rejected_file,
            "kl_to_teacher": result.kl_to_teacher, "result": str(Path(result.out) / "result.json")}


distill_stage.outputs = ("model", "kept", "rejected", "reasons", "teacher_mean_score",  # type: ignore[attr-defined]
                         "kept_file", "rejected_file", "kl_to_teacher", "result")

"""The generic recipe stages: ``sft``, ``grader_check``, ``rft``, ``eval`` and ``compare``.

Each is a thin, readable wrapper: turn recipe parameters into library arguments, call the library,
return the paths and figures later stages need.
"""

from __future__ import annotations

from typing import Any

from fathom.recipes._recipe import InputPath
from fathom.recipes._stages import StageContext

__all__ = ["compare_stage", "eval_stage", "grader_check_stage", "rft_stage", "sft_stage"]


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

"""The generic recipe stages: ``sft``, ``eval`` and ``compare``.

Each is a thin, readable wrapper: turn recipe parameters into library arguments, call the library,
return the paths and figures later stages need.
"""

from __future__ import annotations

from typing import Any

from fathom.recipes._recipe import InputPath
from fathom.recipes._stages import StageContext

__all__ = ["compare_stage", "eval_stage", "sft_stage"]


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


def eval_stage(ctx: StageContext, model: str, data: InputPath, grader: str | dict[str, Any],
               max_tokens: int = 256, temperature: float = 0.0, batch_size: int = 16,
               limit: int | None = None, fewshot: int = 0, fewshot_data: InputPath | None = None,
               label: str | None = None) -> dict[str, Any]:
    """Evaluate ``model`` on ``data`` with ``grader``; ``fewshot`` examples from ``fewshot_data`` go first.

    An interrupted evaluation resumes from its completion cache in the stage folder.
    """
    from fathom.datasets import read_jsonl
    from fathom.evaluate import evaluate_model

    shots = read_jsonl(fewshot_data)[:fewshot] if fewshot and fewshot_data else []
    summary = evaluate_model(model, data, grader, ctx.out_dir, max_tokens=max_tokens, temperature=temperature,
                             seed=ctx.seed, batch_size=batch_size, limit=limit, fewshot=shots, quiet=ctx.quiet)
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

"""The ``synth`` recipe stage: a ``synth.yaml`` given inline, run into the stage folder.

Besides the splits it writes ``<split>_prompts.jsonl``, the same examples without the assistant's
answer, which is what ``rft`` and ``grader_check`` sample from.

Every parameter is a ``synth.yaml`` key (:class:`fathom.synth.SynthConfig`); relative paths are taken
from the recipe's working folder. An interrupted stage resumes from the teacher-answer cache in its
folder, so finished chunks are not asked again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fathom.recipes._stages import StageContext

__all__ = ["synth_stage"]


def synth_stage(ctx: StageContext, **params: Any) -> dict[str, Any]:
    """Run :func:`fathom.synth.run_synth` with the stage's parameters as its config."""
    from fathom.synth import run_synth

    params.setdefault("seed", ctx.seed)
    summary = run_synth({k: str(v) if isinstance(v, Path) else v for k, v in params.items()}, ctx.out_dir)
    if not ctx.quiet:
        print(f"[{ctx.name}] {summary.line()}")
    prompts = {name: str(_prompts(ctx.out_dir / f"{name}.jsonl", ctx.out_dir / f"{name}_prompts.jsonl"))
               for name in ("train", "val", "test")}
    return {"train": str(ctx.out_dir / "train.jsonl"), "val": str(ctx.out_dir / "val.jsonl"),
            "test": str(ctx.out_dir / "test.jsonl"), "train_prompts": prompts["train"],
            "val_prompts": prompts["val"], "test_prompts": prompts["test"],
            "rejected": str(ctx.out_dir / "rejected.jsonl"),
            "summary": str(ctx.out_dir / "summary.json"), "asked": summary.asked, "kept": summary.kept,
            "rejected_by_reason": summary.rejected, "splits": summary.splits}


synth_stage.outputs = ("train", "val", "test", "train_prompts", "val_prompts",  # type: ignore[attr-defined]
                       "test_prompts", "rejected", "summary", "asked", "kept", "rejected_by_reason", "splits")


def _prompts(examples: Path, out: Path) -> Path:
    """The examples without their final assistant turn: the prompts RFT samples from (references kept)."""
    from fathom.datasets import read_jsonl, write_jsonl

    rows = []
    for example in read_jsonl(examples):
        messages = list(example["messages"])
        if messages and messages[-1].get("role") == "assistant":
            messages.pop()
        rows.append({**example, "messages": messages})
    return write_jsonl(out, rows)


synth_stage.config_class = "fathom.synth:SynthConfig"  # type: ignore[attr-defined]
synth_stage.runner_fields = ("path",)  # type: ignore[attr-defined]

"""Integration: LoRA fine-tuning the real bundled SmolLM2 for a few steps lowers its training loss."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fathom.train import SFTArgs, read_metrics, sea_state_examples, train_sft


@pytest.mark.bundled
def test_lora_on_the_bundled_model_lowers_the_loss(bundled_model_dir: Path, tmp_path: Path, chats: Any) -> None:
    data = chats.write_jsonl(tmp_path / "train.jsonl", sea_state_examples(32, seed=0))
    result = train_sft(SFTArgs(model="smollm2-135m", data=data, out=tmp_path / "run", max_steps=8, batch_size=4,
                               learning_rate=1e-3, warmup=0.0, lr_scheduler="constant", lora_dropout=0.0,
                               logging_steps=1, seed=0, device="cpu", progress=False))
    losses = [r["loss"] for r in read_metrics(Path(result.out) / "metrics.jsonl") if "loss" in r]
    assert len(losses) == 8
    first, last = sum(losses[:2]) / 2, sum(losses[-2:]) / 2
    assert last < 0.5 * first, losses
    assert result.base == "smollm2-135m" and result.tokens_per_s

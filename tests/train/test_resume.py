"""A run killed mid-way (SIGKILL, after its first checkpoint) resumes to the planned step count."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fathom.train import SFTArgs, complete_checkpoints, read_metrics, train_sft

MAX_STEPS, SAVE_STEPS = 60, 5


def _args(tiny: Path, data: Path, out: Path, **kw: Any) -> SFTArgs:
    return SFTArgs(model=str(tiny), data=data, out=out, max_steps=kw.pop("max_steps", MAX_STEPS),
                   save_steps=SAVE_STEPS, batch_size=2, logging_steps=5, save_total_limit=100, seed=3,
                   progress=False, **kw)


def _argv(tiny: Path, data: Path, out: Path) -> list[str]:
    return ["train", "sft", "--model", str(tiny), "--data", str(data), "--out", str(out), "--max-steps",
            str(MAX_STEPS), "--save-steps", str(SAVE_STEPS), "--batch-size", "2", "--logging-steps", "5",
            "--save-total-limit", "100", "--seed", "3", "--quiet"]


def test_killed_run_resumes_without_losing_checkpoints(tiny_model_dir: Path, tmp_path: Path, train_file: Path,
                                                       kill_after_first_checkpoint: Any) -> None:
    out = tmp_path / "run"
    before = kill_after_first_checkpoint(_argv(tiny_model_dir, train_file, out), out, tmp_path / "killed-run.log")

    result = train_sft(_args(tiny_model_dir, train_file, out, resume=True))
    assert result.steps == result.planned_steps == MAX_STEPS
    assert result.resumed_from is not None and Path(result.resumed_from) == before[-1]
    after = complete_checkpoints(out)
    assert set(before) <= set(after)  # no finished checkpoint was lost
    assert [p.name for p in after] == [f"checkpoint-{s}" for s in range(SAVE_STEPS, MAX_STEPS + 1, SAVE_STEPS)]
    steps = [r["step"] for r in read_metrics(out / "metrics.jsonl") if "loss" in r]
    assert steps == sorted(set(steps)) and steps[-1] == MAX_STEPS  # no step logged twice after the resume
    state = json.loads((after[-1] / "trainer_state.json").read_text())
    assert state["global_step"] == MAX_STEPS and state["max_steps"] == MAX_STEPS

    again = train_sft(_args(tiny_model_dir, train_file, out, resume=True))
    assert again == result  # a finished run is not trained again


def test_half_written_checkpoint_is_removed_on_resume(tiny_model_dir: Path, tmp_path: Path, train_file: Path) -> None:
    out = tmp_path / "run"
    train_sft(_args(tiny_model_dir, train_file, out, max_steps=10))
    (out / "result.json").unlink()
    broken = out / "checkpoints" / "checkpoint-10"
    (broken / "trainer_state.json").write_text('{"global_step": 1')  # a kill while the state was written
    result = train_sft(_args(tiny_model_dir, train_file, out, max_steps=10, resume=True))
    assert result.resumed_from == str(out / "checkpoints" / "checkpoint-5")
    assert result.steps == 10 and [p.name for p in complete_checkpoints(out)] == ["checkpoint-5", "checkpoint-10"]

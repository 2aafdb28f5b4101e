"""Reinforcement fine-tuning on the tiny model: arguments, bad input before any model loads, a whole run
(metrics, curve, best checkpoint by validation score), continuing an SFT adapter, and a killed run resumed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from fathom.errors import ConfigError, DataError, TrainingError, UnknownGraderError
from fathom.graders import Grade, register_grader
from fathom.train import RFTArgs, SFTArgs, complete_checkpoints, read_metrics, read_prompts, train_rft, train_sft
from fathom.train._rft_setup import group_spread

WORDS = ["yes", "no", "maybe", "sea", "gale", "fog", "rain", "calm"]


@register_grader("test_vowels")
def _vowels() -> Any:
    """Share of vowels in the answer: random text gets varied, partial scores (a learning signal)."""
    def grade(example: dict[str, Any], completion: Any) -> Grade:
        text = (completion.get("content") if isinstance(completion, dict) else completion) or ""
        return Grade(sum(c in "aeiou" for c in text) / max(len(text), 1),
                     {"vowels": sum(c in "aeiou" for c in text) / max(len(text), 1)})
    return grade


@register_grader("test_echo")
def _echo() -> Any:
    """A hackable reward: full credit for repeating the prompt."""
    def grade(example: dict[str, Any], completion: Any) -> Grade:
        text = (completion.get("content") if isinstance(completion, dict) else completion) or ""
        prompt = example["messages"][-1]["content"]
        return Grade(1.0 if prompt.lower() in text.lower() else 0.2 * (len(text) > 3))
    return grade


def _prompts(path: Path, n: int = 8) -> Path:
    rows = [{"messages": [{"role": "user", "content": f"Say {w}"}], "reference": {"text": w}, "meta": {"id": w}}
            for w in (WORDS * 4)[:n]]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _args(model: Path | str, data: Path, out: Path, **kw: Any) -> RFTArgs:
    settings: dict[str, Any] = dict(grader="test_vowels", max_steps=4, eval_steps=2, batch_size=2,
                                    num_generations=2, max_completion_length=8, learning_rate=1e-2,
                                    reward_check="off", progress=False, seed=1)
    settings.update(kw)
    return RFTArgs(model=str(model), data=data, out=out, **settings)


def test_arguments_are_checked_up_front() -> None:
    with pytest.raises(ConfigError) as info:
        RFTArgs(model="m", data="d", out="o", grader="exact", num_generations=1, algorithm="grop",
                loss_type="dapo", temperature=0)
    text = str(info.value)
    assert "--num-generations: must be at least 2" in text
    assert "Did you mean 'grpo'?" in text
    assert "--temperature" in text
    with pytest.raises(ConfigError, match="--loss-type: is a GRPO option"):
        RFTArgs(model="m", data="d", out="o", grader="exact", algorithm="rloo", loss_type="dapo")
    rloo = RFTArgs(model="m", data="d", out="o", grader="exact", algorithm="rloo")
    assert (rloo.effective_beta(), rloo.effective_loss_type()) == (0.05, None)


def test_group_spread_is_the_mean_within_group_std() -> None:
    assert group_spread(["a", "a", "b", "b"], [0.0, 1.0, 0.5, 0.5]) == pytest.approx(0.25)
    assert group_spread(["a", "a"], [1.0, 1.0]) == 0.0


def test_prompts_ending_in_an_answer_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "sft.jsonl"
    path.write_text(json.dumps({"messages": [{"role": "user", "content": "Hi"},
                                             {"role": "assistant", "content": "Hello"}]}) + "\n"
                    + json.dumps({"messages": []}) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_prompts(path)
    text = str(info.value)
    assert "lines 1" in text and "end in an assistant turn" in text and "reference" in text
    assert f"{path}:2" in text and "no 'messages'" in text


def _cli(*argv: str, cwd: Path) -> tuple[int, str, float]:
    started = time.perf_counter()
    code = "import sys; from fathom.cli import main; main(sys.argv[1:])"
    proc = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"}, timeout=60)
    return proc.returncode, proc.stdout + proc.stderr, time.perf_counter() - started


@pytest.mark.parametrize(("extra", "expected"), [
    (["--grader", "exakt"], "Did you mean 'exact'?"),
    (["--grader", "exact", "--data", "answered.jsonl"], "end in an assistant turn"),
    (["--grader", "exact", "--num-generations", "1"], "--num-generations: must be at least 2"),
])
def test_bad_input_exits_2_before_a_model_loads(tmp_path: Path, extra: list[str], expected: str) -> None:
    _prompts(tmp_path / "prompts.jsonl")
    (tmp_path / "answered.jsonl").write_text(json.dumps({"messages": [
        {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}) + "\n", encoding="utf-8")
    argv = ["train", "rft", "--model", "smollm2-135m", "--out", str(tmp_path / "run")]
    if "--data" not in extra:
        argv += ["--data", "prompts.jsonl"]
    code, output, seconds = _cli(*argv, *extra, cwd=tmp_path)
    assert code == 2, output
    assert expected in output
    assert seconds < 20  # no model was loaded
    assert not (tmp_path / "run").exists()


def test_unknown_grader_is_refused_by_the_library(tmp_path: Path) -> None:
    with pytest.raises(UnknownGraderError, match="Did you mean 'exact'"):
        train_rft(_args("smollm2-135m", _prompts(tmp_path / "p.jsonl"), tmp_path / "run", grader="exakt"))


def test_a_run_logs_rewards_validates_with_the_grader_and_keeps_the_best(tiny_model_dir: Path,
                                                                         tmp_path: Path) -> None:
    data = _prompts(tmp_path / "p.jsonl")
    result = train_rft(_args(tiny_model_dir, data, tmp_path / "run", eval_data=data, eval_limit=4))
    assert result.steps == result.planned_steps == 4
    assert result.kind == "lora" and result.algorithm == "grpo"
    records = read_metrics(result.metrics)
    steps = [r for r in records if "reward" in r]
    assert [r["step"] for r in steps] == [1, 2, 3, 4]
    for key in ("reward_std", "frac_reward_zero_std", "rewards/test_vowels/mean", "test_vowels/vowels",
                "test_vowels/group_std", "rollout/tokens_per_s", "completions/mean_length"):
        assert all(key in r for r in steps), key
    evals = {r["step"]: r["eval_score"] for r in records if "eval_score" in r}
    assert sorted(evals) == [0, 2, 4]  # before training, then every eval_steps
    assert result.first_val_score == evals[0]
    assert result.best_val_score == max(evals[2], evals[4])
    assert result.best_checkpoint is not None
    assert Path(result.best_checkpoint).name == f"checkpoint-{max((2, 4), key=lambda s: (evals[s], -s))}"
    assert Path(result.plot).stat().st_size > 1000
    assert (tmp_path / "run" / "adapter_model.safetensors").exists()
    assert json.loads((tmp_path / "run" / "manifest.json").read_text())["kind"] == "rft"
    assert result.s_per_step and result.rollout_tokens_per_s


def test_an_sft_adapter_continues_training(tiny_model_dir: Path, tmp_path: Path, train_file: Path) -> None:
    from safetensors.torch import load_file

    sft = train_sft(SFTArgs(model=str(tiny_model_dir), data=train_file, out=tmp_path / "sft", max_steps=2,
                            batch_size=2, progress=False))
    result = train_rft(_args(sft.out, _prompts(tmp_path / "p.jsonl"), tmp_path / "rft"))
    assert result.kind == "lora" and Path(result.base) == tiny_model_dir.resolve()
    before = load_file(str(tmp_path / "sft" / "adapter_model.safetensors"))
    after = load_file(str(tmp_path / "rft" / "adapter_model.safetensors"))
    assert before.keys() == after.keys()  # the same adapter, not a new one
    assert any(not (before[k] == after[k]).all() for k in before)  # and it moved
    with pytest.raises(ConfigError, match="--lora-rank: cannot change the shape"):
        train_rft(_args(sft.out, tmp_path / "p.jsonl", tmp_path / "rft2", lora_rank=4))


def test_a_hackable_reward_stops_the_run_before_training(tiny_model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(TrainingError, match="reward check stopped the run"):
        train_rft(_args(tiny_model_dir, _prompts(tmp_path / "p.jsonl"), tmp_path / "run", grader="test_echo",
                        reward_check="stop", reward_check_prompts=4))
    check = json.loads((tmp_path / "run" / "reward_check.json").read_text())
    assert check["advice"] == "hackable"
    assert not complete_checkpoints(tmp_path / "run")


MAX_STEPS, EVAL_STEPS = 40, 5


def test_a_killed_run_resumes_to_the_same_final_step(tiny_model_dir: Path, tmp_path: Path,
                                                     kill_after_first_checkpoint: Any) -> None:
    data = _prompts(tmp_path / "p.jsonl", 16)
    out = tmp_path / "run"
    argv = ["train", "rft", "--model", str(tiny_model_dir), "--data", str(data), "--out", str(out),
            "--grader", "exact", "--max-steps", str(MAX_STEPS), "--eval-steps", str(EVAL_STEPS),
            "--batch-size", "2", "--num-generations", "2", "--max-completion-length", "8",
            "--save-total-limit", "100", "--reward-check", "off", "--seed", "1", "--learning-rate", "0.01",
            "--quiet"]
    before = kill_after_first_checkpoint(argv, out, tmp_path / "killed.log")

    result = train_rft(_args(tiny_model_dir, data, out, grader="exact", max_steps=MAX_STEPS, eval_steps=EVAL_STEPS,
                             save_total_limit=100, resume=True))
    assert result.steps == result.planned_steps == MAX_STEPS
    assert result.resumed_from is not None and Path(result.resumed_from) == before[-1]
    steps = [r["step"] for r in read_metrics(out / "metrics.jsonl") if "reward" in r]
    assert steps == list(range(1, MAX_STEPS + 1))  # each step logged once across the kill


def test_rloo_runs_with_its_own_defaults(tiny_model_dir: Path, tmp_path: Path) -> None:
    result = train_rft(_args(tiny_model_dir, _prompts(tmp_path / "p.jsonl"), tmp_path / "run", algorithm="rloo",
                             max_steps=2))
    assert result.algorithm == "rloo" and result.steps == 2
    saved = json.loads((tmp_path / "run" / "rft_args.json").read_text())
    assert saved["algorithm"] == "rloo"
    assert all("reward" in r for r in read_metrics(result.metrics) if r.get("step", 0) > 0 and "loss" in r)

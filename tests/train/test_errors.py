"""Bad inputs get errors that say what was wrong and what to do, before any model is loaded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fathom.cli import main
from fathom.errors import ConfigError, DataError
from fathom.train import SFTArgs, train_sft


def _args(tmp_path: Path, data: Path | str, **kw: Any) -> SFTArgs:
    return SFTArgs(model="smollm2-135m", data=data, out=tmp_path / "run", progress=False, **kw)


def test_full_with_lora_flags_names_both_flags() -> None:
    with pytest.raises(ConfigError) as err:
        SFTArgs(model="m", data="d", out="o", full=True, lora_rank=8, target_modules=["q_proj"])
    text = str(err.value)
    assert "--lora-rank" in text and "--target-modules" in text and "--full" in text
    assert len(err.value.problems) == 2


def test_every_argument_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as err:
        SFTArgs(model="m", data="d", out="o", batch_size=0, lr_scheduler="cosin", lora_dropout=1.5,
                early_stopping_patience=3, dtype="float8")
    text = str(err.value)
    assert len(err.value.problems) == 5
    assert "Did you mean 'cosine'" in text and "add --eval-data FILE" in text and "float8" in text


def test_save_steps_must_be_a_multiple_of_eval_steps() -> None:
    with pytest.raises(ConfigError, match=r"--save-steps: must be a multiple of --eval-steps \(10\)"):
        SFTArgs(model="m", data="d", out="o", eval_data="v", eval_steps=10, save_steps=15)


def test_missing_data_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--data: .*missing\.jsonl does not exist"):
        train_sft(_args(tmp_path, tmp_path / "missing.jsonl"))
    assert not (tmp_path / "run").exists()  # nothing written before the inputs were checked


def test_missing_data_file_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["train", "sft", "--model", "smollm2-135m", "--data", str(tmp_path / "nope.jsonl"),
              "--out", str(tmp_path / "run")])
    assert exit_.value.code == 2
    assert "nope.jsonl does not exist" in capsys.readouterr().err


def test_example_without_assistant_turn(tmp_path: Path, chats: Any) -> None:
    data = chats.write_jsonl(tmp_path / "d.jsonl", [chats.simple_chat("a", "b"),
                                                    {"messages": [{"role": "user", "content": "Hello?"}]}])
    with pytest.raises(DataError, match=r"d\.jsonl:2 messages: no assistant message"):
        train_sft(_args(tmp_path, data))


def test_dpo_rows_are_refused(tmp_path: Path, chats: Any) -> None:
    row = {"messages": [{"role": "user", "content": "Hi"}], "chosen": {"role": "assistant", "content": "Hello"},
           "rejected": {"role": "assistant", "content": "Go away"}}
    data = chats.write_jsonl(tmp_path / "d.jsonl", [row])
    with pytest.raises(DataError, match="DPO preference row"):
        train_sft(_args(tmp_path, data))


def test_occupied_out_folder_needs_resume(tmp_path: Path, chats: Any) -> None:
    data = chats.write_jsonl(tmp_path / "d.jsonl", [chats.simple_chat("a", "b")])
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="already holds files; pass --resume"):
        train_sft(_args(tmp_path, data))
    with pytest.raises(ConfigError, match="not a Fathom training run"):
        train_sft(_args(tmp_path, data, resume=True))


def test_resume_with_other_arguments_is_refused(tmp_path: Path, chats: Any) -> None:
    data = chats.write_jsonl(tmp_path / "d.jsonl", [chats.simple_chat("a", "b")])
    run = tmp_path / "run"
    run.mkdir()
    saved = {**_args(tmp_path, data).to_dict(), "data_sha256": "0" * 64, "eval_data_sha256": None}
    (run / "sft_args.json").write_text(json.dumps(saved))
    with pytest.raises(ConfigError) as err:
        train_sft(_args(tmp_path, data, resume=True, learning_rate=1e-3))
    text = str(err.value)
    assert "--learning-rate: was None when the run started, now 0.001" in text and "--data-sha256" in text


def test_lora_flags_cannot_reshape_an_existing_adapter(tmp_path: Path, chats: Any) -> None:
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "smollm2-135m"}))
    data = chats.write_jsonl(tmp_path / "d.jsonl", [chats.simple_chat("a", "b")])
    with pytest.raises(ConfigError, match="--lora-rank: cannot change the shape of the existing adapter"):
        train_sft(SFTArgs(model=str(adapter), data=data, out=tmp_path / "run", lora_rank=4, progress=False))


def test_cli_reports_config_errors_with_exit_code_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["train", "sft", "--model", "m", "--data", "d", "--out", str(tmp_path), "--full", "--lora-alpha", "8"])
    assert exit_.value.code == 2
    assert "--lora-alpha: is a LoRA setting, but --full" in capsys.readouterr().err

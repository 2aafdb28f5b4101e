"""DPO on the tiny model: arguments and pairs checked before any model loads (exit 2), a run that raises the
reward margin and writes an adapter and result.json, continuing an SFT adapter (LoRA and full), online DPO with
a grader, and Nova DPO rows read as pairs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.cli._run import run

from fathom.errors import ConfigError, DataError
from fathom.graders import Grade, register_grader
from fathom.train import DPOArgs, SFTArgs, read_metrics, read_pairs, tokenize_pair, train_dpo, train_sft

ASSETS = Path(__file__).resolve().parents[1] / "assets"


@register_grader("test_dpo_vowels")
def _vowels() -> Any:
    """Share of vowels in the answer: sampled answers get different scores, so the two of a prompt differ."""
    def grade(example: dict[str, Any], completion: Any) -> Grade:
        text = (completion.get("content") if isinstance(completion, dict) else completion) or ""
        return Grade(sum(c in "aeiou" for c in text) / max(len(text), 1))
    return grade


def _pair(i: int, chosen: str = "alpha alpha", rejected: str = "omega omega omega") -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": f"Say a word ({i})"}],
            "chosen": {"role": "assistant", "content": chosen}, "rejected": {"role": "assistant", "content": rejected}}


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _args(model: Path | str, data: Path, out: Path, **kw: Any) -> DPOArgs:
    settings: dict[str, Any] = dict(max_steps=4, batch_size=4, learning_rate=5e-3, logging_steps=1, warmup=0.0,
                                    lr_scheduler="constant", progress=False, seed=1)
    settings.update(kw)
    return DPOArgs(model=str(model), data=data, out=out, **settings)


def test_arguments_are_checked_up_front() -> None:
    with pytest.raises(ConfigError) as info:
        DPOArgs(model="m", data="d", out="o", beta=0, loss_type="sigmoid,hingee", loss_weights="1")
    text = str(info.value)
    assert "--beta: must be above 0" in text and "Did you mean 'hinge'?" in text
    assert "--loss-weights: gives 1 weight(s) for 2 loss type(s)" in text
    with pytest.raises(ConfigError, match="--grader: is an online DPO option"):
        DPOArgs(model="m", data="d", out="o", grader="exact")
    with pytest.raises(ConfigError) as info:
        DPOArgs(model="m", data="d", out="o", online=True, loss_type="hinge", max_completion_length=2048)
    text = str(info.value)
    assert "--grader: is required with --online" in text and "online DPO takes one of sigmoid, ipo" in text
    assert "must be below --max-seq-len (1024)" in text
    args = DPOArgs(model="m", data="d", out="o", loss_type="sigmoid,sft", loss_weights="1,0.5")
    assert (args.loss_type, args.loss_weights, args.effective_learning_rate()) == (["sigmoid", "sft"], [1.0, 0.5], 5e-5)


def test_pairs_are_read_and_every_problem_named(tmp_path: Path) -> None:
    assert len(read_pairs(ASSETS / "datasets_dpo_tiny.jsonl")) == 2
    same = _pair(2, "same answer", "same answer")
    missing = {"messages": [{"role": "user", "content": "Hi"}], "chosen": {"role": "assistant", "content": "Yo"}}
    chat = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]}
    path = _write(tmp_path / "p.jsonl", [_pair(1), same, missing, chat])
    with pytest.raises(DataError) as info:
        read_pairs(path)
    text = str(info.value)
    assert f"{path}:2 rejected: identical to chosen" in text
    assert f"{path}:3 rejected: missing" in text
    assert f"{path}:4: is not a preference pair" in text
    (tmp_path / "empty.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(DataError, match="holds no preference pairs"):
        read_pairs(tmp_path / "empty.jsonl")


def test_nova_dpo_rows_are_read_as_the_same_pairs(tmp_path: Path) -> None:
    from fathom.datasets import convert_file

    convert_file(ASSETS / "datasets_dpo_tiny.jsonl", tmp_path / "nova.jsonl", to="nova", keep_extra=True)
    assert "candidates" in (tmp_path / "nova.jsonl").read_text(encoding="utf-8")
    fathom_pairs = read_pairs(ASSETS / "datasets_dpo_tiny.jsonl")
    nova_pairs = read_pairs(tmp_path / "nova.jsonl")
    for a, b in zip(fathom_pairs, nova_pairs, strict=True):
        assert (a["chosen"], a["rejected"]) == (b["chosen"], b["rejected"])
        assert a["messages"][-1] == b["messages"][-1]


def test_a_pair_is_tokenized_as_sft_tokenizes_the_answer(tiny_model_dir: Path) -> None:
    from fathom.models import load_tokenizer
    from fathom.train import IGNORE_INDEX, tokenize_example

    tokenizer = load_tokenizer(str(tiny_model_dir))
    pair = _pair(0)
    row = tokenize_pair(tokenizer, pair)
    sft = tokenize_example(tokenizer, {"messages": [*pair["messages"], pair["chosen"]]})
    learned = [t for t, label in zip(sft["input_ids"], sft["labels"], strict=True) if label != IGNORE_INDEX]
    assert row["chosen_ids"] == learned  # the answer's tokens and its end-of-turn token, nothing else
    assert row["prompt_ids"] == sft["input_ids"][:len(row["prompt_ids"])]
    assert tokenizer.decode(row["rejected_ids"]) == "omega omega omega<|im_end|>"


@pytest.mark.parametrize(("rows", "extra", "expected"), [
    ([_pair(1), _pair(2, "same", "same")], [], "p.jsonl:2 rejected: identical to chosen"),
    ([{"messages": [{"role": "user", "content": "Hi"}], "chosen": {"role": "assistant", "content": "Yo"}}], [],
     "rejected: missing"),
    ([], [], "holds no preference pairs"),
    ([_pair(1)], ["--eval-data", "nope.jsonl"], "nope.jsonl does not exist"),
    ([_pair(1)], ["--grader", "exact"], "--grader: is an online DPO option"),
    ([_pair(1)], ["--online"], "--grader: is required with --online"),
    ([_pair(1)], ["--loss-type", "sigmoidd"], "Did you mean 'sigmoid'?"),
])
def test_bad_input_exits_2_before_a_model_loads(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                no_model_load: None, rows: list[dict[str, Any]], extra: list[str],
                                                expected: str) -> None:
    data = _write(tmp_path / "p.jsonl", rows)
    code, out, err = run(["train", "dpo", "--model", "smollm2-135m", "--data", str(data),
                          "--out", str(tmp_path / "run"), *[str(tmp_path / e) if e.endswith(".jsonl") else e
                                                            for e in extra]], capsys)
    assert code == 2, out + err
    assert expected in err
    assert not (tmp_path / "run").exists()


def test_dpo_raises_the_margin_and_writes_the_run(tiny_model_dir: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    data = _write(tmp_path / "pairs.jsonl", [_pair(i) for i in range(8)])
    val = _write(tmp_path / "val.jsonl", [_pair(i) for i in range(8, 12)])
    out = tmp_path / "run"
    code, stdout, err = run(["train", "dpo", "--model", str(tiny_model_dir), "--data", str(data), "--eval-data",
                             str(val), "--out", str(out), "--max-steps", "6", "--eval-steps", "3", "--batch-size",
                             "4", "--learning-rate", "5e-3", "--logging-steps", "1", "--warmup", "0", "--lr-scheduler",
                             "constant", "--seed", "1", "--quiet"],
                            capsys)
    assert code == 0, err
    assert "reward margin" in stdout and "held-out pairs" in stdout
    for name in ("adapter_config.json", "adapter_model.safetensors", "fathom.json", "dpo_args.json", "metrics.jsonl",
                 "dpo.png", "manifest.json", "result.json", "tokenizer.json"):
        assert (out / name).is_file(), name
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert (result["kind"], result["mode"], result["steps"], result["train_pairs"]) == ("lora", "offline", 6, 8)
    assert result["first_margin"] == 0.0 and result["last_margin"] > 0.1  # the model starts as its reference
    assert result["train_loss"] < result["first_train_loss"]
    assert result["eval_margin"] > 0 and result["eval_accuracy"] == 1.0
    evals = [r for r in read_metrics(out / "metrics.jsonl") if "eval_loss" in r]
    assert [r["step"] for r in evals] == [3, 6] and result["eval_loss"] == min(r["eval_loss"] for r in evals)
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["kind"] == "dpo"
    again = train_dpo(_args(tiny_model_dir, data, out, eval_data=val, max_steps=6, eval_steps=3, resume=True))
    assert again.to_dict() == result  # a finished run is not trained again


def test_an_sft_adapter_continues_and_full_dpo_starts_from_it(tiny_model_dir: Path, tmp_path: Path,
                                                              train_file: Path) -> None:
    from safetensors.torch import load_file

    sft = train_sft(SFTArgs(model=str(tiny_model_dir), data=train_file, out=tmp_path / "sft", max_steps=2,
                            batch_size=2, progress=False))
    data = _write(tmp_path / "pairs.jsonl", [_pair(i) for i in range(4)])
    lora = train_dpo(_args(sft.out, data, tmp_path / "dpo", max_steps=3))
    assert lora.kind == "lora" and Path(lora.base) == tiny_model_dir.resolve()
    assert lora.last_margin is not None and lora.last_margin > 0
    before = load_file(str(tmp_path / "sft" / "adapter_model.safetensors"))
    after = load_file(str(tmp_path / "dpo" / "adapter_model.safetensors"))
    assert before.keys() == after.keys() and any(not (before[k] == after[k]).all() for k in before)
    assert not (tmp_path / "dpo" / "ref").exists()  # the frozen reference copy is not part of the result
    full = train_dpo(_args(sft.out, data, tmp_path / "full", full=True, max_steps=2, learning_rate=1e-3))
    assert full.kind == "full" and (tmp_path / "full" / "model.safetensors").is_file()
    assert full.last_margin is not None and full.last_margin > 0


def test_online_dpo_ranks_sampled_answers_with_the_grader(tiny_model_dir: Path, tmp_path: Path) -> None:
    prompts = _write(tmp_path / "prompts.jsonl", [{"messages": [{"role": "user", "content": f"Say {w}"}],
                                                   "reference": {"text": w}} for w in ("sea", "fog", "gale", "rain")])
    result = train_dpo(_args(tiny_model_dir, prompts, tmp_path / "run", online=True, grader="test_dpo_vowels",
                             eval_data=prompts, max_steps=4, eval_steps=2, batch_size=2, max_completion_length=8))
    assert (result.mode, result.steps, result.train_pairs) == ("online", 4, 4)
    records = read_metrics(result.metrics)
    steps = [r for r in records if "loss" in r]
    assert all("objective/scores_margin" in r and r["objective/scores_margin"] >= 0 for r in steps)
    scores = {r["step"]: r["eval_score"] for r in records if "eval_score" in r}
    assert sorted(scores) == [0, 2, 4] and result.first_val_score == scores[0]
    assert result.best_val_score == max(scores[2], scores[4])
    assert (tmp_path / "run" / "adapter_model.safetensors").is_file()


def test_an_interrupted_run_resumes_from_its_latest_checkpoint(tiny_model_dir: Path, tmp_path: Path) -> None:
    import shutil

    data = _write(tmp_path / "pairs.jsonl", [_pair(i) for i in range(8)])
    out = tmp_path / "run"
    first = train_dpo(_args(tiny_model_dir, data, out, max_steps=4, save_steps=2, save_total_limit=5))
    (out / "result.json").unlink()  # as if killed after checkpoint-2 was saved
    shutil.rmtree(out / "checkpoints" / "checkpoint-4")
    resumed = train_dpo(_args(tiny_model_dir, data, out, max_steps=4, save_steps=2, save_total_limit=5, resume=True))
    assert resumed.resumed_from is not None and Path(resumed.resumed_from).name == "checkpoint-2"
    assert resumed.steps == 4
    assert [r["step"] for r in read_metrics(out / "metrics.jsonl") if "loss" in r] == [1, 2, 3, 4]
    assert resumed.last_margin == pytest.approx(first.last_margin, rel=1e-3)  # the same steps, the same weights

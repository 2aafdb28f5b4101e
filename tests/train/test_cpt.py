"""Continued pre-training on the tiny model: corpora read and packed, held-out blocks kept apart, general text
mixed by ratio, held-out domain perplexity lowered, and bad input refused with exit 2 before any model loads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.cli._run import run

from fathom.errors import ConfigError, DataError
from fathom.train import CPTArgs, parse_mix, perplexity, read_corpus, read_metrics, train_cpt
from fathom.train._cpt_data import mix_blocks, split_blocks

FORECAST = "Dogger, Fisher, German Bight: westerly gale eight, occasionally severe gale nine later. Rain. Poor."


def _corpus(folder: Path, docs: int = 6, repeats: int = 10) -> Path:
    (folder / "sub").mkdir(parents=True)
    for i in range(docs):
        target = folder / ("sub" if i % 2 else "") / f"doc{i}.{'md' if i % 3 else 'txt'}"
        target.write_text(" ".join([FORECAST] * repeats), encoding="utf-8")
    (folder / "notes.csv").write_text("not,text\n", encoding="utf-8")  # not a corpus file kind: skipped
    return folder


def _general(path: Path, rows: int = 40) -> Path:
    path.write_text("".join(json.dumps({"text": f"The cat number {i} sat on the mat and looked at the sky."}) + "\n"
                            for i in range(rows)), encoding="utf-8")
    return path


def test_corpora_are_read_from_folders_files_and_jsonl(tmp_path: Path) -> None:
    corpus = read_corpus(_corpus(tmp_path / "docs"))
    assert (corpus.files, len(corpus.documents)) == (6, 6)
    assert len(read_corpus(_general(tmp_path / "g.jsonl")).documents) == 40
    (tmp_path / "one.md").write_text("# Title\n\nBody.", encoding="utf-8")
    assert read_corpus(tmp_path / "one.md").documents == ["# Title\n\nBody."]
    (tmp_path / "bad.jsonl").write_text('{"text": "ok"}\n{"body": "x"}\n{"text": 3}\n', encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_corpus(tmp_path / "bad.jsonl")
    assert f"{tmp_path / 'bad.jsonl'}:2: needs a 'text' string" in str(info.value)
    assert f"{tmp_path / 'bad.jsonl'}:3: needs a 'text' string holding the document, got int" in str(info.value)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "blank.txt").write_text("  \n", encoding="utf-8")
    with pytest.raises(DataError, match=r"holds no text \(1 .txt/.md file\(s\), all empty\)"):
        read_corpus(tmp_path / "empty")


def test_mix_entries_are_checked_together() -> None:
    assert parse_mix(["a:0.2", "C:/x:0.1"]) == [("a", 0.2), ("C:/x", 0.1)]
    with pytest.raises(ConfigError) as info:
        parse_mix(["a:0", "b:1", "c", "d:much"])
    text = str(info.value)
    assert "--mix a:0: the ratio must be in (0, 1)" in text and "--mix b:1:" in text
    assert "--mix c: expected PATH:RATIO" in text and "'much' is not a number" in text
    with pytest.raises(ConfigError, match="the ratios sum to 1, but they must sum below 1"):
        parse_mix(["a:0.6", "b:0.4"])


def test_held_out_blocks_are_the_end_of_the_stream_and_mixing_follows_the_ratio(tiny_model_dir: Path,
                                                                               tmp_path: Path) -> None:
    from fathom.models import load_tokenizer

    tokenizer = load_tokenizer(str(tiny_model_dir))
    corpus = read_corpus(_corpus(tmp_path / "docs"))
    train, held = split_blocks(tokenizer, corpus, 32, 0.25, 0, "--data")
    assert len(held) == round((len(train) + len(held)) * 0.25) and all(len(b) == 32 for b in train)
    assert any(tokenizer.eos_token_id in b for b in train)  # documents are joined with the end-of-sequence token
    mixed, drawn = mix_blocks(train, [("g", 0.2, [[7, 7]] * 3)], seed=0)
    assert drawn == {"g": round(len(train) * 0.2 / 0.8)} and len(mixed) == len(train) + drawn["g"]
    with pytest.raises(DataError, match="make 1 block"):
        split_blocks(tokenizer, read_corpus(_general(tmp_path / "tiny.jsonl", rows=1)), 512, 0.1, 0, "--mix")


def test_cpt_lowers_held_out_domain_perplexity(tiny_model_dir: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    docs, general, out = _corpus(tmp_path / "docs"), _general(tmp_path / "general.jsonl"), tmp_path / "run"
    code, stdout, err = run(["train", "cpt", "--model", str(tiny_model_dir), "--data", str(docs), "--mix",
                             f"{general}:0.2", "--out", str(out), "--max-seq-len", "64", "--max-steps", "12",
                             "--eval-steps", "6", "--batch-size", "4", "--learning-rate", "1e-2", "--warmup", "0",
                             "--lr-scheduler", "constant", "--logging-steps", "2", "--quiet"], capsys)
    assert code == 0, err
    assert "held-out domain perplexity" in stdout and "held-out general perplexity" in stdout
    for name in ("adapter_model.safetensors", "cpt_args.json", "perplexity_before.json", "metrics.jsonl", "loss.png",
                 "manifest.json", "result.json", "fathom.json"):
        assert (out / name).is_file(), name
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    ppl = result["perplexity"]
    assert set(ppl) == {"domain", "general"} and all(set(v) == {"before", "after"} for v in ppl.values())
    assert ppl["domain"]["after"] < 0.5 * ppl["domain"]["before"]  # a repetitive corpus is learned fast
    assert ppl["general"]["before"] is not None and ppl["general"]["after"] is not None
    blocks = result["blocks"]
    assert blocks[str(general.resolve())]["train"] == round(blocks["domain"]["train"] * 0.2 / 0.8)
    assert result["steps"] == 12 and result["train_loss"] < result["first_train_loss"]
    evals = [r["eval_loss"] for r in read_metrics(out / "metrics.jsonl") if "eval_loss" in r]
    assert len(evals) == 2 and result["best_checkpoint"].endswith(f"checkpoint-{6 * (evals.index(min(evals)) + 1)}")

    from fathom.models import load_model

    model, _ = load_model(str(out), device="cpu")  # the run folder is a model spec with the final adapter
    before = json.loads((out / "perplexity_before.json").read_text(encoding="utf-8"))
    assert before["domain"] == ppl["domain"]["before"]
    assert type(model).__name__ == "PeftModelForCausalLM"


def test_general_eval_scores_the_same_held_out_blocks_as_a_mix_without_training_on_them(
        tiny_model_dir: Path, tmp_path: Path) -> None:
    docs, general = _corpus(tmp_path / "docs"), _general(tmp_path / "general.jsonl")
    common = dict(model=str(tiny_model_dir), data=docs, max_seq_len=64, max_steps=2, eval_steps=2, batch_size=4,
                  progress=False)
    mixed = train_cpt(CPTArgs(**common, out=tmp_path / "mixed", mix=[f"{general}:0.2"],  # type: ignore[arg-type]
                              general_eval=[str(general)]))
    unmixed = train_cpt(CPTArgs(**common, out=tmp_path / "unmixed", general_eval=[str(general)]))  # type: ignore[arg-type]
    key = str(general.resolve())
    assert mixed.perplexity["general"]["before"] == pytest.approx(unmixed.perplexity["general"]["before"])
    assert unmixed.blocks[key]["train"] == 0 and unmixed.blocks[key]["heldout"] == mixed.blocks[key]["heldout"] > 0
    assert mixed.blocks[key]["train"] > 0
    assert unmixed.perplexity["general"]["after"] is not None


def test_perplexity_of_a_model_that_knows_the_next_token_is_near_1() -> None:
    import torch

    class Oracle(torch.nn.Module):
        """Puts all its mass on ``id + 1``."""

        def __init__(self) -> None:
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            logits = torch.full((*input_ids.shape, 16), -30.0)
            logits.scatter_(2, ((input_ids + 1) % 16).unsqueeze(-1), 30.0)
            return type("Out", (), {"logits": logits})()

    assert perplexity(Oracle(), [[1, 2, 3, 4], [5, 6]]) == pytest.approx(1.0, abs=1e-3)
    assert perplexity(Oracle(), [[1, 9, 3]]) > 1e10  # a wrong guess costs dearly
    assert perplexity(Oracle(), []) is None


@pytest.mark.parametrize(("extra", "expected"), [
    (["--data", "empty_dir"], "holds no text (no .txt or .md files)"),
    (["--data", "nowhere"], "nowhere does not exist"),
    (["--mix", "general.jsonl:0"], "general.jsonl:0: the ratio must be in (0, 1)"),
    (["--mix", "general.jsonl:1.5"], "the ratio must be in (0, 1)"),
    (["--mix", "general.jsonl:0.6", "--mix", "general.jsonl:0.5"], "the ratios sum to 1.1"),
    (["--mix", "missing.jsonl:0.2"], "missing.jsonl does not exist"),
    (["--heldout-fraction", "1"], "--heldout-fraction: must be in (0, 1)"),
])
def test_bad_input_exits_2_before_a_model_loads(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                no_model_load: None, extra: list[str], expected: str) -> None:
    _corpus(tmp_path / "docs")
    _general(tmp_path / "general.jsonl")
    (tmp_path / "empty_dir").mkdir()
    argv = ["train", "cpt", "--model", "smollm2-135m", "--out", str(tmp_path / "run")]
    if "--data" not in extra:
        argv += ["--data", str(tmp_path / "docs")]
    for flag, value in zip(extra[::2], extra[1::2], strict=True):
        argv += [flag, str(tmp_path / value) if flag in ("--data", "--mix") else value]
    code, out, err = run(argv, capsys)
    assert code == 2, out + err
    assert expected in err
    assert not (tmp_path / "run").exists()


def test_an_interrupted_run_resumes_and_keeps_its_starting_perplexity(tiny_model_dir: Path, tmp_path: Path) -> None:
    import shutil

    out = tmp_path / "run"
    args: dict[str, Any] = dict(model=str(tiny_model_dir), data=_corpus(tmp_path / "docs"), out=out, max_seq_len=64,
                                max_steps=4, eval_steps=2, batch_size=4, learning_rate=1e-2, progress=False)
    first = train_cpt(CPTArgs(**args))
    (out / "result.json").unlink()  # as if killed after checkpoint-2 was saved
    shutil.rmtree(out / "checkpoints" / "checkpoint-4")
    resumed = train_cpt(CPTArgs(**args, resume=True))
    assert resumed.resumed_from is not None and Path(resumed.resumed_from).name == "checkpoint-2"
    assert resumed.steps == 4 and resumed.perplexity["domain"]["before"] == first.perplexity["domain"]["before"]
    assert resumed.perplexity["domain"]["after"] == pytest.approx(first.perplexity["domain"]["after"], rel=1e-3)
    with pytest.raises(ConfigError, match="--mix: was"):
        train_cpt(CPTArgs(**args, resume=True, mix=[f"{_general(tmp_path / 'g.jsonl')}:0.1"]))

"""The shipping report's paired differences (``differences: ["rft-sft"]``) and RFT additions, and the dataset
stage's prompt files for RFT: hand-built results files with known per-example accuracies, one tiny data build."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from fathom.datasets import read_jsonl
from fathom.domains.shipping.lm import build_dataset_stage, shipping_report_stage
from fathom.errors import ConfigError, DomainError
from fathom.recipes import StageContext, load_recipe

FIELDS = ["wind_direction", "wind_force", "sea_state", "weather", "visibility"]


def _row(example_id: str, tolerant: float, strict: float, parses: bool = True) -> dict[str, Any]:
    """A results.jsonl row whose five fields all score ``tolerant`` (and ``strict``)."""
    components = {f: tolerant for f in FIELDS} | {f"strict_{f}": strict for f in FIELDS}
    return {"id": example_id, "prompt": [], "completion": {"role": "assistant", "content": "x"},
            "reference": {"area": example_id, "text": "y"}, "score": tolerant, "components": components,
            "gates": {"parses": parses}, "reason": ""}


def _eval_dir(root: Path, name: str, rows: list[dict[str, Any]]) -> str:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(folder)


def _report(tmp_path: Path, evals: dict[str, list[dict[str, Any]]], **kwargs: Any) -> tuple[dict[str, Any], str]:
    folders = [_eval_dir(tmp_path / "runs", name, rows) for name, rows in evals.items()]
    ctx = StageContext("report", tmp_path / "runs/report", "r", seed=kwargs.pop("seed", 0), quiet=True)
    ctx.out_dir.mkdir(parents=True)
    shipping_report_stage(ctx, folders, names=list(evals), **kwargs)
    return json.loads((ctx.out_dir / "summary.json").read_text()), (ctx.out_dir / "report.html").read_text()


def _three(sft: list[dict[str, Any]], rft: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    return {"base": [_row(r["id"], 0.0, 0.0) for r in sft], "sft": sft, "rft": rft}


def test_difference_has_the_known_mean_and_an_interval_around_it(tmp_path: Path) -> None:
    sft = [_row(f"a{i}", 0.5, 0.2) for i in range(4)]
    rft = [_row("a3", 0.9, 0.9, parses=False), _row("a2", 0.5, 0.2), _row("a1", 1.0, 0.6), _row("a0", 1.0, 0.4)]
    summary, _ = _report(tmp_path, _three(sft, rft), differences=["rft-sft"])
    diff = summary["differences"]["rft-sft"]
    # tolerant per example: 0.5, 0.5, 0, -0.5 (a3 does not parse: 0); strict: 0.2, 0.4, 0, -0.2
    assert diff["tolerant"]["mean"] == pytest.approx(0.125)
    assert diff["strict"]["mean"] == pytest.approx(0.1)
    assert diff["n"] == 4
    for mode in ("tolerant", "strict"):
        low, high = diff[mode]["ci95"]
        assert low <= diff[mode]["mean"] <= high
        assert low < 0 < high  # four mixed examples cannot tell the models apart
    models = summary["models"]
    assert diff["tolerant"]["mean"] == pytest.approx(models["rft"]["tolerant"] - models["sft"]["tolerant"])
    assert set(models["rft"]) >= {"tolerant", "strict", "per_field", "n"} and "gain_tolerant_points" in summary


def test_rows_are_paired_by_id_not_by_position(tmp_path: Path) -> None:
    sft = [_row(f"a{i}", 0.1 + 0.2 * i, 0.1 * i) for i in range(4)]
    rft = [_row(f"a{i}", 0.3 + 0.2 * i, 0.1 * i + 0.1) for i in reversed(range(4))]  # every one 0.2 (0.1) better
    summary, _ = _report(tmp_path, _three(sft, rft), differences=["rft-sft"])
    diff = summary["differences"]["rft-sft"]
    assert diff["tolerant"]["ci95"] == pytest.approx([0.2, 0.2]) and diff["strict"]["ci95"] == pytest.approx([0.1, 0.1])


def test_a_clear_improvement_has_an_interval_above_zero_and_is_seeded(tmp_path: Path) -> None:
    sft = [_row(f"e{i:02d}", 0.2 + 0.1 * (i % 3), 0.1) for i in range(40)]
    rft = [_row(f"e{i:02d}", 0.7 + 0.1 * (i % 3) if i % 10 else 0.1, 0.5 if i % 10 else 0.0) for i in range(40)]
    first, _ = _report(tmp_path / "one", _three(sft, rft), differences=["rft-sft", "sft-rft"], seed=7)
    again, _ = _report(tmp_path / "two", _three(sft, rft), differences=["rft-sft", "sft-rft"], seed=7)
    forward, backward = first["differences"]["rft-sft"], first["differences"]["sft-rft"]
    assert forward["tolerant"]["ci95"][0] > 0 and forward["strict"]["ci95"][0] > 0
    assert backward["tolerant"]["ci95"][1] < 0
    assert backward["tolerant"]["mean"] == pytest.approx(-forward["tolerant"]["mean"])
    assert first["differences"] == again["differences"]  # seeded with ctx.seed


@pytest.mark.parametrize("spec", ["rft-sfx", "rft", "sft-sft"])
def test_a_difference_that_does_not_name_two_models_says_which_names_are_valid(tmp_path: Path, spec: str) -> None:
    sft = [_row("a", 0.5, 0.5)]
    with pytest.raises(DomainError, match="Model names: base, sft, rft") as info:
        _report(tmp_path, _three(sft, sft), differences=[spec])
    assert repr(spec) in str(info.value)
    if spec == "rft-sfx":
        assert "Did you mean 'rft-sft'?" in str(info.value)


def test_mismatched_example_ids_are_an_error_naming_them(tmp_path: Path) -> None:
    sft = [_row("a", 0.5, 0.5), _row("b", 0.5, 0.5)]
    rft = [_row("a", 0.5, 0.5), _row("c", 0.5, 0.5)]
    with pytest.raises(DomainError, match=r"cannot pair 'rft' with 'sft': 1 example id\(s\) only in 'rft' "
                                          r"\(e.g. \['c'\]\), 1 only in 'sft' \(e.g. \['b'\]\)"):
        _report(tmp_path, _three(sft, rft), differences=["rft-sft"])


def test_names_with_hyphens_pair_up(tmp_path: Path) -> None:
    rows = {"base": [_row("a", 0.0, 0.0)], "fine-tuned": [_row("a", 0.6, 0.4)]}
    summary, html = _report(tmp_path, rows, differences=["fine-tuned-base"])
    assert summary["differences"]["fine-tuned-base"]["tolerant"]["mean"] == pytest.approx(0.6)
    assert "Shipping Forecast: base vs fine-tuned" in html  # two models: the title is as before


def test_html_shows_differences_the_reward_curve_and_a_three_model_title(tmp_path: Path) -> None:
    rft_dir = tmp_path / "rft"
    (rft_dir / "model").mkdir(parents=True)
    (rft_dir / "model/reward.png").write_bytes(b"\x89PNG reward")
    sft = [_row("a", 0.5, 0.5)]
    summary, html = _report(tmp_path, _three(sft, sft), differences=["rft-sft"], rft=str(rft_dir))
    assert "<title>Shipping Forecast: base, sft and rft</title>" in html and "base vs fine-tuned" not in html
    assert "<td>rft-sft</td>" in html and "RFT reward" in html
    import base64

    assert base64.b64encode(b"\x89PNG reward").decode() in html
    assert set(summary["differences"]["rft-sft"]) == {"tolerant", "strict", "n"}


def test_rft_curve_falls_back_to_any_png_and_no_differences_keeps_the_summary(tmp_path: Path) -> None:
    rft_dir = tmp_path / "rft"
    (rft_dir / "model/plots").mkdir(parents=True)
    (rft_dir / "model/plots/curve.png").write_bytes(b"\x89PNG other")
    summary, html = _report(tmp_path, _three([_row("a", 0.5, 0.5)], [_row("a", 0.5, 0.5)]), rft=str(rft_dir))
    import base64

    assert base64.b64encode(b"\x89PNG other").decode() in html
    assert "differences" not in summary and "Differences" not in html


def test_a_recipe_with_a_bad_difference_fails_its_check(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump({"name": "r", "stages": {"report": {
        "uses": "shipping_report", "evals": ["a", "b", "c"], "names": ["base", "sft", "rft"],
        "differences": ["rft-sft", "rtf-sft"]}}}))
    with pytest.raises(ConfigError) as info:
        load_recipe(path)
    text = str(info.value)
    assert "stages.report.differences: 'rtf-sft' does not name two different models" in text
    assert "Did you mean 'rft-sft'?" in text and len(info.value.problems) == 1, text


def test_prompt_files_drop_the_final_assistant_turn_row_for_row(tmp_path: Path) -> None:
    out = build_dataset_stage(StageContext("data", tmp_path, "r", quiet=True), days=4, runs_per_day=1,
                              resolution=1.0, val_days=1, test_days=1, max_train=12, max_val=5)
    for split in ("train", "val"):
        rows, prompts = read_jsonl(out[split]), read_jsonl(out[f"{split}_prompts"])
        assert out[f"{split}_prompts"] == str(tmp_path / f"{split}_prompts.jsonl")
        assert len(prompts) == len(rows) == out["sizes"][split] > 0
        for row, prompt in zip(rows, prompts, strict=True):
            assert prompt["messages"][-1]["role"] == "user"
            assert prompt["messages"] + [row["messages"][-1]] == row["messages"]
            assert row["messages"][-1]["role"] == "assistant"
            assert {k: v for k, v in prompt.items() if k != "messages"} == {
                k: v for k, v in row.items() if k != "messages"}
            assert prompt["reference"]["text"] == row["messages"][-1]["content"]
    assert not (tmp_path / "test_prompts.jsonl").exists()
    assert set(build_dataset_stage.outputs) >= {"train_prompts", "val_prompts"}  # type: ignore[attr-defined]

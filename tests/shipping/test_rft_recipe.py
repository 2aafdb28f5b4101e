"""The RFT recipe end to end on the tiny model, scaled down: data -> SFT -> reward check -> RFT from the SFT
adapter -> evaluations -> a report whose summary.json has the documented shape (``models`` -> base, sft, rft;
``differences`` -> ``rft-sft`` -> tolerant/strict -> mean and 95% interval)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from fathom.recipes import load_recipe, run_recipe

REPO = Path(__file__).resolve().parents[2]


def test_rft_recipe_runs_and_reports_the_paired_difference(tmp_path: Path, tiny_model_dir: Path) -> None:
    recipe = yaml.safe_load((REPO / "recipes/shipping-forecast-rft.yaml").read_text())
    stages = recipe["stages"]
    stages["data"].update(days=4, test_days=1, val_days=1, resolution=1.0, max_train=16, max_val=4)
    for name in ("baseline", "sft_eval", "rft_eval"):
        stages[name].update(max_tokens=8, batch_size=32)
    stages["baseline"]["model"] = str(tiny_model_dir)
    stages["sft"].update(model=str(tiny_model_dir), max_steps=2, eval_steps=1, logging_steps=1, lora_rank=4,
                         lora_alpha=8, lora_layers=1)
    stages["reward_check"].update(n=2, limit=2, max_tokens=8)
    stages["rft"].update(max_steps=2, eval_steps=1, num_generations=2, batch_size=2, max_completion_length=8)
    path = tmp_path / "shipping-forecast-rft.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))

    runs = tmp_path / "runs"
    run_recipe(load_recipe(path), runs_dir=runs, quiet=True)
    stage = runs / "shipping-forecast-rft"
    summary = json.loads((stage / "report/summary.json").read_text())
    assert list(summary["models"]) == ["base", "sft", "rft"]
    for numbers in summary["models"].values():
        assert {"tolerant", "strict", "per_field", "n"} <= set(numbers)
        assert 0.0 <= numbers["strict"] <= numbers["tolerant"] <= 1.0
    diff = summary["differences"]["rft-sft"]
    for mode in ("tolerant", "strict"):
        lo, hi = diff[mode]["ci95"]
        assert lo <= diff[mode]["mean"] <= hi
        expected = summary["models"]["rft"][mode] - summary["models"]["sft"][mode]
        assert abs(diff[mode]["mean"] - expected) < 1e-3
    check = json.loads((stage / "reward_check/reward_check.json").read_text())
    assert check["advice"] in {"ready", "too_easy", "too_hard", "binary"}  # not "hackable": the run went on
    rft = json.loads((stage / "rft/model/result.json").read_text())
    assert rft["steps"] == 2 and rft["kind"] == "lora"
    adapter = json.loads((stage / "rft/model/adapter_config.json").read_text())
    assert adapter["layers_to_transform"] == [1]  # the SFT adapter (top layer only) continued, not a new one
    assert (stage / "rft/model/reward.png").exists() and (stage / "report/report.html").exists()

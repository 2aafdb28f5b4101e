"""The Shipping Forecast recipe: shipped recipe files validate, its errors come all at once, the dataset
stage splits by day, the whole pipeline runs (tiny model) and resumes an interrupted SFT without redoing
earlier stages, and model-written bulletins fall back per area to the rule-based writer."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from fathom.backends._protocol import Completion
from fathom.datasets import validate_example
from fathom.errors import ConfigError
from fathom.recipes import load_recipe, run_recipe

REPO = Path(__file__).resolve().parents[2]
RECIPES = sorted((REPO / "recipes").glob("shipping-*.yaml"))  # the others: tests/recipes/test_shipped_recipes.py


def _tiny_recipe(tmp_path: Path, model: Path, **sft: Any) -> Path:
    """The shipped recipe, scaled down: 4 days at 1 degree, the tiny model, a few SFT steps."""
    recipe = yaml.safe_load((REPO / "recipes/shipping-forecast.yaml").read_text())
    stages = recipe["stages"]
    stages["data"].update(days=4, test_days=1, val_days=1, resolution=1.0, max_train=40, max_val=8)
    for name in ("baseline", "finetuned"):
        stages[name].update(max_tokens=8, batch_size=32)
    stages["baseline"]["model"] = str(model)
    stages["sft"].update(model=str(model), max_steps=4, save_steps=1, eval_steps=1, logging_steps=1,
                         lora_rank=4, lora_alpha=8, lora_layers=1, **sft)
    path = tmp_path / "shipping-forecast.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return path


@pytest.mark.parametrize("path", RECIPES, ids=[p.name for p in RECIPES])
def test_shipped_recipes_validate(path: Path) -> None:
    recipe = load_recipe(path)
    assert [s.name for s in recipe.stages][:3] == ["data", "baseline", "sft"]
    assert path.read_text().startswith("#") and "fathom run recipes/" in path.read_text()  # opens with its command


def test_three_mistakes_in_the_real_recipe_are_reported_at_once(tmp_path: Path) -> None:
    recipe = yaml.safe_load((REPO / "recipes/shipping-forecast.yaml").read_text())
    recipe["stages"]["data"]["uses"] = "shiping_data"
    recipe["stages"]["finetuned"]["grader"] = "shiping"
    recipe["stages"]["baseline"]["data"] = str(tmp_path / "no-such-test.jsonl")
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    with pytest.raises(ConfigError) as info:
        load_recipe(path)
    text = str(info.value)
    assert "stages.data: unknown stage 'shiping_data'. Did you mean 'shipping_data'?" in text
    assert "stages.finetuned.grader: unknown grader 'shiping'. Did you mean 'shipping'?" in text
    assert f"stages.baseline.data: path '{tmp_path / 'no-such-test.jsonl'}' does not exist" in text
    assert len(info.value.problems) == 3, text


def test_pipeline_runs_and_resumes_sft_without_redoing_data_or_baseline(
        tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import fathom.train._sft as sft_module

    real_callback = sft_module.metrics_callback
    interrupted: list[int] = []

    def interrupting_callback(path: Path) -> Any:  # a Ctrl-C after the second optimizer step, once
        callback = real_callback(path)

        def on_step_end(args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            if state.global_step == 2 and not interrupted:
                interrupted.append(state.global_step)
                raise KeyboardInterrupt
            return control

        callback.on_step_end = on_step_end
        return callback

    monkeypatch.setattr(sft_module, "metrics_callback", interrupting_callback)
    recipe = load_recipe(_tiny_recipe(tmp_path, tiny_model_dir))
    runs = tmp_path / "runs"
    with pytest.raises(KeyboardInterrupt):
        run_recipe(recipe, runs_dir=runs, quiet=True)
    assert interrupted == [2]
    stage = runs / "shipping-forecast"
    before = {name: (stage / name / "manifest.json").read_text() for name in ("data", "baseline")}

    result = run_recipe(recipe, runs_dir=runs, quiet=True)
    assert [o.status for o in result.stages] == ["skipped", "skipped", "resumed", "ran", "ran"]
    assert {name: (stage / name / "manifest.json").read_text() for name in before} == before
    sft = json.loads((stage / "sft/model/result.json").read_text())
    assert sft["steps"] == 4 and sft["resumed_from"].endswith("checkpoint-1")

    # The dataset: split by day, latest day for testing, valid examples with parsed reference fields
    sizes = json.loads((stage / "data/sizes.json").read_text())
    days = sizes["days"]
    assert days["test"] == ["2025-01-04"] and days["val"] == ["2025-01-03"]
    assert not set(days["train"]) & (set(days["val"]) | set(days["test"]))
    test_rows = [json.loads(line) for line in (stage / "data/test.jsonl").read_text().splitlines()]
    assert len(test_rows) == sizes["sizes"]["test"] > 0
    for row in test_rows:
        assert validate_example(row) == []
        assert row["meta"]["source"] == "2025-01-04" and row["reference"]["fields"]["direction"]

    # The report: summary.json in the documented shape, the HTML and the plot
    summary = json.loads((stage / "report/summary.json").read_text())
    assert set(summary["models"]) == {"base", "fine-tuned"}
    for numbers in summary["models"].values():
        assert 0.0 <= numbers["strict"] <= numbers["tolerant"] <= 1.0
        assert set(numbers["per_field"]) == {"wind_direction", "wind_force", "sea_state", "weather", "visibility"}
    assert {"data", "baseline", "sft", "finetuned"} <= set(summary["timings_s"])
    assert (stage / "report/report.html").stat().st_size > 10_000 and (stage / "report/per_field.png").exists()


class _ScriptedBackend:
    """Answers area prompts from a script: a good text for some areas, nonsense for the rest."""

    def __init__(self, good: dict[str, str]) -> None:
        self.good = good

    def generate(self, requests: list[Any]) -> list[Completion]:
        out = []
        for request in requests:
            area = request.messages[-1]["content"].split("\n", 1)[0]
            text = self.good.get(area, "The sea is large and full of fish.")
            out.append(Completion({"role": "assistant", "content": text}, text))
        return out


def test_model_bulletin_falls_back_per_area_and_always_parses(tmp_path: Path) -> None:
    from fathom.domains.shipping import compute_stats, forecast_bulletin, parse_bulletin, write_runs
    from fathom.domains.shipping.parse._parser import expand_names

    run = write_runs(datetime(2025, 2, 1), 1, tmp_path / "nwp", seed=1, resolution=1.0, runs_per_day=1)[0]
    stats = compute_stats(sorted(run.glob("*.nc")))
    good = {"Viking": "West or southwest 5 to 7. Moderate or rough. Rain later. Good, occasionally poor."}
    made = forecast_bulletin(stats, _ScriptedBackend(good))
    assert "Viking" not in made.fallbacks
    assert "Forties" in made.fallbacks and "unknown phrase" in made.fallbacks["Forties"]
    text = made.bulletin.text
    parsed = parse_bulletin(text)
    assert all(area.complete() for area in parsed), [a.missing() for a in parsed if not a.complete()]
    assert len({name for area in parsed for name in expand_names(area.names)}) == 31
    assert "West or southwest 5 to 7" in text


def test_training_arguments_are_checked_with_the_recipe(tmp_path: Path, tiny_model_dir: Path) -> None:
    path = _tiny_recipe(tmp_path, tiny_model_dir, lr_scheduler="cosin")
    recipe = yaml.safe_load(path.read_text())
    recipe["stages"]["sft"].update(save_steps=3, eval_steps=2)
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    with pytest.raises(ConfigError) as info:
        load_recipe(path)
    text = str(info.value)
    assert "stages.sft.lr_scheduler: unknown schedule 'cosin'. Did you mean 'cosine'?" in text
    assert "stages.sft.save_steps: must be a multiple of --eval-steps (2)" in text


def test_sigkilled_fathom_run_resumes_sft_from_its_checkpoint(tmp_path: Path, tiny_model_dir: Path) -> None:
    """A real ``fathom run`` process killed with SIGKILL (no clean-up at all) in the middle of SFT."""
    from fathom.train import complete_checkpoints

    path = _tiny_recipe(tmp_path, tiny_model_dir)
    recipe = yaml.safe_load(path.read_text())
    recipe["stages"]["sft"].update(max_steps=120, save_steps=5, eval_steps=5)
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    runs = tmp_path / "runs"
    sft_dir = runs / "shipping-forecast/sft/model"
    proc = subprocess.Popen([sys.executable, "-m", "fathom", "run", str(path), "--runs-dir", str(runs)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not complete_checkpoints(sft_dir):  # a checkpoint folder can exist before it is complete
            assert proc.poll() is None, "fathom run ended before SFT saved a checkpoint"
            assert time.monotonic() < deadline, "no SFT checkpoint within 300 s"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert not (sft_dir / "result.json").exists()  # killed before the end

    result = run_recipe(load_recipe(path), runs_dir=runs, quiet=True)
    assert [o.status for o in result.stages] == ["skipped", "skipped", "resumed", "ran", "ran"]
    sft = json.loads((sft_dir / "result.json").read_text())
    assert sft["steps"] == 120 and sft["resumed_from"] is not None


def test_own_runs_with_issued_bulletins(tmp_path: Path) -> None:
    """``nwp_dir`` + ``bulletins``: the targets are the bulletins' texts, matched to runs by their ``run`` key."""
    from fathom.domains.shipping import write_runs

    runs = write_runs(datetime(2025, 1, 1), 4, tmp_path / "nwp", seed=2, resolution=1.0, runs_per_day=1,
                      progress=False)
    records = [{"run": run.name, "areas": [
        {"names": ["Viking"], "wind": "Southwest 5 to 7.", "sea_state": "Rough.", "weather": "Rain.",
         "visibility": "Good."},
        {"names": ["North Utsire", "South Utsire"], "wind": "Westerly 4 or 5, occasionally 6 later.",
         "sea_state": "Moderate or rough.", "weather": "Showers.", "visibility": "Good, occasionally moderate."},
    ]} for run in runs]
    bulletins = tmp_path / "bulletins.jsonl"
    bulletins.write_text("".join(json.dumps(r) + "\n" for r in records))
    path = tmp_path / "own.yaml"
    path.write_text(yaml.safe_dump({"name": "own", "stages": {"data": {
        "uses": "shipping_data", "nwp_dir": str(tmp_path / "nwp"), "bulletins": str(bulletins),
        "test_days": 1, "val_days": 1}}}))
    run_recipe(load_recipe(path), runs_dir=tmp_path / "runs", quiet=True)
    out = tmp_path / "runs/own/data"
    rows = {s: [json.loads(line) for line in (out / f"{s}.jsonl").read_text().splitlines()]
            for s in ("train", "val", "test")}
    assert [len(rows[s]) for s in ("train", "val", "test")] == [6, 3, 3]  # 3 referenced areas per run
    assert {r["meta"]["source"] for r in rows["test"]} == {"2025-01-04"}
    viking = next(r for r in rows["test"] if r["meta"]["area"] == "Viking")
    assert viking["messages"][-1]["content"] == "Southwest 5 to 7. Rough. Rain. Good."
    assert viking["reference"]["fields"]["direction"]["first"]["main"] == "SW"
    utsire = next(r for r in rows["train"] if r["meta"]["area"] == "South Utsire")
    assert utsire["messages"][-1]["content"].startswith("Westerly 4 or 5, occasionally 6 later.")

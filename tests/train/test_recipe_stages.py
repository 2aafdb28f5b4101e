"""The ``pairs``, ``dpo`` and ``cpt`` recipe stages: their parameters are checked with the recipe, and a recipe
mines pairs from the tiny model, trains DPO on them, and continues pre-training, each in its stage folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fathom.errors import ConfigError
from fathom.graders import Grade, register_grader
from fathom.recipes import load_recipe, run_recipe, stage_names


@register_grader("test_stage_hash")
def _hash() -> Any:
    """A score spread by the answer's text, so sampled answers of a prompt differ."""
    import hashlib

    def grade(example: dict[str, Any], completion: Any) -> Grade:
        text = completion.get("content") or ""
        return Grade(int(hashlib.sha256(text.encode()).hexdigest()[:6], 16) / 0xFFFFFF)
    return grade


def _recipe(tmp_path: Path, stages: dict[str, Any]) -> Path:
    path = tmp_path / "r.yaml"
    path.write_text("name: prefs\nstages:\n" + "".join(f"  {k}: {json.dumps(v)}\n" for k, v in stages.items()),
                    encoding="utf-8")
    return path


def test_the_stages_are_registered_and_their_parameters_checked(tmp_path: Path) -> None:
    assert {"pairs", "dpo", "cpt"} <= set(stage_names())
    path = _recipe(tmp_path, {
        "pairs": {"uses": "pairs", "model": "smollm2-135m", "data": "p.jsonl", "grader": "exact", "n": 1},
        "dpo": {"uses": "dpo", "model": "smollm2-135m", "data": "${pairs.pairz}", "betta": 0.2},
        "cpt": {"uses": "cpt", "model": "smollm2-135m", "data": "docs", "heldout_fractoin": 0.1}})
    with pytest.raises(ConfigError) as info:
        load_recipe(path)
    text = str(info.value)
    assert "stages.pairs.n: must be at least 2" in text
    assert "'pairz'" in text and "Did you mean 'pairs'?" in text
    assert "betta" in text and "heldout_fractoin" in text


def test_a_recipe_mines_pairs_then_trains_dpo_and_cpt(tiny_model_dir: Path, tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"messages": [{"role": "user", "content": f"Say {w}"}],
                                           "reference": {"text": w}}) + "\n" for w in ("sea", "fog", "gale", "rain")),
                       encoding="utf-8")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(" ".join(["Viking, North Utsire: southwest five to seven."] * 40), encoding="utf-8")
    model = str(tiny_model_dir)
    path = _recipe(tmp_path, {
        "pairs": {"uses": "pairs", "model": model, "data": str(prompts), "grader": "test_stage_hash", "n": 3,
                  "margin": 0.0, "max_tokens": 6},
        "dpo": {"uses": "dpo", "model": model, "data": "${pairs.pairs}", "max_steps": 2, "batch_size": 2,
                "learning_rate": 0.005, "logging_steps": 1},
        "cpt": {"uses": "cpt", "model": model, "data": str(docs), "max_seq_len": 32, "max_steps": 2,
                "eval_steps": 2, "batch_size": 2, "logging_steps": 1}})
    result = run_recipe(load_recipe(path), runs_dir=tmp_path / "runs", quiet=True)
    outputs = {stage.name: stage.outputs for stage in result.stages}
    assert outputs["pairs"]["kept"] == 4 and outputs["pairs"]["dropped_tie"] == 0
    assert Path(outputs["pairs"]["summary"]).name == "pairs.summary.json"
    assert outputs["dpo"]["steps"] == 2 and Path(outputs["dpo"]["model"]) == tmp_path / "runs/prefs/dpo/model"
    ppl = outputs["cpt"]["perplexity"]["domain"]
    assert ppl["before"] is not None and ppl["after"] is not None
    assert (tmp_path / "runs/prefs/cpt/model/result.json").is_file()

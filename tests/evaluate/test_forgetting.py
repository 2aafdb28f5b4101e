"""The forgetting check: paired differences and verdicts (scripted models), the files it writes, resuming,
``fathom eval forgetting`` on two tiny random models, bad input (exit 2), and the ``forgetting`` recipe stage."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
from tests.cli._run import run

from fathom.backends import ChatRequest, Completion
from fathom.errors import ConfigError
from fathom.evaluate import forgetting_check, general_set

GOLD = {r["messages"][0]["content"]: (r["meta"]["category"], r["messages"][-1]["content"]) for r in general_set()}


class ScriptedModel:
    """Answers every question of the set right, except in the categories it has ``forgotten``."""

    supports_batching: ClassVar[bool] = True

    def __init__(self, name: str, forgotten: Sequence[str] = ()):
        self.model_name, self.forgotten, self.requests = name, set(forgotten), 0

    def generate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        self.requests += len(requests)
        out = []
        for request in requests:
            category, answer = GOLD[request.messages[-1]["content"]]
            text = "Sorry, I cannot help with that request today." if category in self.forgotten else answer
            out.append(Completion({"role": "assistant", "content": text}, text))
        return out


def test_lost_categories_are_measurable_forgetting_and_a_copy_is_not(tmp_path: Path) -> None:
    base, lost, same = ScriptedModel("base"), ScriptedModel("lost", ["arithmetic", "dates"]), ScriptedModel("same")
    result = forgetting_check(base, {"sft": lost, "copy": same}, tmp_path, quiet=True)
    assert list(result) == ["set", "base", "models", "differences", "verdicts", "settings"]
    n = result["set"]["n"]
    assert result["models"]["base"]["score"] == 1.0 and result["models"]["base"]["n"] == n
    per = result["models"]["sft"]["per_category"]
    assert per["arithmetic"] == per["dates"] == 0.0 and per["capitals"] == per["refusal"] == 1.0
    lost_share = (result["set"]["per_category"]["arithmetic"] + result["set"]["per_category"]["dates"]) / n
    diff = result["differences"]["sft-base"]
    assert diff["mean"] == pytest.approx(-lost_share) and diff["low"] <= diff["mean"] <= diff["high"] < 0
    assert diff["outcome"] == "forgetting" and diff["per_category"]["units"]["mean"] == 0.0
    assert result["verdicts"]["sft-base"] == (f"forgetting: {-100 * lost_share:+.1f} points "
                                              f"[{100 * diff['low']:+.1f}, {100 * diff['high']:+.1f}], measurable")
    assert result["verdicts"]["copy-base"] == "no measurable forgetting: +0.0 points [+0.0, +0.0]"
    on_disk = json.loads((tmp_path / "forgetting.json").read_text())
    assert on_disk == result
    report = (tmp_path / "forgetting.md").read_text()
    assert "| arithmetic | 40 | 100.0 | 0.0 | 100.0 | -100.0 [-100.0, -100.0] | +0.0 [+0.0, +0.0] |" in report
    assert "- sft-base: forgetting:" in report
    assert (tmp_path / "forgetting.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "runs/sft/results.jsonl").exists() and (tmp_path / "manifest.json").exists()


def test_a_second_run_in_the_same_folder_generates_nothing(tmp_path: Path) -> None:
    first = forgetting_check(ScriptedModel("base"), {"sft": ScriptedModel("sft", ["format"])}, tmp_path,
                             per_category=3, quiet=True)
    again_base, again_sft = ScriptedModel("base"), ScriptedModel("sft", ["format"])
    second = forgetting_check(again_base, {"sft": again_sft}, tmp_path, per_category=3, quiet=True)
    assert again_base.requests == again_sft.requests == 0
    assert second["differences"] == first["differences"] and second["set"]["n"] == 18
    assert json.loads((tmp_path / "runs/sft/summary.json").read_text())["cache"] == {"generated": 0, "reused": 18}


def test_every_bad_input_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        forgetting_check("no-such-model", {"base": "smollm2-135m", "bad name": "smollm2-135m"}, tmp_path,
                         data=tmp_path / "missing.jsonl", max_tokens=0)
    text = str(caught.value)
    for expected in ("base: 2 models have this name", "bad name: a model name is", "Unknown model 'no-such-model'",
                     "--data: ", "--max-tokens: must be at least 1"):
        assert expected in text, text
    assert not (tmp_path / "runs").exists()


@pytest.fixture(scope="module")
def second_tiny_model(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another random tiny model (seed 1): the "fine-tuned" one."""
    from fathom.models import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny-b") / "tiny", seed=1)


def test_cli_on_two_tiny_models_writes_the_json(tiny_model_dir: Path, second_tiny_model: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "forget"
    code, stdout, stderr = run(["eval", "forgetting", "--base", str(tiny_model_dir), "--tuned",
                                f"sft={second_tiny_model}", "--out", str(out), "--per-category", "2",
                                "--max-tokens", "4", "--json"], capsys)
    assert code == 0, stderr
    printed = json.loads(stdout)
    assert printed == json.loads((out / "forgetting.json").read_text())
    assert set(printed["models"]) == {"base", "sft"} and set(printed["differences"]) == {"sft-base"}
    for model in printed["models"].values():
        assert {"score", "per_category", "n"} <= set(model) and model["n"] == 12
        assert set(model["per_category"]) == {"arithmetic", "units", "dates", "capitals", "format", "refusal"}
    assert {"mean", "low", "high"} <= set(printed["differences"]["sft-base"])
    assert printed["settings"]["max_tokens"] == 4 and printed["settings"]["per_category"] == 2
    code, stdout, _ = run(["eval", "forgetting", "--base", str(tiny_model_dir), "--tuned", f"sft={second_tiny_model}",
                           "--out", str(out), "--per-category", "2", "--max-tokens", "4"], capsys)
    assert code == 0 and "sft-base: " in stdout and "base: " in stdout.splitlines()[0]


@pytest.mark.parametrize(("args", "message"), [
    (["--base", "no-such-model", "--tuned", "smollm2-135m"], "Unknown model 'no-such-model'"),
    (["--base", "smollm2-135m", "--tuned", "/no/such/folder"], "folder: Unknown model '/no/such/folder'"),
    (["--base", "smollm2-135m", "--tuned", "/a/model", "--tuned", "/b/model"], "2 tuned models are named 'model'"),
    (["--base", "smollm2-135m", "--tuned", "smollm2-135m", "--data", "/no/such.jsonl"], "--data: /no/such.jsonl"),
    (["--base", "smollm2-135m"], "Missing option '--tuned'"),
    (["--base", "smollm2-135m", "--tuned", "smollm2-135m", "--max-tokens", "0"], "--max-tokens"),
])
def test_bad_input_exits_2(args: list[str], message: str, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    code, _, stderr = run(["eval", "forgetting", *args, "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and message in stderr, stderr
    assert not (tmp_path / "out").exists()


def test_lm_eval_tasks_without_lm_eval_name_the_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "lm_eval", None)  # import lm_eval now raises ImportError
    code, _, stderr = run(["eval", "forgetting", "--base", "smollm2-135m", "--tuned", "smollm2-135m",
                           "--out", str(tmp_path), "--lm-eval-task", "arc_easy"], capsys)
    assert code == 2 and "pip install lm-eval" in stderr and "fathom[lm-eval]" in stderr, stderr


def _stage_recipe(tmp_path: Path, tuned: dict[str, str], **extra: Any) -> Path:
    path = tmp_path / "forget.yaml"
    params = {"uses": "forgetting", "base_model": "smollm2-135m", "tuned": tuned, "per_category": 1, **extra}
    path.write_text(f"name: forget\nstages:\n  forgetting: {json.dumps(params)}\n")
    return path


def test_the_recipe_stage_checks_tuned_specs_up_front(tmp_path: Path) -> None:
    from fathom.recipes import load_recipe

    with pytest.raises(ConfigError, match=r"stages\.forgetting\.tuned\.sft: Unknown model '/no/such/model'"):
        load_recipe(_stage_recipe(tmp_path, {"sft": "/no/such/model"}))
    with pytest.raises(ConfigError, match=r"stages\.forgetting\.tuned: give at least one tuned model"):
        load_recipe(_stage_recipe(tmp_path, {}))
    assert load_recipe(_stage_recipe(tmp_path, {"sft": "smollm2-135m"})).stages[0].uses == "forgetting"


def test_the_recipe_stage_returns_what_it_declares(tiny_model_dir: Path, second_tiny_model: Path,
                                                   tmp_path: Path) -> None:
    from fathom.recipes._core_stages import forgetting_stage
    from fathom.recipes._stages import StageContext, stage_function, stage_outputs

    ctx = StageContext(name="forgetting", out_dir=tmp_path / "stage", recipe="test", seed=0, quiet=True)
    outputs = forgetting_stage(ctx, base_model=str(tiny_model_dir), tuned={"sft": str(second_tiny_model)},
                               per_category=1, max_tokens=2)
    fn = stage_function("forgetting")
    assert fn is forgetting_stage and stage_outputs(fn) == {"dir", *outputs}
    assert Path(outputs["figure"]).exists() and Path(outputs["report"]).read_text().startswith("# Forgetting check")
    assert set(outputs["scores"]) == {"base", "sft"} and set(outputs["differences"]["sft-base"]) == {"mean", "low",
                                                                                                     "high"}
    assert outputs["verdicts"]["sft-base"] == json.loads(Path(outputs["forgetting"]).read_text())["verdicts"][
        "sft-base"]

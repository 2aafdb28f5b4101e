"""The forgetting figures in the recipe reports: a real ``forgetting.json`` (scripted models, one of which has
forgotten two categories) read by :func:`fathom.evaluate.forgetting_summary`, and carried by the shipping and
factory reports into ``summary.json`` and ``report.html``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.evaluate.test_forgetting import ScriptedModel

from fathom.errors import DataError
from fathom.evaluate import forgetting_check, forgetting_html, forgetting_summary
from fathom.recipes import StageContext


@pytest.fixture(scope="module")
def forgetting_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("forgetting")
    forgetting_check(ScriptedModel("base"), {"sft": ScriptedModel("sft"),
                                             "rft": ScriptedModel("rft", ["arithmetic", "dates"])}, out, quiet=True)
    return out / "forgetting.json"


def test_the_summary_keeps_scores_differences_and_verdicts(forgetting_json: Path) -> None:
    found = json.loads(forgetting_json.read_text())
    summary = forgetting_summary(forgetting_json)
    assert summary["base"] == "base" and summary["n"] == found["set"]["n"]
    assert summary["scores"] == {"base": 1.0, "sft": 1.0, "rft": found["models"]["rft"]["score"]}
    assert summary["scores"]["rft"] < 1.0
    assert set(summary["differences"]) == {"sft-base", "rft-base"}
    assert summary["differences"]["rft-base"] == {k: found["differences"]["rft-base"][k] for k in ("mean", "low",
                                                                                                  "high")}
    assert summary["verdicts"]["rft-base"].startswith("forgetting:")
    assert summary["verdicts"]["sft-base"].startswith("no measurable forgetting")
    html = forgetting_html(summary, forgetting_json.with_name("forgetting.png"))
    assert "<td>rft</td>" in html and html.count("<tr>") == 4 and "data:image/png;base64," in html
    assert "data:image/png" not in forgetting_html(summary)  # no figure given: the table alone


def test_a_missing_or_foreign_file_is_a_data_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nope\.json: does not exist; pass the forgetting stage's output"):
        forgetting_summary(tmp_path / "nope.json")
    other = tmp_path / "summary.json"
    other.write_text(json.dumps({"models": {}}))
    with pytest.raises(DataError, match=r"summary\.json: lacks base, differences, verdicts"):
        forgetting_summary(other)


def _results(folder: Path, rows: list[dict[str, Any]]) -> str:
    folder.mkdir(parents=True)
    (folder / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(folder)


def test_the_shipping_report_carries_the_figures(forgetting_json: Path, tmp_path: Path) -> None:
    from fathom.domains.shipping.lm import shipping_report_stage

    row = {"id": "a", "prompt": [], "completion": {"role": "assistant", "content": "x"},
           "reference": {"area": "a", "text": "y"}, "score": 0.5, "components": {}, "gates": {"parses": True}}
    evals = [_results(tmp_path / name, [row]) for name in ("base", "sft", "rft")]
    ctx = StageContext("report", tmp_path / "report", "r", seed=0, quiet=True)
    ctx.out_dir.mkdir()
    shipping_report_stage(ctx, evals, names=["base", "sft", "rft"], forgetting=str(forgetting_json))
    summary = json.loads((ctx.out_dir / "summary.json").read_text())
    assert summary["forgetting"] == forgetting_summary(forgetting_json)
    assert "Forgetting check (general-ability set)" in (ctx.out_dir / "report.html").read_text()


def test_the_factory_report_carries_the_figures(forgetting_json: Path, tmp_path: Path) -> None:
    from fathom.domains.factory._stages import factory_report_stage

    call = {"function": {"name": "list_devices", "arguments": "{}"}}
    test = tmp_path / "test.jsonl"
    test.write_text(json.dumps({"messages": [{"role": "user", "content": "Which machines are there?"}],
                                "reference": {"tool_calls": [call]},
                                "meta": {"id": "q1", "category": "inventory"}}) + "\n")
    row = {"id": "q1", "score": 1.0, "components": {"name_f1": 1.0},
           "completion": {"role": "assistant", "tool_calls": [call]}}
    evals = [_results(tmp_path / name, [row]) for name in ("base", "sft", "rft")]
    ctx = StageContext("report", tmp_path / "report", "r", seed=0, quiet=True)
    ctx.out_dir.mkdir()
    factory_report_stage(ctx, evals, ["base", "sft", "rft"], str(test), forgetting=str(forgetting_json))
    summary = json.loads((ctx.out_dir / "summary.json").read_text())
    assert summary["forgetting"] == forgetting_summary(forgetting_json)
    assert summary["models"]["rft"]["score"] == 1.0
    html = (ctx.out_dir / "report.html").read_text()
    assert "Forgetting check (general-ability set)" in html and "no measurable forgetting" in html

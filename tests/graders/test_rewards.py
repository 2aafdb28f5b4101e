"""Reward adapters: a grader as a TRL reward function and as an Amazon Nova RFT reward Lambda."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fathom.errors import ConfigError, GraderError
from fathom.graders import as_trl_reward, build_grader, nova_lambda_handler, tool_call, write_nova_lambda

TOOLS = [{"type": "function", "function": {"name": "get_forecast", "parameters": {
    "type": "object", "required": ["area"], "properties": {"area": {"type": "string"}, "hours": {"type": "integer"}}}}}]
GOLD = {"tool_calls": [{"type": "function", "function": {"name": "get_forecast", "arguments": '{"area": "Viking"}'}}]}
HIT = '<tool_call>[{"name": "get_forecast", "arguments": {"area": "Viking"}}]</tool_call>'
NEAR = '<tool_call>[{"name": "get_forecast", "arguments": {"area": "Forth"}}]</tool_call>'


class Recorder:
    def __init__(self) -> None:
        self.metrics: list[tuple[str, float]] = []
        self.extra: dict[str, list[Any]] = {}

    def log_metric(self, name: str, value: float) -> None:
        self.metrics.append((name, value))

    def log_extra(self, column: str, values: list[Any]) -> None:
        self.extra[column] = values


def test_trl_reward_with_conversational_batch() -> None:
    reward = as_trl_reward(tool_call())
    assert reward.__name__ == "tool_call"
    prompt = [{"role": "user", "content": "Forecast for Viking?"}]
    rec = Recorder()
    # the call shape of GRPOTrainer._calculate_rewards: columns repeated per completion, plus runtime kwargs
    scores = reward(prompts=[prompt, prompt, prompt],
                    completions=[[{"role": "assistant", "content": HIT}], [{"role": "assistant", "content": NEAR}],
                                 [{"role": "assistant", "content": "Windy."}]],
                    completion_ids=[[1], [2], [3]],
                    reference=[GOLD, json.dumps(GOLD), GOLD],  # a JSON-string column is decoded
                    tools=[json.dumps(TOOLS)] * 3, meta=[{"id": "a"}] * 3,
                    trainer_state=object(), log_metric=rec.log_metric, log_extra=rec.log_extra)
    # hit 1.0; near miss (right tool, wrong area): 0.3 + 0.4 * 0 + 0.2 + 0.1 * 0 = 0.5; no call: 0
    assert scores == [1.0, pytest.approx(0.5), 0.0]
    assert reward.last_components["name_f1"] == pytest.approx(2 / 3)
    assert reward.last_components["score"] == pytest.approx(0.5)
    assert reward.last_components["gate_failed"] == 0.0
    logged = dict(rec.metrics)
    assert logged["tool_call/arg_accuracy"] == pytest.approx(1 / 3)
    assert logged["tool_call/score"] == pytest.approx(0.5)
    assert rec.extra["tool_call_reason"][2].startswith("0 call(s) made, 1 expected")
    assert [g.score for g in reward.last_grades] == scores


def test_trl_reward_standard_text_and_arrow_nones() -> None:
    reward = as_trl_reward(build_grader("exact"), log_components=False, name="exact_match")
    rec = Recorder()
    # standard (non-conversational) prompts; Arrow-style None fields in the reference are ignored
    scores = reward(["Area?", "Area?"], ["Viking", "Forth"],
                    reference=[{"text": "viking", "pattern": None}, {"text": "viking", "pattern": None}],
                    log_metric=rec.log_metric)
    assert scores == [1.0, 0.0] and rec.metrics == [] and reward.__name__ == "exact_match"
    arrow_tools = [{"type": "function", "function": {"name": "get_forecast", "description": None, "parameters": {
        "type": "object", "required": ["area"], "enum": None,
        "properties": {"area": {"type": "string", "enum": None}, "hours": {"type": "integer", "enum": None}}}}}]
    tc = as_trl_reward(tool_call())
    assert tc([[{"role": "user", "content": "?"}]], [[{"role": "assistant", "content": HIT}]],
              reference=[GOLD], tools=[arrow_tools]) == [1.0]


def test_trl_reward_merges_multi_turn_tool_calls() -> None:
    reward = as_trl_reward(tool_call(gates=["json_valid"]))
    completion = [
        {"role": "assistant", "content": None, "tool_calls": [
            {"type": "function", "function": {"name": "get_forecast", "arguments": {"area": "Viking"}}}]},
        {"role": "tool", "content": "SW 5"},
        {"role": "assistant", "content": "Southwest 5."},
    ]
    assert reward([[{"role": "user", "content": "?"}]], [completion], reference=[GOLD]) == [1.0]


def nova_sample(sample_id: str, text: str, reference: Any = GOLD) -> dict[str, Any]:
    return {"id": sample_id, "messages": [{"role": "system", "content": "You forecast."},
                                          {"role": "user", "content": "Forecast for Viking?"},
                                          {"role": "assistant", "content": text}],
            "tools": TOOLS, "reference_answer": reference}


def check_nova_output(results: list[dict[str, Any]]) -> None:
    for result in results:
        assert set(result) == {"id", "aggregate_reward_score", "metrics_list"}
        assert 0.0 <= result["aggregate_reward_score"] <= 1.0
        rewards = [m for m in result["metrics_list"] if m["type"] == "Reward"]
        assert len(rewards) == 1 and rewards[0]["value"] == result["aggregate_reward_score"]
        for metric in result["metrics_list"]:
            assert set(metric) == {"name", "value", "type"} and metric["type"] in {"Reward", "Metric"}
            assert isinstance(metric["value"], float) and math.isfinite(metric["value"])
    json.dumps(results, allow_nan=False)


def test_nova_lambda_handler_contract() -> None:
    handler = nova_lambda_handler(tool_call())
    event = [nova_sample("s1", HIT), nova_sample("s2", NEAR), {"id": "s3", "messages": [
        {"role": "user", "content": "?"}], "reference_answer": GOLD}]
    results = handler(event, None)
    check_nova_output(results)
    assert [r["id"] for r in results] == ["s1", "s2", "s3"]
    assert [r["aggregate_reward_score"] for r in results] == [1.0, pytest.approx(0.5), 0.0]
    metrics = {m["name"]: m["value"] for m in results[1]["metrics_list"]}
    assert metrics["name_f1"] == 1.0 and metrics["arg_accuracy"] == 0.0 and metrics["gate.schema_valid"] == 1.0
    assert {m["name"] for m in results[2]["metrics_list"]} == {"score", "grader_error"}  # no assistant turn
    assert handler(json.dumps([nova_sample("s4", HIT)]), None)[0]["aggregate_reward_score"] == 1.0
    with pytest.raises(GraderError, match="expected a list of samples"):
        handler({"samples": []}, None)


def test_nova_string_reference_and_content_blocks() -> None:
    handler = nova_lambda_handler(build_grader({"name": "rouge_l"}), reward_name="rouge")
    sample = nova_sample("t1", "", reference="Southwest 5 to 7")
    sample["messages"][-1]["content"] = [{"text": "Southwest 5 "}, {"text": "to 7"}]
    (result,) = handler([sample], None)
    check_nova_output([result])
    assert result["aggregate_reward_score"] == 1.0 and result["metrics_list"][0]["name"] == "rouge"


def test_write_nova_lambda_runs_from_its_own_folder(tmp_path: Path) -> None:
    spec = {"name": "weighted", "graders": [
        {"grader": {"name": "tool_call"}, "weight": 3},
        {"grader": {"name": "regex", "pattern": "tool_call"}, "weight": 1}]}
    path = write_nova_lambda(tmp_path / "bundle", spec)
    assert path.name == "lambda_function.py"
    assert (tmp_path / "bundle" / "requirements.txt").read_text() == "jsonschema\nscipy\n"
    assert (tmp_path / "bundle" / "fathom" / "graders" / "_toolcall.py").is_file()
    event = json.dumps([nova_sample("s1", HIT), nova_sample("s2", "Windy.")])
    code = ("import json, sys, fathom, lambda_function; "
            "print(json.dumps({'fathom': fathom.__file__, "
            "'out': lambda_function.lambda_handler(json.loads(sys.stdin.read()), None)}))")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP")}
    run = subprocess.run([sys.executable, "-c", code], cwd=path.parent, input=event, capture_output=True,
                         text=True, timeout=60, env=env, check=False)
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert Path(data["fathom"]).resolve().is_relative_to((tmp_path / "bundle").resolve())  # the vendored copy
    check_nova_output(data["out"])
    assert [r["aggregate_reward_score"] for r in data["out"]] == [1.0, 0.0]
    with pytest.raises(ConfigError, match="unknown weights key 'nope'"):
        write_nova_lambda(tmp_path / "bad", {"name": "tool_call", "weights": {"nope": 1}})


def test_write_nova_lambda_refuses_in_process_graders(tmp_path: Path) -> None:
    from fathom.graders import Grade, register_grader
    from fathom.graders._registry import _REGISTERED

    register_grader("local_only")(lambda: (lambda example, completion: Grade(1.0)))
    try:
        with pytest.raises(ConfigError, match="'local_only' was registered in this process"):
            write_nova_lambda(tmp_path / "b", {"name": "weighted", "graders": [{"grader": "local_only"}]})
    finally:
        _REGISTERED.pop("local_only")
    assert not (tmp_path / "b").exists()


@pytest.mark.slow
def test_reward_drives_a_real_grpo_step(tiny_model_dir: Path, tmp_path: Path) -> None:
    """One GRPO step of the tiny model with the tool-call grader as reward (opt-in: ``-m slow``)."""
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    rows = [{"prompt": [{"role": "user", "content": f"Forecast for Viking? ({i})"}],
             "reference": json.dumps(GOLD), "tools": json.dumps(TOOLS)} for i in range(4)]
    reward = as_trl_reward(tool_call(gates=[]))
    config = GRPOConfig(output_dir=str(tmp_path / "out"), per_device_train_batch_size=4, num_generations=2,
                        max_completion_length=8, max_steps=1, logging_steps=1, use_cpu=True, bf16=False,
                        report_to="none", save_strategy="no", seed=0)
    trainer = GRPOTrainer(model=str(tiny_model_dir), reward_funcs=[reward], args=config,
                          train_dataset=Dataset.from_list(rows))
    trainer.train()
    logged = {k for entry in trainer.state.log_history for k in entry}
    assert "rewards/tool_call/mean" in logged
    assert "tool_call/name_f1" in logged  # component means reach TRL's logs through log_metric
    assert len(reward.last_grades) == 4 and "name_f1" in reward.last_components

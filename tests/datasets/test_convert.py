"""Converters: Fathom -> X -> Fathom round trips (chat and DPO, tool calls and results), Nova rules,
format detection and reading rows written by other tools."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fathom.datasets import (
    FORMATS,
    convert_file,
    convert_rows,
    detect_format,
    from_hf_dataset,
    from_nova,
    from_openai,
    from_sharegpt,
    read_jsonl,
    to_hf_dataset,
    to_nova,
    to_openai,
    to_sharegpt,
    validate_example,
    validate_nova,
)
from fathom.errors import ConfigError, DataError

ASSETS = Path(__file__).resolve().parents[1] / "assets"
CHAT = read_jsonl(ASSETS / "datasets_chat_tiny.jsonl")
DPO = read_jsonl(ASSETS / "datasets_dpo_tiny.jsonl")
ALL = CHAT + DPO

Example = dict[str, Any]
ROUND_TRIPS: dict[str, tuple[Callable[[Example], Example], Callable[[Example], Example]]] = {
    "nova": (lambda ex: to_nova(ex, keep_extra=True), from_nova),
    "openai": (to_openai, from_openai),
    "sharegpt": (to_sharegpt, from_sharegpt),
}


def test_fixtures_cover_tool_calls_results_and_dpo() -> None:
    messages = [m for ex in CHAT for m in ex["messages"]]
    assert any(m["role"] == "tool" for m in messages)
    assert any(len(m.get("tool_calls") or []) == 2 and m["content"] for m in messages)  # text + parallel calls
    assert any(m["role"] == "assistant" and m["content"] is None for m in messages)
    assert any(ex["chosen"].get("tool_calls") for ex in DPO)


@pytest.mark.parametrize("fmt", sorted(ROUND_TRIPS))
@pytest.mark.parametrize("index", range(len(ALL)))
def test_round_trip(fmt: str, index: int) -> None:
    to_x, from_x = ROUND_TRIPS[fmt]
    example = ALL[index]
    row = to_x(example)
    assert row != example or fmt == "openai"
    assert from_x(json.loads(json.dumps(row))) == example


@pytest.mark.parametrize("index", range(len(ALL)))
def test_hf_round_trip(index: int) -> None:
    group = CHAT if index < len(CHAT) else DPO
    assert from_hf_dataset(to_hf_dataset(group)) == group


def test_nova_drops_meta_unless_asked() -> None:
    row = to_nova(CHAT[0])
    assert "meta" not in row and "reference" not in row
    assert from_nova(row) == {k: v for k, v in CHAT[0].items() if k not in ("meta", "reference")}


def test_nova_shape_merges_tool_results_into_user_turns() -> None:
    row = to_nova(CHAT[2])
    roles = [turn["role"] for turn in row["messages"]]
    assert roles == ["user", "assistant", "user", "assistant"]
    user_turn = row["messages"][2]["content"]
    assert [next(iter(block)) for block in user_turn] == ["toolResult", "toolResult", "text"]
    assert row["messages"][1]["content"][1] == {"toolUse": {"toolUseId": "c1", "name": "gale_warnings", "input": {}}}
    assert validate_nova(row) == []


def test_nova_dpo_shape() -> None:
    row = to_nova(DPO[0])
    last = row["messages"][-1]
    assert row["system"] == [{"text": "You write shipping forecasts."}]
    assert [c["preferenceLabel"] for c in last["candidates"]] == ["preferred", "non-preferred"]


def test_nova_rules_are_enforced_when_writing() -> None:
    ex = {"messages": [{"role": "user", "content": "User: what is the forecast?"},
                       {"role": "assistant", "content": None, "tool_calls": [
                           {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
                       {"role": "tool", "tool_call_id": "c1", "content": "ok"}],
          "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]}
    assert validate_example(ex) == []
    with pytest.raises(DataError) as info:
        to_nova(ex)
    text = str(info.value)
    assert "banned string 'User:'" in text
    assert "Nova requires a non-empty tool description" in text
    assert "the last turn must be the assistant's" in text


def test_validate_nova_catches_structural_rules() -> None:
    row = {"toolConfig": {"tools": [{"toolSpec": {"name": "f", "description": "d", "inputSchema": {"json": {
        "type": "object"}}}}]},
        "messages": [
            {"role": "user", "content": [{"toolUse": {"toolUseId": "u1", "name": "f", "input": {}}}]},
            {"role": "assistant", "content": [{"toolUse": {"toolUseId": "a1", "name": "g", "input": {}}},
                                              {"toolResult": {"toolUseId": "zz", "content": [{"text": "x"}]}}]},
            {"role": "assistant", "content": [{"text": "<unk>"}]}]}
    found = {p.where: p.message for p in validate_nova(row)}
    assert "only in assistant turns" in found["messages[0].content[0].toolUse"]
    assert "not declared in toolConfig" in found["messages[1].content[0].toolUse.name"]
    assert "only in user turns" in found["messages[1].content[1].toolResult"]
    assert "no earlier toolUse has id 'zz'" in found["messages[1].content[1].toolResult.toolUseId"]
    assert "expected 'user'" in found["messages[2].role"]
    assert "banned string '<unk>'" in found["messages[2].content[0].text"]


def test_from_nova_reads_json_tool_results_and_rejects_media() -> None:
    row = {"schemaVersion": "bedrock-conversation-2024",
           "toolConfig": {"tools": [{"toolSpec": {"name": "f", "description": "d",
                                                  "inputSchema": {"json": {"type": "object"}}}}]},
           "messages": [{"role": "user", "content": [{"text": "go"}]},
                        {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t", "name": "f",
                                                                       "input": {"a": 1}}}]},
                        {"role": "user", "content": [{"toolResult": {"toolUseId": "t",
                                                                     "content": [{"json": {"ok": True}}]}}]},
                        {"role": "assistant", "content": [{"text": "done"}]}]}
    ex = from_nova(row)
    assert ex["messages"][1]["tool_calls"][0]["function"]["arguments"] == '{"a": 1}'
    assert ex["messages"][2] == {"role": "tool", "tool_call_id": "t", "content": '{"ok": true}'}
    assert validate_example(ex) == []
    row["messages"][0]["content"].append({"image": {"format": "png", "source": {"bytes": ""}}})
    with pytest.raises(DataError, match="text only; image blocks cannot be converted"):
        from_nova(row)


def test_from_sharegpt_without_ids_and_with_system_string() -> None:
    row = {"system": "Be brief.", "tools": json.dumps([{"name": "f", "description": "d",
                                                        "parameters": {"type": "object"}}]),
           "conversations": [{"from": "human", "value": "go"},
                             {"from": "function_call", "value": json.dumps({"name": "f", "arguments": {"x": 1}})},
                             {"from": "observation", "value": "42"},
                             {"from": "gpt", "value": "It is 42."}]}
    ex = from_sharegpt(row)
    assert ex["messages"][0] == {"role": "system", "content": "Be brief."}
    call_id = ex["messages"][2]["tool_calls"][0]["id"]
    assert ex["messages"][3] == {"role": "tool", "tool_call_id": call_id, "content": "42"}
    assert ex["tools"][0]["type"] == "function"
    assert validate_example(ex) == []
    with pytest.raises(DataError, match="observation with no unanswered function_call"):
        from_sharegpt({"conversations": [{"from": "human", "value": "x"}, {"from": "observation", "value": "y"}]})


def test_openai_dpo_rows() -> None:
    row = to_openai(DPO[1])
    assert set(row) == {"input", "preferred_output", "non_preferred_output", "meta", "reference"}
    assert row["input"]["tools"] == DPO[1]["tools"]
    assert "meta" not in to_openai(DPO[1], keep_extra=False)
    with pytest.raises(DataError, match="exactly one assistant message"):
        from_openai({"input": {"messages": []}, "preferred_output": [], "non_preferred_output": []})


def test_hf_dataset_shape_matches_chat_templates() -> None:
    ds = to_hf_dataset(CHAT)
    assert set(ds.column_names) == {"messages", "tools", "meta", "reference"}
    call = ds[1]["messages"][1]["tool_calls"][0]
    assert call["function"]["arguments"] == {"area": "Fisher", "hours": 24}
    assert "tool_calls" not in ds[1]["messages"][0]  # no null padding
    assert ds[3]["tools"] is None
    dpo = to_hf_dataset(DPO)
    assert set(dpo.column_names) >= {"prompt", "chosen", "rejected", "tools"}
    with pytest.raises(DataError, match="mixed"):
        to_hf_dataset(ALL)


def test_hf_dataset_renders_with_the_tool_template() -> None:
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast

    from fathom.models import SMOLLM2_TOOL_TEMPLATE

    tokenizer = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]")),
                                        unk_token="[UNK]")
    tokenizer.chat_template = SMOLLM2_TOOL_TEMPLATE
    row = to_hf_dataset(CHAT)[2]
    text = tokenizer.apply_chat_template(row["messages"], tools=row["tools"], tokenize=False)
    assert '{"name": "get_forecast", "arguments": {"area": "Viking"}}' in text
    assert "Viking: southerly 7 to severe gale 9." in text


def test_from_hf_dataset_strips_struct_padding() -> None:
    from datasets import Dataset

    rows = [{"messages": [{"role": "user", "content": "go", "tool_calls": None, "tool_call_id": None},
                          {"role": "assistant", "content": None, "tool_call_id": None, "tool_calls": [
                              {"id": "c", "type": "function", "function": {"name": "f", "arguments": {"x": 1}}}]}]}]
    ex = from_hf_dataset(Dataset.from_list(rows))[0]
    assert ex["messages"][0] == {"role": "user", "content": "go"}
    assert ex["messages"][1]["tool_calls"][0]["function"]["arguments"] == '{"x": 1}'


def test_detect_format() -> None:
    assert detect_format(CHAT) == "fathom"
    assert detect_format([to_nova(ex) for ex in CHAT]) == "nova"
    assert detect_format([to_sharegpt(ex) for ex in DPO]) == "sharegpt"
    assert detect_format([to_openai(ex) for ex in ALL]) == "openai"
    with pytest.raises(DataError, match="rows disagree"):
        detect_format([to_nova(CHAT[0]), to_sharegpt(CHAT[0])])
    with pytest.raises(DataError, match="top-level keys seen: \\['text'\\]"):
        detect_format([{"text": "plain"}])


@pytest.mark.parametrize("fmt", FORMATS)
def test_convert_rows_every_pair(fmt: str) -> None:
    rows = convert_rows(CHAT, to=fmt, keep_extra=True)
    assert convert_rows(rows, to="fathom", from_=fmt) == CHAT


def test_convert_rows_lists_all_problems() -> None:
    rows = [{"messages": [{"role": "assistant", "content": "x"}]}, CHAT[0],
            {"messages": [{"role": "user", "content": "a"}, {"role": "bot", "content": "b"}]}]
    with pytest.raises(DataError) as info:
        convert_rows(rows, to="nova")
    assert {p.where.split(" ")[0] + " " + p.where.split(" ")[1] for p in info.value.problems} == {"row 1", "row 3"}


def test_unknown_format_name() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'nova'"):
        convert_rows(CHAT, to="novo")


def test_convert_file_reports_lines(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(to_sharegpt(CHAT[0])) + "\n{broken\n"
                   + json.dumps({"conversations": [{"from": "alien", "value": "x"}]}) + "\n")
    with pytest.raises(DataError) as info:
        convert_file(src, tmp_path / "out.jsonl", to="fathom")
    wheres = [p.where for p in info.value.problems]
    assert wheres == [f"{src}:2", f"{src}:3 conversations[0]"]
    assert "(as ShareGPT)" in info.value.problems[1].message
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("to_x", [to_nova, to_openai, to_sharegpt, lambda ex: to_hf_dataset([ex])])
def test_writers_refuse_invalid_examples(to_x: Callable[[Example], Any]) -> None:
    bad = {"messages": [{"role": "user", "content": "Hi"}], "chosen": {"role": "assistant", "content": "Hello"}}
    with pytest.raises(DataError, match="rejected: missing"):
        to_x(bad)


def test_fields_without_a_target_form_are_reported(tmp_path: Path) -> None:
    ex = json.loads(json.dumps(CHAT[1]))
    ex["messages"][0]["name"] = "skipper"
    ex["messages"][-1]["weight"] = 1
    ex["tools"][0]["function"]["strict"] = True
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(ex) + "\n" + json.dumps(CHAT[0]) + "\n")
    report = convert_file(src, tmp_path / "out.jsonl", to="sharegpt")
    assert report.dropped_fields == {"messages[].name": 1, "messages[].weight": 1, "tools[].function.strict": 1}
    assert convert_file(src, tmp_path / "same.jsonl", to="openai").dropped_fields == {}
    ex["messages"][-1]["weight"] = 0
    for to_x in (to_nova, to_sharegpt):
        with pytest.raises(DataError, match="weight 0 \\(a turn not trained on\\) has no"):
            to_x(ex)

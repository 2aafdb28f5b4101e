"""Checking teacher items: each reason code for what it means, and the answer parser."""

from __future__ import annotations

from typing import Any

import pytest
from tests.synth._script import CATEGORIES, TOOLS

from fathom.synth import Candidate, Category, Chunk, Rejection, ToolSet, check_item, parse_answer

CHUNK = Chunk(id="m.txt#0", source="m.txt", text="Pump P-101 runs at 40 rpm.\nIts oil is ISO  VG 46.", index=0,
              metadata={})
CATS = {name: Category(name, spec["description"], tuple(spec["tools"])) for name, spec in CATEGORIES.items()}
TOOLSET = ToolSet.from_schemas(TOOLS)
GOOD = {"category": "status", "question": "Is P-101 running?", "tool_calls": [
    {"name": "get_status", "arguments": {"asset": "P-101"}}], "answer": None, "quotes": []}
FACT = {"category": "fact", "question": "What oil does P-101 take?", "tool_calls": [], "answer": "ISO VG 46.",
        "quotes": ["its oil is iso vg 46"]}


def _check(item: Any) -> Candidate | Rejection:
    return check_item(item, CHUNK, CATS, TOOLSET)


def test_good_items_pass() -> None:
    status, fact = _check(GOOD), _check(FACT)
    assert isinstance(status, Candidate) and status.calls == (("get_status", {"asset": "P-101"}),)
    assert isinstance(fact, Candidate) and fact.answer == "ISO VG 46." and fact.family is None
    string_args = _check({**GOOD, "tool_calls": [{"name": "get_status", "arguments": '{"asset": "P-1"}'}]})
    assert isinstance(string_args, Candidate)  # the OpenAI wire form of arguments is accepted


@pytest.mark.parametrize(("change", "reason", "detail"), [
    ({"question": ""}, "bad_schema", "'question' must be a non-empty string"),
    ({"quotes": "P-101"}, "bad_schema", "'quotes' must be a list of strings"),
    ({"category": "stats"}, "unknown_category", "Did you mean 'status'?"),
    ({"tool_calls": [{"name": "get_stats", "arguments": {"asset": "P-101"}}]}, "unknown_tool",
     "Did you mean 'get_status'?"),
    ({"tool_calls": [{"name": "get_status", "arguments": {"asset": 101}}]}, "bad_arguments",
     "101 is not of type 'string'"),
    ({"tool_calls": [{"name": "get_status", "arguments": {"asset": "P-1", "when": "now"}}]}, "bad_arguments",
     "Additional properties are not allowed"),
    ({"tool_calls": [{"name": "get_status", "arguments": {}}]}, "bad_arguments", "'asset' is a required property"),
    ({"tool_calls": []}, "wrong_sequence", "expects get_status, got no tool"),
    ({"tool_calls": [{"name": "get_status", "arguments": {"asset": "P-1"}}] * 2}, "wrong_sequence",
     "got get_status -> get_status"),
    ({"quotes": ["P-101 runs at 45 rpm"]}, "ungrounded", "is not in chunk m.txt#0"),
])
def test_each_reason(change: dict[str, Any], reason: str, detail: str) -> None:
    result = _check({**GOOD, **change})
    assert isinstance(result, Rejection) and result.reason == reason, result
    assert detail in result.detail and result.chunk_id == "m.txt#0" and result.raw == {**GOOD, **change}


@pytest.mark.parametrize(("change", "reason"), [
    ({"quotes": []}, "ungrounded"), ({"quotes": ["..."]}, "ungrounded"), ({"answer": None}, "bad_schema"),
    ({"tool_calls": [{"name": "get_status", "arguments": {"asset": "P-1"}}]}, "wrong_sequence"),
])
def test_a_no_tool_answer_needs_an_answer_and_quotes(change: dict[str, Any], reason: str) -> None:
    result = _check({**FACT, **change})
    assert isinstance(result, Rejection) and result.reason == reason


def test_the_answer_parser() -> None:
    assert parse_answer('[{"question": "q"}]') == ([{"question": "q"}], None)
    assert parse_answer('{"examples": []}') == ([], None)
    assert parse_answer("I cannot help.") == (None, "no JSON object in the reply")
    assert parse_answer('{"items": []}') == (None, "expected {\"examples\": [...]}, got ['items']")
    assert parse_answer('{"examples": [1,]}')[1] == "Expecting value at column 17"

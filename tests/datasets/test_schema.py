"""The example schema: every rule of validate_example, with its field path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import fathom.datasets as fd
from fathom.datasets import final_assistant, prompt_messages, read_jsonl, validate_example

ASSETS = Path(__file__).resolve().parents[1] / "assets"
TOOLS = [{"type": "function", "function": {
    "name": "get_forecast", "description": "Marine forecast for a sea area",
    "parameters": {"type": "object", "properties": {"area": {"type": "string"}, "hours": {"type": "integer"}},
                   "required": ["area"], "additionalProperties": False}}}]


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def assistant(text: str | None, *calls: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if calls:
        message["tool_calls"] = list(calls)
    return message


def call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def tool(call_id: str, text: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": text}


def problems(example: dict[str, Any], **kwargs: Any) -> dict[str, str]:
    """field path -> message (one problem per path in these tests)."""
    found = validate_example(example, **kwargs)
    return {p.where: p.message for p in found}


def test_public_api_is_pinned() -> None:
    assert sorted(fd.__all__) == sorted([
        "FORMATS", "NOVA_SCHEMA_VERSION", "ConversionReport", "FileCheck", "LeakageReport", "LeakedPrompt",
        "SplitResult", "check_file", "convert_file", "convert_rows", "detect_format", "final_assistant",
        "from_hf_dataset", "from_nova", "from_openai", "from_sharegpt", "is_dpo", "leakage_report",
        "parse_ratios", "prompt_messages", "read_examples", "read_jsonl", "scan_jsonl", "split_examples", "split_file",
        "to_hf_dataset", "to_nova", "to_openai", "to_sharegpt", "validate_example", "validate_file", "validate_nova",
        "write_jsonl"])
    assert all(hasattr(fd, name) for name in fd.__all__)


@pytest.mark.parametrize("name", ["datasets_chat_tiny.jsonl", "datasets_dpo_tiny.jsonl"])
def test_fixture_files_are_valid(name: str) -> None:
    for row in read_jsonl(ASSETS / name):
        assert validate_example(row) == []


def test_tool_conversation_is_valid() -> None:
    ex = {"messages": [user("Dogger?"), assistant(None, call("c1", "get_forecast", '{"area": "Dogger"}')),
                       tool("c1", "W 4"), assistant("Dogger: west 4.")], "tools": TOOLS}
    assert validate_example(ex) == []


def test_assistant_before_user() -> None:
    found = problems({"messages": [assistant("Hi"), user("Hello"), assistant("Yes")]})
    assert "before any user message" in found["messages[0]"]


def test_system_must_be_first_and_single() -> None:
    ex = {"messages": [user("Hi"), {"role": "system", "content": "A"}, assistant("Hello")]}
    assert "must come first" in problems(ex)["messages[1]"]
    ex = {"messages": [{"role": "system", "content": "A"}, {"role": "system", "content": "B"}, user("Hi"),
                       assistant("Hello")]}
    assert "second system message" in problems(ex)["messages[1]"]


def test_tool_result_needs_a_preceding_call_with_that_id() -> None:
    ex = {"messages": [user("Hi"), tool("c9", "x"), assistant("ok")]}
    assert "no preceding assistant tool call has id 'c9'" in problems(ex)["messages[1].tool_call_id"]


def test_tool_result_must_follow_its_call_directly() -> None:
    ex = {"messages": [user("Dogger?"), assistant(None, call("c1", "get_forecast", '{"area": "Dogger"}')),
                       user("hurry"), tool("c1", "W 4"), assistant("ok")], "tools": TOOLS}
    found = problems(ex)
    assert "get no tool result before messages[2]" in found["messages[1].tool_calls"]
    assert "must come right after" in found["messages[3].tool_call_id"]


def test_second_result_for_one_call() -> None:
    ex = {"messages": [user("Dogger?"), assistant(None, call("c1", "get_forecast", '{"area": "Dogger"}')),
                       tool("c1", "W 4"), tool("c1", "W 5"), assistant("ok")], "tools": TOOLS}
    assert "already has a result" in problems(ex)["messages[3].tool_call_id"]


def test_final_tool_call_needs_no_result() -> None:
    ex = {"messages": [user("Dogger?"), assistant(None, call("c1", "get_forecast", '{"area": "Dogger"}'))],
          "tools": TOOLS}
    assert validate_example(ex) == []


@pytest.mark.parametrize(("arguments", "expected"), [
    ('{"area": "Dogger"', "not valid JSON (Expecting ',' delimiter"),
    ("Dogger", "not valid JSON"),
    ('["Dogger"]', "must decode to a JSON object, got list"),
    ('{"area": 7}', "does not fit the parameters of tool 'get_forecast': 7 is not of type 'string' (at area)"),
    ('{"hours": 3}', "'area' is a required property"),
])
def test_bad_tool_call_arguments(arguments: str, expected: str) -> None:
    ex = {"messages": [user("Dogger?"), assistant(None, call("c1", "get_forecast", arguments))], "tools": TOOLS}
    assert expected in problems(ex)["messages[1].tool_calls[0].function.arguments"]


def test_arguments_given_as_dict_are_a_type_error() -> None:
    ex = {"messages": [user("Dogger?"), assistant(None, {"id": "c1", "type": "function", "function": {
        "name": "get_forecast", "arguments": {"area": "Dogger"}}})], "tools": TOOLS}
    assert "encode it with json.dumps" in problems(ex)["messages[1].tool_calls[0].function.arguments"]


def test_call_to_undeclared_tool_gets_did_you_mean() -> None:
    ex = {"messages": [user("Dogger?"), assistant(None, call("c1", "get_forecst", '{"area": "Dogger"}'))],
          "tools": TOOLS}
    message = problems(ex)["messages[1].tool_calls[0].function.name"]
    assert "not in tools" in message and "Did you mean 'get_forecast'?" in message


def test_calls_are_free_when_no_tools_are_declared() -> None:
    ex = {"messages": [user("Dogger?"), assistant(None, call("c1", "anything", "{}"))]}
    assert validate_example(ex) == []


def test_duplicate_call_ids() -> None:
    ex = {"messages": [user("Two?"), assistant(None, call("c1", "get_forecast", '{"area": "A"}'),
                                               call("c1", "get_forecast", '{"area": "B"}'))], "tools": TOOLS}
    assert "duplicate tool call id 'c1'" in problems(ex)["messages[1].tool_calls[1].id"]


def test_unknown_role_missing_content_wrong_types() -> None:
    ex = {"messages": [{"role": "usr", "content": "Hi"}, {"role": "user"}, user(42),  # type: ignore[arg-type]
                       {"role": "assistant", "content": ["a"]}, assistant(""), assistant("x", "bad")],  # type: ignore[arg-type]
          "meta": {"id": 1.5}}
    found = problems(ex)
    assert "unknown role 'usr'. Did you mean 'user'?" in found["messages[0].role"]
    assert found["messages[1].content"].startswith("missing")
    assert "expected a string, got int 42" in found["messages[2].content"]
    assert "expected a string or null, got list" in found["messages[3].content"]
    assert "neither text nor tool calls" in found["messages[4].content"]
    assert "expected a tool call object" in found["messages[5].tool_calls[0]"]
    assert "expected a string or integer, got float" in found["meta.id"]


def test_unknown_fields_are_reported() -> None:
    ex = {"messages": [user("Hi"), {"role": "assistant", "content": "Hello", "tool_call_id": "x"}],
          "mesages": [], "refrence": 1}
    found = problems(ex)
    assert "Did you mean 'messages'?" in found["mesages"]
    assert "Did you mean 'reference'?" in found["refrence"]
    assert "unknown field in a assistant message" in found["messages[1].tool_call_id"]


def test_every_problem_is_reported_not_only_the_first() -> None:
    ex = {"messages": [assistant("first"), {"role": "bot", "content": "x"},
                       assistant(None, call("c1", "nope", "{oops"))], "tools": TOOLS}
    paths = [p.where for p in validate_example(ex)]
    assert {"messages[0]", "messages[1].role", "messages[2].tool_calls[0].function.name",
            "messages[2].tool_calls[0].function.arguments"} <= set(paths)


def test_needs_assistant_is_an_option() -> None:
    prompt = {"messages": [{"role": "system", "content": "Be brief."}, user("Dogger?")]}
    assert "no assistant message" in problems(prompt)["messages"]
    assert validate_example(prompt, needs_assistant=False) == []


def test_tools_are_checked() -> None:
    tools = [{"type": "function", "function": {"name": "a", "parameters": {"type": "array"}}},
             {"type": "function", "function": {"name": "a", "parameters": {"type": "object",
                                                                           "properties": {"x": {"type": 5}}}}},
             {"type": "fn", "function": {"name": ""}}]
    found = problems({"messages": [user("Hi"), assistant("Hello")], "tools": tools})
    assert "must be an object schema" in found["tools[0].function.parameters.type"]
    assert "declared twice" in found["tools[1].function.name"]
    assert "not a valid JSON Schema" in found["tools[1].function.parameters"]
    assert "expected \"function\"" in found["tools[2].type"]


def test_not_an_object() -> None:
    assert [p.message for p in validate_example([1, 2])] == ["expected a JSON object, got list"]


def test_dpo_rows() -> None:
    good = {"messages": [user("Tyne?")], "chosen": assistant("Tyne: NW 4."), "rejected": assistant("Windy.")}
    assert validate_example(good) == []
    bad = {"messages": [user("Tyne?"), assistant("Hm.")], "chosen": assistant("Same"),
           "rejected": assistant("Same")}
    found = problems(bad)
    assert "must end with a user or tool message" in found["messages[1]"]
    assert "identical to chosen" in found["rejected"]
    missing = problems({"messages": [user("Tyne?")], "chosen": {"role": "user", "content": "x"}})
    assert "expected an assistant message" in missing["chosen"]
    assert "missing" in missing["rejected"]


def test_prompt_and_final_assistant() -> None:
    ex = json.loads((ASSETS / "datasets_chat_tiny.jsonl").read_text().splitlines()[1])
    assert prompt_messages(ex) == ex["messages"][:-1]
    assert final_assistant(ex) == ex["messages"][-1]
    dpo = {"messages": [user("Tyne?")], "chosen": assistant("NW 4"), "rejected": assistant("Windy")}
    assert prompt_messages(dpo) == [user("Tyne?")]
    assert final_assistant(dpo) == assistant("NW 4")
    assert final_assistant({"messages": [user("Tyne?")]}) is None

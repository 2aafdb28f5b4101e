"""Tool-call parsing: SmolLM2 list form, Hermes/Qwen blocks, malformed and unterminated blocks."""

from __future__ import annotations

import json

from fathom.backends import Completion, completion_from_text, parse_tool_calls, parse_tool_calls_detailed


def _names_and_args(calls: list[dict]) -> list[tuple[str, dict]]:
    return [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in calls]


def test_smollm2_list_form_with_two_calls() -> None:
    text = ('<tool_call>[{"name": "get_weather", "arguments": {"city": "Paris"}}, '
            '{"name": "get_time", "arguments": {"tz": "CET"}}]</tool_call>')
    content, calls = parse_tool_calls(text)
    assert content is None
    assert _names_and_args(calls) == [("get_weather", {"city": "Paris"}), ("get_time", {"tz": "CET"})]
    assert [c["id"] for c in calls] == ["call_0", "call_1"]
    assert all(c["type"] == "function" and isinstance(c["function"]["arguments"], str) for c in calls)


def test_empty_list_means_no_call_and_block_is_removed() -> None:
    assert parse_tool_calls("<tool_call>[]</tool_call>") == (None, [])
    assert parse_tool_calls("I cannot help with that.\n<tool_call>[]</tool_call>") == ("I cannot help with that.", [])


def test_hermes_blocks_with_text_around() -> None:
    text = ('Let me look.\n<tool_call>\n{"name": "a", "arguments": {"x": 1}}\n</tool_call>\n'
            '<tool_call>{"name": "b", "arguments": {}}</tool_call>\nDone.')
    parsed = parse_tool_calls_detailed(text)
    assert _names_and_args(parsed.tool_calls) == [("a", {"x": 1}), ("b", {})]
    assert parsed.content == "Let me look.\n\n\nDone."
    assert parsed.errors == []


def test_unterminated_last_block_is_parsed() -> None:
    text = '<tool_call>{"name": "a", "arguments": {}}</tool_call><tool_call>{"name": "b", "arguments": {"q": "z"}}'
    assert _names_and_args(parse_tool_calls(text)[1]) == [("a", {}), ("b", {"q": "z"})]


def test_arguments_given_as_json_string_and_fenced_json() -> None:
    text = '<tool_call>```json\n{"name": "f", "arguments": "{\\"k\\": [1, 2]}"}\n```</tool_call>'
    assert _names_and_args(parse_tool_calls(text)[1]) == [("f", {"k": [1, 2]})]


def test_malformed_block_kept_as_content_and_reported() -> None:
    good = '<tool_call>{"name": "ok", "arguments": {}}</tool_call>'
    bad = '<tool_call>{"name": "broken", "arguments": {"x": </tool_call>'
    parsed = parse_tool_calls_detailed(good + "\n" + bad)
    assert _names_and_args(parsed.tool_calls) == [("ok", {})]
    assert parsed.content == bad
    assert len(parsed.errors) == 1 and parsed.errors[0].startswith("tool call block 2: not valid JSON")


def test_block_with_wrong_shape_is_an_error_not_a_call() -> None:
    for body, reason in [('[{"arguments": {}}]', "missing or non-string 'name'"),
                         ('{"name": "f", "arguments": [1]}', "must be an object"),
                         ('"just a string"', "expected an object"),
                         ('{"name": "f", "arguments": "not json"}', "is a string but not JSON")]:
        parsed = parse_tool_calls_detailed(f"<tool_call>{body}</tool_call>")
        assert parsed.tool_calls == [], body
        assert reason in parsed.errors[0], (body, parsed.errors)


def test_missing_arguments_default_to_empty_object() -> None:
    assert _names_and_args(parse_tool_calls('<tool_call>{"name": "ping"}</tool_call>')[1]) == [("ping", {})]


def test_ids_are_deterministic_and_prefix_configurable() -> None:
    text = '<tool_call>[{"name": "a", "arguments": {}}]</tool_call>'
    assert parse_tool_calls(text) == parse_tool_calls(text)
    assert parse_tool_calls_detailed(text, id_prefix="t").tool_calls[0]["id"] == "t0"


def test_completion_from_text_sets_finish_reason_and_errors() -> None:
    call = '<tool_call>[{"name": "f", "arguments": {}}]</tool_call>'
    def complete(text: str, reason: str = "stop") -> Completion:
        return completion_from_text(text, finish_reason=reason, prompt_tokens=1, completion_tokens=5)

    assert complete(call).finish_reason == "tool_calls"
    assert complete(call, "length").finish_reason == "length"
    plain = complete("  hi  ")
    assert (plain.message, plain.text) == ({"role": "assistant", "content": "hi"}, "  hi  ")
    assert plain.finish_reason == "stop"
    assert complete("").message["content"] == ""
    broken = complete("<tool_call>{oops</tool_call>")
    assert broken.finish_reason == "stop" and broken.tool_call_errors and "tool_calls" not in broken.message
    assert broken.usage() == {"prompt_tokens": 1, "completion_tokens": 5, "total_tokens": 6}

"""Tool-call references checked against their own example's tools: the public check
(:func:`fathom.graders.check_tool_references`) and its place in ``fathom data validate``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from fathom.cli import cli
from fathom.datasets import check_file, write_jsonl
from fathom.graders import check_tool_references, tool_call, tool_reference_problems

TOOLS = [
    {"type": "function", "function": {"name": "get_forecast", "description": "Sea-area forecast", "parameters": {
        "type": "object", "required": ["area"],
        "properties": {"area": {"type": "string"}, "hours": {"type": "integer"},
                       "units": {"type": "string", "enum": ["kt", "mph"]}}}}},
    {"type": "function", "function": {"name": "lookup", "parameters": {
        "type": "object", "required": ["query"], "properties": {"query": {"type": "string"}}}}},
]


def gold(tool: str, /, **args: object) -> dict[str, Any]:
    return {"type": "function", "function": {"name": tool, "arguments": json.dumps(args)}}


def example(*calls: dict[str, Any], **reference: object) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": "Forecast for Dogger, please."},
                         {"role": "assistant", "content": "Calling the tool."}],
            "tools": TOOLS, "reference": {"tool_calls": list(calls), **reference}}


GOOD = example(gold("get_forecast", area="Dogger", hours=24), gold("lookup", query="gale"),
               order="parallel", groups=[[0, 1]], free_args={"get_forecast": ["units"]})

# a reference -> the one problem (field path: message fragment) the check must report for it
BAD: list[tuple[dict[str, Any], str]] = [
    (example(gold("get_forcast", area="Dogger")),
     "reference.tool_calls[0].function.name: names tool 'get_forcast', which the example does not offer. "
     "Did you mean 'get_forecast'?"),
    (example(gold("get_forecast", hours=24)),
     "reference.tool_calls[0].function.arguments: does not fit tool 'get_forecast': 'area' is a required property"),
    (example(gold("get_forecast", area="Dogger", hours="24")),
     "reference.tool_calls[0].function.arguments.hours: does not fit tool 'get_forecast': "
     "'24' is not of type 'integer'"),
    (example(gold("get_forecast", area="Dogger", units="KT")),  # a reference is checked as written
     "reference.tool_calls[0].function.arguments.units: does not fit tool 'get_forecast': "
     "'KT' is not one of ['kt', 'mph']"),
    (example(gold("get_forecast", area="Dogger", colour="red")),
     "reference.tool_calls[0].function.arguments: does not fit tool 'get_forecast': "
     "Additional properties are not allowed ('colour' was unexpected)"),
    (example({**gold("get_forecast", area="Dogger"), "acceptable": {"units": ["knots", ""]}}),
     "reference.tool_calls[0].acceptable.units: acceptable value 'knots' does not fit tool 'get_forecast': "
     "'knots' is not one of ['kt', 'mph']"),
    (example({**gold("get_forecast", area="Dogger"), "acceptable": {"area": [""]}}),
     "reference.tool_calls[0].acceptable.area: \"\" marks 'area' optional, but tool 'get_forecast' requires it"),
    (example({"type": "function", "function": {"arguments": "{}"}}),
     "reference.tool_calls[0]: reference.tool_calls[0] has no string 'name'"),
    (example({"name": "lookup", "arguments": '{"query": "gale"'}),
     "reference.tool_calls[0]: reference.tool_calls[0] ('lookup'): arguments are not valid JSON"),
    (example(gold("lookup", query="a"), free_args={"get_forecast": ["wind"]}),
     "reference.free_args.get_forecast: 'wind' is not a parameter of tool 'get_forecast' "
     "(declared: area, hours, units)"),
    (example(gold("lookup", query="a"), free_args={"launch": ["target"]}),
     "reference.free_args.launch: names tool 'launch', which the example does not offer"),
    (example(gold("lookup", query="a"), free_args=["units"]),
     "reference.free_args: reference.free_args must map tool names to lists of parameter names"),
    (example(gold("lookup", query="a"), order="sideways"),
     "reference.order: reference.order 'sideways' is not one of ['ordered', 'unordered', 'parallel']"),
    (example(gold("lookup", query="a"), gold("lookup", query="b"), groups=[[0], [0]]),
     "reference.groups: reference.groups [[0], [0]] must partition the gold call indices 0..1"),
    ({**example(), "reference": {"tool_calls": {"name": "lookup"}}},
     "reference.tool_calls: expected a list of tool calls ([] = no call expected), got dict"),
]


def test_a_reference_that_fits_its_tools_has_no_problems() -> None:
    assert tool_reference_problems(GOOD) == []
    assert tool_reference_problems({"messages": [], "tools": TOOLS}) == []  # no reference: nothing to check
    no_tools = {"reference": {"tool_calls": [gold("anything", x=1)]}}
    assert tool_reference_problems(no_tools) == []  # nothing to check the arguments against


@pytest.mark.parametrize(("bad", "expected"), BAD, ids=[e.split(":")[0] + f"-{i}" for i, (_, e) in enumerate(BAD)])
def test_each_bad_reference_is_reported_with_where_and_why(bad: dict[str, Any], expected: str) -> None:
    found = [str(p) for p in tool_reference_problems(bad)]
    assert len(found) == 1 and found[0].startswith(expected), found


def test_the_check_names_the_example_index() -> None:
    problems = check_tool_references([GOOD, BAD[2][0], GOOD, BAD[0][0], "not an example"])  # type: ignore[list-item]
    assert [p.where.split()[:2] for p in problems] == [["example", "1"], ["example", "3"], ["example", "4"]]
    assert str(problems[0]).startswith("example 1 reference.tool_calls[0].function.arguments.hours: ")
    assert str(problems[2]) == "example 4: expected an example object, got str"


def test_a_reported_reference_is_one_the_grader_would_fail_a_right_call_against() -> None:
    # why the check exists: the model copies the reference exactly, and the schema gate still says 0
    bad = BAD[2][0]
    right = {"role": "assistant", "content": None, "tool_calls": bad["reference"]["tool_calls"]}
    assert tool_call()(bad, right).score == 0.0
    good_call = {"role": "assistant", "content": None, "tool_calls": GOOD["reference"]["tool_calls"]}
    assert tool_call()(GOOD, good_call).score == 1.0


def test_an_invalid_tool_schema_is_reported_once_and_skipped() -> None:
    broken = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "required": "q"}}}]
    ex = {"tools": broken, "reference": {"tool_calls": [gold("lookup", q="a")]}}
    assert [str(p) for p in tool_reference_problems(ex)] == [
        "tools: the parameters of tool 'lookup' are not a valid JSON Schema ('q' is not of type 'array'); "
        "calls to it are not checked"]


def test_data_validate_reports_bad_references_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "refs.jsonl"
    write_jsonl(path, [GOOD, BAD[3][0], GOOD, BAD[1][0]])
    check = check_file(path)
    assert [str(p) for p in check.problems] == [
        f"{path}:2 reference.tool_calls[0].function.arguments.units: does not fit tool 'get_forecast': "
        "'KT' is not one of ['kt', 'mph']",
        f"{path}:4 reference.tool_calls[0].function.arguments: does not fit tool 'get_forecast': "
        "'area' is a required property"]
    assert check.bad_rows == 2
    result = CliRunner().invoke(cli, ["data", "validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}:2 reference.tool_calls[0].function.arguments.units" in result.output
    assert "4 row(s) (fathom): 2 problem(s) in 2 row(s)" in result.output


def test_data_validate_does_not_repeat_a_broken_tool_schema(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    broken = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "required": "q"}}}]
    write_jsonl(path, [{**example(gold("lookup", q="a")), "tools": broken}])
    problems = [str(p) for p in check_file(path).problems]
    assert len(problems) == 1 and "tools[0].function.parameters: not a valid JSON Schema" in problems[0]

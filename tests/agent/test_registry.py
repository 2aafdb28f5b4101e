"""The tool registry: schemas from type hints and docstrings, refusals of undocumented functions,
and calls whose arguments are checked against the schema (style.md, convention 13)."""

from __future__ import annotations

import json
from typing import Any, Literal

import jsonschema
import pytest

import fathom.agent
from fathom.agent import Tool, ToolArgumentError, ToolError, ToolRegistry, UnknownToolError, tool
from fathom.errors import ConfigError


def test_public_face_is_pinned() -> None:
    assert sorted(fathom.agent.__all__) == [
        "Tool", "ToolArgumentError", "ToolError", "ToolRegistry", "UnknownToolError", "tool"]


def reading(device: str, minutes: int = 60, sensor: str | None = None, scale: float = 1.0, raw: bool = False,
            unit: Literal["si", "imperial"] = "si", tags: list[str] | None = None,
            limits: dict[str, float] | None = None) -> dict[str, Any]:
    """Read a machine's sensors.

    Longer explanation on a second paragraph.

    Args:
        device: machine id, e.g. "tunnel-1".
        minutes: how far back to look,
            continued on a second line.
        sensor: one sensor name.
        scale: multiply values by this.
        raw: skip rounding.
        unit: unit system.
        tags: labels to attach.
        limits: sensor -> alarm limit.

    Returns:
        The readings.
    """
    return {"device": device, "minutes": minutes, "sensor": sensor, "scale": scale, "raw": raw, "unit": unit,
            "tags": tags, "limits": limits}


def test_the_schema_comes_from_hints_and_docstring() -> None:
    t = Tool.from_function(reading)
    schema = t.schema()
    assert schema["type"] == "function" and schema["function"]["name"] == "reading"
    assert schema["function"]["description"] == ("Read a machine's sensors. Longer explanation on a second paragraph."
                                                 "\n\nReturns: The readings.")
    params = schema["function"]["parameters"]
    jsonschema.Draft202012Validator.check_schema(params)
    assert params["required"] == ["device"] and params["additionalProperties"] is False
    props = params["properties"]
    assert props["device"] == {"type": "string", "description": 'machine id, e.g. "tunnel-1".'}
    assert props["minutes"] == {"type": "integer", "description": "how far back to look, continued on a second line.",
                                "default": 60}
    assert props["sensor"]["type"] == ["string", "null"] and props["sensor"]["default"] is None
    assert props["scale"]["type"] == "number" and props["raw"]["type"] == "boolean"
    assert props["unit"]["enum"] == ["si", "imperial"] and props["unit"]["type"] == "string"
    assert props["tags"]["anyOf"] == [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]
    assert props["limits"]["anyOf"][0] == {"type": "object", "additionalProperties": {"type": "number"}}


def test_an_optional_without_default_is_required_but_nullable() -> None:
    def f(note: str | None) -> str:
        """Echo.

        Args:
            note: anything or null.

        Returns:
            The note.
        """
        return str(note)

    t = Tool.from_function(f)
    assert t.parameters["required"] == ["note"]
    assert t(note=None) == "None"


def test_literal_of_mixed_types_and_optional_literal() -> None:
    def f(level: Literal[1, 2, "max"], mode: Literal["a", "b"] | None = None) -> str:
        """Set a level.

        Args:
            level: the level.
            mode: the mode.

        Returns:
            Done.
        """
        return f"{level}{mode}"

    props = Tool.from_function(f).parameters["properties"]
    assert props["level"] == {"enum": [1, 2, "max"], "description": "the level."}
    assert props["mode"]["type"] == ["string", "null"] and props["mode"]["enum"] == ["a", "b", None]


# --------------------------------------------------------------------------- refusals

def _problems(fn: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        Tool.from_function(fn)
    return [str(p) for p in info.value.problems]


def test_a_parameter_without_type_hint_is_refused_naming_function_and_argument() -> None:
    def no_hint(device, minutes: int) -> str:  # type: ignore[no-untyped-def]
        """Read.

        Args:
            device: the machine.
            minutes: window.

        Returns:
            Text.
        """
        return ""

    problems = _problems(no_hint)
    assert len(problems) == 1
    assert "no_hint" in problems[0] and "'device'" in problems[0] and "no type hint" in problems[0]


def test_an_undocumented_argument_is_refused_naming_function_and_argument() -> None:
    def half_documented(device: str, minutes: int) -> str:
        """Read.

        Args:
            device: the machine.

        Returns:
            Text.
        """
        return ""

    problems = _problems(half_documented)
    assert len(problems) == 1
    assert "half_documented" in problems[0] and "'minutes'" in problems[0] and "Args:" in problems[0]


def test_an_argument_with_an_empty_description_is_refused() -> None:
    def empty(device: str) -> str:
        """Read.

        Args:
            device:

        Returns:
            Text.
        """
        return ""

    assert "'device' is not described" in _problems(empty)[0]


def test_no_docstring_means_no_summary_no_returns_and_no_argument_docs() -> None:
    def bare(device: str) -> str:
        return device

    problems = _problems(bare)
    assert len(problems) == 3
    assert any("no docstring summary" in p for p in problems)
    assert any("'Returns:'" in p for p in problems)
    assert any("'device' is not described" in p for p in problems)
    assert all(p.startswith("test_no_docstring_means_no_summary_no_returns_and_no_argument_docs.<locals>.bare:")
               for p in problems)


def test_a_missing_returns_section_is_refused() -> None:
    def no_returns(device: str) -> str:
        """Read.

        Args:
            device: the machine.
        """
        return device

    assert _problems(no_returns) == [
        "test_a_missing_returns_section_is_refused.<locals>.no_returns: its docstring has no 'Returns:' section "
        "saying what the tool gives back"]


class Point:
    pass


@pytest.mark.parametrize(("hint", "expected"), [
    (Point, "which a tool cannot take"),
    (tuple[int, int], "which a tool cannot take"),
    (int | str, "only 'X | None' is supported"),
    (dict[int, str], "use dict[str, ...]"),
    (Literal[None], "only str, int, float and bool values"),
])
def test_unsupported_types_are_refused(hint: Any, expected: str) -> None:
    def f(x: int) -> str:
        """Do.

        Args:
            x: the thing.

        Returns:
            Text.
        """
        return ""

    f.__annotations__["x"] = hint
    problems = _problems(f)
    assert len(problems) == 1 and "'x'" in problems[0] and expected in problems[0]


def test_variadic_arguments_and_stale_docs_are_refused_all_at_once() -> None:
    def messy(*args: int, **kwargs: str) -> str:
        """Do.

        Args:
            args: positional.
            kwargs: named.
            ghost: not a parameter.

        Returns:
            Text.
        """
        return ""

    problems = _problems(messy)
    assert sum("*args or **kwargs" in p for p in problems) == 2
    assert any("documents argument 'ghost', which the function does not have" in p for p in problems)


def test_a_bad_tool_name_is_refused() -> None:
    def f() -> str:
        """Do.

        Returns:
            Text.
        """
        return ""

    with pytest.raises(ConfigError, match="tool name 'has space' must be"):
        Tool.from_function(f, name="has space")


# --------------------------------------------------------------------------- calls

@pytest.fixture
def registry() -> ToolRegistry:
    return ToolRegistry([reading])


def test_call_validates_and_calls(registry: ToolRegistry) -> None:
    assert registry.call("reading", {"device": "oven-1"})["minutes"] == 60
    out = registry.call("reading", '{"device": "oven-1", "minutes": 5.0, "unit": "imperial", "tags": ["a"]}')
    assert out["minutes"] == 5 and isinstance(out["minutes"], int) and out["tags"] == ["a"]


def test_bad_arguments_list_every_problem(registry: ToolRegistry) -> None:
    with pytest.raises(ToolArgumentError) as info:
        registry.call("reading", {"devise": "oven-1", "minutes": "ten", "unit": "metric"})
    text = str(info.value)
    assert "invalid arguments for tool 'reading' (4)" in text
    assert "'device' is a required property; required: device" in text
    assert "unexpected argument(s) 'devise'. Did you mean 'device'?" in text and "Valid parameters: device," in text
    assert "arguments.minutes: 'ten' is not of type 'integer' (got str)" in text
    assert "arguments.unit: 'metric' is not one of ['si', 'imperial']" in text
    assert isinstance(info.value, ToolError) and info.value.exit_code == 2


def test_booleans_are_not_integers_and_fractions_are_not_ints(registry: ToolRegistry) -> None:
    for bad in (True, 2.5):
        with pytest.raises(ToolArgumentError, match=r"arguments\.minutes"):
            registry.call("reading", {"device": "x", "minutes": bad})


@pytest.mark.parametrize(("arguments", "expected"), [
    ("{bad json", "arguments are not valid JSON"),
    ("[1, 2]", "must be a JSON object of named arguments, got list"),
    (42, "must be a JSON object of named arguments, got int"),
])
def test_arguments_that_are_not_an_object(registry: ToolRegistry, arguments: Any, expected: str) -> None:
    with pytest.raises(ToolArgumentError, match=expected):
        registry.call("reading", arguments)


def test_unknown_tool_names_the_valid_ones(registry: ToolRegistry) -> None:
    with pytest.raises(UnknownToolError, match=r"Unknown tool 'readin'. Did you mean 'reading'\? Available tools: "
                                               r"reading."):
        registry.call("readin", {})


def test_register_forms_order_and_duplicates() -> None:
    registry = ToolRegistry()

    @registry.register
    def first() -> str:
        """First.

        Returns:
            One.
        """
        return "1"

    @registry.register(name="second_tool")
    def second(x: int) -> int:
        """Second.

        Args:
            x: a number.

        Returns:
            Twice x.
        """
        return 2 * x

    assert registry.names() == ["first", "second_tool"] and len(registry) == 2 and "first" in registry
    assert [s["function"]["name"] for s in registry.schemas()] == ["first", "second_tool"]
    assert first() == "1" and second(x=4) == 8  # decorated functions stay callable (as tools)
    with pytest.raises(ConfigError, match="a tool named 'first' is already registered"):
        registry.register(first)
    assert json.loads(json.dumps(registry.schemas())) == registry.schemas()  # plain JSON


def test_tool_decorator_and_bound_methods() -> None:
    class Counter:
        def __init__(self) -> None:
            self.n = 0

        def add(self, by: int = 1) -> int:
            """Add to the counter.

            Args:
                by: how much.

            Returns:
                The new count.
            """
            self.n += by
            return self.n

    counter = Counter()
    registry = ToolRegistry([counter.add])
    assert registry.call("add", {"by": 3}) == 3 and counter.n == 3
    assert "self" not in registry.get("add").parameters["properties"]

    @tool(name="plus")
    def plus(a: int, b: int) -> int:
        """Add.

        Args:
            a: first.
            b: second.

        Returns:
            The sum.
        """
        return a + b

    assert isinstance(plus, Tool) and plus.name == "plus" and plus(a=1, b=2) == 3
    with pytest.raises(ToolArgumentError):
        plus(a=1)


def test_errors_inside_a_tool_propagate_unchanged() -> None:
    class Refusal(ToolError):
        pass

    def refuse(kind: str) -> str:
        """Fail on purpose.

        Args:
            kind: "tool" for a model-caused error, anything else for a bug.

        Returns:
            Never.
        """
        if kind == "tool":
            raise Refusal("no such device; valid: a, b")
        raise KeyError(kind)

    registry = ToolRegistry([refuse])
    with pytest.raises(Refusal, match="valid: a, b"):
        registry.call("refuse", {"kind": "tool"})
    with pytest.raises(KeyError):
        registry.call("refuse", {"kind": "bug"})

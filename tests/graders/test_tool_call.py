"""Hand-computed checks of the ``tool_call`` grader (graders-and-formats.md §2-3, §5).

Every expected number is worked out in the comment beside it. Default weights:
score = 0.3 name_f1 + 0.4 arg_accuracy + 0.2 sequence + 0.1 exact_match, gated on json_valid and
schema_valid.
"""

from __future__ import annotations

import json
import re

import click
import pytest

from fathom.errors import ConfigError, GraderError
from fathom.graders import DEFAULT_TOOL_CALL_WEIGHTS, build_grader, tool_call

TOOLS = [
    {"type": "function", "function": {"name": "get_forecast", "description": "Sea-area forecast", "parameters": {
        "type": "object", "required": ["area"],
        "properties": {"area": {"type": "string"}, "hours": {"type": "number"},
                       "units": {"type": "string", "enum": ["kt", "mph"]}}}}},
    {"type": "function", "function": {"name": "lookup", "parameters": {
        "type": "object", "required": ["query"], "properties": {"query": {"type": "string"}}}}},
    {"type": "function", "function": {"name": "summarize", "parameters": {
        "type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}}}},
    {"type": "function", "function": {"name": "get_station", "parameters": {
        "type": "object", "required": ["station_id"],
        "properties": {"station_id": {"type": "string", "normalise": False}, "name": {"type": "string"}}}}},
]


def call(tool: str, /, **args: object) -> dict[str, object]:
    return {"id": f"call_{tool}", "type": "function", "function": {"name": tool, "arguments": json.dumps(args)}}


def example(gold: list[dict[str, object]], **reference: object) -> dict[str, object]:
    return {"messages": [{"role": "user", "content": "Forecast please"}], "tools": TOOLS,
            "reference": {"tool_calls": gold, **reference}}


def message(*calls: dict[str, object]) -> dict[str, object]:
    return {"role": "assistant", "content": None, "tool_calls": list(calls)}


def test_repeated_calls_count_as_a_multiset() -> None:
    ex = example([call("lookup", query="a"), call("lookup", query="b"), call("summarize", text="x")])
    g = tool_call()(ex, message(call("lookup", query="b"), call("summarize", text="x")))
    # TP = min(1, 2) + min(1, 1) = 2; P = 2/2 = 1; R = 2/3; F1 = 2 * 1 * 2/3 / (1 + 2/3) = 0.8
    # (a set-based F1, like Nova's, would say 1.0)
    assert g.components["name_f1"] == pytest.approx(0.8)
    # LCS pairing puts lookup(b) with the gold lookup(b) (argument score 1 beats 0):
    # correct = 1 (lookup) + 1 (summarize); denominator = 1 + 1 + 1 (the unmatched lookup(a)'s query) -> 2/3
    assert g.components["arg_accuracy"] == pytest.approx(2 / 3)
    assert g.components["exact_match"] == pytest.approx(2 / 3)  # 2 of 3 gold calls matched exactly
    assert g.components["sequence_lcs"] == pytest.approx(2 / 3)  # LCS 2 / max(2, 3)
    assert g.components["sequence_strict"] == 0.0
    # 0.3 * 0.8 + 0.4 * 2/3 + 0.2 * 2/3 + 0.1 * 2/3 = 0.24 + 0.4667 = 0.70667
    assert g.score == pytest.approx(0.24 + 0.7 * 2 / 3)
    unordered = tool_call(order="unordered")(ex, message(call("lookup", query="b"), call("summarize", text="x")))
    # Hungarian pairing gives the same arguments; sequence = 1[multisets equal] = 0
    # 0.3 * 0.8 + 0.4 * 2/3 + 0.2 * 0 + 0.1 * 2/3 = 0.24 + 0.5 * 2/3 = 0.57333
    assert unordered.score == pytest.approx(0.24 + 0.5 * 2 / 3)


def test_hungarian_finds_the_assignment_greedy_matching_misses() -> None:
    ex = example([call("lookup", query="a"), call("lookup", query="b")], order="unordered")
    g = tool_call()(ex, message(call("lookup", query="b"), call("lookup", query="a")))
    # pairs (pred 0, gold 1) and (pred 1, gold 0) score 1 each: ArgAcc = 2/2, everything else 1
    assert g.components["arg_accuracy"] == 1.0
    assert g.score == 1.0


def test_missing_call_costs_its_arguments() -> None:
    ex = example([call("get_forecast", area="Dogger", hours=24), call("lookup", query="gale")])
    g = tool_call()(ex, message(call("get_forecast", area="Dogger", hours=24)))
    # TP = 1; P = 1/1; R = 1/2; F1 = 2 * 0.5 / 1.5 = 2/3
    assert g.components["name_f1"] == pytest.approx(2 / 3)
    # matched get_forecast: 2 of K = {area, hours}; the missing lookup adds its 1 mandatory key: 2 / 3
    # (Nova scores only tools both sides share, and would say 1.0)
    assert g.components["arg_accuracy"] == pytest.approx(2 / 3)
    assert g.components["exact_match"] == 0.5  # 1 of 2 gold calls
    assert g.components["sequence"] == 0.5  # LCS 1 / max(1, 2)
    # 0.3 * 2/3 + 0.4 * 2/3 + 0.2 * 0.5 + 0.1 * 0.5 = 0.2 + 0.26667 + 0.1 + 0.05 = 0.61667
    assert g.score == pytest.approx(0.2 + 0.4 * 2 / 3 + 0.15)
    assert "missing call 'lookup'" in g.reason


def test_extra_call() -> None:
    ex = example([call("get_forecast", area="Dogger", hours=24)])
    g = tool_call()(ex, message(call("get_forecast", area="Dogger", hours=24), call("lookup", query="x")))
    # TP = 1; P = 1/2; R = 1/1; F1 = 2 * 0.5 * 1 / 1.5 = 2/3
    assert g.components["name_precision"] == 0.5
    assert g.components["name_f1"] == pytest.approx(2 / 3)
    # 2 correct / (2 keys of the matched pair + 1 argument of the call made beyond the gold count)
    assert g.components["arg_accuracy"] == pytest.approx(2 / 3)
    assert g.components["exact_match"] == 0.5  # 1 exact / max(1 expected, 2 made)
    assert g.components["sequence"] == 0.5  # LCS 1 / max(2, 1)
    # 0.3 * 2/3 + 0.4 * 2/3 + 0.2 * 0.5 + 0.1 * 0.5 = 0.2 + 0.26667 + 0.1 + 0.05
    assert g.score == pytest.approx(0.61667, abs=1e-4)
    assert "extra call 'lookup'" in g.reason


def test_int_for_float_coerces_but_string_for_number_does_not() -> None:
    ex = example([call("get_forecast", area="Dogger", hours=24.0)])
    ok = tool_call()(ex, message(call("get_forecast", area="Dogger", hours=24)))
    # 24 (int) is accepted for the number 24.0 (BFCL rule 4): every component is 1
    assert ok.score == 1.0 and ok.components["schema_valid"] == 1.0
    bad = tool_call()(ex, message(call("get_forecast", area="Dogger", hours="24")))
    # "24" is not a number: schema_valid = 0 is a gate, so the score is 0 ...
    assert bad.gates["schema_valid"] is False and bad.score == 0.0
    # ... while the components still say what happened: area right, hours wrong -> ArgAcc 1/2
    assert bad.components["arg_accuracy"] == 0.5
    ungated = tool_call(gates=[])(ex, message(call("get_forecast", area="Dogger", hours="24")))
    # 0.3 * 1 + 0.4 * 0.5 + 0.2 * 1 + 0.1 * 0 = 0.7: a near miss, between a miss (0) and a hit (1)
    assert ungated.score == pytest.approx(0.7)


def test_invalid_json_arguments() -> None:
    ex = example([call("get_forecast", area="Dogger", hours=24)])
    broken = {"id": "c1", "type": "function",
              "function": {"name": "get_forecast", "arguments": '{"area": "Dogger", "hours": 24'}}
    g = tool_call()(ex, message(broken))
    assert g.components["json_valid"] == 0.0 and g.components["schema_valid"] == 0.0
    assert g.score == 0.0 and g.gates == {"json_valid": False, "schema_valid": False}
    # the call still names the tool (F1 = 1, sequence = 1) but both mandatory args are wrong (0 / 2)
    assert g.components["name_f1"] == 1.0 and g.components["arg_accuracy"] == 0.0
    ungated = tool_call(gates=[])(ex, message(broken))
    assert ungated.score == pytest.approx(0.5)  # 0.3 * 1 + 0.4 * 0 + 0.2 * 1 + 0.1 * 0
    assert "not valid JSON" in g.reason


def test_invalid_json_block_in_text() -> None:
    ex = example([call("get_forecast", area="Dogger", hours=24)])
    text = '<tool_call>[{"name": "get_forecast", "arguments": {"area": "Dogger", "hours": 24}</tool_call>'
    g = tool_call(gates=[])(ex, text)
    # the block does not decode, so no call is made: F1 0, ArgAcc 0 / 2, LCS 0 / 1 -> 0
    assert g.components["json_valid"] == 0.0 and g.components["calls_made"] == 0.0
    assert g.score == 0.0


def test_call_when_none_expected_and_irrelevance() -> None:
    ex = example([])
    wrong = tool_call()(ex, message(call("lookup", query="x")))
    # exactly one list empty -> F1 = 0; ArgAcc has a zero denominator -> = F1 = 0; LCS 0 / 1 = 0
    assert wrong.components["irrelevance"] == 0.0
    assert wrong.components["name_f1"] == wrong.components["arg_accuracy"] == wrong.components["sequence"] == 0.0
    assert wrong.score == 0.0
    right = tool_call()(ex, "No tool is needed for that.")
    # both empty -> F1 = 1, ArgAcc = F1 = 1, sequence 1, exact 1; text without a container is a valid "no call"
    assert right.components["irrelevance"] == 1.0 and right.score == 1.0


def test_order_changes_strict_vs_lcs() -> None:
    gold = [call("get_forecast", area="Dogger", hours=24), call("summarize", text="t")]
    swapped = message(call("summarize", text="t"), call("get_forecast", area="Dogger", hours=24))
    g = tool_call()(example(gold), swapped)
    assert g.components["sequence_strict"] == 0.0  # names differ position by position
    assert g.components["sequence_lcs"] == 0.5  # LCS 1 / max(2, 2)
    # ordered pairing keeps one call: get_forecast (2 correct) beats summarize (1 correct);
    # ArgAcc = 2 / (2 + 1 for the unmatched summarize) = 2/3; exact 1/2
    assert g.components["arg_accuracy"] == pytest.approx(2 / 3)
    # 0.3 * 1 + 0.4 * 2/3 + 0.2 * 0.5 + 0.1 * 0.5 = 0.3 + 0.26667 + 0.1 + 0.05 = 0.71667
    assert g.score == pytest.approx(0.45 + 0.4 * 2 / 3)
    unordered = tool_call()(example(gold, order="unordered"), swapped)
    # Hungarian pairs both calls: ArgAcc 3/3, exact 2/2, sequence = 1[same multiset] = 1 -> 1.0
    assert unordered.score == 1.0 and unordered.components["sequence_strict"] == 0.0
    parallel = tool_call()(example(gold, order="parallel", groups=[[0], [1]]), swapped)
    # group labels in predicted order [1, 0]: longest non-decreasing run 1 / 2 = 0.5
    # 0.3 * 1 + 0.4 * 1 + 0.2 * 0.5 + 0.1 * 1 = 0.9
    assert parallel.components["sequence"] == 0.5 and parallel.score == pytest.approx(0.9)
    one_group = tool_call()(example(gold, order="parallel", groups=[[0, 1]]), swapped)
    assert one_group.score == 1.0  # free order inside the group


def test_optional_and_acceptable_values() -> None:
    gold = [dict(call("get_forecast", area="Dogger"), acceptable={"area": ["Dogger Bank"], "units": ["kt", ""]})]
    grade = tool_call()
    assert grade(example(gold), message(call("get_forecast", area="dogger bank"))).score == 1.0  # acceptable
    # units is optional: absent -> K = {area}; supplied wrong -> K = {area, units}, 1 / 2
    wrong_units = grade(example(gold), message(call("get_forecast", area="Dogger", units="mph")))
    assert wrong_units.components["arg_accuracy"] == 0.5
    assert grade(example(gold), message(call("get_forecast", area="Dogger", units="kt"))).score == 1.0


def test_undeclared_argument_is_an_extra() -> None:
    ex = {"reference": {"tool_calls": [call("lookup", query="a")]}}  # no tools: schema not checked
    g = tool_call()(ex, message(call("lookup", query="a", colour="red")))
    # K = {query} correct 1; 'colour' is in neither the schema nor the possible answer: 1 / (1 + 1)
    assert "schema_valid" not in g.components
    assert g.components["arg_accuracy"] == 0.5 and g.components["exact_match"] == 0.0


def test_id_like_parameters_skip_normalisation() -> None:
    gold = [call("get_station", station_id="A-1", name="Lerwick")]
    pred = message(call("get_station", station_id="a1", name="lerwick"))
    # the schema marks station_id normalise: false, so "a1" != "A-1"; name normalises: 1 / 2
    assert tool_call()(example(gold), pred).components["arg_accuracy"] == 0.5
    no_schema = {"reference": {"tool_calls": gold}}
    assert tool_call()(no_schema, pred).components["arg_accuracy"] == 1.0  # normalised: "a1" == "A-1"
    assert tool_call(exact_params=["get_station.station_id"])(no_schema, pred).components["arg_accuracy"] == 0.5
    assert tool_call(normalise=False)(no_schema, pred).components["arg_accuracy"] == 0.0


def test_fuzzy_is_opt_in() -> None:
    ex = {"reference": {"tool_calls": [call("lookup", query="southwesterly gale")]}}
    pred = message(call("lookup", query="southwesterly gales"))
    assert tool_call()(ex, pred).components["arg_accuracy"] == 0.0
    fuzzy = tool_call(fuzzy=0.8)(ex, pred).components["arg_accuracy"]
    assert 0.9 < fuzzy < 1.0  # difflib ratio of the normalised strings: 2 * 17 / 35 = 0.9714
    assert fuzzy == pytest.approx(34 / 35)


def test_text_formats_smollm2_and_hermes() -> None:
    gold = [call("get_forecast", area="Dogger", hours=24), call("lookup", query="gale")]
    smol = ('<tool_call>[{"name": "get_forecast", "arguments": {"area": "Dogger", "hours": 24}}, '
            '{"name": "lookup", "arguments": {"query": "gale"}}]</tool_call>')
    hermes = ('<tool_call>{"name": "get_forecast", "arguments": {"area": "Dogger", "hours": 24}}</tool_call>\n'
              '<tool_call>{"name": "lookup", "arguments": {"query": "gale"}}')  # last block unterminated
    assert tool_call()(example(gold), smol).score == 1.0
    assert tool_call()(example(gold), hermes).score == 1.0


def test_smollm2_format_requires_the_container() -> None:
    grade = tool_call(format="smollm2")
    assert grade(example([]), "<tool_call>[]</tool_call>").score == 1.0
    g = grade(example([]), "No call needed.")
    assert g.components["json_valid"] == 0.0 and g.score == 0.0
    assert tool_call()(example([]), "No call needed.").score == 1.0  # chat format: a valid "no call"


def test_gold_from_last_assistant_message() -> None:
    ex = {"messages": [{"role": "user", "content": "wind?"},
                       message(call("get_forecast", area="Viking"))], "tools": TOOLS}
    assert tool_call()(ex, message(call("get_forecast", area="viking"))).score == 1.0
    with pytest.raises(GraderError, match=r"no reference\.tool_calls and no assistant message"):
        tool_call()({"messages": [{"role": "user", "content": "?"}]}, "x")


def test_unknown_tool_fails_the_schema_gate() -> None:
    g = tool_call()(example([call("lookup", query="a")]), message(call("launch", target="moon")))
    assert g.gates["schema_valid"] is False and "unknown tool 'launch'" in g.reason


def test_unknown_weight_and_gate_keys_are_rejected() -> None:
    with pytest.raises(ConfigError, match=r"unknown weights key 'arg_acuracy'\. Did you mean 'arg_accuracy'"):
        tool_call(weights={"arg_acuracy": 1.0})
    with pytest.raises(ConfigError, match="unknown gates key 'json'"):
        tool_call(gates=["json"])
    with pytest.raises(ConfigError, match="not all zero"):
        tool_call(weights={"name_f1": 0})
    with pytest.raises(ConfigError, match=r"unknown parameter 'weight'\. Did you mean 'weights'"):
        build_grader({"name": "tool_call", "weight": {}})


def test_every_weight_key_is_read() -> None:
    # a completion whose components all differ: with a single weight the score is that component
    ex = example([call("get_forecast", area="Dogger", hours=24), call("lookup", query="gale")])
    pred = message(call("lookup", query="gale"), call("get_forecast", area="Fisher", hours=24))
    base = tool_call(gates=[])(ex, pred).components
    for key in [*DEFAULT_TOOL_CALL_WEIGHTS, "json_valid", "schema_valid"]:
        assert tool_call(weights={key: 2.0}, gates=[])(ex, pred).score == pytest.approx(base[key]), key


def test_bad_order_in_example_is_reported() -> None:
    with pytest.raises(GraderError, match=r"reference\.order 'sideways'"):
        tool_call()(example([], order="sideways"), "x")


# -- duplicated calls (item: a policy must not farm a right call by repeating it) -----------------


def test_a_duplicated_call_costs_clearly() -> None:
    right = call("get_forecast", area="Dogger", hours=24)
    ex = example([right])
    single = tool_call()(ex, message(right))
    twice = tool_call()(ex, message(right, dict(right, id="call_2")))
    assert single.score == 1.0
    # TP 1; P = 1/2, R = 1 -> F1 2/3; ArgAcc = 2 / (2 + 2 for the copy's arguments) = 1/2;
    # sequence LCS 1 / max(2, 1) = 1/2; exact 1 / max(1, 2) = 1/2
    # 0.3 * 2/3 + 0.4 * 1/2 + 0.2 * 1/2 + 0.1 * 1/2 = 0.2 + 0.2 + 0.1 + 0.05 = 0.55 (0.80 before the fix)
    assert twice.components["name_precision"] == 0.5 and twice.components["arg_accuracy"] == 0.5
    assert twice.components["exact_match"] == 0.5 and twice.components["sequence"] == 0.5
    assert twice.score == pytest.approx(0.55)
    assert "extra call 'get_forecast'" in twice.reason
    five = tool_call()(ex, message(*[dict(right, id=f"call_{k}") for k in range(5)]))
    # F1 = 2 * 1/5 / (1 + 1/5) = 1/3; ArgAcc 2/10; sequence 1/5; exact 1/5
    # 0.3 * 1/3 + 0.4 * 0.2 + 0.2 * 0.2 + 0.1 * 0.2 = 0.1 + 0.14 = 0.24
    assert five.score == pytest.approx(0.24)
    # unordered: sequence = 1[multisets equal] = 0 -> 0.45; parallel (one group): 1 / max(2, 1) -> 0.55
    assert tool_call(order="unordered")(ex, message(right, right)).score == pytest.approx(0.45)
    assert tool_call(order="parallel")(ex, message(right, right)).score == pytest.approx(0.55)


def test_each_copy_of_a_call_lowers_the_score() -> None:
    # however many gold calls there are, repeating one never pays: every copy scores below the last
    gold = [call("lookup", query=f"q{k}") for k in range(4)]
    ex = example(gold)
    scores = [tool_call()(ex, message(*gold, *[gold[0]] * copies)).score for copies in range(4)]
    assert scores[0] == 1.0 and scores == sorted(scores, reverse=True) and len(set(scores)) == 4
    doubled = tool_call()(ex, message(*[c for c in gold for _ in range(2)]))
    # every call twice: P 1/2, F1 2/3; ArgAcc 4/8; sequence LCS 4/8; exact 4/8 -> 0.55, as for one call
    assert doubled.score == pytest.approx(0.55)


# -- arguments the reference does not mention -----------------------------------------------------


def test_a_made_up_optional_argument_is_unexpected() -> None:
    ex = example([call("get_forecast", area="Dogger", hours=24)])
    made_up = message(call("get_forecast", area="Dogger", hours=24, units="mph"))
    g = tool_call()(ex, made_up)
    # units is declared (optional) but the reference does not mention it: unexpected, like BFCL rule 3
    # ArgAcc = 2 correct / (2 keys + 1 unexpected) = 2/3; exact 0; schema_valid 1 ("mph" is in the enum)
    # 0.3 * 1 + 0.4 * 2/3 + 0.2 * 1 + 0.1 * 0 = 0.76667 (1.0 before the fix)
    assert g.components["schema_valid"] == 1.0
    assert g.components["arg_accuracy"] == pytest.approx(2 / 3) and g.components["exact_match"] == 0.0
    assert g.score == pytest.approx(0.5 + 0.4 * 2 / 3)
    assert "unexpected argument(s) units" in g.reason
    free = tool_call()(example([call("get_forecast", area="Dogger", hours=24)],
                               free_args={"get_forecast": ["units"]}), made_up)
    assert free.score == 1.0  # the example says any units are fine
    other_tool = tool_call()(example([call("get_forecast", area="Dogger", hours=24)],
                                     free_args={"lookup": ["units"]}), made_up)
    assert other_tool.score == pytest.approx(g.score)  # free_args is per tool


def test_malformed_free_args_are_reported() -> None:
    with pytest.raises(GraderError, match=r"reference\.free_args must map tool names to lists.*got \['units'\]"):
        tool_call()(example([call("lookup", query="a")], free_args=["units"]), message(call("lookup", query="a")))


# -- the schema gate and argument matching follow one set of rules --------------------------------

ONE_PARAM = "set_value"


def _one_param(spec: dict[str, object], gold: object, pred: object, **options: object) -> tuple[float, float]:
    """(schema_valid, the value's argument credit) for a one-parameter tool whose gold sets ``v``."""
    tools = [{"type": "function", "function": {"name": ONE_PARAM, "parameters": {
        "type": "object", "properties": {"v": spec}, "required": ["v"]}}}]
    ex = {"tools": tools, "reference": {"tool_calls": [call(ONE_PARAM, v=gold)]}}
    g = tool_call(gates=[], **options)(ex, message(call(ONE_PARAM, v=pred)))  # type: ignore[arg-type]
    return g.components["schema_valid"], g.components["arg_accuracy"]


ENUM = {"type": "string", "enum": ["kt", "mph"]}


@pytest.mark.parametrize(("spec", "gold", "pred", "options", "accepted"), [
    (ENUM, "kt", "KT", {}, True),  # normalised: the gate rejected "KT" before the fix, matching accepted it
    (ENUM, "kt", "KT", {"exact_params": ["v"]}, False),
    (ENUM, "kt", "KT", {"normalise": False}, False),
    ({**ENUM, "normalise": False}, "kt", "KT", {}, False),
    ({"const": "kt"}, "kt", "K-T", {}, True),
    ({"type": "array", "items": ENUM}, ["kt"], ["Kt"], {}, True),  # nested enums normalise too
    ({"type": "integer"}, 24, 24.0, {}, False),  # the gate accepted 24.0 as an integer, matching did not
    ({"type": "array", "items": {"type": "integer"}}, [1], [1.0], {}, False),
    ({"type": "number"}, 24.0, 24, {}, True),  # an int is a number in both
    ({"type": "float"}, 1.5, 1.5, {}, True),  # BFCL's type names: the gate raised UnknownType before
    ({"type": "string", "pattern": "^[A-Z]+$"}, "DOGGER", "dogger", {}, False),  # spelled wrong for the schema
])
def test_gate_and_matching_accept_the_same_values(spec: dict[str, object], gold: object, pred: object,
                                                  options: dict[str, object], accepted: bool) -> None:
    schema_valid, credit = _one_param(spec, gold, pred, **options)
    assert (schema_valid, credit) == ((1.0, 1.0) if accepted else (0.0, 0.0))


def test_a_normalised_enum_value_passes_the_default_gate() -> None:
    ex = example([call("get_forecast", area="Dogger", units="kt")])
    g = tool_call()(ex, message(call("get_forecast", area="Dogger", units="KT")))
    assert g.gates == {"json_valid": True, "schema_valid": True} and g.score == 1.0  # 0.0 before the fix
    wrong = tool_call()(ex, message(call("get_forecast", area="Dogger", units="knots")))
    assert wrong.gates["schema_valid"] is False
    assert "'knots' is not one of ['kt', 'mph'] (compared after normalising strings)" in wrong.reason


# -- the documented CLI examples build ------------------------------------------------------------

SPEC_IN_HELP = re.compile(r"'(\{\"name\".*?\})'")


def _help_texts(command: click.Command, ctx: click.Context | None = None) -> list[str]:
    ctx = click.Context(command, parent=ctx)
    texts = [command.help or ""] + [p.help or "" for p in command.params if isinstance(p, click.Option)]
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None:
                texts += _help_texts(sub, ctx)
    return texts


def test_every_grader_spec_in_cli_help_builds() -> None:
    from fathom.cli import cli

    specs = [json.loads(m) for text in _help_texts(cli) for m in SPEC_IN_HELP.findall(" ".join(text.split()))]
    assert {"name": "tool_call", "weights": {"name_f1": 0.5, "arg_accuracy": 0.5}} in specs  # the --grader example
    for spec in specs:
        grader = build_grader(spec)  # "args" (the old example) raised ConfigError: unknown weights key
        assert callable(grader), spec

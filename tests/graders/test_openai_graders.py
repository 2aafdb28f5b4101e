"""OpenAI grader configurations as Fathom graders (``openai_grader``, registry name ``openai``).

The acceptance test: an imported ``multi`` grader (a ``string_check`` and a ``text_similarity``
combined by ``calculate_output``) scores rows exactly as the same logic written by hand. Then the
templates, each grader type, clipping, and configurations that must fail at build time with a
precise message. Judges are scripted in-process; no network, no model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sacrebleu.metrics.bleu import BLEU

from fathom.backends import Completion
from fathom.errors import ConfigError, GraderError
from fathom.graders import build_grader, openai_grader

MULTI = {
    "type": "multi",
    "name": "contact",
    "graders": {
        "email": {"type": "string_check", "name": "email", "operation": "eq",
                  "input": "{{ sample.output_json.email }}", "reference": "{{ item.reference.email }}"},
        "name": {"type": "text_similarity", "name": "name", "evaluation_metric": "bleu",
                 "input": "{{ sample.output_json.name }}", "reference": "{{ item.reference.name }}"},
    },
    "calculate_output": "0.3 * email + 0.7 * name",
}
ROWS = [  # (reference, completion text)
    ({"email": "ann@sea.org", "name": "Ann Marie Lee"}, '{"email": "ann@sea.org", "name": "Ann Marie Lee"}'),
    ({"email": "ann@sea.org", "name": "Ann Marie Lee"}, '{"email": "ANN@sea.org", "name": "Ann Marie Lee"}'),
    ({"email": "bo@tide.net", "name": "Bo Svensson of Malmo"}, '{"email": "bo@tide.net", "name": "Bo Svensson"}'),
    ({"email": "cy@gale.uk", "name": "Cy Gale"}, '{"name": "Cy Gale"}'),
    ({"email": "cy@gale.uk", "name": "Cy Gale"}, "not JSON at all"),
]


def by_hand(reference: dict[str, str], text: str) -> float:
    """The MULTI grader's logic, written directly."""
    try:
        out = json.loads(text)
    except json.JSONDecodeError:
        out = {}
    email = 1.0 if out.get("email", "") == reference["email"] else 0.0
    name = BLEU(effective_order=True).sentence_score(out.get("name", ""), [reference["name"]]).score / 100
    return 0.3 * email + 0.7 * name


class Scripted:
    """A judge model that replies with canned texts, in turn, and records the conversations."""

    supports_batching = True
    model_name = "scripted"

    def __init__(self, *replies: str):
        self.replies, self.seen = list(replies), []

    def generate(self, requests: list[Any]) -> list[Completion]:
        self.seen.extend(r.messages for r in requests)
        return [Completion({"role": "assistant", "content": self.replies.pop(0)}, "") for _ in requests]


def problems(config: dict[str, Any], **options: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        openai_grader(config, **options)
    return [p.message for p in info.value.problems]


# -- acceptance ---------------------------------------------------------------------------------

@pytest.mark.parametrize("row", range(len(ROWS)))
def test_imported_multi_grader_matches_the_hand_written_logic(row: int) -> None:
    reference, text = ROWS[row]
    grade = openai_grader(MULTI)({"messages": [], "reference": reference}, {"role": "assistant", "content": text})
    expected = by_hand(reference, text)
    assert grade.score == pytest.approx(expected, abs=1e-12)
    assert grade.components["raw"] == pytest.approx(expected, abs=1e-12)
    assert set(grade.components) == {"email", "name", "raw"}


def test_the_hand_written_logic_tells_the_rows_apart() -> None:  # the acceptance rows are not all alike
    scores = [round(by_hand(ref, text), 6) for ref, text in ROWS]
    assert len(set(scores)) >= 4 and max(scores) == 1.0 and min(scores) == 0.0


def test_registry_builds_it_from_a_config_or_a_file(tmp_path: Path) -> None:
    path = tmp_path / "grader.json"
    path.write_text(json.dumps({"grader": MULTI}))  # the run-grader request wrapper is unwrapped
    example, text = {"reference": ROWS[2][0]}, ROWS[2][1]
    inline = build_grader({"name": "openai", "config": MULTI})(example, text)
    from_file = build_grader({"name": "openai", "file": str(path)})(example, text)
    assert inline == from_file and inline.score == pytest.approx(by_hand(*ROWS[2]))


def test_a_fine_tuning_job_is_unwrapped(tmp_path: Path) -> None:
    path = tmp_path / "job.json"
    path.write_text(json.dumps({"model": "o4-mini", "method": {"type": "reinforcement",
                                                               "reinforcement": {"grader": MULTI}}}))
    assert openai_grader(file=path).config == MULTI


# -- templates ----------------------------------------------------------------------------------

def check(template: str, reference: str, operation: str = "eq") -> dict[str, Any]:
    return {"type": "string_check", "name": "t", "input": template, "reference": reference, "operation": operation}


@pytest.mark.parametrize(("template", "rendered"), [
    ("{{item.meta.id}}", "r1"),
    ("{{ item.messages[0].content }}", "Wind?"),
    ('{{item.meta["odd key"]}}', "v"),
    ("{{item.reference_answer}}", "SW 5"),  # not a column: found under reference
    ("{{item.meta.n}}", "3"),  # non-strings render as JSON
    ("{{sample.output_json.wind}}", '{"dir": "SW", "force": 5}'),
    ("{{sample.output_tools[0].function.name}}", "forecast"),
    ("{{sample.output_tools[1].function.name}}", ""),  # the model made one call only
    ("a {{sample.output_text}} b", 'a {"wind": {"dir": "SW", "force": 5}} b'),
])
def test_templates_render_item_and_sample_paths(template: str, rendered: str) -> None:
    example = {"messages": [{"role": "user", "content": "Wind?"}], "meta": {"id": "r1", "odd key": "v", "n": 3},
               "reference": {"reference_answer": "SW 5"}}
    completion = {"role": "assistant", "content": '{"wind": {"dir": "SW", "force": 5}}',
                  "tool_calls": [{"id": "c1", "type": "function",
                                  "function": {"name": "forecast", "arguments": "{}"}}]}
    grade = openai_grader(check(template, rendered))
    assert grade(example, completion).score == 1.0
    assert openai_grader(check(template, rendered + "x"))(example, completion).score == 0.0


def test_a_missing_item_path_is_a_clear_error_with_did_you_mean() -> None:
    grade = openai_grader(check("{{sample.output_text}}", "{{item.reference.answr}}"))
    with pytest.raises(GraderError, match=r"item\.reference \(example 'r7'\) has no 'answr'\. Did you mean 'answer'\?"):
        grade({"reference": {"answer": "x"}, "meta": {"id": "r7"}}, "x")


@pytest.mark.parametrize(("template", "message"), [
    ("{{items.answer}}", "unknown namespace 'items'. Did you mean 'item'?"),
    ("{{sample.output}}", "unknown sample variable 'output'. Did you mean 'output_text'?"),
    ("{{sample}}", "needs a variable"),
    ("{{item.a[x]}}", "use .key, [0]"),
])
def test_bad_templates_fail_at_build_time(template: str, message: str) -> None:
    assert message in problems(check(template, "x"))[0]


# -- the grader types ---------------------------------------------------------------------------

@pytest.mark.parametrize(("operation", "output", "expected"), [
    ("eq", "Paris", 1.0), ("eq", "paris", 0.0), ("eq", "Paris ", 0.0), ("ne", "Lyon", 1.0), ("ne", "Paris", 0.0),
    ("like", "It is Paris.", 1.0), ("like", "It is paris.", 0.0), ("ilike", "It is PARIS.", 1.0),
    ("ilike", "Lyon", 0.0),
])
def test_string_check_operations(operation: str, output: str, expected: float) -> None:
    grade = openai_grader(check("{{sample.output_text}}", "Paris", operation))
    assert grade({}, output).score == expected


@pytest.mark.parametrize(("metric", "expected"), [
    ("rouge_1", 2 / 3), ("rouge_2", 0.5), ("rouge_3", 0.0), ("rouge_l", 2 / 3), ("bleu", None),
])
def test_text_similarity_metrics(metric: str, expected: float | None) -> None:
    config = {"type": "text_similarity", "name": "sim", "evaluation_metric": metric, "pass_threshold": 0.6,
              "input": "{{sample.output_text}}", "reference": "{{item.reference.text}}"}
    grade = openai_grader(config)({"reference": {"text": "gale force eight"}}, "Gale force nine")
    if expected is None:
        expected = BLEU(effective_order=True).sentence_score("Gale force nine", ["gale force eight"]).score / 100
    assert grade.score == pytest.approx(expected)
    assert grade.components == {"sim": pytest.approx(expected), "passed": float(expected >= 0.6)}


def test_fuzzy_match_uses_rapidfuzz() -> None:
    fuzz = pytest.importorskip("rapidfuzz.fuzz")
    config = {"type": "text_similarity", "evaluation_metric": "fuzzy_match", "input": "{{sample.output_text}}",
              "reference": "John Smith"}
    assert openai_grader(config)({}, "Jon Smith").score == pytest.approx(fuzz.ratio("Jon Smith", "John Smith") / 100)


def test_a_metric_whose_library_is_missing_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in ("rapidfuzz", "nltk")
                        else real(name, *a))
    for metric, package in (("fuzzy_match", "rapidfuzz"), ("gleu", "nltk"), ("meteor", "nltk")):
        config = {"type": "text_similarity", "evaluation_metric": metric, "input": "a", "reference": "b"}
        assert f"pip install {package}" in problems(config)[0]


def test_cosine_needs_an_embedder() -> None:
    config = {"type": "text_similarity", "evaluation_metric": "cosine", "input": "{{sample.output_text}}",
              "reference": "north"}
    assert "needs embeddings" in problems(config)[0]
    vectors = {"north": [1.0, 0.0], "northerly": [0.8, 0.6], "south": [0.0, 1.0]}
    grade = openai_grader(config, embedder=lambda texts: [vectors[t] for t in texts])
    assert grade({}, "northerly").score == pytest.approx(0.8)
    assert grade({}, "south").score == 0.0


def test_score_model_renders_the_prompt_and_maps_its_range() -> None:
    judge = Scripted('{"steps": [], "result": 7}', "I cannot decide", '{"result": 12}')
    config = {"type": "score_model", "name": "judge", "model": "o4-mini", "range": [0, 10],
              "input": [{"role": "developer", "content": "Grade the forecast."},
                        {"role": "user", "content": [{"type": "input_text",
                                                      "text": "Gold: {{item.reference.text}}\nGot: "
                                                              "{{sample.output_text}}"}]}]}
    grade = openai_grader(config, model=judge)
    first = grade({"reference": {"text": "SW 5"}}, "SW 4")
    assert first.score == pytest.approx(0.7)
    assert first.components == {"judge": pytest.approx(0.7), "raw": 7.0, "unparsed": 0.0}
    system, user = judge.seen[0]
    assert system == {"role": "system", "content": "Grade the forecast."}
    assert user["content"].startswith("Gold: SW 5\nGot: SW 4") and '"result"' in user["content"]
    unparsed = grade({"reference": {"text": "SW 5"}}, "fog")
    assert (unparsed.score, unparsed.components["unparsed"]) == (0.0, 1.0)  # OpenAI: non-numeric -> 0
    assert grade({"reference": {"text": "SW 5"}}, "gale").components["raw"] == 10.0  # clipped to the range


def test_multi_formulas_see_raw_judge_values_and_are_clipped() -> None:
    config = {"type": "multi", "calculate_output": "judge / 5 + exact",
              "graders": {"judge": {"type": "score_model", "model": "x", "range": [1, 5],
                                    "input": [{"role": "user", "content": "{{sample.output_text}}"}]},
                          "exact": check("{{sample.output_text}}", "yes")}}
    grade = openai_grader(config, model=Scripted('{"result": 4}'))({}, "yes")
    assert grade.components == {"judge": 0.75, "judge.raw": 4.0, "judge.unparsed": 0.0, "exact": 1.0, "raw": 1.8}
    assert grade.score == 1.0  # 1.8 clipped


def test_label_model_passes_on_a_passing_label() -> None:
    config = {"type": "label_model", "name": "tone", "model": "x", "labels": ["calm", "rude"],
              "passing_labels": ["calm"], "input": [{"role": "user", "content": "{{sample.output_text}}"}]}
    grade = openai_grader(config, model=Scripted('{"result": "calm"}', "It reads as rude to me."))
    assert grade({}, "Thank you").score == 1.0
    assert grade({}, "Go away").score == 0.0


def test_python_grader_inside_multi() -> None:
    source = "def grade(sample, item):\n    return len(sample['output_text']) / len(item['reference']['text'])\n"
    config = {"type": "multi", "calculate_output": "min(length, 1) * match",
              "graders": {"length": {"type": "python", "source": source, "image_tag": "2025-05-08"},
                          "match": check("{{sample.output_text}}", "SW", "like")}}
    grader = openai_grader(config, python_time_limit_s=20)
    try:
        assert grader({"reference": {"text": "SW 5 to 7"}}, "SW 5").components == {
            "length": pytest.approx(4 / 9), "length.raw": pytest.approx(4 / 9), "match": 1.0,
            "raw": pytest.approx(4 / 9)}
        assert grader({"reference": {"text": "SW"}}, "SW then NW").components["length.raw"] == 5.0
    finally:
        grader.close()


# -- configurations that must fail when built ---------------------------------------------------

def test_every_problem_is_reported_at_once_with_did_you_mean() -> None:
    config = {"type": "multi", "calculate_output": "0.5 * emial + nme",
              "graders": {"email": {"type": "string_chek", "input": "a", "reference": "b", "operation": "eq"},
                          "name": {"type": "text_similarity", "input": "a", "refrence": "b",
                                   "evaluation_metric": "rouge-l"},
                          "exact": {"type": "string_check", "input": "a", "reference": "b", "operation": "equals"}}}
    found = "\n".join(problems(config))
    assert "unknown grader type 'string_chek'. Did you mean 'string_check'?" in found
    assert "unknown key 'refrence' for type 'text_similarity'. Did you mean 'reference'?" in found
    assert "missing required key 'reference'" in found
    assert "evaluation_metric 'rouge-l' is not one of" in found and "Did you mean 'rouge_l'?" in found
    assert "operation 'equals' is not one of eq, ilike, like, ne" in found
    assert "unknown name 'emial'. Did you mean 'email'?" in found and "unknown name 'nme'" in found


@pytest.mark.parametrize(("formula", "message"), [
    ("a.real", "is not allowed"),
    ("a if a else b", "is not allowed"),
    ("pow(a, 2)", "unknown function 'pow'"),
    ("min(a)", "min() takes at least 2 argument(s), got 1"),
    ("a +", "is not a valid formula"),
    ("'a'", "is not allowed"),
])
def test_formulas_outside_the_language_are_refused(formula: str, message: str) -> None:
    config = {"type": "multi", "calculate_output": formula,
              "graders": {"a": check("x", "x"), "b": check("x", "y")}}
    assert message in problems(config)[0]


def test_formula_functions_and_caret_power() -> None:
    graders = {"a": check("x", "x"), "b": {"type": "text_similarity", "evaluation_metric": "rouge_1",
                                           "input": "{{sample.output_text}}", "reference": "one three"}}
    for formula, expected in (("a + b ^ 2 - 1", 0.25), ("sqrt(b) * floor(a + 0.5)", 0.5 ** 0.5),
                              ("max(b, 0.2, 0.1) + abs(-a) - ceil(a)", 0.5), ("log(exp(b))", 0.5)):
        grade = openai_grader({"type": "multi", "graders": graders, "calculate_output": formula})({}, "one two")
        assert grade.components["raw"] == pytest.approx(expected), formula


def test_a_formula_that_fails_on_a_row_is_a_grader_error() -> None:
    config = {"type": "multi", "calculate_output": "a / b", "graders": {"a": check("x", "x"), "b": check("x", "y")}}
    with pytest.raises(GraderError, match=r"'a / b' failed with a=1, b=0: float division by zero"):
        openai_grader(config)({}, "x")


def test_an_openai_model_name_needs_a_fathom_judge() -> None:
    config = {"type": "score_model", "model": "gpt-4o-2024-08-06",
              "input": [{"role": "user", "content": "{{sample.output_text}}"}]}
    assert "OpenAI models cannot run here: give the grader `model: <spec>`" in problems(config)[0]
    assert openai_grader(config, model=Scripted()).root.key == "score_model"


def test_bad_python_sources_fail_at_build_time() -> None:
    assert "does not compile" in problems({"type": "python", "source": "def grade(s, i)\n  return 1"})[0]
    assert "defines no top-level function" in problems({"type": "python", "source": "x = 1"})[0]
    assert "256 kB" in problems({"type": "python", "source": "def grade(s, i): return 1\n#" + "x" * 262144})[0]


def test_config_and_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="exactly one of `config`"):
        openai_grader()
    bad = tmp_path / "g.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        openai_grader(file=bad)
    with pytest.raises(ConfigError, match="file not found"):
        openai_grader(file=tmp_path / "missing.json")
    assert "no OpenAI grader object" in problems({"name": "x", "input": "a"})[0]
    assert "missing 'type'" in problems({"type": "multi", "graders": {"a": {"input": "x"}},
                                         "calculate_output": "a"})[0]

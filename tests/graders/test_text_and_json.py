"""Text graders (exact, regex, rouge_l, chrf, bleu) and json_schema."""

from __future__ import annotations

import pytest

from fathom.errors import ConfigError, GraderError
from fathom.graders import bleu, build_grader, chrf, exact, json_schema, regex, rouge_l


def test_exact_normalisation_options() -> None:
    ref = {"reference": {"text": "Gale  Force, 8"}}
    assert exact()(ref, "gale force, 8").score == 1.0
    assert exact(ignore_case=False)(ref, "gale force, 8").score == 0.0
    assert exact(collapse_whitespace=False)(ref, "Gale Force, 8").score == 0.0
    assert exact(ignore_punctuation=True)(ref, "Gale Force 8").score == 1.0
    assert exact()(ref, "Gale Force 8").score == 0.0
    assert exact(strip=False, collapse_whitespace=False)(ref, " Gale  Force, 8").score == 0.0
    assert exact(collapse_whitespace=False)(ref, "  Gale  Force, 8\n").score == 1.0  # strip only


def test_reference_fallbacks() -> None:
    # a list of acceptable answers: any one counts
    assert exact()({"reference": {"text": ["Viking", "North Utsire"]}}, "north utsire").score == 1.0
    # no reference: the last assistant message is the gold answer
    ex = {"messages": [{"role": "user", "content": "?"}, {"role": "assistant", "content": "Fisher"}]}
    assert exact()(ex, "fisher").score == 1.0
    # Arrow-style None fields count as absent
    assert exact()({**ex, "reference": {"text": None}}, "fisher").score == 1.0
    with pytest.raises(GraderError, match="no reference\\['text'\\] and no assistant message"):
        exact()({"messages": [], "meta": {"id": "x1"}}, "a")


def test_regex_modes_and_reference_pattern() -> None:
    assert regex(pattern=r"force \d+")({}, "Wind force 7 later").score == 1.0
    assert regex(pattern=r"force \d+", mode="full")({}, "Wind force 7 later").score == 0.0
    assert regex(pattern="FORCE", ignore_case=True)({}, "force 7").score == 1.0
    assert regex()({"reference": {"pattern": "^Fair"}}, "Fair").score == 1.0
    with pytest.raises(ConfigError, match="does not compile"):
        regex(pattern="(")
    with pytest.raises(ConfigError, match="mode='partial' is not one of"):
        regex(pattern="a", mode="partial")
    with pytest.raises(GraderError, match="no pattern"):
        regex()({}, "x")


def test_rouge_l_hand_computed() -> None:
    # pred: the cat sat on the mat (6); ref: the cat lay on the mat (6); LCS = the cat on the mat = 5
    # P = R = 5/6 -> F1 = 5/6
    g = rouge_l()({"reference": {"text": "the cat lay on the mat"}}, "The cat sat on the mat.")
    assert g.score == pytest.approx(5 / 6)
    # pred: rain later (2); ref: rain then rain later (4): LCS 2; P = 1, R = 0.5; F1 = 2/3
    assert rouge_l()({"reference": {"text": "rain then rain later"}}, "rain later").score == pytest.approx(2 / 3)
    # beta = 2 weights recall: (1 + 4) * 1 * 0.5 / (0.5 + 4 * 1) = 2.5 / 4.5
    assert rouge_l(beta=2)({"reference": {"text": "rain then rain later"}}, "rain later").score == \
        pytest.approx(2.5 / 4.5)


def test_chrf_and_bleu_partial_credit() -> None:
    ref = {"reference": {"text": "Southwest 5 to 7, occasionally gale 8 later."}}
    near = "Southwest 5 to 7, occasionally gale 8."
    far = "Northerly 3."
    for grader in (chrf(), chrf(word_order=2), bleu()):
        hit, mid, miss = (grader(ref, t).score for t in (ref["reference"]["text"], near, far))
        assert hit == pytest.approx(1.0)
        assert miss < mid < hit
    with pytest.raises(ConfigError, match="smooth_method"):
        bleu(smooth_method="magic")


def test_json_schema_grades() -> None:
    schema = {"type": "object", "required": ["area", "wind", "sea"], "additionalProperties": False,
              "properties": {"area": {"type": "string"}, "wind": {"type": "integer", "minimum": 0},
                             "sea": {"enum": ["calm", "rough"]}}}
    grade = json_schema(schema=schema)
    assert grade({}, '```json\n{"area": "Viking", "wind": 6, "sea": "rough"}\n```').score == 1.0
    # one of 3 properties wrong: share 2/3 -> 0.5 * 2/3
    wrong = grade({}, '{"area": "Viking", "wind": -1, "sea": "rough"}')
    assert wrong.score == pytest.approx(1 / 3) and wrong.components["schema_valid"] == 0.0
    assert "wind" in wrong.reason
    # an undeclared key with additionalProperties false adds a failing check: 3 / 4 -> 0.375
    assert grade({}, '{"area": "V", "wind": 1, "sea": "calm", "x": 1}').score == pytest.approx(0.375)
    assert json_schema(schema=schema, partial=False)({}, '{"area": "V", "wind": -1, "sea": "calm"}').score == 0.0
    unparsable = grade({}, '{"area": "Viking",')
    assert unparsable.score == 0.0 and unparsable.components["json_valid"] == 0.0
    assert json_schema(schema=schema, lenient=False)({}, 'Sure: {"area": "V", "wind": 1, "sea": "calm"}').score == 0.0
    # schema from the example
    assert json_schema()({"reference": {"schema": {"type": "array"}}}, "[1, 2]").score == 1.0
    with pytest.raises(ConfigError, match="the schema is invalid"):
        json_schema(schema={"type": "no-such-type"})


def test_build_grader_reports_unknown_names_and_params() -> None:
    from fathom.errors import UnknownGraderError

    with pytest.raises(UnknownGraderError, match="Did you mean 'rouge_l'"):
        build_grader("rougel")
    with pytest.raises(ConfigError, match=r"unknown parameter 'ignorecase'\. Did you mean 'ignore_case'"):
        build_grader({"name": "exact", "ignorecase": True})

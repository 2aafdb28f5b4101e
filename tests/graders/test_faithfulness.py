"""The ``faithfulness`` grader: grounded answers score high, answers with wrong numbers or invented
facts score low, a threshold tells them apart, and the reason names the weakest sentence."""

from __future__ import annotations

import pytest

from fathom.errors import ConfigError, GraderError
from fathom.graders import build_grader
from fathom.graders._faithfulness import content_tokens, faithfulness

SOURCES = [
    "Dogger, Fisher, German Bight: southwest gale 8 to storm 10, veering west later. Rain, then squally "
    "showers. Visibility moderate, occasionally poor.",
    "A gale warning for Dogger was issued by the Met Office at 0600 UTC on 14 March. Seas very rough, "
    "becoming high for a time. The next shipping forecast is broadcast at 1201.",
]
GROUNDED = [
    "A gale warning for Dogger was issued at 0600 UTC.",
    "Dogger has southwest gales 8 to storm 10, veering west later, with rain then squally showers.",
    "Visibility in Fisher is moderate, occasionally poor. Seas are very rough, becoming high for a time.",
    "The Met Office issued the Dogger gale warning on 14 March; the next forecast is broadcast at 1201.",
]
UNGROUNDED = [
    "A gale warning for Dogger was issued at 0900 UTC.",  # wrong number
    "Dogger has southwest gales 6 to 7 backing east.",  # wrong numbers, wrong direction
    "Fog banks and heavy snow are expected near the Faroes, with icing on superstructures.",  # invented
    "The coastguard closed the harbour after a tanker ran aground on Friday.",  # invented
    "Rain in Dogger, then thick fog and heavy snow with severe icing overnight.",  # partly invented
]


def test_grounded_and_ungrounded_answers_are_told_apart_by_a_threshold() -> None:
    grade = faithfulness()
    grounded = [grade({"sources": SOURCES}, answer).score for answer in GROUNDED]
    ungrounded = [grade({"sources": SOURCES}, answer).score for answer in UNGROUNDED]
    assert min(grounded) >= 0.8, grounded
    assert max(ungrounded) <= 0.4, ungrounded
    assert min(grounded) > 0.6 > max(ungrounded)


def test_a_number_not_in_the_sources_makes_its_sentence_unsupported() -> None:
    grade = faithfulness()
    assert grade({"sources": SOURCES}, "The next shipping forecast is broadcast at 1201.").score == 1.0
    assert grade({"sources": SOURCES}, "The next shipping forecast is broadcast at 1200.").score == 0.0


def test_reason_names_the_least_supported_sentence_and_min_is_strict() -> None:
    answer = "A gale warning for Dogger was issued at 0600 UTC. Expect hail the size of golf balls."
    mean = faithfulness()({"sources": SOURCES}, answer)
    strict = faithfulness(aggregate="min")({"sources": SOURCES}, answer)
    assert "golf balls" in mean.reason and "Dogger" not in mean.reason.partition("least supported")[2]
    assert 0.4 <= mean.score <= 0.6 and strict.score == 0.0
    assert mean.components == {"faithfulness": mean.score}


def test_inputs_sources_in_reference_message_completion_and_empty_answers() -> None:
    grade = build_grader("faithfulness")
    message = {"role": "assistant", "content": "Seas very rough, becoming high for a time."}
    assert grade({"reference": {"sources": SOURCES}}, message).score == 1.0
    assert grade({"sources": SOURCES}, "  ").score == 0.0
    with pytest.raises(GraderError, match="example\\['sources'\\] must be a non-empty list of strings"):
        grade({}, "anything")
    with pytest.raises(ConfigError, match="aggregate='max' is not one of"):
        build_grader({"name": "faithfulness", "aggregate": "max"})


def test_content_tokens_stem_both_sides_alike() -> None:
    assert content_tokens("warnings issued") == content_tokens("warning issue")
    assert content_tokens("1,200 gales") == {"1200", "gal"}
    assert "the" not in content_tokens("the gale")

"""The ``shipping`` grader: registration, scores and components, the parse gate, junk, speed."""

from __future__ import annotations

import time

import pytest

from fathom.domains.shipping.parse._parser import parse_area_body
from fathom.domains.shipping.score._grader import grade_area_text, shipping_grader
from fathom.errors import ConfigError, GraderError
from fathom.graders import build_grader

REF_TEXT = ("Southwest 5 to 7, occasionally gale 8 later. Moderate or rough. Rain then showers. "
            "Good, occasionally poor.")
EXAMPLE = {"messages": [], "reference": {"text": REF_TEXT, "names": ["Viking"]}}


def test_registered_through_the_domain_plugin() -> None:
    grade = build_grader("shipping")
    assert grade(EXAMPLE, REF_TEXT).score == 1.0
    strict = build_grader({"name": "shipping", "mode": "strict"})
    assert strict(EXAMPLE, "West 5 to 7, occasionally gale 8 later. Moderate or rough. "
                           "Rain then showers. Good, occasionally poor.").score == 0.8
    with pytest.raises(ConfigError, match="mode='lenient'"):
        build_grader({"name": "shipping", "mode": "lenient"})


def test_perfect_completion_with_heading_and_message_dict() -> None:
    grade = shipping_grader()
    g = grade(EXAMPLE, {"role": "assistant", "content": f"Viking. {REF_TEXT}"})
    assert g.score == 1.0 and g.gates == {"parses": True}
    assert g.reason == "every field hit (tolerant)"
    assert set(g.components) == {
        "wind_direction", "wind_force", "sea_state", "weather", "visibility",
        "strict_wind_direction", "strict_wind_force", "strict_sea_state", "strict_weather",
        "strict_visibility"}
    assert all(v == 1.0 for v in g.components.values())


def test_components_and_reason_name_the_missed_fields() -> None:
    completion = ("Southwest 6 to gale 8, occasionally severe gale 9 later. Rough or very rough. "
                  "Rain. Good, occasionally poor.")
    g = shipping_grader()(EXAMPLE, completion)
    c = g.components
    # force: main [6,8] vs [5,7] hits twice; secondary 9 vs 8 hits -> tolerant 1, strict 0
    assert (c["wind_force"], c["strict_wind_force"]) == (1.0, 0.0)
    assert (c["sea_state"], c["strict_sea_state"]) == (1.0, 0.0)
    # weather: first {rain} = {rain}; second {rain} vs {showers} -> F1 0 -> 1/2
    assert (c["weather"], c["strict_weather"]) == (0.5, 0.5)
    assert g.score == pytest.approx((1 + 1 + 1 + 0.5 + 1) / 5)
    assert g.reason == "missed: weather"


def test_reference_given_as_fields() -> None:
    fields = parse_area_body(REF_TEXT).to_dict()
    example = {"reference": {"fields": fields}}
    assert shipping_grader()(example, REF_TEXT).score == 1.0
    assert grade_area_text(example, "West 6. Rough. Fair. Poor.", mode="strict").score == 0.0


@pytest.mark.parametrize("junk", [
    "",
    None,
    "   ",
    REF_TEXT + " " + REF_TEXT,                       # repeated
    REF_TEXT + " Have a safe voyage.",               # extra sentence
    "Here is the forecast: " + REF_TEXT,             # chatter
    "Southwest 5 to 7. Moderate or rough. Good.",    # a missing field
    "x" * 100_000,                                   # very long
    "5 to 7. 5 to 7. 5 to 7. 5 to 7. 5 to 7.",
    "\u00e9\u00e8\u2603 \x00 {}[]",
])
def test_junk_fails_the_gate_without_raising(junk: str | None) -> None:
    g = shipping_grader()(EXAMPLE, junk)  # type: ignore[arg-type]
    assert g.score == 0.0
    assert g.gates == {"parses": False}
    assert g.reason.startswith("does not parse")
    assert 0.0 <= min(g.components.values()) <= max(g.components.values()) <= 1.0


def test_whole_bulletin_completion_is_scored_on_the_reference_area() -> None:
    bulletin = ("Viking. " + REF_TEXT + "\nSole. East 4. Slight. Fair. Good.\n")
    assert shipping_grader()(EXAMPLE, bulletin).score == 1.0
    other = {"reference": {"text": "East 4. Slight. Fair. Good.", "names": ["Sole"]}}
    assert shipping_grader()(other, bulletin).score == 1.0
    missing = {"reference": {"text": "East 4. Slight. Fair. Good.", "names": ["Lundy"]}}
    g = shipping_grader()(missing, bulletin)
    assert g.score == 0.0 and "not in the bulletin" in g.reason


def test_example_without_reference_is_a_grader_error() -> None:
    with pytest.raises(GraderError, match="needs example\\['reference'\\]"):
        shipping_grader()({"messages": []}, REF_TEXT)


def test_thousands_of_grades_per_second() -> None:
    grade = shipping_grader()
    variants = [f"{d} {f}. {s}. {w}. {v}." for d in ("West", "Southwest", "Variable")
                for f in ("4 to 6", "5 to 7, occasionally gale 8 later", "3 or less")
                for s in ("Moderate", "Rough or very rough") for w in ("Rain", "Fair then showers")
                for v in ("Good", "Moderate or good, occasionally poor")]
    start = time.perf_counter()
    n = 0
    while n < 2000:
        for text in variants:
            grade(EXAMPLE, text)
            n += 1
    rate = n / (time.perf_counter() - start)
    assert rate > 1000, f"{rate:.0f} grades/s"

"""The field-by-field scorer: each tolerance on hand-computed cases, groups, strict vs tolerant,
missing areas, unparsed counts, and the ``score`` CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from fathom.cli import cli
from fathom.domains.shipping.parse._parser import parse_area_text, parse_bulletin
from fathom.domains.shipping.score._scorer import (
    compare_area,
    direction_hit,
    expand_areas,
    score_bulletin,
)
from fathom.domains.shipping.vocab._fields import AreaForecast, Direction


def area(wind: str = "West 6.", sea: str = "Rough.", weather: str = "Rain.",
         vis: str = "Good.", names: tuple[str, ...] = ("Viking",)) -> AreaForecast:
    fc = parse_area_text(wind, sea, weather, vis, names=names)
    assert fc.complete(), fc.unknown
    return fc


def field_score(pred: AreaForecast, ref: AreaForecast, name: str) -> tuple[float, float, int]:
    s = score_bulletin([pred], [ref])["fields"][name]
    return s["tolerant"], s["strict"], s["n"]


# ---------------------------------------------------------------- direction
@pytest.mark.parametrize("pred, ref, hit", [
    ("SW", "W", True),            # 45 degrees: the boundary is a hit
    ("SW", "NW", False),          # 90
    ("N", "NW", True),            # across north
    ("N", "NE", True),
    ("N", "SE", False),
    ("S or SW", "SW", True),      # 22.5
    ("S or SW", "W", False),      # 67.5
    ("S or SW", "SE", False),     # 202.5 vs 135: 67.5
    ("SE or S", "E", False),      # 157.5 vs 90: 67.5
    ("SE or S", "SE", True),
])
def test_direction_tolerance(pred: str, ref: str, hit: bool) -> None:
    assert direction_hit(Direction.from_dict(pred), Direction.from_dict(ref)) is hit


def test_direction_classes_and_mainly() -> None:
    cyc, var = Direction("cyclonic"), Direction("variable")
    assert direction_hit(cyc, Direction("cyclonic", ("N",)))
    assert direction_hit(var, var)
    assert not direction_hit(var, cyc)
    assert not direction_hit(cyc, Direction.point("N"))     # no direction to compare
    assert direction_hit(Direction("cyclonic", ("W",)), Direction.point("SW"))  # mainly W


def test_direction_field_accuracy_strict_and_tolerant() -> None:
    # ref: SW first, W second; pred: W throughout -> tolerant 2/2, strict 1/2
    ref = area("Southwest 5, veering west 5.")
    pred = area("West 5.")
    assert field_score(pred, ref, "wind_direction") == (1.0, 0.5, 2)


# ---------------------------------------------------------------- force
@pytest.mark.parametrize("pred, ref, tolerant, strict", [
    ("5 to 7", "5 to 7", 1.0, 1.0),
    ("6 to gale 8", "5 to 7", 1.0, 0.0),     # both ends +1
    ("4 to 6", "5 to 7", 1.0, 0.0),          # both ends -1
    ("5 to gale 9", "5 to 7", 0.0, 0.0),     # upper end +2
    ("3 to 7", "5 to 7", 0.0, 0.0),          # lower end -2
    ("6", "5 to 7", 1.0, 0.0),               # [6,6] vs [5,7]
    ("4", "5 to 7", 0.0, 0.0),               # [4,4]: upper end -3
])
def test_force_tolerance_on_both_ends(pred: str, ref: str, tolerant: float, strict: float) -> None:
    assert field_score(area(f"West {pred}."), area(f"West {ref}."), "wind_force") == (
        tolerant, strict, 2)


def test_secondary_values_are_scored_separately() -> None:
    ref = area("West 5 to 7, occasionally gale 8.")
    pred = area("West 5 to 7.")
    result = score_bulletin([pred], [ref])["fields"]["wind_force"]
    assert (result["tolerant"], result["n"]) == (0.5, 4)     # 2 main hits, 2 secondary misses
    assert result["main"] == {"tolerant": 1.0, "strict": 1.0, "n": 2}
    assert result["secondary"] == {"tolerant": 0.0, "strict": 0.0, "n": 2}
    # a secondary value within one force of the reference's is a tolerant hit
    near = area("West 5 to 7, occasionally severe gale 9.")
    assert field_score(near, ref, "wind_force") == (1.0, 0.5, 4)


# ---------------------------------------------------------------- classes
@pytest.mark.parametrize("pred, ref, tolerant, strict", [
    ("Rough.", "Rough.", 1.0, 1.0),
    ("Moderate.", "Rough.", 1.0, 0.0),
    ("Very rough.", "Rough.", 1.0, 0.0),
    ("High.", "Rough.", 0.0, 0.0),
    ("Moderate or rough.", "Rough or very rough.", 1.0, 0.0),
    ("Slight or moderate.", "Rough or very rough.", 0.0, 0.0),
])
def test_sea_state_within_one_class(pred: str, ref: str, tolerant: float, strict: float) -> None:
    assert field_score(area(sea=pred), area(sea=ref), "sea_state") == (tolerant, strict, 2)


@pytest.mark.parametrize("pred, ref, tolerant", [
    ("Good.", "Moderate or good.", 1.0),
    ("Poor.", "Good.", 0.0),
    ("Moderate.", "Good.", 1.0),
])
def test_visibility_within_one_class(pred: str, ref: str, tolerant: float) -> None:
    assert field_score(area(vis=pred), area(vis=ref), "visibility")[0] == tolerant


# ---------------------------------------------------------------- weather
def test_weather_f1_and_strict_equality() -> None:
    # {rain, showers} vs {rain}: P = 1/2, R = 1 -> F1 = 2/3 in both sub-periods
    tol, strict, n = field_score(area(weather="Rain or showers."), area(weather="Rain."), "weather")
    assert (round(tol, 4), strict, n) == (0.6667, 0.0, 2)
    # "Rain later" vs "Rain": first sub-period says nothing vs rain (F1 0), second equal
    assert field_score(area(weather="Rain later."), area(weather="Rain."), "weather") == (
        0.5, 0.5, 2)
    assert field_score(area(weather="Fair."), area(weather="Fair."), "weather") == (1.0, 1.0, 2)


# ---------------------------------------------------------------- groups and areas
def test_groups_expand_to_areas() -> None:
    ref = parse_bulletin("Viking, North Utsire: West 6. Rough. Rain. Good.\n"
                         "South Utsire: East 4. Slight. Fair. Good.")
    pred = parse_bulletin("Viking: West 6. Rough. Rain. Good.\n"
                          "North Utsire, South Utsire: East 4. Slight. Fair. Good.")
    result = score_bulletin(pred, ref)
    assert result["areas"] == 3
    assert result["per_area"]["Viking"]["wind_direction"]["tolerant"] == 1.0
    assert result["per_area"]["North Utsire"]["wind_direction"]["tolerant"] == 0.0
    assert result["per_area"]["South Utsire"]["sea_state"]["strict"] == 1.0
    # direction: Viking and South Utsire hit, North Utsire misses -> 4/6
    assert result["fields"]["wind_direction"]["tolerant"] == round(4 / 6, 6)


def test_part_areas_and_duplicates_merge() -> None:
    fcs = parse_bulletin("Northeast Forties: West 6. Rough. Rain. Good.\n"
                         "Southwest Forties, Cromarty: West 8. Rough. Rain. Good.")
    merged = expand_areas(fcs)
    assert sorted(merged) == ["Cromarty", "Forties"]
    assert merged["Forties"].force.first.to_dict() == {"main": [6, 6], "secondary": [8, 8]}


def test_missing_and_extra_areas_and_unparsed_counts() -> None:
    ref = parse_bulletin("Viking: West 6. Rough. Rain. Good.\nSole: East 4. Slight. Fair. Good.")
    pred = parse_bulletin("Viking: West 6, breezy. Rough. Rain. Good.\n"
                          "Lundy: East 4. Slight. Fair. Good.")
    result = score_bulletin(pred, ref)
    assert result["missing_areas"] == ["Sole"] and result["extra_areas"] == ["Lundy"]
    assert result["unparsed"]["pred"] == {"forecasts": 2, "with_unknown": 1, "missing_fields": 0}
    assert result["per_area"]["Sole"]["wind_force"] == {"tolerant": 0.0, "strict": 0.0, "n": 2}
    assert result["overall"] == {"tolerant": 0.5, "strict": 0.5}


def test_identical_bulletins_score_one_and_compare_area_sums() -> None:
    ref = area("Southwest 5 to 7, occasionally gale 8 later.", "Moderate or rough.",
               "Rain then showers.", "Good, occasionally poor.")
    result = score_bulletin([ref], [ref])
    assert result["overall"] == {"tolerant": 1.0, "strict": 1.0}
    sums = compare_area(None, ref)
    assert sums["force"] == [0.0, 0.0, 3, 0.0, 0.0, 2]


def test_cli_score(tmp_path) -> None:
    ref = tmp_path / "ref.txt"
    pred = tmp_path / "pred.txt"
    ref.write_text("Viking: Southwest 5 to 7. Rough. Rain. Good.\n")
    pred.write_text("Viking: West 6 to gale 8. Very rough. Rain. Moderate.\n")
    result = CliRunner().invoke(cli, ["shipping", "score", "--pred", str(pred), "--ref", str(ref)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["overall"] == {"tolerant": 1.0, "strict": 0.2}
    assert set(data["fields"]) == {"wind_direction", "wind_force", "sea_state", "weather",
                                   "visibility"}
    assert "per_area" not in data
    more = CliRunner().invoke(cli, ["shipping", "score", "--pred", str(pred), "--ref", str(ref),
                                    "--per-area"])
    assert json.loads(more.stdout)["per_area"]["Viking"]["weather"]["strict"] == 1.0

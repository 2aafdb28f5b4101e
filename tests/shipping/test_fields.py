"""The structured fields and the controlled vocabulary: validation, JSON round trip, thresholds."""

from __future__ import annotations

import json

import pytest

from fathom.domains.shipping.vocab._fields import (
    FIELDS,
    AreaForecast,
    Direction,
    Force,
    Icing,
    Periods,
    SeaState,
    Slot,
    Visibility,
    Weather,
)
from fathom.domains.shipping.vocab._vocab import (
    AREAS,
    BEAUFORT_KNOTS,
    BEAUFORT_MS,
    POINT_ADJECTIVES,
    POINT_NOUNS,
    SEA_STATES,
    VISIBILITY,
    beaufort_from_knots,
    beaufort_from_ms,
    force_words,
    sea_state_class,
    visibility_class,
)
from fathom.errors import DomainError


def _full() -> AreaForecast:
    return AreaForecast(
        names=("Forth", "Tyne", "West Dogger"),
        direction=Periods.split(Direction("cyclonic"), Direction.point("N"),
                                None, Direction("variable", ("W",))),
        force=Periods.split(Force(4, 6), Force(7, 9), None, Force(10)),
        sea_state=Periods.split(SeaState.of("moderate", "rough"),
                                SeaState.of("rough", "very rough"),
                                second_secondary=SeaState.of("high")),
        weather=Periods.split(Weather.of("rain"), Weather.of("showers", "thundery", "squally")),
        visibility=Periods.both(Visibility.of("good"), Visibility.of("poor")),
        icing=Periods.both(Icing.of("light")),
        unknown=("blustery",),
    )


def test_json_round_trip_of_every_value_kind() -> None:
    fc = _full()
    data = json.loads(json.dumps(fc.to_dict()))
    assert AreaForecast.from_dict(data) == fc
    assert data["force"]["second"] == {"main": [7, 9], "secondary": [10, 10]}
    assert data["direction"]["second"]["secondary"] == "variable, mainly W"
    assert data["weather"]["second"]["main"] == ["showers", "thundery", "squally"]
    assert data["sea_state"]["first"]["secondary"] is None
    assert data["icing"]["first"]["main"] == ["light", "light"]
    assert data["unknown"] == ["blustery"]
    assert list(data) == ["names", *FIELDS, "icing", "unknown"]


def test_direction_points_are_canonical_and_have_a_mean_angle() -> None:
    assert Direction.point("W", "SW") == Direction.point("SW", "W")
    assert Direction.point("NW", "N").to_dict() == "NW or N"
    assert Direction.point("N", "NW").degrees == 337.5
    assert Direction.point("E").degrees == 90.0
    assert Direction("variable").degrees is None
    assert Direction.from_dict("S or SW") == Direction.point("S", "SW")
    assert Direction.from_dict("cyclonic") == Direction("cyclonic")


@pytest.mark.parametrize("make", [
    lambda: Direction.point("SSW"),
    lambda: Direction("veering"),
    lambda: Direction("point"),
    lambda: Force(7, 5),
    lambda: Force(13),
    lambda: Force(-1),
    lambda: SeaState(8),
    lambda: SeaState.of("choppy"),
    lambda: Visibility.of("excellent"),
    lambda: Weather.of("hurricane"),
])
def test_invalid_values_raise_domain_errors_that_name_the_valid_ones(make) -> None:
    with pytest.raises(DomainError) as info:
        make()
    assert "Invalid" in str(info.value) or "needs" in str(info.value)


def test_invalid_error_lists_valid_choices() -> None:
    with pytest.raises(DomainError, match="'smooth', 'slight'"):
        SeaState.of("choppy")


def test_ranges_union_and_words() -> None:
    assert Force(4, 6).union(Force(7)) == Force(4, 7)
    assert SeaState.of("rough", "moderate") == SeaState(2, 3)
    assert SeaState(2, 3).words == ("moderate", "rough")
    assert Visibility(0).to_dict() == ["very poor", "very poor"]
    assert Weather.of("rain").union(Weather.of("fog")) == Weather.of("fog", "rain")


def test_missing_and_complete() -> None:
    fc = AreaForecast(names=("Viking",), direction=Periods.both(Direction.point("W")),
                      force=Periods.both(Force(6)))
    assert fc.missing() == ["sea_state", "weather", "visibility"]
    assert not fc.complete()
    assert not _full().complete()  # it has an unknown phrase
    assert fc.field("force") == Periods(Slot(Force(6)), Slot(Force(6)))
    with pytest.raises(DomainError, match="field"):
        fc.field("wind")


def test_from_dict_without_names_says_what_it_needs() -> None:
    with pytest.raises(DomainError, match="needs 'names'"):
        AreaForecast.from_dict({"force": {}})


def test_beaufort_bins_use_the_lower_bounds() -> None:
    assert len(BEAUFORT_KNOTS) == len(BEAUFORT_MS) == 13
    for force, knots in enumerate(BEAUFORT_KNOTS):
        assert beaufort_from_knots(knots) == force
        if force:
            assert beaufort_from_knots(knots - 0.01) == force - 1
    assert beaufort_from_knots(200) == 12
    # m/s are binned by the knot bounds (the statistics contract): 17.2 m/s = 33.4 kn
    assert beaufort_from_ms(17.2) == 7
    assert beaufort_from_ms(17.5) == 8 and beaufort_from_ms(17.4) == 7


def test_force_words() -> None:
    assert [force_words(f) for f in (6, 8, 9, 10, 11, 12)] == [
        "6", "gale 8", "severe gale 9", "storm 10", "violent storm 11", "hurricane force 12"]


def test_sea_state_and_visibility_thresholds() -> None:
    assert [SEA_STATES[sea_state_class(h)] for h in (0.49, 0.5, 1.25, 2.49, 2.5, 4, 6, 9, 14)] == [
        "smooth", "slight", "moderate", "moderate", "rough", "very rough", "high", "very high",
        "phenomenal"]
    assert [VISIBILITY[visibility_class(m)] for m in (999, 1000, 3703, 3704, 9260, 9261)] == [
        "very poor", "poor", "poor", "moderate", "moderate", "good"]


def test_vocabulary_words() -> None:
    assert POINT_NOUNS["SW"] == "southwest" and POINT_ADJECTIVES["NE"] == "northeasterly"
    assert len(AREAS) == 31 and AREAS[0] == "Viking" and AREAS[-1] == "Southeast Iceland"

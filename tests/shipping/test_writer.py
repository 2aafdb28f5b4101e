"""The rule-based bulletin writer: wording oracles, grouping, word limit, vocabulary, warnings,
gale warnings, the bulletin and the CLI."""

from __future__ import annotations

import json
import random
import re
from typing import Any

import pytest
from click.testing import CliRunner

from fathom.domains.shipping.vocab._fields import (
    Direction,
    Force,
    Periods,
    SeaState,
    Slot,
    Visibility,
    Weather,
)
from fathom.domains.shipping.vocab._vocab import (
    AREAS,
    FORCE_WORDS,
    POINT_NOUNS,
    SEA_STATES,
    TIMING_WORDS,
    VISIBILITY,
    WEATHER_TYPES,
)
from fathom.domains.shipping.writer._area import WrittenArea, write_area
from fathom.domains.shipping.writer._bulletin import write_bulletin
from fathom.domains.shipping.writer._grouping import WORD_LIMIT, cover, group_areas, merge_identical, words
from fathom.domains.shipping.writer._samples import (
    area_from_samples,
    random_stats,
    sample,
    uniform_area,
)
from fathom.domains.shipping.writer._warnings import gale_summary
from fathom.domains.shipping.writer._wording import area_text, wind_text
from fathom.errors import DataError

START = "2025-01-05T00:00:00Z"


def _stats(areas: dict, centres: list | None = None) -> dict:
    return {"schema": "fathom.shipping.stats/1",
            "run": {"start": START, "end": "2025-01-06T00:00:00Z", "steps": 25},
            "areas": areas, "pressure_centres": centres or []}


def _scattered(forces: tuple[int, ...], seed: int = 0, low: bool = False) -> dict:
    """Directions from all round the compass, forces drawn from ``forces``."""
    rng = random.Random(seed)
    hours = [[sample(rng.uniform(0, 360), rng.choice(forces)) for _ in range(8)] for _ in range(25)]
    return area_from_samples(hours, [low] * 25)


# ---------------------------------------------------------------- wording oracles
def test_uniform_west_force_6_is_west_6() -> None:
    area = write_area(uniform_area(270, 6), "Viking")
    assert area.body.startswith("West 6. ")
    assert area.fields.direction == Periods.both(Direction.point("W"))
    assert area.fields.force == Periods.both(Force(6))


def test_all_rough_sea_is_rough() -> None:
    area = write_area(uniform_area(270, 6, hs_m=3.0))
    assert area.body.split(". ")[1] == "Rough"
    assert area.fields.sea_state == Periods.both(SeaState.of("rough"))


def test_visibility_500_m_is_very_poor_with_fog() -> None:
    area = write_area(uniform_area(270, 4, vis_m=500.0))
    _, _, weather, visibility = area.body.rstrip(".").split(". ")
    assert visibility == "Very poor"
    assert "fog" in weather.lower()
    assert area.fields.weather == Periods.both(Weather.of("fog"))
    assert area.fields.visibility == Periods.both(Visibility.of("very poor"))


def test_veering_and_backing() -> None:
    veer = write_area(uniform_area(180, 5, later={"direction": 270}))
    back = write_area(uniform_area(270, 5, later={"direction": 180}))
    assert veer.body.startswith("South veering west, 5.")
    assert back.body.startswith("West backing south, 5.")
    assert veer.fields.direction == Periods.split(Direction.point("S"), Direction.point("W"))


def test_occasionally_gale_8_later() -> None:
    hours = [[sample(225, 7)] * 4 if h < 12 else [sample(225, 7)] * 3 + [sample(225, 8)]
             for h in range(25)]
    area = write_area(area_from_samples(hours))
    assert area.body.startswith("Southwest 7, occasionally gale 8 later.")
    assert area.fields.force == Periods(Slot(Force(7)), Slot(Force(7), Force(8)))


def test_light_scattered_wind_is_variable_3_or_less() -> None:
    area = write_area(_scattered((1, 2, 3)))
    assert area.body.startswith("Variable 3 or less.")
    assert area.fields.direction == Periods.both(Direction("variable"))
    assert area.fields.force == Periods.both(Force(1, 3))


def test_low_centre_over_unsteady_wind_is_cyclonic() -> None:
    area = write_area(_scattered((5, 6), low=True))
    assert area.body.startswith("Cyclonic 5 or 6.")
    steady = write_area(uniform_area(270, 5, low_centre_hours=25))
    assert steady.body.startswith("West 5.")


def test_increasing_gale_and_adjacent_points() -> None:
    assert write_area(uniform_area(225, 5, later={"force": 8})).body.startswith(
        "Southwest 5, increasing gale 8.")
    between = write_area(uniform_area(247.0, 4))
    assert between.body.startswith("West or southwest 4.")


@pytest.mark.parametrize(("weather", "said"), [
    ({}, "Fair"),
    ({"rate_mmh": 2.0}, "Rain"),
    ({"rate_mmh": 0.3}, "Drizzle"),
    ({"rate_mmh": 2.0, "convective": True}, "Showers"),
    ({"rate_mmh": 5.0, "convective": True}, "Thundery showers"),
    ({"rate_mmh": 2.0, "convective": True, "t2m_c": 0.0}, "Wintry showers"),
    ({"rate_mmh": 2.0, "t2m_c": -1.0}, "Snow"),
    ({"later": {"rate_mmh": 2.0}}, "Rain later"),
    ({"rate_mmh": 2.0, "later": {"rate_mmh": 2.0, "convective": True}}, "Rain then showers"),
])
def test_weather_words(weather: dict, said: str) -> None:
    area = write_area(uniform_area(270, 5, **weather))
    assert area.body.split(". ")[2] == said


def test_occasional_rain_and_visibility_qualifiers() -> None:
    hours = [[sample(270, 5, rate_mmh=2.0, vis_m=5000.0)] + [sample(270, 5)] * 4
             for _ in range(25)]
    area = write_area(area_from_samples(hours))
    _, _, weather, visibility = area.body.rstrip(".").split(". ")
    assert weather == "Occasional rain"
    assert visibility == "Good, occasionally moderate"
    assert area.fields.weather == Periods.both(Weather.of("rain"))


# ---------------------------------------------------------------- grouping and the word limit
def test_identical_neighbours_merge_in_broadcast_order() -> None:
    same, other = uniform_area(270, 6), uniform_area(90, 3)
    stats = _stats({"Forties": same, "South Utsire": other, "North Utsire": same, "Viking": same})
    bulletin = write_bulletin(stats)
    assert [g.names for g in bulletin.groups] == [
        ("Viking", "North Utsire"), ("South Utsire",), ("Forties",)]
    assert bulletin.area_forecasts_text.splitlines()[0].startswith("Viking, North Utsire. West 6.")


def test_cover_spans_both_forecasts() -> None:
    a = write_area(uniform_area(270, 5, hs_m=2.0), "Viking")
    b = write_area(uniform_area(250, 7, hs_m=3.0), "North Utsire")
    merged = cover(a, b)
    assert merged.names == ("Viking", "North Utsire")
    assert merged.fields.force == Periods.both(Force(5, 7))
    assert merged.fields.sea_state == Periods.both(SeaState.of("moderate", "rough"))
    assert merged.fields.direction == Periods.both(Direction.point("W", "SW"))


@pytest.fixture(scope="module")
def bulletins() -> list:
    """30 random bulletins (with and without wave and visibility data)."""
    return [write_bulletin(random_stats(seed, waves=seed % 3 != 0, visibility=seed % 4 != 0,
                                        steps=False)) for seed in range(30)]


def test_bulletins_stay_within_the_word_limit(bulletins: list) -> None:
    merged = 0
    for bulletin in bulletins:
        assert bulletin.words <= WORD_LIMIT
        names = [n for g in bulletin.groups for n in g.names]
        assert names == list(AREAS)  # every area once, groups consecutive in broadcast order
        plain = merge_identical(bulletin.areas)
        if words(plain) <= WORD_LIMIT:
            assert list(bulletin.groups) == plain  # no covering merge when the plain one fits
        else:
            merged += 1
    assert merged > 0  # the covering merge was exercised


def test_tight_word_limit_merges_more() -> None:
    areas = [write_area(a, n) for n, a in random_stats(5, steps=False)["areas"].items()]
    assert words(group_areas(areas, 150)) <= 150 < words(group_areas(areas))


# ---------------------------------------------------------------- vocabulary
_CONNECTIVES = {"or", "to", "less", "then", "at", "first", "later", "patches", "occasional",
                "occasionally", "becoming", "veering", "backing", "increasing", "decreasing",
                "and", "mainly"}


def _vocabulary() -> set[str]:
    allowed = set(_CONNECTIVES) | {str(n) for n in range(13)} | set(WEATHER_TYPES)
    for phrase in (*POINT_NOUNS.values(), *SEA_STATES, *VISIBILITY, *FORCE_WORDS.values(),
                   *TIMING_WORDS, *AREAS, "variable", "cyclonic"):
        allowed |= set(phrase.lower().split())
    return allowed


def _area_words(bulletins: list) -> set[str]:
    return {w for b in bulletins for g in b.groups
            for w in re.findall(r"[a-z]+|\d+", g.text.lower())}


def test_every_word_is_official_vocabulary(bulletins: list) -> None:
    seen = _area_words(bulletins)
    assert seen - _vocabulary() == set()
    assert {"veering", "backing", "cyclonic", "variable", "occasionally", "later", "gale"} <= seen


def test_every_word_occurs_in_real_bulletins(bulletins: list, shared_file: Any) -> None:
    real: set[str] = set()
    with open(shared_file("data/shipping/real_bulletins.jsonl"), encoding="utf-8") as fh:
        for line in fh:
            for area in json.loads(line)["areas"]:
                for key in ("wind", "sea_state", "weather", "visibility"):
                    real |= set(re.findall(r"[a-z]+|\d+", area[key].lower()))
    names = {w for a in AREAS for w in a.lower().split()}
    assert _area_words(bulletins) - real - names == set()


# ---------------------------------------------------------------- gale warnings
def test_gale_warning_text_and_timing() -> None:
    hours = [[sample(225, 7)] * 4 if h < 12 else [sample(225, 7)] * 3 + [sample(225, 8)]
             for h in range(25)]
    stats = _stats({"Viking": area_from_samples(hours), "Forties": uniform_area(270, 4)})
    bulletin = write_bulletin(stats, issued="2025-01-04T23:00:00Z")
    (warning,) = bulletin.gale_warnings
    assert warning.area == "Viking"
    assert warning.text == "Southwesterly gale force 8 expected later"
    assert bulletin.gale_summary == "There are warnings of gales in Viking."


def test_gale_warning_increasing_and_gusts() -> None:
    stats = _stats({"Viking": uniform_area(270, 8, later={"force": 10}),
                    "Forties": uniform_area(270, 6)})
    stats["areas"]["Forties"]["periods"]["second"]["wind"]["gust_kt"] = {"p90": 45.0}
    warnings = {w.area: w for w in write_bulletin(stats).gale_warnings}
    assert warnings["Viking"].text == (
        "Westerly gale force 8 imminent, increasing storm force 10 soon")
    assert warnings["Forties"].from_gusts and warnings["Forties"].force == 8


def test_gale_summary_forms() -> None:
    every = list(AREAS)
    assert gale_summary(every[:1], every) == "There are warnings of gales in Viking."
    assert gale_summary(every[1:], every) == (
        "There are warnings of gales in all areas except Viking.")
    assert gale_summary(every, every) == "There are warnings of gales in all areas."
    assert gale_summary([], every) == "There are no warnings of gales."
    assert gale_summary(["Fair Isle", "Viking", "Malin"], every) == (
        "There are warnings of gales in Viking, Malin and Fair Isle.")


# ---------------------------------------------------------------- bulletin and errors
def test_bulletin_text_and_json() -> None:
    bulletin = write_bulletin(random_stats(11))
    lines = bulletin.text.splitlines()
    assert lines[0].startswith("The shipping forecast issued at 00:00 (UTC) on Sun 5 Jan 2025 "
                               "for the period 00:00 (UTC) on Sun 5 Jan 2025 to 00:00 (UTC) on "
                               "Mon 6 Jan 2025.")
    assert lines[2].startswith("There are")
    assert lines[4] == "The general synopsis at midnight"
    assert lines[7] == "The area forecasts for the next 24 hours"
    data = json.loads(json.dumps(bulletin.to_dict()))
    assert data["schema"] == "fathom.shipping.bulletin/1"
    assert len(data["areas"]) == 31 and data["words"] == bulletin.words
    assert data["area_forecasts"][0]["names"] == list(bulletin.groups[0].names)


def test_bad_statistics_list_every_problem() -> None:
    with pytest.raises(DataError) as err:
        write_bulletin({"schema": "other", "areas": {"Vikng": {}}})
    message = str(err.value)
    assert "schema" in message and "run" in message and "Did you mean 'Viking'?" in message
    with pytest.raises(DataError, match="periods"):
        write_area({"periods": {"all": {}}}, "Viking")


def test_areas_without_data_are_skipped() -> None:
    stats = _stats({"Viking": uniform_area(270, 5), "Forties": uniform_area(270, 5)})
    stats["areas"]["Forties"]["cells"] = 0
    bulletin = write_bulletin(stats)
    assert [g.names for g in bulletin.groups] == [("Viking",)]
    assert bulletin.skipped and bulletin.skipped[0].startswith("Forties")


def test_wording_rejects_missing_fields() -> None:
    from fathom.errors import DomainError

    with pytest.raises(DomainError, match="main wind force"):
        wind_text(Periods.both(Direction.point("W")), Periods())
    fc = WrittenArea(write_area(uniform_area(270, 5), "Viking").fields)
    assert area_text(fc.fields) == fc.text


# ---------------------------------------------------------------- CLI
def test_cli_write_from_stats_file(tmp_path) -> None:
    from fathom.domains.shipping.cli import shipping

    path = tmp_path / "stats.json"
    path.write_text(json.dumps(random_stats(2)), encoding="utf-8")
    runner = CliRunner()
    text = runner.invoke(shipping, ["write", "--stats", str(path)])
    assert text.exit_code == 0, text.output
    assert "The area forecasts for the next 24 hours" in text.output
    as_json = runner.invoke(shipping, ["write", "--stats", str(path), "--json"])
    assert json.loads(as_json.output)["text"] == text.output
    neither = runner.invoke(shipping, ["write"])
    assert neither.exit_code == 2 and "--stats" in neither.output


def test_cli_write_from_a_model_run(tmp_path) -> None:
    """RUN path end to end: synthetic NWP files -> compute_stats -> bulletin (coarse grid)."""
    from fathom.domains.shipping.cli import shipping

    runner = CliRunner()
    made = runner.invoke(shipping, ["nwp", "--start", "2025-02-01", "--days", "1",
                                    "--runs-per-day", "1", "--resolution", "0.5",
                                    "--out", str(tmp_path), "--quiet"])
    assert made.exit_code == 0, made.output
    result = runner.invoke(shipping, ["write", str(tmp_path / "20250201T00Z"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["period"] == {"start": "2025-02-01T00:00:00Z", "end": "2025-02-02T00:00:00Z"}
    assert [n for g in data["area_forecasts"] for n in g["names"]] == list(AREAS)
    assert data["words"] <= WORD_LIMIT


# ---------------------------------------------------------------- incomplete statistics, junk bulletins
def test_an_area_with_periods_missing_is_an_error_not_dropped(tmp_path) -> None:
    from fathom.domains.shipping.cli import shipping

    stats = random_stats(3)
    del stats["areas"]["Dogger"]["periods"]["second"]
    stats["areas"]["Fisher"]["periods"] = {}
    with pytest.raises(DataError) as err:
        write_bulletin(stats)
    message = str(err.value)
    assert "Dogger, Fisher lack periods" in message and "areas.Dogger.periods.second: missing" in message
    assert "areas.Fisher.periods.all: missing" in message and "fathom shipping stats" in message
    path = tmp_path / "stats.json"
    path.write_text(json.dumps(stats), encoding="utf-8")
    result = CliRunner().invoke(shipping, ["write", "--stats", str(path)])
    assert isinstance(result.exception, DataError) and "Dogger" in str(result.exception)
    no_cells = random_stats(3)
    no_cells["areas"]["Dogger"]["cells"] = 0  # off a partial grid: still skipped, and said so
    assert write_bulletin(no_cells).skipped == ("Dogger: no grid cells",)


def test_cli_score_of_junk_warns_and_fails(tmp_path) -> None:
    from fathom.domains.shipping.cli import shipping

    junk = tmp_path / "junk.txt"
    junk.write_text("hello\nthis is not a bulletin\n", encoding="utf-8")
    good = tmp_path / "ref.txt"
    good.write_text("Viking: Southwest 5 to 7. Rough. Rain. Good.\n", encoding="utf-8")
    runner = CliRunner()
    both = runner.invoke(shipping, ["score", "--pred", str(junk), "--ref", str(junk)])
    assert both.exit_code == 1 and json.loads(both.stdout)["areas"] == 0
    assert f"no area forecast could be read from --ref {junk}" in both.stderr
    pred = runner.invoke(shipping, ["score", "--pred", str(junk), "--ref", str(good)])
    assert pred.exit_code == 1 and "--pred" in pred.stderr and "every area scores 0" in pred.stderr
    fine = runner.invoke(shipping, ["score", "--pred", str(good), "--ref", str(good)])
    assert fine.exit_code == 0 and fine.stderr == "" and json.loads(fine.stdout)["overall"]["strict"] == 1.0

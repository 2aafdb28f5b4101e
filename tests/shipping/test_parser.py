"""The parser: irregular forms and typos (docs §8), sub-period interpretation (§7), names,
bulletin layouts, unknown-phrase reporting, the whole shared file, and the ``parse`` CLI."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from click.testing import CliRunner

from fathom.cli import cli
from fathom.domains.shipping.parse._grammar import parse_field
from fathom.domains.shipping.parse._io import parse_record, read_forecasts
from fathom.domains.shipping.parse._parser import (
    canonical_name,
    expand_names,
    parse_area_body,
    parse_area_text,
    parse_bulletin,
    split_fields,
)
from fathom.domains.shipping.vocab._fields import AreaForecast


def pf(text: str, kind: str) -> dict[str, list[Any]]:
    """{track: [first main, first secondary, second main, second secondary]} in JSON form;
    fails on any unknown phrase."""
    periods, unknown = parse_field(text, kind)
    assert unknown == [], f"{text!r}: unknown {unknown}"
    out = {}
    for track, p in periods.items():
        out[track] = [None if v is None else v.to_dict() for v in
                      (p.first.main, p.first.secondary, p.second.main, p.second.secondary)]
    return out


def force(text: str) -> list[Any]:
    return pf(text, "wind")["force"]


def direction(text: str) -> list[Any]:
    return pf(text, "wind")["direction"]


# ---------------------------------------------------------------- sub-periods (§7)
def test_unqualified_value_holds_in_both_sub_periods() -> None:
    assert pf("Southwest 5 to 7.", "wind") == {"direction": ["SW", None, "SW", None],
                                               "force": [[5, 7], None, [5, 7], None]}


def test_change_target_goes_to_the_second_sub_period() -> None:
    assert direction("Southwest 5 to 7, veering west 6 to gale 8.") == ["SW", None, "W", None]
    assert force("Southwest 5 to 7, veering west 6 to gale 8.") == [[5, 7], None, [6, 8], None]
    assert force("Northwest 6 to gale 8, decreasing 4 to 6.") == [[6, 8], None, [4, 6], None]
    assert pf("Rain then showers.", "weather")["weather"] == [["rain"], None, ["showers"], None]


def test_at_first_later_and_otherwise() -> None:
    assert direction("Variable 2 to 4 at first, otherwise southerly 4 to 6.") == [
        "variable", None, "S", None]
    assert pf("Rain later.", "weather")["weather"] == [None, None, ["rain"], None]
    assert pf("Rain at first.", "weather")["weather"] == [["rain"], None, None, None]
    assert pf("Fog patches developing.", "weather")["weather"] == [None, None, ["fog"], None]


def test_direction_and_force_are_separate_tracks() -> None:
    text = "West or southwest, veering northwest later, 4 to 6."
    assert direction(text) == ["SW or W", None, "NW", None]
    assert force(text) == [[4, 6], None, [4, 6], None]


@pytest.mark.parametrize("text, expected", [
    ("Southwest 5 to 7, occasionally gale 8.", [[5, 7], [8, 8], [5, 7], [8, 8]]),
    ("Southwest 5 to 7, occasionally gale 8 later.", [[5, 7], None, [5, 7], [8, 8]]),
    ("Southwest 5 to 7, occasionally gale 8 at first.", [[5, 7], [8, 8], [5, 7], None]),
    ("Southwest 5 to 7, increasing gale 8 for a time.", [[5, 7], None, [5, 7], [8, 8]]),
    ("Southwest 5 to 7, perhaps gale 8 later.", [[5, 7], None, [5, 7], [8, 8]]),
    ("Variable 3 or less, increasing 4 at times.", [[1, 3], None, [1, 3], [4, 4]]),
    ("Southwest 5 to 7, occasionally gale 8, veering west 4 later.",
     [[5, 7], [8, 8], [4, 4], None]),
])
def test_secondary_values(text: str, expected: list[Any]) -> None:
    assert force(text) == expected


def test_spatial_qualifier_gives_a_secondary_value() -> None:
    assert force("Westerly 5 to 7, occasionally gale 8 in north.") == [
        [5, 7], [8, 8], [5, 7], [8, 8]]
    assert pf("Rough or very rough in Dover, but elsewhere very rough or high.", "sea_state")[
        "sea_state"] == [["rough", "very rough"], ["very rough", "high"]] * 2
    assert force("Cyclonic 2 to 4, increasing 5 or 6 later in northwest.") == [
        [2, 4], None, [2, 4], [5, 6]]


def test_split_area_first_part_is_main_others_secondary() -> None:
    text = "In south, southwest 5 to 7.  in north, variable 2 to 4."
    assert pf(text, "wind") == {"direction": ["SW", "variable", "SW", "variable"],
                                "force": [[5, 7], [2, 4], [5, 7], [2, 4]]}
    vis = pf("In south, good.  In north, good, occasionally poor.", "visibility")["visibility"]
    assert vis == [["good", "good"], ["poor", "poor"]] * 2


def test_mainly_and_cyclonic() -> None:
    assert direction("Cyclonic, mainly southwest, 4 to 6.") == ["cyclonic, mainly SW", None] * 2
    assert direction("Variable 2 to 4, becoming mainly west 3 to 5.") == [
        "variable", None, "W", None]
    assert pf("Mainly fair.", "weather")["weather"] == [["fair"], None] * 2


def test_weather_adjectives_qualify_the_nouns_before_them() -> None:
    assert pf("Showers, becoming wintry.", "weather")["weather"] == [
        ["showers"], None, ["showers", "wintry"], None]
    assert pf("Showers, perhaps thundery.", "weather")["weather"] == [
        ["showers"], ["showers", "thundery"]] * 2
    assert pf("Occasional rain.", "weather")["weather"] == [["rain"], None] * 2


# ---------------------------------------------------------------- irregular forms (§8)
@pytest.mark.parametrize("text, expected", [
    ("3 or 5", [3, 5]), ("3 to 4", [3, 4]), ("4 to 5", [4, 5]), ("4 to 7", [4, 7]),
    ("7 to gale 9", [7, 9]), ("gale 7 to severe gale 9", [7, 9]), ("gale 6 to gale 8", [6, 8]),
    ("gale 8 to storm 10", [8, 10]), ("gale to storm 10", [8, 10]),
    ("storm 10 to hurricane 12", [10, 12]), ("storm 10 to hurricane force 12", [10, 12]),
    ("severe gale 9 to violent storm 11", [9, 11]), ("7 or gale 8", [7, 8]),
    ("3 or less", [1, 3]), ("gale  8", [8, 8]),
])
def test_irregular_force_forms(text: str, expected: list[int]) -> None:
    assert force(f"West {text}.")[0] == expected


def test_cyclonic_gale_range() -> None:
    assert pf("Cyclonic 8 to storm 10.", "wind") == {
        "direction": ["cyclonic", None] * 2, "force": [[8, 10], None] * 2}


@pytest.mark.parametrize("text, kind, main", [
    ("cyclonc 4 to 6", "wind", "cyclonic"),
    ("soutwesterly 4 to 6", "wind", "SW"),
    ("South-westerly 4 to 6", "wind", "SW"),
    ("Smooth ot slight", "sea_state", ["smooth", "slight"]),
    ("roug", "sea_state", ["rough", "rough"]),
    ("morate or rough", "sea_state", ["moderate", "rough"]),
    ("smoot or slight", "sea_state", ["smooth", "slight"]),
    ("Slight or moderat", "sea_state", ["slight", "moderate"]),
    ("Sligh tor moderate", "sea_state", ["slight", "moderate"]),
    ("Very rough to high", "sea_state", ["very rough", "high"]),
    ("Rain orthundery showers", "weather", ["rain", "showers", "thundery"]),
    ("Occasionalthundery rain", "weather", ["rain", "thundery"]),
    ("Raina nd drizzle", "weather", ["rain", "drizzle"]),
    ("Rain oss.", "weather", ["rain", "showers"]),
    ("Mgood", "visibility", ["good", "good"]),
    ("Goodm.", "visibility", ["good", "good"]),
    ("Goo.", "visibility", ["good", "good"]),
    ("Goodbight.", "visibility", ["good", "good"]),
    ("Mdo to very poor", "visibility", ["very poor", "moderate"]),
])
def test_typo_families(text: str, kind: str, main: Any) -> None:
    track = {"wind": "direction"}.get(kind, kind)
    assert pf(text, kind)[track][0] == main


@pytest.mark.parametrize("text", ["3 ot 5", "3 to 5"])
def test_ot_for_to(text: str) -> None:
    assert force(f"West {text}")[0] == [3, 5]
    assert force("West 6 ot gale 8")[0] == [6, 8]


def test_typo_timing_words() -> None:
    assert force("West 4 to 6, occasionally 7 late.") == [[4, 6], None, [4, 6], [7, 7]]
    assert direction("West 4 to 6, benoming variable 3 later.") == ["W", None, "variable", None]
    assert force("West 4 to 6, increasing 7 for at ime.") == [[4, 6], None, [4, 6], [7, 7]]
    assert force("West 4 to 6, occasionally 7 at firs.") == [[4, 6], [7, 7], [4, 6], None]


@pytest.mark.parametrize("text", [
    "Good occasionally poor", "Good, occasionally poor", "Good,  occasionally  poor.",
    "Good, occasionally poor..", "good, occasionally poor ", "Good, occasional poor.",
])
def test_punctuation_and_spacing_variants(text: str) -> None:
    assert pf(text, "visibility")["visibility"] == [["good", "good"], ["poor", "poor"]] * 2


def test_icing_inside_visibility() -> None:
    fc = parse_area_text("North 7.", "Rough.", "Snow showers.",
                         "Moderate to very poor. Light icing.")
    assert fc.complete()
    assert fc.visibility.first.main.words == ("very poor", "moderate")
    assert fc.icing is not None and fc.icing.first.main.words == ("light", "light")


# ---------------------------------------------------------------- unknown phrases
def test_unknown_phrases_are_reported_never_dropped() -> None:
    fc = parse_area_text("Southwest 5 to 7, blustery at times.", "Moderate, choppy.", "Rain.",
                         "Good.")
    assert fc.unknown == ("blustery", "choppy")
    assert not fc.complete()
    assert fc.force.first.main.to_dict() == [5, 7]


def test_missing_field_and_misplaced_words() -> None:
    fc = parse_area_text("2 to 4.", "Slight or moderate.", "Showers.", "Good.")
    assert fc.missing() == ["direction"] and fc.unknown == ()
    fc = parse_area_text("West 4.", "Moderate or good.", "Rain.", "Good.")  # a visibility word
    assert fc.unknown == ("good",)


# ---------------------------------------------------------------- names
def test_names() -> None:
    assert canonical_name("Fitzroy") == canonical_name("FITZROY") == "FitzRoy"
    assert canonical_name("South-east Iceland") == "Southeast Iceland"
    assert canonical_name("East Southeast Iceland") == "East Southeast Iceland"
    assert canonical_name("west Dogger") == "West Dogger"
    assert canonical_name("Trafalgar (issued 0015 UTC)") == "Trafalgar"
    assert canonical_name("Finisterre") == "FitzRoy"
    assert canonical_name("Heligoland") == "German Bight"
    assert canonical_name("Atlantis") is None
    assert expand_names(["Northeast Forties", "the Utsires", "Fair Isle"]) == (
        "North Utsire", "South Utsire", "Forties", "Fair Isle")


# ---------------------------------------------------------------- layouts
def test_writer_form_bulletin() -> None:
    text = ("The area forecasts for the next 24 hours\n"
            "Viking, North Utsire. Southwest 5 to 7, occasionally gale 8 later. Moderate or rough. "
            "Rain later. Good, occasionally poor.\n"
            "South Utsire. West 6. Rough. Showers. Good.\n")
    fcs = parse_bulletin(text)
    assert [fc.names for fc in fcs] == [("Viking", "North Utsire"), ("South Utsire",)]
    assert all(fc.complete() for fc in fcs)
    assert fcs[0].weather.first.main is None and fcs[0].weather.second.main.to_dict() == ["rain"]


def test_print_form_bulletin_with_heading_lines_split_areas_and_gale_section() -> None:
    text = """The shipping forecast issued at 05:05 (UTC).
There are warnings of gales in Forth.
The general synopsis at midnight
Low Rockall 985 expected Fair Isle 979 by midnight tonight
The area forecasts for the next 24 hours
Forth, Tyne, West Dogger

{forth}
Trafalgar (issued 0015 UTC)

In south, northerly 3 to 5.  In north, variable 2 to 4. Moderate. Fair. Good.
Gale warnings

Forth, issued: 21:58 (UTC) on Fri 6 Dec 2024
Gale force 8 backing northerly soon
""".format(forth="Cyclonic 4 to 6 becoming northerly 7 to severe gale 9, occasionally storm 10 in "
                 "Forth and Tyne. Moderate or rough becoming rough or very rough. Rain or showers. "
                 "Good, occasionally poor")
    fcs = parse_bulletin(text)
    assert [fc.names for fc in fcs] == [("Forth", "Tyne", "West Dogger"), ("Trafalgar",)]
    assert all(fc.complete() for fc in fcs), [fc.unknown for fc in fcs]
    assert fcs[0].force.second.secondary.to_dict() == [10, 10]
    assert fcs[1].direction.first.to_dict() == {"main": "N", "secondary": "variable"}


def test_area_body_with_colon_heading_and_extra_sentence() -> None:
    fc = parse_area_body("Fair Isle: Variable 3. Smooth. Fair. Good. Have a nice day.")
    assert fc.names == ("Fair Isle",)
    assert fc.unknown == ("Have a nice day.",)
    fields, _icing, extra = split_fields("West 5. Rough. Good.")
    assert fields["weather"] == "" and fields["visibility"] == "Good." and not extra


def test_xml_per_area_items_expand_to_one_forecast_per_area() -> None:
    item = {"wind": "West 6.", "sea_state": "Rough.", "weather": "Rain.", "visibility": "Good."}
    record = {"areas": [{"names": ["Humber", "Thames"], **item,
                         "per_area": [{"main": "Humber", "sub": "", **item},
                                      {"main": "Thames", "sub": "", **item}]}]}
    assert [fc.names for fc in parse_record(record)] == [("Humber",), ("Thames",)]
    assert [fc.names for fc in parse_record(record, per_area=False)] == [("Humber", "Thames")]


def test_structured_json_round_trips_through_read_forecasts(tmp_path) -> None:
    fcs = parse_bulletin("Viking: West 6. Rough. Rain. Good.\nSole: East 4. Slight. Fair. Good.")
    path = tmp_path / "fc.jsonl"
    path.write_text("\n".join(json.dumps(fc.to_dict()) for fc in fcs) + "\n")
    assert read_forecasts(path) == fcs
    path = tmp_path / "writer.json"
    path.write_text(json.dumps({"areas": {fc.names[0]: fc.to_dict() for fc in fcs}}))
    assert read_forecasts(path) == fcs


# ---------------------------------------------------------------- the whole shared file
def test_at_least_99_5_percent_of_the_real_area_forecasts_parse(shared_file: Any) -> None:
    path = shared_file("data/shipping/real_bulletins.jsonl")
    start = time.perf_counter()
    entries = failures = 0
    listed = []
    expanded = 0
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            expanded += len(parse_record(record))
            for fc, entry in zip(parse_record(record, per_area=False), record["areas"],
                                 strict=True):
                entries += 1
                if not fc.complete():
                    failures += 1
                    shown = [u[:40] for u in fc.unknown[:4]]
                    more = f" (+{len(fc.unknown) - 4})" if len(fc.unknown) > 4 else ""
                    listed.append(f"{entry['names']}: unknown={shown}{more} "
                                  f"missing={fc.missing()}")
    assert entries == 18959 and expanded == 19023
    rate = 1 - failures / entries
    print(f"\n{entries - failures}/{entries} parse ({rate:.4%}) in "
          f"{time.perf_counter() - start:.1f} s; failures:\n" + "\n".join(listed))
    assert rate >= 0.995, "\n".join(listed)


def test_real_print_page_parses(capsys: pytest.CaptureFixture[str], shared_file: Any) -> None:
    path = shared_file("data/shipping/real_bulletins.jsonl")
    with open(path, encoding="utf-8") as fh:
        record = next(r for r in map(json.loads, fh) if r["source_format"].startswith(
            "metoffice-print"))
    fcs = parse_bulletin(record["raw_text"])
    assert [fc.names for fc in fcs] == [tuple(a["names"]) for a in record["areas"]]
    assert all(fc.complete() for fc in fcs)
    by_fields = parse_record(record)
    assert [fc.field("force") for fc in fcs] == [fc.field("force") for fc in by_fields]


# ---------------------------------------------------------------- CLI
def test_cli_parse_prints_one_json_object_per_area(tmp_path) -> None:
    path = tmp_path / "bulletin.txt"
    path.write_text("Viking, North Utsire. Southwest 5 to 7. Rough. Rain. Good.\n"
                    "Forties. West 6, gusty. Rough. Rain. Good.\n")
    result = CliRunner().invoke(cli, ["shipping", "parse", str(path)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["names"] for r in rows] == [["Viking", "North Utsire"], ["Forties"]]
    for row in rows:
        assert {"names", "direction", "force", "sea_state", "weather", "visibility",
                "unknown"} <= set(row)
        AreaForecast.from_dict(row)
    assert rows[1]["unknown"] == ["gusty"]
    assert "2 area forecasts; 1 (50.00%)" in result.stderr

    failures = CliRunner().invoke(cli, ["shipping", "parse", "--failures", str(path)])
    assert [json.loads(line)["names"] for line in failures.stdout.splitlines()] == [["Forties"]]


def test_cli_parse_reads_the_json_lines_layout(tmp_path) -> None:
    path = tmp_path / "real.jsonl"
    entry = {"names": ["Sole"], "wind": "East 4.", "sea_state": "Slight.", "weather": "Fair.",
             "visibility": "Good."}
    path.write_text(json.dumps({"areas": [entry]}) + "\n")
    result = CliRunner().invoke(cli, ["shipping", "parse", str(path)])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["force"]["first"]["main"] == [4, 4]
    path.write_text("{not json\n")
    bad = CliRunner().invoke(cli, ["shipping", "parse", str(path)])
    assert bad.exit_code != 0 and "not valid JSON" in str(bad.exception)

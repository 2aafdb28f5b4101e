"""The general synopsis: tracking pressure centres, placing them, wording their movement."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from fathom.domains.shipping.writer._places import distance_nm, position_words
from fathom.domains.shipping.writer._synopsis import (
    parse_time,
    speed_words,
    time_words,
    track_centres,
    write_synopsis,
)
from fathom.errors import DataError

T0 = datetime(2025, 1, 5, tzinfo=UTC)


def _track(lat: float, lon: float, hpa: float, *, speed_kn: float, heading: float,
           kind: str = "low", dp: float = 0.0, hours: range = range(25),
           t0: datetime = T0) -> list[dict]:
    """Hourly centres moving at ``speed_kn`` towards ``heading`` (degrees)."""
    out = []
    for h in hours:
        d = speed_kn * h / 60.0  # degrees of latitude travelled
        out.append({"time": (t0 + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "kind": kind,
                    "lat": lat + d * math.cos(math.radians(heading)),
                    "lon": lon + d * math.sin(math.radians(heading)) / math.cos(math.radians(lat)),
                    "hpa": hpa + dp * h})
    return out


def _stats(centres: list[dict], t0: datetime = T0, hours: int = 24) -> dict:
    return {"run": {"start": t0.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "end": (t0 + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")},
            "pressure_centres": centres}


def test_deep_low_moving_northeast_oracle() -> None:
    # 968 hPa low west of Ireland moving north-east at 20 kn: "steadily northeast".
    synopsis = write_synopsis(_stats(_track(52.0, -14.0, 968.0, speed_kn=20.0, heading=45.0)))
    (system,) = synopsis.systems
    assert system.moving == "steadily northeast"
    assert system.text.startswith("Low Shannon 968 moving steadily northeast, expected ")
    assert system.text.endswith(" 968 by midnight tonight")
    assert synopsis.heading == "The general synopsis at midnight"


@pytest.mark.parametrize(("speed", "word"), [
    (10, "slowly"), (20, "steadily"), (30, "rather quickly"), (40, "rapidly"),
    (50, "very rapidly")])
def test_movement_speed_words(speed: float, word: str) -> None:
    synopsis = write_synopsis(_stats(_track(45.0, -25.0, 990.0, speed_kn=speed, heading=0.0)))
    assert synopsis.systems[0].moving == f"{word} north"


def test_speed_word_boundaries() -> None:
    assert [speed_words(k) for k in (14.9, 15, 24.9, 25, 35, 45, 45.1)] == [
        "slowly", "steadily", "steadily", "rather quickly", "rapidly", "rapidly", "very rapidly"]


def test_tracks_link_nearest_centres_not_by_list_order() -> None:
    a = _track(50.0, -20.0, 990.0, speed_kn=20.0, heading=90.0)
    b = _track(60.0, -20.0, 1000.0, speed_kn=20.0, heading=90.0)
    # interleave and reverse the order within each time, so list order cannot pair them
    centres = [c for pair in zip(b, a, strict=True) for c in pair]
    tracks = sorted(track_centres(centres), key=lambda t: t.first.lat)
    assert len(tracks) == 2
    assert all(len(t.fixes) == 25 for t in tracks)
    assert {round(f.lat) for f in tracks[0].fixes} == {50}
    assert round(tracks[0].speed_kn) == 20 and tracks[0].heading == "E"


def test_new_lost_deepening_and_same_time() -> None:
    main = _track(57.0, -13.0, 985.0, speed_kn=20.0, heading=45.0, dp=-0.5)  # deepens 12 hPa
    new = _track(47.0, -8.0, 1004.0, speed_kn=5.0, heading=90.0, hours=range(10, 25))
    lost = _track(51.0, -12.0, 1008.0, speed_kn=5.0, heading=0.0, hours=range(0, 12))
    high = _track(46.0, 2.0, 1030.0, speed_kn=2.0, heading=0.0, kind="high")
    text = write_synopsis(_stats(main + new + lost + high)).text
    sentences = text.split(". ")
    assert sentences[0].startswith(
        "Low Rockall 985 deepening, moving steadily northeast, expected ")
    assert sentences[1].startswith("New low expected ") and sentences[1].endswith("by same time")
    assert sentences[2] == "Low Shannon 1008 losing its identity"
    assert sentences[3].startswith("High France 1030") and text.endswith("by same time.")


def test_short_lived_and_weak_systems_are_left_out() -> None:
    blip = _track(55.0, -10.0, 995.0, speed_kn=10.0, heading=0.0, hours=range(3))
    weak = _track(55.0, -20.0, 1015.0, speed_kn=10.0, heading=0.0)
    assert write_synopsis(_stats(blip + weak)).text == "No significant pressure systems."


def test_midday_run_time_words() -> None:
    t0 = T0.replace(hour=12)
    synopsis = write_synopsis(_stats(_track(55.0, -14.0, 980.0, speed_kn=10.0, heading=90.0,
                                            t0=t0), t0=t0))
    assert synopsis.heading == "The general synopsis at midday"
    assert synopsis.text.endswith("by midday tomorrow.")
    assert time_words(parse_time("2025-01-06T06:00:00Z"), T0) == "0600 tomorrow"
    assert time_words(parse_time("2025-01-05T18:00:00Z"), T0) == "1800 today"
    assert time_words(parse_time("2025-01-07T06:00:00Z"), T0) == "0600 Tuesday"


@pytest.mark.parametrize(("lat", "lon", "words"), [
    (57.0, -13.0, "Rockall"),
    (59.5, 2.0, "Viking"),
    (64.8, -18.0, "Iceland"),
    (60.2, 8.8, "southern Norway"),
    (47.0, 2.0, "France"),
    (54.5, -7.0, "northern Ireland"),
    (60.5, -20.0, "150 miles west of Bailey"),
    (59.8, -15.7, "just west of Bailey"),
])
def test_position_words(lat: float, lon: float, words: str) -> None:
    assert position_words(lat, lon) == words


def test_distance_is_great_circle_nautical_miles() -> None:
    assert distance_nm(0.0, 0.0, 0.0, 1.0) == pytest.approx(60.0, rel=0.002)


def test_bad_centres_are_reported() -> None:
    with pytest.raises(DataError) as err:
        write_synopsis(_stats([{"time": "2025-01-05T00:00:00Z", "kind": "trough", "lat": 1,
                                "lon": 1, "hpa": 1000}, {"kind": "low"}]))
    assert "'trough' is not 'low' or 'high'" in str(err.value)
    assert "pressure_centres[1]" in str(err.value)
    with pytest.raises(DataError, match="run"):
        write_synopsis({"pressure_centres": []})

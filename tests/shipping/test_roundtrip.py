"""Acceptance: parsing the writer's text gives back exactly the writer's structured fields.

``parse(writer_text) == writer_fields`` on more than 1,000 area forecasts written from seeded,
randomised but plausible statistics, on the merged groups and whole bulletins made from them, and
on randomly combined canonical field values (which reach wording paths the statistics rarely do).
"""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from fathom.domains.shipping.parse._parser import parse_bulletin
from fathom.domains.shipping.vocab._fields import AreaForecast, Direction, Force, SeaState, Visibility
from fathom.domains.shipping.vocab._vocab import AREAS, POINTS
from fathom.domains.shipping.writer._area import (
    WrittenArea,
    class_periods,
    direction_periods,
    force_periods,
    weather_periods,
    write_area,
)
from fathom.domains.shipping.writer._bulletin import write_bulletin
from fathom.domains.shipping.writer._samples import random_stats
from fathom.domains.shipping.writer._wording import WEATHER_SETS

N_BULLETINS = 33  # x 31 areas = 1,023 area forecasts


@pytest.fixture(scope="module")
def bulletins() -> list:
    out = []
    for seed in range(N_BULLETINS):
        start = f"2025-0{1 + seed % 9}-1{seed % 10}T{'00' if seed % 2 else '12'}:00:00Z"
        stats = random_stats(1000 + seed, start=start, waves=seed % 3 != 0,
                             visibility=seed % 4 != 0, steps=False)
        out.append(write_bulletin(stats))
    return out


def _mismatches(written: list[WrittenArea]) -> list[str]:
    bad = []
    for area in written:
        parsed = parse_bulletin(area.text)
        if parsed != [area.fields]:
            got = parsed[0].to_dict() if len(parsed) == 1 else f"{len(parsed)} forecasts"
            bad.append(f"{area.text}\n  writer: {area.fields.to_dict()}\n  parser: {got}")
    return bad


def test_round_trip_on_1000_synthetic_area_forecasts(bulletins: list) -> None:
    areas = [a for b in bulletins for a in b.areas]
    assert len(areas) >= 1000
    bad = _mismatches(areas)
    assert not bad, f"{len(bad)} of {len(areas)} differ; first:\n" + "\n".join(bad[:3])
    # the statistics reach the writer's wording paths
    phrases = Counter(p for a in areas for p in re.findall(
        r"veering|backing|becoming|increasing|decreasing|occasionally|occasional|at first|later|"
        r"cyclonic|variable|or less|fog patches|then|gale", a.text.lower()))
    assert all(phrases[p] >= 5 for p in (
        "veering", "backing", "becoming", "increasing", "decreasing", "occasionally",
        "occasional", "at first", "later", "cyclonic", "variable", "or less", "fog patches",
        "then", "gale")), phrases


def test_round_trip_on_merged_groups_and_whole_bulletins(bulletins: list) -> None:
    groups = [g for b in bulletins for g in b.groups]
    assert not _mismatches(groups)
    for bulletin in bulletins:
        assert parse_bulletin(bulletin.text) == [g.fields for g in bulletin.groups]


def _random_forecast(rng: random.Random) -> WrittenArea:
    """Canonical fields combined at random through the writer's own shape builders."""
    def direction() -> Direction:
        kind = rng.choice(("point", "point", "pair", "variable", "cyclonic"))
        i = rng.randrange(8)
        if kind == "point":
            return Direction.point(POINTS[i])
        if kind == "pair":
            return Direction.point(POINTS[i], POINTS[(i + 1) % 8])
        return Direction(kind)

    def ranged(cls: type, n: int, width: int, lo_min: int = 0) -> tuple:
        lo = rng.randrange(lo_min, n)
        main = cls(lo, min(n - 1, lo + rng.randrange(width)))
        tail = None
        if rng.random() < 0.4:
            tail = cls(rng.randrange(n))
        return main, tail

    def pair(cls: type, n: int, width: int, lo_min: int = 0) -> tuple:
        first = ranged(cls, n, width, lo_min)
        second = first if rng.random() < 0.5 else ranged(cls, n, width, lo_min)
        return (*first, *second)

    d1 = direction()
    d2 = d1 if rng.random() < 0.5 else direction()
    wet = list(WEATHER_SETS)
    b1 = rng.choice(wet)
    b2 = b1 if rng.random() < 0.5 else rng.choice(wet)
    g1, g2 = rng.random() < 0.2, rng.random() < 0.2
    fields = AreaForecast(
        names=tuple(rng.sample(AREAS, rng.randrange(1, 4))),
        direction=direction_periods(d1, d2),
        force=force_periods(*pair(Force, 13, 4, lo_min=1)),
        sea_state=class_periods(*pair(SeaState, 8, 3), below=False),
        weather=weather_periods(b1, b2, g1, g2),
        visibility=class_periods(*pair(Visibility, 4, 3), below=True))
    return WrittenArea(fields, occasional=rng.random() < 0.3)


def test_round_trip_on_random_canonical_fields() -> None:
    rng = random.Random(7)
    forecasts = []
    for _ in range(1500):
        fc = _random_forecast(rng)
        names = sorted(fc.names, key=AREAS.index)
        forecasts.append(WrittenArea(fc.fields.with_names(names), fc.occasional))
    bad = _mismatches(forecasts)
    assert not bad, f"{len(bad)} of {len(forecasts)} differ; first:\n" + "\n".join(bad[:3])


def test_single_area_round_trip_without_heading() -> None:
    stats = random_stats(3, steps=False)
    area = write_area(stats["areas"]["Viking"])
    assert area.names == ()
    assert parse_bulletin(f"Viking. {area.text}") == [area.fields.with_names(("Viking",))]

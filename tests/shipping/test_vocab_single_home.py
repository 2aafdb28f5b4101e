"""One home for each scale: the statistics, writer, parser, scorer, prompt and the demo task use the
vocabulary's own objects (``fathom.domains.shipping.vocab``), never a copy of their own.

Two kinds of check, both of which the old code failed (the statistics re-declared the knot as
1852/3600 m/s while the vocabulary said 0.514444, and their own Beaufort, sea-state, compass and
visibility tables; the demo had its own sea-state scale):

* by introspection: every module-level value in those modules that looks like one of the
  vocabulary's scales (a float within 0.1% of one, a tuple of 3+ numbers all found in one, a tuple
  of its words or a dict keyed by them) must *be* that scale (``is``), or be derived from it exactly;
* by behaviour: what the statistics bin with (Beaufort force, compass sector, sea state,
  visibility thresholds) and the demo's word for a height agree with the vocabulary's functions
  at every boundary, including a wind speed that the two knot precisions put in different forces.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import xarray as xr

import fathom._sea_state as core_scale
import fathom.domains.shipping.vocab as vocab
import fathom.train._demo as demo
from fathom.domains.shipping.stats import StatsOptions, compute_stats

CONSUMERS = ("stats", "writer", "parse", "score", "lm", "reader", "areas")
"""The shipping sub-packages whose modules must hold no copy of a vocabulary fact."""

SCALES = ("AREAS", "BEAUFORT_KNOTS", "KNOT_MS", "NAUTICAL_MILE_M", "POINTS", "POINT_ADJECTIVES", "POINT_DEGREES",
          "POINT_NOUNS",
          "SEA_STATES", "SEA_STATE_UPPER_M", "VISIBILITY", "VISIBILITY_LOWER_M")
FACTS: dict[str, Any] = {name: getattr(vocab, name) for name in SCALES}


def _modules() -> list[ModuleType]:
    found = [demo]
    for package in CONSUMERS:
        pkg = importlib.import_module(f"fathom.domains.shipping.{package}")
        found.append(pkg)
        for info in pkgutil.iter_modules(pkg.__path__, prefix=f"{pkg.__name__}."):
            found.append(importlib.import_module(info.name))
    return found


def _numbers(value: Any) -> list[float] | None:
    if isinstance(value, tuple) and value and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                  for v in value):
        return [float(v) for v in value]
    return None


def _words(value: Any) -> set[str] | None:
    if isinstance(value, tuple) and value and all(isinstance(v, str) for v in value):
        return set(value)
    return None


def _looks_like(value: Any, fact: Any) -> bool:
    """Whether ``value`` would be a copy (exact or drifted) of the vocabulary's ``fact``."""
    if isinstance(value, float) and isinstance(fact, float):
        return math.isclose(value, fact, rel_tol=1e-3)
    nums, fact_nums = _numbers(value), _numbers(fact)
    if nums is not None and fact_nums is not None and len(nums) >= 3:
        return all(any(math.isclose(v, f, rel_tol=1e-3, abs_tol=1e-9) for f in fact_nums) for v in nums)
    words, fact_words = _words(value), _words(fact)  # the whole list of words (a subset is another fact)
    if words is not None and fact_words is not None and len(words) >= 3:
        return words == fact_words
    if isinstance(value, dict) and fact_words is not None and len(value) >= 3:
        return set(value) == fact_words
    if isinstance(value, dict) and isinstance(fact, dict) and len(value) >= 3:
        return set(value) == set(fact) and all(isinstance(v, str) for v in value.values())
    return False


def _derived_exactly(value: Any, fact: Any) -> bool:
    """A lookup built from the fact, e.g. ``{word: index for index, word in enumerate(SEA_STATES)}``."""
    return (isinstance(value, dict) and isinstance(fact, tuple)
            and value == {w: i for i, w in enumerate(fact) if w in value} and list(value) == [w for w in fact
                                                                                            if w in value])


def copies(modules: list[ModuleType]) -> list[str]:
    """``module.NAME looks like vocab.FACT`` for every module-level copy of a vocabulary fact."""
    out = []
    for module in modules:
        for name, value in vars(module).items():
            if name.startswith("__") or isinstance(value, (ModuleType, type, bool)) or callable(value):
                continue
            if any(value is fact for fact in FACTS.values()):  # imported from the vocabulary
                continue
            for fact_name, fact in FACTS.items():
                if _looks_like(value, fact) and not _derived_exactly(value, fact):
                    out.append(f"{module.__name__}.{name} looks like vocab.{fact_name}")
            if isinstance(value, dict):  # unit tables: a knot or a nautical mile among the factors
                for key, factor in value.items():
                    for fact_name, fact in FACTS.items():
                        if isinstance(factor, float) and isinstance(fact, float) and factor is not fact \
                                and math.isclose(factor, fact, rel_tol=1e-3):
                            out.append(f"{module.__name__}.{name}[{key!r}] looks like vocab.{fact_name}")
    return out


def test_no_consumer_holds_a_copy_of_a_vocabulary_fact() -> None:
    assert copies(_modules()) == []


def test_the_check_catches_the_old_copies() -> None:
    """The statistics' old tables (with the other knot precision) and the demo's old scale are flagged."""
    old = ModuleType("old_stats_summary")
    vars(old).update(
        KNOT_MS=0.514444,
        BEAUFORT_KT=(0.0, 1.0, 4.0, 7.0, 11.0, 17.0, 22.0, 28.0, 34.0, 41.0, 48.0, 56.0, 64.0),
        SEA_STATE_M=(0.5, 1.25, 2.5, 4.0, 6.0, 9.0, 14.0),
        SEA_CLASSES=("smooth", "slight", "moderate", "rough", "very rough", "high", "very high", "phenomenal"),
        DIR8=("N", "NE", "E", "SE", "S", "SW", "W", "NW"),
        VIS_M=(1000.0, 2.0 * 1852.0, 5.0 * 1852.0),
        SPEED={"kt": 1852.0 / 3600.0},
    )
    found = copies([old])
    for name in ("KNOT_MS", "BEAUFORT_KT", "SEA_STATE_M", "SEA_CLASSES", "DIR8", "VIS_M", "SPEED['kt']"):
        assert any(line.startswith(f"old_stats_summary.{name} ") for line in found), (name, found)


def test_the_demo_and_the_vocabulary_share_the_core_scale() -> None:
    assert vocab.SEA_STATES is core_scale.SEA_STATES and vocab.SEA_STATE_UPPER_M is core_scale.SEA_STATE_UPPER_M
    held = list(vars(demo).values())  # the demo builds its table from these very objects, not a list of its own
    assert any(v is vocab.SEA_STATES for v in held) and any(v is vocab.SEA_STATE_UPPER_M for v in held)
    assert tuple(w for w, _ in demo.SEA_STATES) == vocab.SEA_STATES
    assert tuple(u for _, u in demo.SEA_STATES[:-1]) == vocab.SEA_STATE_UPPER_M
    heights = sorted({*vocab.SEA_STATE_UPPER_M, *(b - 0.01 for b in vocab.SEA_STATE_UPPER_M), 0.0, 19.99})
    assert [demo.sea_state_word(h) for h in heights] == [vocab.SEA_STATES[vocab.sea_state_class(h)]
                                                         for h in heights]


def test_the_knot_is_exact() -> None:
    assert vocab.KNOT_MS == vocab.NAUTICAL_MILE_M / 3600.0


# ---------------------------------------------------------------- what the statistics bin with

_LAT = np.arange(58.5, 61.0 + 1e-9, 0.25)
_LON = np.arange(0.0, 5.0 + 1e-9, 0.25)  # inside Viking: one uniform value per step fills the area


def _run(**per_step: list[float]) -> list[dict[str, Any]]:
    """Viking's per-step summaries of a run whose fields are uniform in space, one value per step."""
    steps = len(next(iter(per_step.values())))
    times = np.datetime64("2025-01-05T00", "ns") + np.arange(steps) * np.timedelta64(1, "h")
    base = {"u10": [0.0] * steps, "v10": [0.0] * steps, "msl": [1013.0] * steps, "precip_rate": [0.0] * steps}
    base.update(per_step)
    shape = (steps, _LAT.size, _LON.size)
    data = {k: (("time", "lat", "lon"), np.broadcast_to(np.asarray(v, dtype=np.float64)[:, None, None], shape).copy())
            for k, v in base.items()}
    ds = xr.Dataset(data, coords={"time": times, "lat": _LAT, "lon": _LON}, attrs={"sources": ["synthetic"]})
    summaries: list[dict[str, Any]] = compute_stats(ds, options=StatsOptions(allow_partial=True))["areas"]["Viking"][
        "steps"]
    return summaries


def _one_hot(shares: list[float]) -> int:
    assert sorted(shares)[-1] == 1.0 and sum(shares) == 1.0, shares
    return shares.index(1.0)


def test_stats_beaufort_bins_are_the_vocabulary_s() -> None:
    # 17.4911 m/s is 34.00001 kt at 0.514444 m/s per knot (gale 8) but 33.99998 kt at 1852/3600 (7)
    speeds = [b * vocab.KNOT_MS for b in vocab.BEAUFORT_KNOTS] + [b * vocab.KNOT_MS - 1e-6 for b in
                                                                  vocab.BEAUFORT_KNOTS[1:]] + [17.4911, 17.4912]
    steps = _run(u10=speeds)
    assert [_one_hot(s["wind"]["beaufort"]) for s in steps] == [vocab.beaufort_from_ms(v) for v in speeds]
    assert vocab.beaufort_from_ms(17.4911) == 7 and vocab.beaufort_from_ms(17.4912) == 8


def test_stats_compass_sectors_are_the_vocabulary_points() -> None:
    degrees = [45.0 * i for i in range(8)]  # wind blowing from each point in turn
    u = [-10.0 * math.sin(math.radians(d)) for d in degrees]
    v = [-10.0 * math.cos(math.radians(d)) for d in degrees]
    steps = _run(u10=u, v10=v)
    assert [list(s["wind"]["dir8"]) for s in steps] == [list(vocab.POINTS)] * 8
    assert [vocab.POINTS[_one_hot(list(s["wind"]["dir8"].values()))] for s in steps] == list(vocab.POINTS)


def test_stats_sea_state_classes_are_the_vocabulary_s() -> None:
    heights = [0.0, *vocab.SEA_STATE_UPPER_M, *(b - 1e-6 for b in vocab.SEA_STATE_UPPER_M), 20.0]
    steps = _run(swh=heights)
    assert [_one_hot(s["sea"]["classes"]) for s in steps] == [vocab.sea_state_class(h) for h in heights]


@pytest.mark.parametrize("offset", [0.0, -1e-6, 1e-6])
def test_stats_visibility_thresholds_are_the_vocabulary_s(offset: float) -> None:
    bounds = vocab.VISIBILITY_LOWER_M[1:]  # poor, moderate and good start here
    values = [b + offset for b in bounds]
    steps = _run(vis=values)
    got: list[list[float]] = [[s["vis"][k] for k in ("lt_1000m", "lt_2nm", "lt_5nm")] for s in steps]
    assert got == [[1.0 if x < b else 0.0 for b in bounds] for x in values]
    # below each bound means the vocabulary's class below it (5 nm exactly is moderate in both)
    assert [vocab.visibility_class(x) for x in values] == [sum(x >= b for b in bounds[:2]) + (x > bounds[2])
                                                           for x in values]

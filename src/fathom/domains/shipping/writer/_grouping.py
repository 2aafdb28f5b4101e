"""Grouping area forecasts: merge neighbours in broadcast order and keep within the word limit.

Covers: the plain merge (consecutive areas whose forecasts are identical share one heading, as
the Met Office does) and, when the area forecasts are still longer than :data:`WORD_LIMIT` words,
two covering steps, taken cheapest (per word saved) first until the text fits:

* the covering merge: two neighbouring groups are joined under a wording that covers both
  (force and class ranges widened to span both, "occasionally" values kept where they still
  lie outside, weather types united, adjacent directions said as "X or Y", other directions by
  their area-weighted mean);
* flattening: one field of a group is said once for the whole period, covering both halves
  (a change or an "at first"/"later" dropped).

Groups are always consecutive runs in broadcast order.

Closeness (:func:`merge_cost`) counts how far the covering wording moves from each group's own,
in classes (forces, sea-state and visibility classes, weather types, 45 degree steps), plus 2 for
each class a range grows beyond the regular widths ("4 to 6", "moderate or rough"), weighted by
the number of areas it is said for.

Not covered: the wording itself (``writer/_wording.py``) and the bulletin around it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from fathom.domains.shipping.vocab import POINTS, AreaForecast, Direction, Periods
from fathom.domains.shipping.writer._area import (
    WrittenArea,
    class_periods,
    direction_periods,
    weather_parts,
    weather_periods,
)
from fathom.domains.shipping.writer._wording import WEATHER_SETS, word_count

__all__ = ["WORD_LIMIT", "cover", "fit_words", "flatten", "group_areas", "merge_cost",
           "merge_identical", "words"]

WORD_LIMIT = 380
"""Most words the area forecasts may take (the 0048 broadcast, docs §1), headings included."""


def words(groups: Sequence[WrittenArea]) -> int:
    """Words of the area forecasts, headings included."""
    return sum(word_count(g.text) for g in groups)


def merge_identical(areas: Sequence[WrittenArea]) -> list[WrittenArea]:
    """Join consecutive areas (or groups) that say the same thing under one heading."""
    out: list[WrittenArea] = []
    for area in areas:
        if out and out[-1].same_forecast(area):
            prev = out[-1]
            out[-1] = WrittenArea(prev.fields.with_names(prev.names + area.names), prev.occasional)
        else:
            out.append(area)
    return out


# ---------------------------------------------------------------- covering values
def _cover_direction(a: Direction, b: Direction, na: int, nb: int) -> Direction:
    if a == b:
        return a
    if "cyclonic" in (a.kind, b.kind):
        return Direction("cyclonic")
    if a.kind == "variable" or b.kind == "variable":
        other, n_other, n_var = (b, nb, na) if a.kind == "variable" else (a, na, nb)
        return Direction("variable") if n_var > n_other else other
    points = sorted(set(a.points) | set(b.points), key=POINTS.index)
    if len(points) == 1 or (len(points) == 2 and _adjacent(*points)):
        return Direction.point(*points)
    ra, rb = math.radians(a.degrees or 0.0), math.radians(b.degrees or 0.0)
    x = na * math.cos(ra) + nb * math.cos(rb)
    y = na * math.sin(ra) + nb * math.sin(rb)
    if abs(x) < 1e-9 and abs(y) < 1e-9:
        return a if na >= nb else b
    mean = math.degrees(math.atan2(y, x)) % 360.0
    idx = math.floor(mean / 45.0 + 0.5) % 8
    offset = (mean - 45.0 * idx + 180.0) % 360.0 - 180.0
    if abs(offset) >= 12.5:
        return Direction.point(POINTS[idx], POINTS[(idx + (1 if offset > 0 else -1)) % 8])
    return Direction.point(POINTS[idx])


def _adjacent(p: str, q: str) -> bool:
    return (POINTS.index(p) - POINTS.index(q)) % 8 in (1, 7)


def _tail(a: Any, b: Any, *, below: bool) -> Any:
    tails = [t for t in (a, b) if t is not None]
    if not tails:
        return None
    return min(tails, key=lambda t: t.lo) if below else max(tails, key=lambda t: t.hi)


def _cover_ranged(pa: Periods[Any], pb: Periods[Any], *, below: bool) -> Periods[Any]:
    """Union of the ranges; for visibility (``below``) at most the two best classes stay in the
    main range and the worst class becomes "occasionally" ("Moderate or good, occasionally very
    poor" rather than "Good to very poor")."""
    values = []
    for sa, sb in zip(pa.slots(), pb.slots(), strict=True):
        main: Any = sa.main.union(sb.main) if sa.main is not None and sb.main is not None \
            else sa.main or sb.main
        tail = _tail(sa.secondary, sb.secondary, below=below)
        if below and main.hi - main.lo > 1:
            worst = type(main)(main.lo)
            tail = worst if tail is None or worst.lo < tail.lo else tail
            main = type(main)(main.hi - 1, main.hi)
        values += [main, tail]
    return class_periods(*values, below=below)


def _representable(types: frozenset[str]) -> frozenset[str]:
    """The weather set the writer can say that is closest to ``types`` (a superset if any)."""
    if types in WEATHER_SETS:
        return types
    wet = types - {"fair"}
    if not wet:
        return frozenset({"fair"})
    return min(WEATHER_SETS, key=lambda s: (len(wet - s), len(s ^ wet), sorted(s)))


def cover(a: WrittenArea, b: WrittenArea) -> WrittenArea:
    """One forecast for both groups, covering what each says (names joined in order)."""
    fa, fb = a.fields, b.fields
    na, nb = len(a.names), len(b.names)
    dirs = [_cover_direction(x.main, y.main, na, nb)  # type: ignore[arg-type]
            for x, y in zip(fa.direction.slots(), fb.direction.slots(), strict=True)]
    force = _cover_ranged(fa.force, fb.force, below=False)
    parts = []
    for (ba, ga), (bb, gb) in zip(weather_parts(fa.weather), weather_parts(fb.weather),
                                  strict=True):
        parts.append((_representable(ba | bb), ga or gb))
    weather = weather_periods(parts[0][0], parts[1][0], parts[0][1], parts[1][1])
    fields = AreaForecast(
        names=a.names + b.names, direction=direction_periods(*dirs), force=force,
        sea_state=_cover_ranged(fa.sea_state, fb.sea_state, below=False), weather=weather,
        visibility=_cover_ranged(fa.visibility, fb.visibility, below=True))
    return WrittenArea(fields, a.occasional and b.occasional and parts[0][0] == parts[1][0])


# ---------------------------------------------------------------- cost
def _range_gap(x: Any, y: Any) -> float:
    if x is None and y is None:
        return 0.0
    if x is None or y is None:
        return 0.5
    return float(abs(x.lo - y.lo) + abs(x.hi - y.hi))


def _direction_gap(x: Direction | None, y: Direction | None) -> float:
    if x == y:
        return 0.0
    if x is None or y is None or x.kind != y.kind:
        return 2.0
    if x.kind != "point":
        return 0.0
    d = abs(((x.degrees or 0.0) - (y.degrees or 0.0) + 540.0) % 360.0 - 180.0)
    return d / 45.0 + 0.5 * abs(len(x.points) - len(y.points))


# Widest regular main ranges ("4 to 6", "moderate or rough"); each class beyond costs extra.
_REGULAR_WIDTH = {"force": 2, "sea_state": 1, "visibility": 1}
_IRREGULAR_COST = 2.0


def _distance(own: AreaForecast, merged: AreaForecast) -> float:
    total = 0.0
    for name in ("force", "sea_state", "visibility"):
        for x, y in zip(own.field(name).slots(), merged.field(name).slots(), strict=True):
            total += _range_gap(x.main, y.main) + 0.5 * _range_gap(x.secondary, y.secondary)
            if y.main is not None:
                extra = (y.main.hi - y.main.lo) - _REGULAR_WIDTH[name]
                total += _IRREGULAR_COST * max(0, extra)
    for x, y in zip(own.direction.slots(), merged.direction.slots(), strict=True):
        total += _direction_gap(x.main, y.main)
    for (bx, gx), (by, gy) in zip(weather_parts(own.weather), weather_parts(merged.weather),
                                  strict=True):
        total += 0.5 * len(bx ^ by) + 0.5 * (gx != gy)
    return total


def merge_cost(a: WrittenArea, b: WrittenArea, merged: WrittenArea | None = None) -> float:
    """How much the covering forecast of ``a`` and ``b`` changes what each said (0: identical).

    ``merged`` is ``cover(a, b)`` when already made.
    """
    fields = (merged or cover(a, b)).fields
    return len(a.names) * _distance(a.fields, fields) + len(b.names) * _distance(b.fields, fields)


def flatten(area: WrittenArea, name: str) -> WrittenArea:
    """The group with one field said once for the whole period, covering both halves.

    Args:
        area: a group.
        name: "direction", "force", "sea_state", "weather" or "visibility".
    """
    f = area.fields
    if name == "direction":
        d1, d2 = (s.main for s in f.direction.slots())
        d = _cover_direction(d1, d2, 1, 1)  # type: ignore[arg-type]
        return WrittenArea(replace(f, direction=direction_periods(d, d)), area.occasional)
    if name == "weather":
        (b1, g1), (b2, g2) = weather_parts(f.weather)
        base, fog = _representable(b1 | b2), g1 or g2
        return WrittenArea(replace(f, weather=weather_periods(base, base, fog, fog)),
                           area.occasional and b1 == b2)
    p = f.field(name)
    both = _cover_ranged(Periods.both(p.first.main, p.first.secondary),
                         Periods.both(p.second.main, p.second.secondary),
                         below=name == "visibility")
    changed: dict[str, Any] = {name: both}
    return WrittenArea(replace(f, **changed), area.occasional)


def _flatten_cost(area: WrittenArea, flat: WrittenArea) -> float:
    return len(area.names) * _distance(area.fields, flat.fields)


def fit_words(groups: Sequence[WrittenArea], limit: int = WORD_LIMIT) -> list[WrittenArea]:
    """Simplify and merge groups until the area forecasts take at most ``limit`` words.

    Two kinds of step are weighed by cost per word saved, cheapest first: joining two
    neighbouring groups under a covering forecast (:func:`cover`), and saying one field of a
    group once for the whole period (:func:`flatten`), which drops a change or a timing.

    Args:
        groups: consecutive groups in broadcast order.
        limit: the word limit (headings included).

    Returns:
        The groups, changed as little as needed (unchanged when they already fit).
    """
    out = list(groups)
    # Steps are cached by the identity of the groups they start from (groups are immutable and
    # kept alive in ``seen``, so an id is never reused while cached).
    cache: dict[tuple[Any, ...], tuple[float, int, WrittenArea]] = {}
    seen: list[WrittenArea] = []

    def step(key: tuple[Any, ...]) -> tuple[float, int, WrittenArea]:
        ident = (key[0], id(key[1]), key[2] if isinstance(key[2], str) else id(key[2]))
        if ident not in cache:
            seen.extend(k for k in key[1:] if isinstance(k, WrittenArea))
            if key[0] == "merge":
                a, b = key[1], key[2]
                new = cover(a, b)
                cost, before = merge_cost(a, b, new), word_count(a.text) + word_count(b.text)
            else:
                a, field_name = key[1], key[2]
                new = flatten(a, field_name)
                cost, before = _flatten_cost(a, new), word_count(a.text)
            cache[ident] = (cost, before - word_count(new.text), new)
        return cache[ident]

    total = words(out)
    while total > limit and out:
        best: tuple[float, int, int] | None = None
        for i, group in enumerate(out):
            keys: list[tuple[Any, ...]] = [("flatten", group, n) for n in _FIELDS]
            if i + 1 < len(out):
                keys.append(("merge", group, out[i + 1]))
            for k, key in enumerate(keys):
                cost, saved, _ = step(key)
                if saved > 0 and (best is None or cost / saved < best[0]):
                    best = (cost / saved, i, k)
        if best is None:
            break
        _, i, k = best
        if k < len(_FIELDS):
            _, saved, new = step(("flatten", out[i], _FIELDS[k]))
            out[i] = new
        else:
            _, saved, new = step(("merge", out[i], out[i + 1]))
            out[i:i + 2] = [new]
        total -= saved
    return merge_identical(out)


_FIELDS = ("direction", "force", "sea_state", "weather", "visibility")


def group_areas(areas: Sequence[WrittenArea], limit: int = WORD_LIMIT) -> list[WrittenArea]:
    """Plain merge, then covering merges while the text is over ``limit`` words."""
    return fit_words(merge_identical(areas), limit)


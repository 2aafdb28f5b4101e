"""Field-by-field scoring of a predicted Shipping Forecast against a reference.

Covers the Fathom scorer convention (``docs/shipping-forecast.md`` §7): groups are expanded to
the 31 areas, each field is compared per sub-period (first 12 h, second 12 h), main and
secondary values separately, both *tolerantly* and *strictly*:

=================  ==================================  =====================
field              tolerant hit                        strict hit
=================  ==================================  =====================
wind_direction     within 45 degrees (boundary hits);  the same direction
                   variable = variable, cyclonic =
                   cyclonic; "mainly X" supplies a
                   direction; "X or Y" is its mean
wind_force         both ends of [min, max] within 1    the same range
sea_state          both ends within one class          the same range
visibility         both ends within one class          the same range
weather            F1 of the two sets of types         the same set
=================  ==================================  =====================

A comparison counts when either side says something for that slot; a slot that only one side
fills is a miss. A field's accuracy is its hits over its comparisons (main and secondary
pooled; each is also reported on its own); the overall accuracy is the mean over the fields
that had comparisons. An area of the reference missing from the prediction is scored as if
the prediction said nothing there.

Not covered: parsing (``parse/_parser.py``); reading files (``parse/_io.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fathom.domains.shipping.parse import combine_periods, expand_names, parse_bulletin
from fathom.domains.shipping.vocab import FIELDS, AreaForecast, Direction, Periods

__all__ = [
    "COMPONENTS", "compare_area", "direction_hit", "expand_areas", "score_areas", "score_bulletin",
]

COMPONENTS: dict[str, str] = {
    "direction": "wind_direction",
    "force": "wind_force",
    "sea_state": "sea_state",
    "weather": "weather",
    "visibility": "visibility",
}
"""Field name in :class:`AreaForecast` -> the name the scorer and grader report."""


# ---------------------------------------------------------------- value comparisons
def _angle(a: float, b: float) -> float:
    d = abs(a - b) % 360.0
    return min(d, 360.0 - d)


def direction_hit(pred: Direction, ref: Direction) -> bool:
    """Tolerant direction match (see the module table).

    >>> direction_hit(Direction.point("SW"), Direction.point("W"))
    True
    >>> direction_hit(Direction.point("SW"), Direction.point("NW"))
    False
    >>> direction_hit(Direction("cyclonic", ("N",)), Direction.point("NE"))
    True
    """
    if pred.kind == ref.kind and pred.kind != "point":
        return True
    a, b = pred.degrees, ref.degrees
    if a is None or b is None:
        return False
    return _angle(a, b) <= 45.0 + 1e-9


def _range_hit(pred: Any, ref: Any) -> bool:
    return bool(abs(pred.lo - ref.lo) <= 1 and abs(pred.hi - ref.hi) <= 1)


def _f1(pred: frozenset[str], ref: frozenset[str]) -> float:
    if not pred and not ref:
        return 1.0
    common = len(pred & ref)
    if common == 0:
        return 0.0
    return 2.0 * common / (len(pred) + len(ref))


def _compare(field: str, pred: Any, ref: Any) -> tuple[float, float]:
    """(tolerant, strict) credit for one slot value pair (either may be None)."""
    if pred is None or ref is None:
        if field == "weather":  # an unstated weather is no weather
            p = pred.types if pred is not None else frozenset()
            r = ref.types if ref is not None else frozenset()
            return _f1(p, r), float(p == r)
        return 0.0, 0.0
    strict = float(pred == ref)
    if field == "direction":
        return float(direction_hit(pred, ref)), strict
    if field == "weather":
        return _f1(pred.types, ref.types), strict
    return float(_range_hit(pred, ref)), strict


# ---------------------------------------------------------------- one area
def compare_area(pred: AreaForecast | None, ref: AreaForecast) -> dict[str, list[float]]:
    """Credit per field for one area: ``{field: [tolerant, strict, n, main_tolerant,
    main_strict, main_n]}`` (sums over the compared slots; secondary = total - main).

    Args:
        pred: the predicted forecast for the area (None: the prediction lacks the area).
        ref: the reference forecast.

    Returns:
        Sums per field name of :data:`FIELDS`.
    """
    out: dict[str, list[float]] = {}
    for name in FIELDS:
        ref_periods: Periods[Any] = ref.field(name)
        pred_periods: Periods[Any] = pred.field(name) if pred is not None else Periods()
        sums = [0.0] * 6
        for ref_slot, pred_slot in ((ref_periods.first, pred_periods.first),
                                    (ref_periods.second, pred_periods.second)):
            for is_main in (True, False):
                r = ref_slot.main if is_main else ref_slot.secondary
                p = pred_slot.main if is_main else pred_slot.secondary
                if r is None and p is None:
                    continue
                tol, strict = _compare(name, p, r)
                sums[0] += tol
                sums[1] += strict
                sums[2] += 1
                if is_main:
                    sums[3] += tol
                    sums[4] += strict
                    sums[5] += 1
        out[name] = sums
    return out


# ---------------------------------------------------------------- groups -> areas
def _merge(a: AreaForecast, b: AreaForecast) -> AreaForecast:
    """Two forecasts for one area (a split area, or an XML duplicate): ``a`` gives the main
    values, ``b`` adds secondary values where it differs."""
    if a == b.with_names(a.names):
        return a
    fields = {name: combine_periods([a.field(name), b.field(name)]) for name in FIELDS}
    return AreaForecast(names=a.names, icing=a.icing, unknown=a.unknown + b.unknown, **fields)


def expand_areas(forecasts: Iterable[AreaForecast]) -> dict[str, AreaForecast]:
    """One forecast per sea area (of the 31) from forecasts for groups and part-areas.

    A group's forecast is copied to each of its areas; an area named twice (split between two
    groups, or duplicated) keeps its first forecast's main values, and the second adds
    secondary values.

    >>> from fathom.domains.shipping.parse import parse_bulletin
    >>> areas = expand_areas(parse_bulletin("Forth, Tyne, West Dogger: West 6. Rough. Rain. Good."))
    >>> sorted(areas)
    ['Dogger', 'Forth', 'Tyne']
    """
    out: dict[str, AreaForecast] = {}
    for fc in forecasts:
        for area in expand_names(fc.names):
            single = fc.with_names((area,))
            out[area] = _merge(out[area], single) if area in out else single
    return out


# ---------------------------------------------------------------- many areas
def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 6) if den else None


def _field_summary(sums: list[float]) -> dict[str, Any]:
    sec = [sums[0] - sums[3], sums[1] - sums[4], sums[2] - sums[5]]
    return {
        "tolerant": _ratio(sums[0], sums[2]), "strict": _ratio(sums[1], sums[2]),
        "n": int(sums[2]),
        "main": {"tolerant": _ratio(sums[3], sums[5]), "strict": _ratio(sums[4], sums[5]),
                 "n": int(sums[5])},
        "secondary": {"tolerant": _ratio(sec[0], sec[2]), "strict": _ratio(sec[1], sec[2]),
                      "n": int(sec[2])},
    }


def _overall(fields: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for mode in ("tolerant", "strict"):
        values = [f[mode] for f in fields.values() if f[mode] is not None]
        out[mode] = round(sum(values) / len(values), 6) if values else None
    return out


def _parse_counts(forecasts: list[AreaForecast]) -> dict[str, int]:
    return {"forecasts": len(forecasts),
            "with_unknown": sum(1 for fc in forecasts if fc.unknown),
            "missing_fields": sum(1 for fc in forecasts if fc.missing())}


def score_areas(pred: dict[str, AreaForecast], ref: dict[str, AreaForecast]) -> dict[str, Any]:
    """Score per-area forecasts (as from :func:`expand_areas`); see :func:`score_bulletin`."""
    totals = {name: [0.0] * 6 for name in FIELDS}
    per_area: dict[str, Any] = {}
    for area, ref_fc in ref.items():
        sums = compare_area(pred.get(area), ref_fc)
        per_area[area] = {COMPONENTS[n]: {"tolerant": _ratio(s[0], s[2]),
                                          "strict": _ratio(s[1], s[2]), "n": int(s[2])}
                          for n, s in sums.items()}
        for name, s in sums.items():
            totals[name] = [t + v for t, v in zip(totals[name], s, strict=True)]
    fields = {COMPONENTS[n]: _field_summary(s) for n, s in totals.items()}
    return {
        "areas": len(ref),
        "overall": _overall(fields),
        "fields": fields,
        "per_area": per_area,
        "missing_areas": [a for a in ref if a not in pred],
        "extra_areas": [a for a in pred if a not in ref],
    }


def score_bulletin(pred: list[AreaForecast] | str, ref: list[AreaForecast] | str
                   ) -> dict[str, Any]:
    """Compare a predicted bulletin with a reference, per area and field.

    Args:
        pred: the predicted area forecasts (groups allowed), or a plain-text bulletin.
        ref: the reference area forecasts (groups allowed), or a plain-text bulletin; its areas
            are the ones scored.

    Returns:
        ``{"areas", "overall": {"tolerant", "strict"}, "fields": {component: {"tolerant",
        "strict", "n", "main": {...}, "secondary": {...}}}, "per_area": {area: {component:
        {...}}}, "missing_areas", "extra_areas", "unparsed": {"pred": counts, "ref": counts}}``
        where accuracies are in [0, 1] (None when nothing was compared) and the counts say how
        many forecasts had unknown phrases or missing fields.

    >>> ref = "Viking: Southwest 5 to 7. Rough. Rain. Good."
    >>> s = score_bulletin("Viking: West 6 to gale 8. Very rough. Rain. Moderate.", ref)
    >>> s["overall"], s["fields"]["wind_force"]["tolerant"]
    ({'tolerant': 1.0, 'strict': 0.2}, 1.0)
    """
    if isinstance(pred, str):
        pred = parse_bulletin(pred)
    if isinstance(ref, str):
        ref = parse_bulletin(ref)
    result = score_areas(expand_areas(pred), expand_areas(ref))
    result["unparsed"] = {"pred": _parse_counts(pred), "ref": _parse_counts(ref)}
    return result

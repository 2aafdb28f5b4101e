"""The summary ``S`` of the stats schema: wind, sea, precipitation, visibility, temperature, pressure.

Covers the meteorological definitions (Fathom conventions, documented in ``docs/shipping-stats.md``):
Beaufort bins by the lower bounds in knots, 8 direction sectors of 45 deg centred on N, NE ...,
sea-state classes by Hs, visibility classes, precipitation types, and how summaries with no
valid data are reported. Every quantity is computed for all (row, area) pairs at once through
:class:`~fathom.domains.shipping.stats._groups.Layout`; :func:`summaries` returns a function that builds one ``S`` dict.

The scales (knot, Beaufort bounds, compass points, sea-state and visibility bounds) are the
vocabulary's own objects (``fathom.domains.shipping.vocab``), imported, never copied; only the
precipitation thresholds below are the statistics' own.

Not covered: loading data, gridding, pressure centres (:mod:`~fathom.domains.shipping.stats._centres`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from fathom.domains.shipping.stats._groups import Bool, Float, Layout
from fathom.domains.shipping.vocab import BEAUFORT_KNOTS, KNOT_MS, POINTS, SEA_STATE_UPPER_M, VISIBILITY_LOWER_M

__all__ = ["summaries"]

WET_MMH = 0.1
"""Precipitation rate (mm/h) from which a cell-hour counts as wet."""
DRIZZLE_MMH = 0.5
"""Non-convective wet cell-hours below this rate are drizzle."""
THUNDER_MMH = 4.0
"""Convective rate (mm/h) from which a cell-hour counts as thundery."""
SNOW_T2M_C = 1.0
"""Wet cell-hours at or below this 2 m temperature are snow."""
_PRECIP_FLAGS = ("frac", "rain", "showers", "drizzle", "snow", "thunder")
_WIND_Q = (0.10, 0.25, 0.50, 0.75, 0.90)


def summaries(fields: dict[str, Float], layout: Layout, low_hours: Float) -> Callable[[int, int], dict[str, Any]]:
    """Compute every quantity, then return ``build(row, area) -> S``.

    Args:
        fields: canonical name -> values of shape ``(time, cells)`` (cells sorted by area).
        layout: the grouping of cells and steps.
        low_hours: ``(T + 3, areas)`` hours with a low centre in or near each area.
    """
    parts = [_wind(fields["u10"], fields["v10"], layout), _precip(fields, layout),
             _mslp(fields["msl"], layout)]
    if "swh" in fields:
        parts.append(_sea(fields["swh"], layout))
    if "vis" in fields:
        parts.append(_vis(fields["vis"], layout))
    if "t2m" in fields:
        parts.append(_t2m(fields["t2m"], layout))
    lows = low_hours.astype(int).tolist()

    def build(row: int, area: int) -> dict[str, Any]:
        s: dict[str, Any] = {"sea": None, "vis": None, "fog": 0.0, "t2m_c": None}
        missing: list[str] = []
        for name, fn in parts:
            value, ok = fn(row, area)
            s.update(value)
            if not ok:
                missing.append(name)
        s["low_centre_hours"] = lows[row][area]
        s["missing"] = missing
        return s

    return build


Part = tuple[str, Callable[[int, int], tuple[dict[str, Any], bool]]]


def _rounded(values: Float, nd: int) -> list[Any]:
    """Nested lists of ``values`` rounded to ``nd`` decimals (NaN stays NaN; see :func:`_n`)."""
    out: list[Any] = np.round(values, nd).tolist()
    return out


def _n(x: float) -> float | None:
    """NaN -> None (JSON null), numbers unchanged."""
    return None if x != x else x


def _ns(xs: list[float]) -> list[float | None]:
    return [None if x != x else x for x in xs]


def _ratio(num: Float, den: Float) -> Float:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _wind(u: Float, v: Float, layout: Layout) -> Part:
    valid = np.isfinite(u) & np.isfinite(v)
    sel = layout.select(valid)
    speed = np.hypot(u, v)  # NaN where invalid
    kt = speed / KNOT_MS
    n = sel.count
    q = _rounded(sel.percentiles(kt, _WIND_Q), 2)
    mx = _rounded(layout.maximum(kt, valid), 2)
    mean_kt = _rounded(sel.mean(kt), 2)
    force = np.searchsorted(BEAUFORT_KNOTS, sel.pick(kt), side="right") - 1  # binned by the lower bounds
    bf = _rounded(_ratio(sel.categories_of(force, 13), n[..., None]), 4)
    uu, vv = sel.pick(u), sel.pick(v)
    sector = (np.floor(((270.0 - np.degrees(np.arctan2(vv, uu))) % 360.0 + 22.5) / 45.0) % 8).astype(np.intp)
    d8 = _rounded(_ratio(sel.categories_of(sector, 8), n[..., None]), 4)
    mu, mv = sel.mean(u), sel.mean(v)
    mean_speed = sel.mean(speed)
    vec = np.hypot(mu, mv)
    mean_dir = _rounded(np.where(vec > 1e-6, (270.0 - np.degrees(np.arctan2(mv, mu))) % 360.0, np.nan), 1)
    steady = _rounded(np.where(mean_speed > 0, _ratio(vec, mean_speed), np.where(n > 0, 0.0, np.nan)), 3)
    n_l = n.tolist()

    def get(row: int, a: int) -> tuple[dict[str, Any], bool]:
        ok = n_l[row][a] > 0
        kts = dict(zip(("p10", "p25", "p50", "p75", "p90"), _ns(q[row][a]), strict=True))
        kts.update(max=_n(mx[row][a]), mean=_n(mean_kt[row][a]))
        return {"wind": {
            "kt": kts,
            "beaufort": bf[row][a] if ok else None,
            "dir8": dict(zip(POINTS, _ns(d8[row][a]), strict=True)),
            "mean_dir_deg": _n(mean_dir[row][a]),
            "steadiness": _n(steady[row][a]),
            "cell_hours": int(n_l[row][a]),
        }}, ok

    return "wind", get


def _sea(hs: Float, layout: Layout) -> Part:
    valid = np.isfinite(hs)
    sel = layout.select(valid)
    n = sel.count
    q = _rounded(sel.percentiles(hs, (0.1, 0.5, 0.9)), 2)
    mx = _rounded(layout.maximum(hs, valid), 2)
    mean = _rounded(sel.mean(hs), 2)
    classes = _rounded(_ratio(sel.categories_of(np.searchsorted(SEA_STATE_UPPER_M, sel.pick(hs), side="right"), 8),
                              n[..., None]), 4)
    n_l = n.tolist()

    def get(row: int, a: int) -> tuple[dict[str, Any], bool]:
        ok = n_l[row][a] > 0
        hs_m = dict(zip(("p10", "p50", "p90"), _ns(q[row][a]), strict=True))
        hs_m.update(max=_n(mx[row][a]), mean=_n(mean[row][a]))
        return {"sea": {"hs_m": hs_m, "classes": classes[row][a] if ok else None}}, ok

    return "sea", get


def _precip_types(fields: dict[str, Float]) -> tuple[Bool, list[Bool], Float]:
    """Valid mask, the six flags (wet, rain, showers, drizzle, snow, thunder) and the rate."""
    r = fields["precip_rate"]
    valid = np.isfinite(r)
    rate = np.where(valid, r, 0.0)
    wet = valid & (rate >= WET_MMH)
    if "conv_rate" in fields:
        c = np.nan_to_num(fields["conv_rate"], nan=0.0)
        convective = wet & (c >= WET_MMH) & (c >= 0.5 * rate)
        thunder = wet & (c >= THUNDER_MMH)
    else:  # heuristic: precipitation that starts or stops within the hour is showery
        dry = ~wet
        before = np.concatenate([np.zeros_like(dry[:1]), dry[:-1]])
        after = np.concatenate([dry[1:], np.zeros_like(dry[:1])])
        convective = wet & (before | after)
        thunder = convective & (rate >= THUNDER_MMH)
    if "t2m" in fields:
        cold = np.nan_to_num(fields["t2m"], nan=99.0) <= SNOW_T2M_C
    elif "snow_rate" in fields:
        cold = np.nan_to_num(fields["snow_rate"], nan=0.0) >= 0.5 * rate
    else:
        cold = np.zeros_like(wet)
    snow = wet & cold
    stratiform = wet & ~convective & ~cold
    return valid, [wet, stratiform & (rate >= DRIZZLE_MMH), convective, stratiform & (rate < DRIZZLE_MMH),
                   snow, thunder], rate


def _precip(fields: dict[str, Float], layout: Layout) -> Part:
    valid, flags, rate = _precip_types(fields)
    codes = sum((f.astype(np.intp) << k for k, f in enumerate(flags)), np.zeros(rate.shape, dtype=np.intp))
    sel = layout.select(valid)
    n = sel.count
    per_code = sel.categories_of(sel.pick(codes), 64)
    bits = np.array([[(c >> k) & 1 for k in range(len(flags))] for c in range(64)], dtype=np.float64)
    shares = _rounded(_ratio(per_code @ bits, n[..., None]), 4)
    wet = layout.select(flags[0])
    mean_wet = _rounded(np.nan_to_num(wet.mean(rate), nan=0.0), 3)
    p90 = _rounded(np.nan_to_num(wet.percentiles(rate, (0.9,))[..., 0], nan=0.0), 3)
    n_l = n.tolist()

    def get(row: int, a: int) -> tuple[dict[str, Any], bool]:
        ok = n_l[row][a] > 0
        out: dict[str, Any] = dict(zip(_PRECIP_FLAGS, _ns(shares[row][a]), strict=True))
        out["mean_rate_mmh"] = mean_wet[row][a] if ok else None
        out["p90_rate_mmh"] = p90[row][a] if ok else None
        return {"precip": out}, ok

    return "precip", get


def _vis(vis: Float, layout: Layout) -> Part:
    valid = np.isfinite(vis)
    sel = layout.select(valid)
    n = sel.count
    # lt_1000m, lt_2nm, lt_5nm: strictly below each bound (very poor < 1000 m, poor < 2 nm, moderate < 5 nm)
    cls = np.searchsorted(VISIBILITY_LOWER_M[1:], sel.pick(vis), side="right")
    cum = np.cumsum(sel.categories_of(cls, 4), axis=-1)
    shares = _rounded(_ratio(cum[..., :3], n[..., None]), 4)
    q = _rounded(sel.percentiles(vis, (0.1, 0.5)), 0)
    n_l = n.tolist()

    def get(row: int, a: int) -> tuple[dict[str, Any], bool]:
        ok = n_l[row][a] > 0
        lt = _ns(shares[row][a])
        p10, p50 = _ns(q[row][a])
        return {"vis": {"lt_1000m": lt[0], "lt_2nm": lt[1], "lt_5nm": lt[2], "p10_m": p10, "p50_m": p50},
                "fog": lt[0]}, ok

    return "vis", get


def _t2m(t: Float, layout: Layout) -> Part:
    valid = np.isfinite(t)
    sel = layout.select(valid)
    n = sel.count
    mean = _rounded(sel.mean(t), 2)
    mn = _rounded(layout.minimum(t, valid), 2)
    n_l = n.tolist()

    def get(row: int, a: int) -> tuple[dict[str, Any], bool]:
        return {"t2m_c": {"mean": _n(mean[row][a]), "min": _n(mn[row][a])}}, n_l[row][a] > 0

    return "t2m", get


def _mslp(p: Float, layout: Layout) -> Part:
    valid = np.isfinite(p)
    sel = layout.select(valid)
    n = sel.count
    mean = _rounded(sel.mean(p), 2)
    mn, mx = _rounded(layout.minimum(p, valid), 2), _rounded(layout.maximum(p, valid), 2)
    n_l = n.tolist()

    def get(row: int, a: int) -> tuple[dict[str, Any], bool]:
        return {"mslp_hpa": {"mean": _n(mean[row][a]), "min": _n(mn[row][a]), "max": _n(mx[row][a])}}, \
            n_l[row][a] > 0

    return "mslp", get

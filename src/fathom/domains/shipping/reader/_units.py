"""Units of meteorological fields: parse a CF/UDUNITS-style ``units`` string and convert.

Covers the quantities the Shipping Forecast reader needs: speed (to m s-1), pressure (to hPa),
length (to m), water rate (to mm h-1, from ``kg m-2 s-1``, ``m s-1``, ``mm/h`` ...), water amount
(to mm, from ``m``, ``mm``, ``kg m-2``), temperature (to degrees Celsius) and fractions (to 0..1).
Strings are parsed into powers of m, kg and s (``kg m**-2 s**-1``, ``mm/h``, ``m s^-1``,
``meters per second`` all work); water mass per area counts as depth (1 kg m-2 = 1 mm).

Not covered: general unit algebra (use pint or cf-units for that), calendars, offsets other than
temperature.

>>> to_target("kg m-2 s-1", "water_rate")
(3600.0, 0.0)
>>> to_target("knots", "speed")[0]
0.5144444444444445
>>> to_target("furlongs", "speed") is None
True
"""

from __future__ import annotations

import re

from fathom.domains.shipping.vocab import KNOT_MS, NAUTICAL_MILE_M

__all__ = ["KINDS", "parse_units", "to_target"]

Dims = dict[str, int]

_LENGTH = {"m": 1.0, "meter": 1.0, "meters": 1.0, "metre": 1.0, "metres": 1.0, "mm": 1e-3,
           "millimeter": 1e-3, "millimeters": 1e-3, "millimetre": 1e-3, "millimetres": 1e-3,
           "cm": 1e-2, "km": 1e3, "kilometer": 1e3, "kilometers": 1e3, "kilometre": 1e3,
           "kilometres": 1e3, "nmi": NAUTICAL_MILE_M}
_TIME = {"s": 1.0, "sec": 1.0, "second": 1.0, "seconds": 1.0, "min": 60.0, "minute": 60.0,
         "minutes": 60.0, "h": 3600.0, "hr": 3600.0, "hour": 3600.0, "hours": 3600.0,
         "d": 86400.0, "day": 86400.0, "days": 86400.0}
_MASS = {"kg": 1.0, "g": 1e-3}
_PRESSURE = {"pa": 1.0, "pascal": 1.0, "pascals": 1.0, "hpa": 100.0, "mbar": 100.0, "mb": 100.0,
             "millibar": 100.0, "millibars": 100.0, "kpa": 1000.0, "bar": 1e5}
_SPEED = dict.fromkeys(("kt", "kts", "kn", "knot", "knots"), KNOT_MS)  # the vocabulary's knot

_SYMBOLS: dict[str, tuple[float, Dims]] = {}
_SYMBOLS.update({k: (v, {"m": 1}) for k, v in _LENGTH.items()})
_SYMBOLS.update({k: (v, {"s": 1}) for k, v in _TIME.items()})
_SYMBOLS.update({k: (v, {"kg": 1}) for k, v in _MASS.items()})
_SYMBOLS.update({k: (v, {"kg": 1, "m": -1, "s": -2}) for k, v in _PRESSURE.items()})
_SYMBOLS.update({k: (v, {"m": 1, "s": -1}) for k, v in _SPEED.items()})

_KELVIN = {"k", "kelvin", "degk", "deg_k", "degrees_k", "degree_kelvin"}
_CELSIUS = {"c", "degc", "deg_c", "°c", "celsius", "degree_celsius", "degrees_celsius",
            "degree_c", "degrees_c", "deg c", "degree c", "degrees c"}
_FAHRENHEIT = {"f", "degf", "deg_f", "°f", "fahrenheit", "degree_fahrenheit", "degrees_fahrenheit"}
_FRACTION = {"1", "", "0-1", "(0-1)", "(0 - 1)", "0 - 1", "fraction", "dimensionless", "proportion"}
_PERCENT = {"%", "percent", "pct"}

KINDS: dict[str, tuple[str, str]] = {
    "speed": ("m s-1", "m s-1, m/s, knots"),
    "pressure": ("hPa", "Pa, hPa, mbar, kPa"),
    "length": ("m", "m, km, mm, nmi"),
    "water_rate": ("mm h-1", "kg m-2 s-1, mm/h, mm s-1, m s-1, mm day-1"),
    "water_amount": ("mm", "m, mm, kg m-2 (accumulated since the run started, or per step)"),
    "temperature": ("degC", "K, degC, degF"),
    "fraction": ("1", "1, 0-1, %"),
}
"""Quantity kind -> (target units, accepted units for error messages)."""

_TOKEN = re.compile(r"^([a-z°_]+)(-?\d+)?$")


def parse_units(text: str) -> tuple[float, Dims] | None:
    """Parse ``text`` into ``(scale, {"m": p, "kg": q, "s": r})`` in SI, or None if unknown.

    >>> parse_units("kg m**-2 s**-1")
    (1.0, {'kg': 1, 'm': -2, 's': -1})
    >>> scale, dims = parse_units("mm/h")
    >>> round(scale * 3.6e6, 9), dims
    (1.0, {'m': 1, 's': -1})
    """
    s = text.strip().lower().replace("**", "").replace("^", "").replace("·", " ").replace("*", " ")
    s = re.sub(r"\bper\b", "/", s).replace(".", " ")
    parts = s.split("/")
    scale = 1.0
    dims: Dims = {}
    for k, part in enumerate(parts):
        tokens = part.split()
        if not tokens:
            return None
        for tok in tokens:
            m = _TOKEN.match(tok)
            if m is None or m.group(1) not in _SYMBOLS:
                return None
            power = int(m.group(2) or 1) * (-1 if k > 0 else 1)
            factor, base = _SYMBOLS[m.group(1)]
            scale *= factor ** power
            for dim, p in base.items():
                dims[dim] = dims.get(dim, 0) + p * power
    return scale, {k: v for k, v in dims.items() if v != 0}


def to_target(units: str | None, kind: str) -> tuple[float, float] | None:
    """``(scale, offset)`` so that ``value * scale + offset`` is in the kind's target units.

    Args:
        units: the variable's ``units`` attribute (None when it has none).
        kind: one of :data:`KINDS`.

    Returns:
        The conversion, or None when ``units`` is not a unit of that kind.
    """
    u = (units or "").strip().lower()
    if kind == "temperature":
        if u in _KELVIN:
            return 1.0, -273.15
        if u in _CELSIUS:
            return 1.0, 0.0
        if u in _FAHRENHEIT:
            return 5.0 / 9.0, -32.0 * 5.0 / 9.0
        return None
    if kind == "fraction":
        if u in _FRACTION:
            return 1.0, 0.0
        return (0.01, 0.0) if u in _PERCENT else None
    if not u:
        return None
    parsed = parse_units(u)
    if parsed is None:
        return None
    scale, dims = parsed
    if kind in ("water_rate", "water_amount") and dims.get("kg") == 1 and dims.get("m") == -2:
        scale, dims = scale * 1e-3, {**{k: v for k, v in dims.items() if k != "kg"}, "m": 1}
    wanted: dict[str, tuple[Dims, float]] = {
        "speed": ({"m": 1, "s": -1}, 1.0),
        "pressure": ({"kg": 1, "m": -1, "s": -2}, 0.01),
        "length": ({"m": 1}, 1.0),
        "water_rate": ({"m": 1, "s": -1}, 3.6e6),
        "water_amount": ({"m": 1}, 1e3),
    }
    target, factor = wanted[kind]
    return (scale * factor, 0.0) if dims == target else None

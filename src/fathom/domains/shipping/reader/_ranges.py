"""Plausibility of the values the reader returns: a mislabelled ``units`` attribute must not pass.

Covers :func:`check_values`: after unit conversion, each canonical variable is checked against the
range a real field of that quantity has (:data:`BOUNDS`), so a file whose values are in hPa but
say ``Pa``, in degC but say ``K``, in km but say ``m`` or in km/h but say ``m s-1`` stops with an
error naming the variable, the declared units, the values seen (min, median, 95th percentile,
max, converted and as stored), the plausible range, the units under which the values *would* be
plausible, and what to do. ``force=True`` turns the error into warnings (returned, one per
variable).

The bounds are loose on purpose (what no real field does, not what is unusual):

======================= ====================================================================
msl                     850 .. 1100 hPa (records: 870, 1084)
t2m                     -93.15 .. 66.85 degC (180 .. 340 K)
u10, v10                \\|u\\|, \\|v\\| <= 100 m/s, and the wind speed's 95th percentile <= 40 m/s
                        (km/h read as m/s: a typical field's 95th percentile is 45-75 "m/s")
swh                     0 .. 30 m
vis                     0 .. 1000 km, and the largest value >= 1000 m (a field in km read as m
                        tops out below 1000 m: fog everywhere at once is not a plausible field)
precip, conv, snow rate -0.1 .. 500 mm/h
lsm, tcc                0 .. 1 (a percentage read as a fraction reaches 100)
======================= ====================================================================

Cheap: min and max are NaN-aware reductions over the arrays given (already in memory in
``compute_stats``), percentiles use at most ~200 000 evenly spaced finite values.

Not covered: mislabels that stay inside the bounds (knots read as m/s; a calm field in km/h whose
95th percentile stays under 40), consistency between variables (wind against pressure gradient).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from fathom.domains.shipping.reader._units import to_target
from fathom.domains.shipping.reader._vars import ShippingDataError

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["BOUNDS", "Bounds", "check_dataset", "check_values"]

_SAMPLE = 200_000


@dataclass(frozen=True)
class Bounds:
    """What a real field of one canonical variable stays within (canonical units)."""

    what: str
    """The quantity, for messages."""
    units: str
    """Canonical units the bounds are in."""
    lo: float
    """No value lies below this."""
    hi: float
    """No value lies above this."""
    kind: str
    """Unit kind (``reader._units.KINDS``), for suggesting the units the values fit."""
    p95_hi: float | None = None
    """The 95th percentile lies at or below this (wind speed)."""
    max_lo: float | None = None
    """The largest value reaches at least this (visibility)."""
    alternatives: tuple[str, ...] = ()
    """Units a mislabelled file commonly holds, tried when the values do not fit."""


_RATE = Bounds("precipitation rate", "mm h-1", -0.1, 500.0, "water_rate",
               alternatives=("kg m-2 s-1", "mm h-1", "mm day-1"))
_FRACTION = Bounds("fraction", "1", -0.01, 1.01, "fraction", alternatives=("1", "%"))

BOUNDS: dict[str, Bounds] = {
    "u10": Bounds("10 m wind component", "m s-1", -100.0, 100.0, "speed",
                  alternatives=("m s-1", "km h-1", "knots")),
    "v10": Bounds("10 m wind component", "m s-1", -100.0, 100.0, "speed",
                  alternatives=("m s-1", "km h-1", "knots")),
    "wind": Bounds("10 m wind speed", "m s-1", 0.0, 150.0, "speed", p95_hi=40.0,
                   alternatives=("m s-1", "km h-1", "knots")),
    "msl": Bounds("mean sea-level pressure", "hPa", 850.0, 1100.0, "pressure",
                  alternatives=("Pa", "hPa", "kPa")),
    "t2m": Bounds("2 m air temperature", "degC", -93.15, 66.85, "temperature",
                  alternatives=("K", "degC", "degF")),
    "swh": Bounds("significant wave height", "m", -0.01, 30.0, "length", alternatives=("m", "cm", "mm")),
    "vis": Bounds("visibility", "m", 0.0, 1e6, "length", max_lo=1000.0, alternatives=("m", "km")),
    "precip_rate": _RATE, "conv_rate": _RATE, "snow_rate": _RATE,
    "lsm": _FRACTION, "tcc": _FRACTION,
}
"""Canonical variable (``wind``: the speed from u10 and v10) -> its bounds."""


@dataclass(frozen=True)
class Seen:
    """What the values of one field are (canonical units)."""

    min: float
    p50: float
    p95: float
    max: float

    def mapped(self, scale: float, offset: float) -> Seen:
        """The same numbers after ``value * scale + offset`` (``scale`` > 0 keeps the order)."""
        return Seen(*(v * scale + offset for v in (self.min, self.p50, self.p95, self.max)))

    def text(self, units: str) -> str:
        return (f"min {_g(self.min)}, median {_g(self.p50)}, 95th percentile {_g(self.p95)}, "
                f"max {_g(self.max)} {units}")


def _g(value: float) -> str:
    return f"{value:.4g}"


def seen(values: Any) -> Seen | None:
    """Min, median, 95th percentile and max of the finite values (None when there are none)."""
    arr = np.asarray(values)
    flat = arr.ravel()
    sample = flat[:: max(1, flat.size // _SAMPLE)]
    sample = sample[np.isfinite(sample)]
    if sample.size == 0:
        return None
    lo, hi = float(flat.min()), float(flat.max())  # a few times faster than nanmin/nanmax
    if lo != lo or hi != hi:  # some NaN: take the finite extremes
        with np.errstate(invalid="ignore"):
            lo, hi = float(np.nanmin(flat)), float(np.nanmax(flat))
    p50, p95 = (float(q) for q in np.percentile(sample, [50, 95]))
    return Seen(lo, p50, p95, hi)


def _fits(s: Seen, b: Bounds) -> bool:
    if s.min < b.lo or s.max > b.hi:
        return False
    if b.p95_hi is not None and s.p95 > b.p95_hi:
        return False
    return b.max_lo is None or s.max >= b.max_lo


def _problem(name: str, s: Seen, b: Bounds, attrs: Mapping[str, Any]) -> str:
    """One line: the variable, its declared units, the values, the bounds, the units they fit."""
    declared = attrs.get("source_units")
    where = (f"{attrs.get('source_variable', name)!r} in {attrs['source_file']}"
             if attrs.get("source_file") else "the input")
    units = f"units {declared!r}" if declared is not None else f"taken as {b.units}"
    conv = to_target(str(declared), b.kind) if declared is not None else None
    stored = ""
    if conv is not None and conv != (1.0, 0.0):
        scale, offset = conv
        stored = f" ({s.mapped(1.0 / scale, -offset / scale).text(repr(declared))} as stored)"
    rule = f"a {b.what} lies within {_g(b.lo)}..{_g(b.hi)} {b.units}"
    if b.p95_hi is not None:
        rule += f" with its 95th percentile at most {_g(b.p95_hi)} {b.units}"
    if b.max_lo is not None:
        rule += f" and its largest value at least {_g(b.max_lo)} {b.units}"
    fit = [u for u in b.alternatives if u != declared and _fits_as(s, b, conv, u)]
    hint = f" The values would fit units {' or '.join(map(repr, fit))}." if fit else ""
    return (f"{name} ({where}, {units}): {s.text(b.units)} after conversion{stored}; "
            f"{rule}.{hint}")


def _fits_as(s: Seen, b: Bounds, conv: tuple[float, float] | None, units: str) -> bool:
    """Whether the stored values would be plausible if their units were ``units``."""
    other = to_target(units, b.kind)
    if conv is None or other is None:
        return False
    scale, offset = conv
    raw = s.mapped(1.0 / scale, -offset / scale)
    return _fits(raw.mapped(*other), b)


def check_values(fields: Mapping[str, Any], attrs: Mapping[str, Mapping[str, Any]] | None = None, *,
                 force: bool = False) -> list[str]:
    """Check each field against :data:`BOUNDS`; raise, or with ``force`` return the problems.

    Args:
        fields: canonical name -> values in canonical units (numpy arrays or DataArrays already in
            memory; pass a sample for lazy data). Names without bounds are ignored.
        attrs: canonical name -> the reader's attributes (``source_units``, ``source_variable``,
            ``source_file``), for the message.
        force: return the problems (to be reported as warnings) instead of raising.

    Returns:
        One line per implausible variable (empty when every field is plausible).

    Raises:
        ShippingDataError: some field is implausible for its declared units and ``force`` is false.

    >>> check_values({"msl": np.array([1013.0, 990.0])})
    []
    >>> check_values({"msl": np.array([10.13, 9.9])}, force=True)[0][:55]
    'msl (the input, taken as hPa): min 9.9, median 10.02, 9'
    """
    attrs = attrs or {}
    problems = []
    values = dict(fields)
    if "u10" in values and "v10" in values and np.shape(values["u10"]) == np.shape(values["v10"]):
        values["wind"] = np.hypot(np.asarray(values["u10"]), np.asarray(values["v10"]))
        u, v = attrs.get("u10", {}), attrs.get("v10", {})
        attrs = {**attrs, "wind": {**u, "source_variable": f"{u.get('source_variable', 'u10')} and "
                                                           f"{v.get('source_variable', 'v10')}"}}
    for name, arr in values.items():
        bounds = BOUNDS.get(name)
        s = seen(arr) if bounds is not None else None
        if bounds is not None and s is not None and not _fits(s, bounds):
            problems.append(_problem(name, s, bounds, attrs.get(name, {})))
    if problems and not force:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise ShippingDataError(
            f"values implausible for their declared units ({len(problems)} variable(s)); the units "
            f"attribute is probably wrong:\n{lines}\nFix the units attribute in the file (e.g. "
            f"`ncatted -a units,VARIABLE,o,c,hPa FILE`) or convert the values; to use the data as it "
            f"is anyway, pass --force (force=True), which turns this into a warning.")
    return problems


def check_dataset(ds: xr.Dataset, *, force: bool = False, steps: int = 4) -> list[str]:
    """:func:`check_values` on a canonical Dataset, reading at most ``steps`` evenly spaced time steps."""
    sample = ds
    if "time" in ds.dims and ds.sizes["time"] > steps:
        n = ds.sizes["time"]
        sample = ds.isel(time=sorted({round(k * (n - 1) / (steps - 1)) for k in range(steps)}))
    names = [str(n) for n in ds.data_vars if str(n) in BOUNDS]
    if any(sample[n].chunks is not None for n in names):
        import dask

        with dask.config.set(scheduler="synchronous"):  # read in this thread (HDF5 is not thread-safe)
            fields = {n: np.asarray(sample[n].values) for n in names}
    else:
        fields = {n: np.asarray(sample[n].values) for n in names}
    return check_values(fields, {n: ds[n].attrs for n in names}, force=force)

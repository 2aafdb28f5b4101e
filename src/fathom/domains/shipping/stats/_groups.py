"""Vectorised per-area, per-step and per-period reductions of gridded fields.

Covers the arithmetic under :func:`compute_stats`: given the sea cells of every area (sorted so
each area's cells are contiguous) and values of shape ``(time, cells)``, compute counts of
categories, sums, minima, maxima and percentiles for every (area, step) and every (area, period)
in a handful of ``np.bincount`` calls and one sort per level, with no Python loop over areas.

Result rows: ``0 .. T-1`` are the time steps, then ``T`` = all, ``T+1`` = first, ``T+2`` = second
period. Every result has shape ``(T + 3, areas, ...)``; a group with no valid value gets NaN
(percentiles, minima, maxima) or 0 (counts, sums).

Percentiles use linear interpolation between order statistics, as ``numpy.percentile`` does:
each level sorts ``group * span + (value - min)`` once, so values within a group come out sorted.

Not covered: what the numbers mean (:mod:`~fathom.domains.shipping.stats._compute`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

__all__ = ["Layout", "Selection"]

Float = NDArray[np.float64]
Bool = NDArray[np.bool_]


@dataclass
class Layout:
    """How cells and steps map onto groups. Build once per run, reuse for every variable."""

    area_of_cell: NDArray[np.intp]
    """Area index of each selected cell, non-decreasing (cells sorted by area)."""
    n_areas: int
    """Number of areas (31), including any with no cell."""
    first: Bool
    """Per time step: True for the first period, False for the second."""
    g_step: NDArray[np.intp] = field(init=False)
    """Group id ``t * n_areas + area`` of every (step, cell)."""

    def __post_init__(self) -> None:
        t = np.arange(self.first.size)
        self.g_step = t[:, None] * self.n_areas + self.area_of_cell[None, :]

    @property
    def n_steps(self) -> int:
        """Number of time steps."""
        return int(self.first.size)

    @property
    def n_groups(self) -> int:
        """Number of (step, area) groups."""
        return self.n_steps * self.n_areas

    def rollup(self, per_step: Float) -> Float:
        """Append all / first / second rows (sums over steps) to a ``(T, areas, ...)`` array."""
        total = per_step.sum(axis=0)
        first = per_step[self.first].sum(axis=0)
        second = per_step[~self.first].sum(axis=0)
        return np.concatenate([per_step, total[None], first[None], second[None]], axis=0)

    def select(self, valid: Bool) -> Selection:
        """The valid (step, cell) values of one quantity; reductions then run on those only."""
        return Selection(self, valid)

    def minimum(self, values: Float, valid: Bool) -> Float:
        """Minimum per group, NaN where no valid value, ``(T + 3, areas)``."""
        return self._extreme(values, valid, np.fmin)

    def maximum(self, values: Float, valid: Bool) -> Float:
        """Maximum per group, NaN where no valid value, ``(T + 3, areas)``."""
        return self._extreme(values, valid, np.fmax)

    def _extreme(self, values: Float, valid: Bool, ufunc: np.ufunc) -> Float:
        x = values if valid.all() else np.where(valid, values, np.nan)
        present = np.flatnonzero(np.bincount(self.area_of_cell, minlength=self.n_areas))
        starts = np.searchsorted(self.area_of_cell, present)
        per_step = np.full((self.n_steps, self.n_areas), np.nan)
        if present.size:
            with np.errstate(invalid="ignore"):
                per_step[:, present] = ufunc.reduceat(x, starts, axis=1)
        with np.errstate(invalid="ignore"):
            rows = [per_step, ufunc.reduce(per_step, axis=0)[None],
                    ufunc.reduce(per_step[self.first], axis=0, initial=np.nan)[None],
                    ufunc.reduce(per_step[~self.first], axis=0, initial=np.nan)[None]]
        return np.concatenate(rows, axis=0)


class Selection:
    """Valid values of one quantity, flattened once so that every reduction reuses the masking."""

    def __init__(self, layout: Layout, valid: Bool) -> None:
        self.layout = layout
        self._all = bool(valid.all())
        self._mask = valid.ravel()
        self.groups = layout.g_step.ravel() if self._all else layout.g_step.ravel()[self._mask]
        """Group id of every valid value."""
        per_step = np.bincount(self.groups, minlength=layout.n_groups).astype(np.float64)
        self.count = layout.rollup(per_step.reshape(layout.n_steps, layout.n_areas))
        """Number of valid cell-hours per group, ``(T + 3, areas)``."""

    def pick(self, values: np.ndarray) -> np.ndarray:
        """The valid entries of a ``(time, cells)`` array, flattened."""
        return values.ravel() if self._all else values.ravel()[self._mask]

    def total(self, values: np.ndarray) -> Float:
        """Sum of valid values per group, ``(T + 3, areas)``."""
        lay = self.layout
        per_step = np.bincount(self.groups, weights=self.pick(values), minlength=lay.n_groups)
        return lay.rollup(per_step.astype(np.float64).reshape(lay.n_steps, lay.n_areas))

    def categories_of(self, codes: NDArray[np.intp], n_codes: int) -> Float:
        """Count of each code ``0 .. n_codes-1`` per group, ``(T + 3, areas, n_codes)``.

        ``codes`` holds one code per valid value (already picked, see :meth:`pick`).
        """
        lay = self.layout
        g = self.groups * n_codes + codes
        per_step = np.bincount(g, minlength=lay.n_groups * n_codes).astype(np.float64)
        return lay.rollup(per_step.reshape(lay.n_steps, lay.n_areas, n_codes))

    def mean(self, values: np.ndarray) -> Float:
        """Mean of valid values per group, NaN where there is none."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.total(values) / self.count

    def percentiles(self, values: np.ndarray, qs: tuple[float, ...]) -> Float:
        """Percentiles ``qs`` (fractions 0..1) per group, ``(T + 3, areas, len(qs))``; NaN if empty."""
        lay = self.layout
        v = self.pick(values).astype(np.float64)
        g = self.groups
        out = np.full((lay.n_steps + 3, lay.n_areas, len(qs)), np.nan)
        if v.size == 0:
            return out
        out[: lay.n_steps] = _grouped_quantiles(v, g, lay.n_groups, qs).reshape(lay.n_steps, lay.n_areas, len(qs))
        area = g % lay.n_areas
        out[lay.n_steps] = _grouped_quantiles(v, area, lay.n_areas, qs)
        second = ~lay.first[g // lay.n_areas]
        halves = _grouped_quantiles(v, second * lay.n_areas + area, 2 * lay.n_areas, qs)
        out[lay.n_steps + 1] = halves[: lay.n_areas]
        out[lay.n_steps + 2] = halves[lay.n_areas:]
        return out


def _grouped_quantiles(values: Float, groups: NDArray[np.intp], n_groups: int,
                       qs: tuple[float, ...]) -> Float:
    """Linear-interpolation quantiles of ``values`` within each group, ``(n_groups, len(qs))``."""
    lo_v = float(values.min())
    span = (float(values.max()) - lo_v) * (1.0 + 1e-9) + 1.0
    key = groups.astype(np.float64)
    key *= span
    key += values
    key -= lo_v
    key.sort()
    counts = np.bincount(groups, minlength=n_groups)
    starts = np.cumsum(counts) - counts
    out = np.full((n_groups, len(qs)), np.nan)
    has = np.flatnonzero(counts > 0)
    n = counts[has]
    s = starts[has]
    offset = has * span - lo_v  # key - offset is the value again

    def at(k: NDArray[np.intp]) -> Float:
        value: Float = key[s + k] - offset
        return value

    for j, q in enumerate(qs):
        pos = q * (n - 1)
        lo = np.floor(pos).astype(np.intp)
        a = at(lo)
        out[has, j] = a + (pos - lo) * (at(np.minimum(lo + 1, n - 1)) - a)
    return out

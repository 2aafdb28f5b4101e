"""Agreement between the judges of a panel over a batch of items (graders-and-formats.md §6).

Covers: mean absolute difference between judges and Krippendorff's alpha for interval data, both
tolerant of missing scores (``None`` where a judge gave no usable score).
Not covered: Cohen's kappa against human labels (categorical; compute it where the labels live).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import combinations

from fathom.errors import GraderError

__all__ = ["krippendorff_alpha_interval", "panel_agreement"]


def krippendorff_alpha_interval(units: Sequence[Sequence[float]]) -> float:
    """Krippendorff's alpha with the interval metric, ``1 - D_o / D_e``.

    ``units`` holds, per item, the scores it received (any number of judges; items with fewer than
    two scores are not pairable and are ignored). Returns NaN when fewer than two pairable values
    exist or every value is identical (alpha is undefined without variation).

    Reference values: Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", 4 coders x
    12 units with missing data, interval alpha = 0.849 (checked in the tests).

    >>> krippendorff_alpha_interval([[1, 1], [2, 2], [3, 3]])
    1.0
    >>> round(krippendorff_alpha_interval([[1, 2], [2, 1]]), 3)
    -0.5
    """
    pairable = [[float(v) for v in unit] for unit in units if len(unit) >= 2]
    values = [v for unit in pairable for v in unit]
    n = len(values)
    if n < 2:
        return math.nan
    observed = sum(sum((a - b) ** 2 for a in unit for b in unit) / (len(unit) - 1) for unit in pairable) / n
    mean = sum(values) / n
    # sum over ordered pairs (i != j) of (v_i - v_j)^2 = 2 n sum (v - mean)^2
    expected = 2 * n * sum((v - mean) ** 2 for v in values) / (n * (n - 1))
    if expected == 0:
        return math.nan
    return 1.0 - observed / expected


def panel_agreement(scores_by_judge: Mapping[str, Sequence[float | None]]) -> dict[str, float]:
    """How much a panel's judges agree over a batch: judge name -> one score per item (same order).

    Returns:
        ``mean_abs_diff`` (mean |a - b| over judge pairs and items where both scored; 0 = identical),
        ``krippendorff_alpha`` (interval; 1 = perfect, 0 = chance, NaN = undefined), ``items`` (items
        at least two judges scored) and ``judges``.

    Raises:
        GraderError: the judges' score lists differ in length.

    >>> panel_agreement({"a": [0.0, 0.5, 1.0], "b": [0.0, 0.5, 1.0]})
    {'mean_abs_diff': 0.0, 'krippendorff_alpha': 1.0, 'items': 3, 'judges': 2}
    >>> panel_agreement({"a": [0.0, 1.0, None], "b": [0.5, 1.0, 1.0]})["mean_abs_diff"]
    0.25
    """
    columns = list(scores_by_judge.values())
    lengths = {len(c) for c in columns}
    if len(lengths) > 1:
        sizes = {k: len(v) for k, v in scores_by_judge.items()}
        raise GraderError(f"panel_agreement: every judge needs one score per item (None when missing); "
                          f"got list lengths {sizes}.")
    n_items = lengths.pop() if lengths else 0
    units = [[v for c in columns if (v := c[i]) is not None] for i in range(n_items)]
    diffs = [abs(a - b) for unit in units for a, b in combinations(unit, 2)]
    return {
        "mean_abs_diff": sum(diffs) / len(diffs) if diffs else math.nan,
        "krippendorff_alpha": krippendorff_alpha_interval(units),
        "items": sum(1 for unit in units if len(unit) >= 2),
        "judges": len(columns),
    }

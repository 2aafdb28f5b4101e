"""Sea-area statistics of model runs: the ``fathom.shipping.stats/1`` JSON.

Covers: one run (:func:`compute_stats`: wind, sea state, precipitation, visibility, pressure
centres per area, time step and sub-period), an archive of runs in parallel
(:func:`compute_stats_many`) and their JSON text (:func:`stats_json`). Not covered: the words of a
forecast (``writer``); the scales themselves live in ``vocab``.
"""

from __future__ import annotations

from fathom.domains.shipping.stats._compute import StatsOptions, compute_stats
from fathom.domains.shipping.stats._json import stats_json
from fathom.domains.shipping.stats._scale import compute_stats_many, find_runs, run_name

__all__ = [
    "StatsOptions", "compute_stats", "compute_stats_many", "find_runs", "run_name", "stats_json"
]

"""The Shipping Forecast domain: NetCDF model output -> sea-area statistics -> bulletins.

The plug-in object below is what Fathom's core sees (entry point ``fathom.domains``). The public
API is listed in ``__all__`` and imported lazily (on first attribute access), so loading the plug-in
to list CLI verbs costs nothing.

Pieces, in the order data flows:

* reading model output: :func:`open_run`; synthetic runs: :func:`generate_run`, :func:`write_runs`;
* sea areas: :func:`sea_areas`, :func:`area_masks`, :func:`area_labels`;
* statistics: :func:`compute_stats`, :func:`compute_stats_many` (schema in ``docs/shipping-stats.md``);
* writing: :func:`write_area`, :func:`write_bulletin`, :func:`write_synopsis`;
* reading text back: :func:`parse_area_text`, :func:`parse_bulletin`, :class:`AreaForecast`;
* scoring: :func:`score_bulletin`, :func:`shipping_grader` (registered as the ``shipping`` grader);
* language models: :func:`area_prompt`, :func:`forecast_bulletin`; recipe stages ``shipping_data`` and
  ``shipping_report``.
"""

from __future__ import annotations

import importlib
from typing import Any

from fathom._plugins import DomainPlugin

plugin = DomainPlugin(
    name="shipping",
    cli="fathom.domains.shipping.cli:shipping",
    graders={"shipping": "fathom.domains.shipping._grader:shipping_grader"},
    stages={"shipping_data": "fathom.domains.shipping._stage:build_dataset_stage",
            "shipping_report": "fathom.domains.shipping._report:shipping_report_stage"},
)

_EXPORTS: dict[str, str] = {
    "open_run": "_reader", "run_files": "_reader", "ShippingDataError": "_reader_vars",
    "SeaArea": "_areas", "sea_areas": "_areas", "sea_area": "_areas",
    "area_labels": "_masks", "area_masks": "_masks", "plot_area_masks": "_masks_plot",
    "compute_stats": "_stats", "StatsOptions": "_stats", "compute_stats_many": "_scale", "find_runs": "_scale",
    "generate_run": "_nwp", "write_runs": "_nwp_write",
    "write_area": "_writer", "WrittenArea": "_writer", "write_bulletin": "_writer_bulletin",
    "Bulletin": "_writer_bulletin", "write_synopsis": "_synopsis", "random_stats": "_writer_samples",
    "AreaForecast": "_fields", "Direction": "_fields", "Force": "_fields", "SeaState": "_fields",
    "Visibility": "_fields", "Weather": "_fields", "Periods": "_fields",
    "parse_area_text": "_parser", "parse_area_body": "_parser", "parse_bulletin": "_parser",
    "read_forecasts": "_parse_io", "score_bulletin": "_scorer", "shipping_grader": "_grader",
    "area_prompt": "_prompt", "area_messages": "_prompt", "forecast_bulletin": "_forecast",
    "examples_from_stats": "_stage",
}

__all__ = ["plugin", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'fathom.domains.shipping' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"fathom.domains.shipping.{module}"), name)
    globals()[name] = value
    return value

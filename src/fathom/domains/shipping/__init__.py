"""The Shipping Forecast domain: NetCDF model output -> sea-area statistics -> bulletins.

The plug-in object below is what Fathom's core sees (entry point ``fathom.domains``). The public
API is listed in ``__all__`` and imported lazily (on first attribute access), so loading the plug-in
to list CLI verbs costs nothing.

The folder tree is the map: one sub-package per stage, each with its own public face
(``__init__``) that the others import from, never from each other's private modules:

* ``vocab``: the controlled vocabulary and structured fields (the one home of every scale);
* ``nwp``: synthetic model runs; ``reader``: NetCDF in; ``areas``: the 31 areas and grid masks;
* ``stats``: sea-area statistics; ``writer``: the rule-based bulletin writer;
* ``parse``: text back to fields; ``score``: field-by-field scoring and the grader;
* ``lm``: the language-model route (prompt, dataset stage, report, forecast); ``cli``: the verbs.

The public API, in the order data flows:

* reading model output: :func:`open_run`; synthetic runs: :func:`generate_run`, :func:`write_runs`;
* sea areas: :func:`sea_areas`, :func:`area_masks`, :func:`area_labels`;
* statistics: :func:`compute_stats`, :func:`compute_stats_many` (schema in ``docs/shipping-stats.md``);
* writing: :func:`write_area`, :func:`write_bulletin`, :func:`write_synopsis`;
* reading text back: :func:`parse_area_text`, :func:`parse_bulletin`, :class:`AreaForecast`;
* scoring: :func:`score_bulletin`, :func:`shipping_grader` (registered as the ``shipping`` grader);
* language models: :func:`area_prompt`, :func:`forecast_bulletin`; recipe stages ``shipping_data``,
  ``shipping_report`` and ``shipping_corpus`` (writer bulletins as unlabelled text for CPT); the rule-based
  model ``rule:shipping-writer`` (the writer reading only the prompt, a distillation teacher and a baseline).
"""

from __future__ import annotations

import importlib
from typing import Any

from fathom._plugins import DomainPlugin

plugin = DomainPlugin(
    name="shipping",
    cli="fathom.domains.shipping.cli:shipping",
    graders={"shipping": "fathom.domains.shipping.score:shipping_grader"},
    stages={"shipping_data": "fathom.domains.shipping.lm:build_dataset_stage",
            "shipping_report": "fathom.domains.shipping.lm:shipping_report_stage",
            "shipping_corpus": "fathom.domains.shipping.lm:bulletin_corpus_stage"},
    backends={"shipping-writer": "fathom.domains.shipping.lm:ShippingWriterBackend"},
)

# sub-package -> the public names it exports here (each sub-package's own ``__all__`` has more)
_PACKAGES: dict[str, tuple[str, ...]] = {
    "reader": ("open_run", "run_files", "ShippingDataError"),
    "areas": ("SeaArea", "sea_areas", "sea_area", "area_labels", "area_masks", "plot_area_masks"),
    "stats": ("compute_stats", "StatsOptions", "compute_stats_many", "find_runs"),
    "nwp": ("generate_run", "write_runs"),
    "writer": ("write_area", "WrittenArea", "write_bulletin", "Bulletin", "write_synopsis", "random_stats"),
    "vocab": ("AreaForecast", "Direction", "Force", "SeaState", "Visibility", "Weather", "Periods"),
    "parse": ("parse_area_text", "parse_area_body", "parse_bulletin", "read_forecasts"),
    "score": ("score_bulletin", "shipping_grader"),
    "lm": ("area_prompt", "area_messages", "forecast_bulletin", "examples_from_stats"),
}
_EXPORTS = {name: package for package, names in _PACKAGES.items() for name in names}

__all__ = ["plugin", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'fathom.domains.shipping' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"fathom.domains.shipping.{module}"), name)
    globals()[name] = value
    return value

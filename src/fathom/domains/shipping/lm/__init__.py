"""The language-model route: prompts, the dataset stage, the recipe report and model-written bulletins.

Covers: the statistics prompt for one area, the ``shipping_data`` recipe stage (runs -> chat
examples), the ``shipping_report`` stage (HTML, PNG, summary.json), the ``shipping_corpus`` stage
(writer bulletins as unlabelled text for CPT) and whole bulletins with a model
writing the area texts. Not covered: training or generation themselves (``fathom.train``,
``fathom.backends``).
"""

from __future__ import annotations

from fathom.domains.shipping.lm._corpus import bulletin_corpus_stage
from fathom.domains.shipping.lm._forecast import forecast_bulletin
from fathom.domains.shipping.lm._prompt import area_messages, area_prompt
from fathom.domains.shipping.lm._report import shipping_report_stage
from fathom.domains.shipping.lm._stage import build_dataset_stage, examples_from_stats
from fathom.domains.shipping.lm._writer_backend import ShippingWriterBackend

__all__ = [
    "ShippingWriterBackend", "area_messages", "area_prompt", "build_dataset_stage", "bulletin_corpus_stage",
    "examples_from_stats", "forecast_bulletin", "shipping_report_stage",
]

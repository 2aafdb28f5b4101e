"""The rule-based writer: statistics -> area forecasts, gale warnings, synopsis and bulletin.

Covers: per-field rules on one area's statistics, wording, merging neighbouring areas within the
word limit, gale warnings, the general synopsis from pressure centres, the whole bulletin, and
plausible statistics without NetCDF for tests. Not covered: computing statistics (``stats``) or a
language model writing the text (``lm``).
"""

from __future__ import annotations

from fathom.domains.shipping.writer._area import WrittenArea, ranged_values, write_area
from fathom.domains.shipping.writer._bulletin import Bulletin, write_bulletin
from fathom.domains.shipping.writer._rules import beaufort_dist, force_value, sea_dist, sea_value, vis_dist
from fathom.domains.shipping.writer._samples import random_stats, uniform_area
from fathom.domains.shipping.writer._synopsis import parse_time, write_synopsis

__all__ = [
    "Bulletin", "WrittenArea", "beaufort_dist", "force_value", "parse_time", "random_stats",
    "ranged_values", "sea_dist", "sea_value", "uniform_area", "vis_dist", "write_area",
    "write_bulletin", "write_synopsis"
]

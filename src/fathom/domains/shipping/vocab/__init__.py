"""The Shipping Forecast's controlled vocabulary and the structured fields of a forecast.

Covers: the one home of every scale (compass points, Beaufort, sea state, visibility, unit
conversions) and the field types (:class:`AreaForecast` and its values) shared by the writer,
parser, scorer and statistics. Not covered: turning fields into text or back (``writer``,
``parse``).
"""

from __future__ import annotations

from fathom.domains.shipping.vocab._fields import (
    AreaForecast, Direction, FIELDS, Force, Icing, Periods, SeaState, Slot, Visibility, Weather,
)
from fathom.domains.shipping.vocab._vocab import (
    AREAS, AREA_ALIASES, BEAUFORT_KNOTS, NAUTICAL_MILE_M, POINTS, POINT_ADJECTIVES, POINT_NOUNS,
    SEA_STATES, VISIBILITY, beaufort_from_knots, force_words, sea_state_class,
)

__all__ = [
    "AREAS", "AREA_ALIASES", "AreaForecast", "BEAUFORT_KNOTS", "Direction", "FIELDS", "Force",
    "Icing", "NAUTICAL_MILE_M", "POINTS", "POINT_ADJECTIVES", "POINT_NOUNS", "Periods",
    "SEA_STATES", "SeaState", "Slot", "VISIBILITY", "Visibility", "Weather", "beaufort_from_knots",
    "force_words", "sea_state_class"
]

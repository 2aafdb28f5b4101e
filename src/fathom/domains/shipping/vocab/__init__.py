"""The Shipping Forecast's controlled vocabulary and the structured fields of a forecast.

Covers: the one home of every scale (compass points, Beaufort, sea state, visibility, unit
conversions) and the field types (:class:`AreaForecast` and its values) shared by the writer,
parser, scorer and statistics. Not covered: turning fields into text or back (``writer``,
``parse``).
"""

from __future__ import annotations

from fathom.domains.shipping.vocab._fields import (
    FIELDS,
    AreaForecast,
    Direction,
    Force,
    Icing,
    Periods,
    SeaState,
    Slot,
    Visibility,
    Weather,
)
from fathom.domains.shipping.vocab._vocab import (
    AREA_ALIASES,
    AREAS,
    BEAUFORT_KNOTS,
    KNOT_MS,
    NAUTICAL_MILE_M,
    POINT_ADJECTIVES,
    POINT_DEGREES,
    POINT_NOUNS,
    POINTS,
    SEA_STATE_UPPER_M,
    SEA_STATES,
    VISIBILITY,
    VISIBILITY_LOWER_M,
    beaufort_from_knots,
    beaufort_from_ms,
    force_words,
    sea_state_class,
    visibility_class,
)

__all__ = [
    "AREAS",
    "AREA_ALIASES",
    "BEAUFORT_KNOTS",
    "FIELDS",
    "KNOT_MS",
    "NAUTICAL_MILE_M",
    "POINTS",
    "POINT_ADJECTIVES",
    "POINT_DEGREES",
    "POINT_NOUNS",
    "SEA_STATES",
    "SEA_STATE_UPPER_M",
    "VISIBILITY",
    "VISIBILITY_LOWER_M",
    "AreaForecast",
    "Direction",
    "Force",
    "Icing",
    "Periods",
    "SeaState",
    "Slot",
    "Visibility",
    "Weather",
    "beaufort_from_knots",
    "beaufort_from_ms",
    "force_words",
    "sea_state_class",
    "visibility_class"
]

"""The Shipping Forecast's controlled vocabulary, shared by the writer, parser and scorer.

Covers: compass points (with degrees and the words the bulletin uses for them), the Beaufort
scale (lower bounds in knots and m/s, and the gale wording from force 8), sea-state and
visibility classes with their thresholds, weather types, icing classes, timing and
qualifier words, and the 31 sea-area names in broadcast order with their spelling variants.

Not covered: parsing or rendering text (``parse/_parser.py``, the writer); polygons of the areas.

Figures come from ``docs/shipping-forecast.md`` §2 (Met Office glossary, WMO codes). This is the one
home of every scale: the statistics, writer, parser and scorer import these objects (a test checks
they hold no copy of their own). The Douglas sea-state scale is the core's (:mod:`fathom._sea_state`,
because ``fathom demo`` uses it and the core imports no domain) and is re-exported here unchanged.

>>> POINT_DEGREES["SW"]
225.0
>>> beaufort_from_knots(33.9), beaufort_from_knots(34.0)
(7, 8)
>>> force_words(8), force_words(6)
('gale 8', '6')
>>> sea_state_class(2.5), SEA_STATES[sea_state_class(2.49)]
(3, 'moderate')
>>> VISIBILITY[visibility_class(1500.0)]
'poor'
"""

from __future__ import annotations

import bisect

from fathom._sea_state import SEA_STATE_UPPER_M, SEA_STATES

__all__ = [
    "AREAS",
    "AREA_ALIASES",
    "BEAUFORT_KNOTS",
    "BEAUFORT_MS",
    "FORCE_WORDS",
    "ICING",
    "KNOT_MS",
    "NAUTICAL_MILE_M",
    "POINTS",
    "POINT_ADJECTIVES",
    "POINT_DEGREES",
    "POINT_NOUNS",
    "SEA_STATES",
    "SEA_STATE_UPPER_M",
    "SECONDARY_WORDS",
    "SPATIAL_PARTS",
    "TIMING_WORDS",
    "VISIBILITY",
    "VISIBILITY_LOWER_M",
    "WEATHER_TYPES",
    "beaufort_from_knots",
    "beaufort_from_ms",
    "force_words",
    "sea_state_class",
    "visibility_class",
]

# ---------------------------------------------------------------- wind direction
POINTS: tuple[str, ...] = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
"""The 8 compass points, clockwise from north (the order is the index used everywhere)."""

POINT_DEGREES: dict[str, float] = {p: 45.0 * i for i, p in enumerate(POINTS)}
"""Direction the wind blows FROM, in degrees (0 = N, 90 = E)."""

POINT_NOUNS: dict[str, str] = {
    "N": "north", "NE": "northeast", "E": "east", "SE": "southeast",
    "S": "south", "SW": "southwest", "W": "west", "NW": "northwest",
}
"""The noun form the bulletin uses ("Southwest 5 to 7")."""

POINT_ADJECTIVES: dict[str, str] = {p: f"{word}erly" for p, word in POINT_NOUNS.items()}
"""The adjective form ("Southwesterly 5 to 7")."""

# ---------------------------------------------------------------- wind force
KNOT_MS = 1852.0 / 3600.0
"""One knot in metres per second, exactly (one nautical mile, 1852 m, per hour)."""

BEAUFORT_KNOTS: tuple[float, ...] = (0, 1, 4, 7, 11, 17, 22, 28, 34, 41, 48, 56, 64)
"""Lower bound in knots of Beaufort forces 0..12 (index = force)."""

BEAUFORT_MS: tuple[float, ...] = (
    0.0, 0.3, 1.6, 3.4, 5.5, 8.0, 10.8, 13.9, 17.2, 20.8, 24.5, 28.5, 32.7)
"""Lower bound in m/s of Beaufort forces 0..12 (the WMO table; index = force)."""

FORCE_WORDS: dict[int, str] = {
    8: "gale", 9: "severe gale", 10: "storm", 11: "violent storm", 12: "hurricane force",
}
"""The words before the number from force 8 up ("severe gale 9")."""


def force_words(force: int) -> str:
    """The area-forecast wording of one Beaufort force ("6", "gale 8", "hurricane force 12").

    Args:
        force: Beaufort force, 0..12.

    Returns:
        The phrase as the bulletin writes it.
    """
    word = FORCE_WORDS.get(force)
    return f"{word} {force}" if word else str(force)


def beaufort_from_knots(knots: float) -> int:
    """Beaufort force of a wind speed in knots (binned by the lower bounds)."""
    return max(0, bisect.bisect_right(BEAUFORT_KNOTS, knots) - 1)


def beaufort_from_ms(speed: float) -> int:
    """Beaufort force of a wind speed in m/s (binned by the knot bounds, 1 kn = 1852/3600 m/s)."""
    return beaufort_from_knots(speed / KNOT_MS)


# ---------------------------------------------------------------- sea state
# SEA_STATES (the 8 ordered classes) and SEA_STATE_UPPER_M (exclusive upper bounds of Hs in m of each
# class but the last) are imported above from the core's fathom._sea_state.


def sea_state_class(hs_m: float) -> int:
    """Index in :data:`SEA_STATES` of a significant wave height in metres."""
    return bisect.bisect_right(SEA_STATE_UPPER_M, hs_m)


# ---------------------------------------------------------------- visibility
NAUTICAL_MILE_M = 1852.0
"""One nautical mile in metres."""

VISIBILITY: tuple[str, ...] = ("very poor", "poor", "moderate", "good")
"""The 4 ordered visibility classes, worst first (index = class)."""

VISIBILITY_LOWER_M: tuple[float, ...] = (0.0, 1000.0, 2 * NAUTICAL_MILE_M, 5 * NAUTICAL_MILE_M)
"""Lower bound in metres of each visibility class (good is strictly more than 5 nm)."""


def visibility_class(metres: float) -> int:
    """Index in :data:`VISIBILITY` of a visibility in metres (5 nm exactly is moderate)."""
    if metres > VISIBILITY_LOWER_M[3]:
        return 3
    return max(0, bisect.bisect_right(VISIBILITY_LOWER_M[:3], metres) - 1)


# ---------------------------------------------------------------- weather, icing
WEATHER_TYPES: tuple[str, ...] = (
    "rain", "showers", "drizzle", "thundery", "squally", "wintry", "snow", "sleet", "hail",
    "fog", "fair")
"""Weather types the scorer compares as a set ("thundery showers" = {thundery, showers})."""

ICING: tuple[str, ...] = ("light", "moderate", "severe")
"""Ordered icing classes ("Light icing", "Moderate or severe icing")."""

# ---------------------------------------------------------------- timing and qualifiers
SECONDARY_WORDS: tuple[str, ...] = ("occasionally", "at times", "for a time", "perhaps")
"""Qualifiers whose value is scored as a secondary value of the period(s) it applies to."""

TIMING_WORDS: dict[str, str] = {
    "at first": "first",
    "later": "second",
    "soon": "first",
    "imminent": "first",
    "then": "sequence",
    "becoming": "sequence",
    "veering": "sequence",
    "backing": "sequence",
    "increasing": "sequence",
    "decreasing": "sequence",
    "until later": "first",
    "occasionally": "secondary",
    "occasional": "secondary",
    "at times": "secondary",
    "for a time": "secondary",
    "perhaps": "secondary",
}
"""Timing words and what the Fathom scorer makes of them (docs §2.6, §7): ``first`` = the
first 12 h, ``second`` = the second 12 h, ``sequence`` = the value after it holds in the
second 12 h, ``secondary`` = a secondary value."""

SPATIAL_PARTS: tuple[str, ...] = (
    "north", "northeast", "east", "southeast", "south", "southwest", "west", "northwest",
    "far north", "far northeast", "far east", "far southeast", "far south", "far southwest",
    "far west", "far northwest", "central", "centre")
"""Part-of-area words after "in" ("occasionally 7 in far southeast")."""

# ---------------------------------------------------------------- sea areas
AREAS: tuple[str, ...] = (
    "Viking", "North Utsire", "South Utsire", "Forties", "Cromarty", "Forth", "Tyne",
    "Dogger", "Fisher", "German Bight", "Humber", "Thames", "Dover", "Wight", "Portland",
    "Plymouth", "Biscay", "Trafalgar", "FitzRoy", "Sole", "Lundy", "Fastnet", "Irish Sea",
    "Shannon", "Rockall", "Malin", "Hebrides", "Bailey", "Fair Isle", "Faeroes",
    "Southeast Iceland")
"""The 31 canonical sea-area names in broadcast order."""

AREA_ALIASES: dict[str, str] = {
    "fitzroy": "FitzRoy",
    "finisterre": "FitzRoy",
    "heligoland": "German Bight",
    "south-east iceland": "Southeast Iceland",
    "south east iceland": "Southeast Iceland",
    "se iceland": "Southeast Iceland",
    "faroes": "Faeroes",
}
"""Lower-cased variant spellings and former names -> canonical name."""

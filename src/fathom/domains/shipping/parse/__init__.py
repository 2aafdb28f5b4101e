"""Reading Shipping Forecast text back into structured fields.

Covers: typo repair and tokenising, the field grammar and its two sub-periods, one area's text, a
whole bulletin, and reading forecasts from text, JSON Lines and JSON files. Not covered: scoring
(``score``) or writing (``writer``).
"""

from __future__ import annotations

from fathom.domains.shipping.parse._io import read_forecasts
from fathom.domains.shipping.parse._parser import (
    expand_names,
    parse_area_body,
    parse_area_text,
    parse_bulletin,
)
from fathom.domains.shipping.parse._periods import combine_periods

__all__ = [
    "combine_periods", "expand_names", "parse_area_body", "parse_area_text", "parse_bulletin",
    "read_forecasts"
]

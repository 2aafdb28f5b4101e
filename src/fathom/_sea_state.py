"""The Douglas sea-state scale: the one fact the core and the Shipping Forecast domain share.

Covers: the eight sea-state words in order and the significant wave heights (m) that separate them
(WMO code table 3700; ``docs/shipping-forecast.md`` §2). It lives in the core because the core's
``fathom demo`` task (:mod:`fathom.train._demo`) is about this scale and the core never imports a
domain; the shipping vocabulary (``fathom.domains.shipping.vocab``) imports these very objects and
re-exports them, so there is one definition and ``SEA_STATES is vocab.SEA_STATES``.

Not covered: classifying a height (``vocab.sea_state_class``, the demo's ``sea_state_word``), any
other scale of the bulletin (Beaufort, visibility, compass points: all in the vocabulary).

>>> dict(zip(SEA_STATES, SEA_STATE_UPPER_M, strict=False))["rough"]
4.0
"""

from __future__ import annotations

__all__ = ["SEA_STATES", "SEA_STATE_UPPER_M"]

SEA_STATES: tuple[str, ...] = (
    "smooth", "slight", "moderate", "rough", "very rough", "high", "very high", "phenomenal")
"""The 8 ordered sea-state classes (index = class)."""

SEA_STATE_UPPER_M: tuple[float, ...] = (0.5, 1.25, 2.5, 4.0, 6.0, 9.0, 14.0)
"""Exclusive upper bound of significant wave height (m) of each class but the last."""

"""Scoring forecasts: field-by-field comparison with a reference, and the ``shipping`` grader.

Covers: the Fathom scorer convention (per sub-period, main and secondary values, strict and
tolerant) for whole bulletins, and the grader that scores one area text (evaluation metric and RL
reward). Not covered: parsing (``parse``).
"""

from __future__ import annotations

from fathom.domains.shipping.score._grader import shipping_grader
from fathom.domains.shipping.score._scorer import COMPONENTS, score_bulletin

__all__ = [
    "COMPONENTS", "score_bulletin", "shipping_grader"
]

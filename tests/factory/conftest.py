"""Shared plants for the factory tests: a normal 6-hour run and one with the tunnel drifting."""

from __future__ import annotations

import pytest

from fathom.domains.factory import Plant


@pytest.fixture
def normal_plant() -> Plant:
    return Plant.simulated(hours=6, seed=3)


@pytest.fixture
def drift_plant() -> Plant:
    return Plant.simulated(hours=6, faults=["tunnel_temp_drift"], seed=3, onset=60)

"""Fixtures for the serving tests, shared with the backend tests rather than copied.

``varied_model_dir`` (the untied tiny model, whose greedy answers depend on the prompt and on an adapter)
and ``adapters`` (two random LoRA adapters on it) are defined in ``tests/backends/conftest.py``;
re-exported here for the adapter-serving tests.
"""

from __future__ import annotations

from tests.backends.conftest import adapters, varied_model_dir

__all__ = ["adapters", "varied_model_dir"]

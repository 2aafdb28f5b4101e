"""Test set-up shared by every test: hermetic user folder, shared reference data, tiny models.

* ``FATHOM_HOME`` points at a per-session temporary folder (the bundled model is converted into it
  once per session when a test needs it).
* ``shared_file("data/shipping/real_bulletins.jsonl")`` finds the project's reference data in
  ``../shared``. Missing data skips the test on a developer machine but fails it under CI
  (``CI=true``), so CI can never pass by skipping.
* ``HF_HUB_OFFLINE=1``: nothing reaches the Hugging Face hub.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

# No test may reach the Hugging Face hub (the default run is hermetic); a test of the online path
# removes this with monkeypatch and fakes the endpoint on loopback.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FATHOM_SHARED", REPO.parent / "shared"))


def shared_path(relative: str) -> Path:
    """Path of a file under ``../shared``; skip (or fail under CI) when it is missing."""
    path = SHARED / relative
    if not path.exists():
        message = f"reference data {path} is missing (it lives in ../shared beside the repo)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def shared_file() -> Callable[[str], Path]:
    """:func:`shared_path` as a fixture: ``shared_file("data/shipping/real_bulletins.jsonl")``."""
    return shared_path


@pytest.fixture(scope="session", autouse=True)
def _fathom_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = Path(os.environ.get("FATHOM_TEST_HOME") or tmp_path_factory.mktemp("fathom-home"))
    os.environ["FATHOM_HOME"] = str(home)
    return home


@pytest.fixture(scope="session")
def bundled_model_dir(_fathom_home: Path) -> Path:
    """The real bundled SmolLM2 converted into this session's FATHOM_HOME (about 20-30 s, once).

    Set ``FATHOM_TEST_HOME`` to a persistent folder to keep the conversion between runs.
    """
    from fathom.models import bundled_dir

    return bundled_dir("smollm2-135m", quiet=True)


@pytest.fixture(scope="session")
def tiny_model_dir(bundled_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random 2-layer, 64-dim Llama with the bundled tokenizer and tool-aware template."""
    from fathom.models import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny-model") / "tiny", seed=0)

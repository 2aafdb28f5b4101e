"""Where Fathom keeps its caches: ``$FATHOM_HOME`` (default ``~/.cache/fathom``)."""

from __future__ import annotations

import os
from pathlib import Path


def fathom_home() -> Path:
    """The cache root, created on first use. Set ``FATHOM_HOME`` to move it."""
    home = Path(os.environ.get("FATHOM_HOME") or Path.home() / ".cache" / "fathom").expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home

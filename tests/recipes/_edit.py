"""One helper for recipe tests: a shipped recipe, edited, written into a temporary folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml


def edited_recipe(source: Path, tmp_path: Path, edit: Callable[[dict[str, Any]], Any],
                  name: str = "recipe.yaml") -> Path:
    """Load ``source``, call ``edit`` on its ``stages`` mapping, write the result to ``tmp_path / name``."""
    recipe = yaml.safe_load(source.read_text())
    edit(recipe["stages"])
    path = tmp_path / name
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return path

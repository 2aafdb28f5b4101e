"""Every recipe Fathom ships is valid as written (``fathom run RECIPE --check``) and opens with how to run it."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.cli._run import run

RECIPES = sorted((Path(__file__).resolve().parents[2] / "recipes").glob("*.yaml"))


def test_the_shipped_recipes_are_found() -> None:
    assert {p.name for p in RECIPES} >= {"shipping-forecast.yaml", "factory-tools.yaml", "tools-from-documents.yaml"}


@pytest.mark.parametrize("recipe", RECIPES, ids=[p.stem for p in RECIPES])
def test_a_shipped_recipe_checks_and_says_how_to_run_it(recipe: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["run", str(recipe), "--check"], capsys)
    assert code == 0, err
    assert "valid" in out + err
    header = recipe.read_text().split("\nname:")[0]
    assert "fathom run recipes/" + recipe.name in header

"""Recipes: YAML files naming stages; the runner that executes, skips and resumes them.

Covers: loading and validating recipes (every problem at once, including references to outputs no
stage declares, out-of-range values and unknown model specs), ``--set`` overrides, the stage
registry, the runner with per-stage folders and manifests. Not covered: what stages do (each stage is
a function in its own module: ``fathom.recipes._core_stages`` or a domain's).
"""

from __future__ import annotations

from fathom.recipes._check import validate_recipe
from fathom.recipes._recipe import InputPath, Recipe, StageSpec, apply_overrides, load_recipe
from fathom.recipes._runner import RecipeResult, StageOutcome, run_recipe
from fathom.recipes._stages import StageContext, register_stage, stage_names

__all__ = [
    "InputPath",
    "Recipe",
    "RecipeResult",
    "StageContext",
    "StageOutcome",
    "StageSpec",
    "apply_overrides",
    "load_recipe",
    "register_stage",
    "run_recipe",
    "stage_names",
    "validate_recipe",
]

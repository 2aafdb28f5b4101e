"""Running a recipe: each stage in order, each in its own folder, skipped when already done.

``runs/<recipe>/<stage>/manifest.json`` records a finished stage: its resolved parameters, a
fingerprint of its inputs, its outputs and its timing. On a re-run a stage is

* **skipped** when it finished and its fingerprint (parameters, input files, upstream stages) is
  unchanged — its recorded outputs feed later stages;
* **resumed** (``ctx.resume = True``) when an earlier attempt left its folder without a finished
  manifest, e.g. after Ctrl-C or a crash: SFT continues from its last checkpoint, evaluation from
  its completion cache;
* **run afresh** when its inputs changed, or from ``--from STAGE`` on (the old folder is cleared).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fathom._manifest import file_sha256, write_manifest
from fathom.errors import ConfigError, FathomWarning, Problem, did_you_mean
from fathom.recipes._recipe import Recipe, _refs_in, resolve_refs
from fathom.recipes._stages import StageContext, stage_function, stage_outputs

__all__ = ["RecipeResult", "StageOutcome", "run_recipe"]


@dataclass
class StageOutcome:
    name: str
    status: str
    """``"ran"``, ``"resumed"`` or ``"skipped"``."""
    seconds: float
    outputs: dict[str, Any] = field(default_factory=dict)


@dataclass
class RecipeResult:
    recipe: str
    run_dir: Path
    stages: list[StageOutcome]


def _path_signature(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > 4096:
        return None
    path = Path(value)
    try:
        if path.is_file():
            return (file_sha256(path) if path.stat().st_size < 256 << 20
                    else f"{path.stat().st_size}:{path.stat().st_mtime_ns}")
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file())
            return hashlib.sha256("".join(f"{p.relative_to(path)}:{p.stat().st_size}:{p.stat().st_mtime_ns};"
                                          for p in files).encode()).hexdigest()
    except OSError:
        return None
    return None


def _fingerprint(uses: str, params: dict[str, Any], raw_params: dict[str, Any],
                 upstream: dict[str, str], seed: int) -> str:
    inputs = {k: _path_signature(v) for k, v in params.items() if not _refs_in(raw_params.get(k))}
    blob = json.dumps({"uses": uses, "params": params, "inputs": inputs, "upstream": upstream, "seed": seed},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _read_manifest(stage_dir: Path) -> dict[str, Any] | None:
    try:
        manifest: dict[str, Any] | None = json.loads((stage_dir / "manifest.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return manifest


def run_recipe(recipe: Recipe, *, from_stage: str | None = None, runs_dir: str | Path | None = None,
               quiet: bool = False) -> RecipeResult:
    """Run (or skip, or resume) every stage of a validated recipe; return what happened."""
    from rich.console import Console

    console = Console(stderr=True, quiet=quiet)
    names = [s.name for s in recipe.stages]
    if from_stage is not None and from_stage not in names:
        raise ConfigError([Problem("--from", f"unknown stage {from_stage!r}. {did_you_mean(from_stage, names)} "
                                             f"Stages: {', '.join(names)}.")])
    run_dir = Path(runs_dir or recipe.runs_dir) / recipe.name
    outputs: dict[str, dict[str, Any]] = {}
    fingerprints: dict[str, str] = {}
    outcomes: list[StageOutcome] = []
    forcing = False
    for index, spec in enumerate(recipe.stages, 1):
        forcing = forcing or spec.name == from_stage
        stage_dir = run_dir / spec.name
        params = resolve_refs(spec.params, outputs)
        upstream = {s: fingerprints[s] for s, _ in _refs_in(spec.params) if s in fingerprints}
        fingerprint = _fingerprint(spec.uses, params, spec.params, upstream, recipe.seed)
        previous = _read_manifest(stage_dir)
        done = previous is not None and previous.get("status") == "complete"
        if done and not forcing and previous is not None and previous.get("fingerprint") == fingerprint:
            outputs[spec.name] = previous.get("outputs", {})
            fingerprints[spec.name] = fingerprint
            outcomes.append(StageOutcome(spec.name, "skipped", 0.0, outputs[spec.name]))
            console.print(f"[dim][{index}/{len(names)}] {spec.name}: done already, skipped[/dim]")
            continue
        resume = stage_dir.exists() and not done and not forcing
        if stage_dir.exists() and not resume:
            shutil.rmtree(stage_dir)
        stage_dir.mkdir(parents=True, exist_ok=True)
        verb = "resuming" if resume else "running"
        console.rule(f"[bold][{index}/{len(names)}] {spec.name}[/bold] ({spec.uses}) {verb}")
        fn = stage_function(spec.uses)
        assert fn is not None, "validated recipes only name known stages"
        ctx = StageContext(name=spec.name, out_dir=stage_dir, recipe=recipe.name, seed=recipe.seed,
                           resume=resume, outputs=dict(outputs), quiet=quiet)
        started = time.perf_counter()
        result = fn(ctx, **params) or {}
        seconds = time.perf_counter() - started
        result = {"dir": str(stage_dir), **result}
        _warn_undeclared(spec.uses, fn, result)
        write_manifest(stage_dir, kind=f"stage:{spec.uses}", config=params,
                       extra={"status": "complete", "fingerprint": fingerprint, "outputs": result,
                              "seconds": round(seconds, 2), "recipe": recipe.name, "stage": spec.name})
        outputs[spec.name] = result
        fingerprints[spec.name] = fingerprint
        outcomes.append(StageOutcome(spec.name, "resumed" if resume else "ran", seconds, result))
        console.print(f"[green]{spec.name} finished in {seconds:.1f} s[/green]")
    _print_summary(console, recipe.name, run_dir, outcomes)
    return RecipeResult(recipe.name, run_dir, outcomes)


def _warn_undeclared(uses: str, fn: Any, result: dict[str, Any]) -> None:
    """A stage that returns fewer keys than it declares would let ``--check`` pass a bad reference."""
    missing = sorted((stage_outputs(fn) or set()) - set(result))
    if missing:
        warnings.warn(f"stage {uses!r} declares outputs {', '.join(missing)} but did not return them; "
                      f"fix its return value or its `outputs` declaration", FathomWarning, stacklevel=2)


def _print_summary(console: Any, name: str, run_dir: Path, outcomes: list[StageOutcome]) -> None:
    from rich.table import Table

    table = Table("stage", "status", "seconds", "outputs", title=f"recipe {name}: {run_dir}")
    for o in outcomes:
        shown = {k: v for k, v in o.outputs.items() if k != "dir" and not isinstance(v, (dict, list))}
        table.add_row(o.name, o.status, f"{o.seconds:.1f}",
                      ", ".join(f"{k}={_show(v, run_dir)}" for k, v in list(shown.items())[:4]))
    console.print(table)


def _show(value: Any, run_dir: Path) -> str:
    """A stage output for the end table: floats to 4 figures, paths inside the run folder relative to it."""
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    for root in (f"{run_dir.resolve()}/", f"{run_dir}/"):
        if text.startswith(root):
            return text[len(root):]
    return text

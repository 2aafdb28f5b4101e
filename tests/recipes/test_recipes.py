"""The recipe runner: validation up front, stage order, references, skip, resume, --from, --set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from fathom.cli import cli
from fathom.errors import ConfigError
from fathom.graders._protocol import Grade
from fathom.graders._registry import register_grader
from fathom.recipes import InputPath, StageContext, load_recipe, register_stage, run_recipe

CALLS: list[tuple[str, bool]] = []


@register_stage("toy_make")
def toy_make(ctx: StageContext, n: int, source: InputPath | None = None) -> dict[str, Any]:
    CALLS.append((ctx.name, ctx.resume))
    path = ctx.out_dir / "numbers.json"
    path.write_text(json.dumps(list(range(n))))
    return {"numbers": str(path), "count": n}


@register_stage("toy_sum")
def toy_sum(ctx: StageContext, numbers: InputPath, grader: str | dict[str, Any] = "toy_exact",
            crash_once: bool = False) -> dict[str, Any]:
    CALLS.append((ctx.name, ctx.resume))
    marker = ctx.out_dir / "started"
    if crash_once and not marker.exists():
        marker.write_text("1")
        raise KeyboardInterrupt
    total = sum(json.loads(Path(numbers).read_text()))
    return {"total": total}


@register_grader("toy_exact")
def toy_exact() -> Any:
    return lambda example, completion: Grade(1.0)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "toy.yaml"
    path.write_text(text)
    return path


RECIPE = """
name: toy
stages:
  make: {uses: toy_make, n: 4}
  sum: {uses: toy_sum, numbers: "${make.numbers}"}
"""


@pytest.fixture(autouse=True)
def _reset() -> None:
    CALLS.clear()


def test_runs_in_order_and_passes_outputs(tmp_path: Path) -> None:
    result = run_recipe(load_recipe(write(tmp_path, RECIPE)), runs_dir=tmp_path / "runs", quiet=True)
    assert [o.name for o in result.stages] == ["make", "sum"]
    assert result.stages[1].outputs["total"] == 6
    manifest = json.loads((tmp_path / "runs/toy/sum/manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["config"]["numbers"].endswith("numbers.json")
    assert "versions" in manifest and "fingerprint" in manifest


def test_rerun_skips_finished_stages_and_reruns_changed_ones(tmp_path: Path) -> None:
    path = write(tmp_path, RECIPE)
    run_recipe(load_recipe(path), runs_dir=tmp_path / "runs", quiet=True)
    again = run_recipe(load_recipe(path), runs_dir=tmp_path / "runs", quiet=True)
    assert [o.status for o in again.stages] == ["skipped", "skipped"]
    assert again.stages[1].outputs["total"] == 6
    changed = run_recipe(load_recipe(path, ["make.n=5"]), runs_dir=tmp_path / "runs", quiet=True)
    assert [o.status for o in changed.stages] == ["ran", "ran"]
    assert changed.stages[1].outputs["total"] == 10


def test_from_reruns_that_stage_and_later(tmp_path: Path) -> None:
    path = write(tmp_path, RECIPE)
    run_recipe(load_recipe(path), runs_dir=tmp_path / "runs", quiet=True)
    again = run_recipe(load_recipe(path), from_stage="sum", runs_dir=tmp_path / "runs", quiet=True)
    assert [o.status for o in again.stages] == ["skipped", "ran"]


def test_interrupted_stage_resumes_without_redoing_earlier_ones(tmp_path: Path) -> None:
    path = write(tmp_path, RECIPE.replace('"${make.numbers}"}', '"${make.numbers}", crash_once: true}'))
    with pytest.raises(KeyboardInterrupt):
        run_recipe(load_recipe(path), runs_dir=tmp_path / "runs", quiet=True)
    CALLS.clear()
    result = run_recipe(load_recipe(path), runs_dir=tmp_path / "runs", quiet=True)
    assert CALLS == [("sum", True)]
    assert [o.status for o in result.stages] == ["skipped", "resumed"]


def test_every_problem_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, """
name: toy
stages:
  make: {uses: toy_mak, n: 4}
  sum: {uses: toy_sum, numbers: missing/numbers.json, grader: toy_exac}
""")
    with pytest.raises(ConfigError) as info:
        load_recipe(path)
    text = str(info.value)
    assert "stages.make: unknown stage 'toy_mak'. Did you mean 'toy_make'?" in text
    assert "stages.sum.numbers: path 'missing/numbers.json' does not exist" in text
    assert "stages.sum.grader: unknown grader 'toy_exac'. Did you mean 'toy_exact'?" in text
    assert len(info.value.problems) == 3


def test_parameter_checks(tmp_path: Path) -> None:
    path = write(tmp_path, """
stages:
  make: {uses: toy_make, nn: 4}
  sum: {uses: toy_sum, numbers: "${nothing.numbers}", crash_once: maybe}
""")
    with pytest.raises(ConfigError) as info:
        load_recipe(path)
    text = str(info.value)
    assert "stages.make.nn: unknown parameter. Did you mean 'n'?" in text
    assert "stages.make.n: required parameter is missing" in text
    assert "not an earlier stage" in text
    assert "stages.sum.crash_once: 'maybe' is not a valid bool" in text


def test_cli_check_and_set(tmp_path: Path) -> None:
    path = write(tmp_path, RECIPE)
    runner = CliRunner()
    ok = runner.invoke(cli, ["run", str(path), "--check", "--set", "make.n=3"])
    assert ok.exit_code == 0, ok.output
    assert "valid (2 stages: make, sum)" in ok.output
    bad = runner.invoke(cli, ["run", str(path), "--set", "make.n=three", "--check"])
    assert bad.exit_code != 0

"""``fathom run --check`` catches what would fail later, and stages get typed values.

Typed values: ``1e-3`` (text to YAML) reaches the SFT stage as the float 0.001; bad ``--set`` values and
YAML tags are precise errors. Checks before anything runs: ``${stage.key}`` against the keys each stage
declares, the dataset stage's ranges and cross-field rules, model specs (resolved, not loaded), the
top-level keys' types; every problem in one report, fast, without importing torch.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from tests.recipes._edit import edited_recipe

from fathom.cli import main
from fathom.errors import ConfigError, FathomWarning
from fathom.recipes import StageContext, load_recipe, register_stage, run_recipe

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "recipes/shipping-forecast.yaml"
CHAT = REPO / "tests/assets/datasets_chat_tiny.jsonl"


def _sft_recipe(tmp_path: Path, **sft: Any) -> Path:
    path = tmp_path / "lr.yaml"
    params = {"uses": "sft", "model": "smollm2-135m", "data": str(CHAT), **sft}
    path.write_text(f"name: lr\nstages:\n  sft: {json.dumps(params)}\n")
    return path


def _fake_train_sft(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Replace training with a recorder of the SFTArgs the stage built (SFTArgs itself is real)."""
    seen: list[Any] = []

    def train_sft(args: Any) -> Any:
        seen.append(args)
        return SimpleNamespace(out=str(args.out), steps=0, train_loss=None, eval_loss=None, tokens_per_s=0.0,
                               train_seconds=0.0, metrics={}, plot=None)

    monkeypatch.setattr("fathom.train.train_sft", train_sft)
    return seen


def _problems(path: Path, overrides: list[str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_recipe(path, overrides)
    return [str(p) for p in info.value.problems]


def _shipped_copy(tmp_path: Path, edit: Any) -> Path:
    return edited_recipe(SHIPPED, tmp_path, edit, "shipping.yaml")


# --- item 5: typed values reach stages ---------------------------------------------------------------

def test_set_learning_rate_in_e_notation_reaches_sft_as_a_float(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _fake_train_sft(monkeypatch)
    path = _sft_recipe(tmp_path, max_steps=1)
    result = run_recipe(load_recipe(path, ["sft.learning_rate=1e-3", "sft.warmup=5e-2"]), runs_dir=tmp_path / "runs",
                        quiet=True)
    assert result.stages[0].status == "ran"
    (args,) = seen
    assert type(args.learning_rate) is float and args.learning_rate == 0.001
    assert type(args.warmup) is float and args.warmup == 0.05
    config = json.loads((tmp_path / "runs/lr/sft/manifest.json").read_text())["config"]
    assert config["learning_rate"] == 0.001 and config["warmup"] == 0.05


def test_e_notation_written_in_the_recipe_file_is_a_float(tmp_path: Path) -> None:
    path = tmp_path / "lr.yaml"
    path.write_text(f"name: lr\nstages:\n  sft:\n    model: smollm2-135m\n    data: {CHAT}\n"
                    f"    learning_rate: 2e-3\n    warmup: 5e-2\n")
    assert yaml.safe_load(path.read_text())["stages"]["sft"]["learning_rate"] == "2e-3"  # what YAML reads
    params = load_recipe(path).stages[0].params
    assert params["learning_rate"] == 0.002 and type(params["learning_rate"]) is float
    assert params["warmup"] == 0.05


def test_values_equal_to_their_typed_form_keep_their_type(tmp_path: Path) -> None:
    """``epochs: 2`` stays the int 2 (a float field): finished stages' fingerprints do not change."""
    params = load_recipe(_sft_recipe(tmp_path, epochs=2)).stages[0].params
    assert params["epochs"] == 2 and type(params["epochs"]) is int


def test_cli_run_with_e_notation_learning_rate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _fake_train_sft(monkeypatch)
    main(["run", str(_sft_recipe(tmp_path)), "--set", "sft.learning_rate=1e-3", "--runs-dir", str(tmp_path / "runs")])
    assert seen[0].learning_rate == 0.001


@pytest.mark.parametrize(("overrides", "expected"), [
    (["seed=abc"], "seed: must be a whole number (e.g. seed: 0), got 'abc'"),
    (["sft.epochs=[1,"], "--set sft.epochs=[1,: the value is not valid YAML: expected the node content"),
    (["sft.epochs=!!python/object/apply:os.system [ls]"],
     "uses the YAML tag !!python/object/apply:os.system (line 1, column 1), which is not allowed"),
    (["sft.learning_rate=fast"], "stages.sft.learning_rate: 'fast' is not a valid"),
])
def test_bad_set_values_are_precise_errors_without_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], overrides: list[str], expected: str) -> None:
    args = ["run", str(_sft_recipe(tmp_path)), "--check"]
    for item in overrides:
        args += ["--set", item]
    with pytest.raises(SystemExit) as info:
        main(args)
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert expected in err and "Traceback" not in err


def test_yaml_tags_in_the_recipe_file_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "tagged.yaml"
    path.write_text("name: t\nstages:\n  sft: !!python/object/apply:os.system [echo hacked]\n")
    (problem,) = _problems(path)
    assert "uses the YAML tag !!python/object/apply:os.system (line 3, column 8), which is not allowed" in problem


def test_a_binary_recipe_file_is_a_precise_error(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"name: x\n\xff\xfe\x00")
    assert _problems(path) == [f"{path}: not a text file (byte 8 is not UTF-8); a recipe is a YAML text file"]


@pytest.mark.parametrize("value", ["''", "null", "true", "{a: 1}"])
def test_runs_dir_must_be_a_folder_name(value: str) -> None:
    (problem,) = _problems(SHIPPED, [f"runs_dir={value}"])
    assert problem.startswith("runs_dir: must be a non-empty folder name")


def test_every_bad_set_is_reported_at_once(tmp_path: Path) -> None:
    problems = _problems(_sft_recipe(tmp_path), ["sft.epochs=[1,", "seed=abc", "nokey"])
    assert len(problems) == 3, problems


# --- item 6: --check catches what would fail later -----------------------------------------------------

def test_misspelt_reference_is_caught_with_a_did_you_mean(tmp_path: Path) -> None:
    path = _shipped_copy(tmp_path, lambda s: s["finetuned"].update(data="${data.tset}"))
    assert _problems(path) == [
        "stages.finetuned.data: refers to ${data.tset}, but stage 'data' has no output 'tset'. Did you mean 'test'? "
        "Its outputs: days, dir, fewshot, runs, sizes, test, train, train_prompts, val, val_prompts."]


def test_misspelt_reference_to_the_sft_stage_is_caught(tmp_path: Path) -> None:
    path = _shipped_copy(tmp_path, lambda s: s["finetuned"].update(model="${sft.modle}"))
    (problem,) = _problems(path)
    assert "stages.finetuned.model: refers to ${sft.modle}, but stage 'sft' has no output 'modle'. " \
           "Did you mean 'model'?" in problem


@pytest.mark.parametrize("days", [-3, 0])
def test_days_below_one_is_caught(tmp_path: Path, days: int) -> None:
    path = _shipped_copy(tmp_path, lambda s: s["data"].update(days=days))
    assert _problems(path) == [f"stages.data.days: cannot plan synthetic runs: days must be a whole number >= 1, "
                               f"got {days}."]


def test_test_days_beyond_days_is_caught(tmp_path: Path) -> None:
    path = _shipped_copy(tmp_path, lambda s: s["data"].update(test_days=20))
    assert _problems(path) == ["stages.data.test_days: 20 test day(s) and 1 validation day(s) leave no training day "
                               "out of days: 10; lower test_days or val_days, or raise days to at least 22"]


def test_unknown_model_spec_is_caught_with_a_did_you_mean(tmp_path: Path) -> None:
    path = _shipped_copy(tmp_path, lambda s: s["baseline"].update(model="smolm2-135m"))
    (problem,) = _problems(path)
    assert problem.startswith("stages.baseline.model: Unknown model 'smolm2-135m'. Did you mean 'smollm2-135m'?")


def test_unknown_sft_model_spec_is_caught(tmp_path: Path) -> None:
    path = _shipped_copy(tmp_path, lambda s: s["sft"].update(model="./no/such/model"))
    (problem,) = _problems(path)
    assert problem.startswith("stages.sft.model: Unknown model './no/such/model'.")


def test_runs_dir_of_the_wrong_type_is_caught() -> None:
    assert _problems(SHIPPED, ["runs_dir=[1]"]) == ["runs_dir: must be a non-empty folder name (e.g. runs_dir: runs), "
                                                    "got [1]"]


def test_other_dataset_ranges_are_caught() -> None:
    problems = _problems(SHIPPED, ["data.runs_per_day=5", "data.workers=0", "data.start=yesterday",
                                   "data.nwp_dir=" + str(REPO)])
    text = "\n".join(problems)
    assert "stages.data.runs_per_day: cannot plan synthetic runs: runs_per_day must divide 24" not in text  # own runs
    assert "stages.data.workers: must be a whole number of at least 1, got 0" in text
    assert "stages.data.bulletins: nwp_dir and bulletins go together" in text
    synthetic = "\n".join(_problems(SHIPPED, ["data.runs_per_day=5", "data.start=yesterday"]))
    assert "stages.data.runs_per_day: cannot plan synthetic runs: runs_per_day must divide 24" in synthetic
    assert "stages.data.start: must be an ISO date such as \"2025-01-01\", got 'yesterday'" in synthetic


def test_the_dataset_stage_checks_its_arguments_when_called_directly(tmp_path: Path) -> None:
    from fathom.domains.shipping.lm import build_dataset_stage

    with pytest.raises(ConfigError, match="days must be a whole number >= 1, got 0"):
        build_dataset_stage(StageContext("data", tmp_path, "r"), days=0)
    assert not any(tmp_path.iterdir())  # nothing was generated


def test_several_problems_in_one_report_fast_and_without_loading_a_model(tmp_path: Path) -> None:
    def edit(stages: dict[str, Any]) -> None:
        stages["data"].update(days=-3)
        stages["baseline"]["model"] = "smolm2-135m"
        stages["sft"]["data"] = "${data.tset}"
        stages["sft"]["learning_rate"] = "2e-3"  # fine: typed to 0.002
        stages["finetuned"]["model"] = "${sft.modle}"

    path = _shipped_copy(tmp_path, edit)
    code = ("import sys\nfrom fathom.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n"
            "    heavy = [m for m in ('torch', 'transformers', 'peft', 'trl') if m in sys.modules]\n"
            "    print('exit', e.code, 'heavy', heavy, file=sys.stderr)\n")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, "run", str(path), "--check", "--set", "runs_dir=[1]",
                           "--set", "data.test_days=20"], capture_output=True, text=True, timeout=60)
    seconds = time.perf_counter() - started
    err = done.stderr
    assert "exit 2 heavy []" in err, err
    assert "is invalid (5):" in err, err  # days -3 hides the test_days rule (it needs a valid days)
    for expected in ("runs_dir: must be a non-empty folder name", "stages.data.days: cannot plan synthetic runs",
                     "stages.baseline.model: Unknown model 'smolm2-135m'", "stages.sft.data: refers to ${data.tset}",
                     "stages.finetuned.model: refers to ${sft.modle}"):
        assert expected in err, err
    assert "Traceback" not in err
    assert seconds < 5, f"--check took {seconds:.1f} s"


# --- declared outputs ------------------------------------------------------------------------------------

@register_stage("toy_declared")
def toy_declared(ctx: StageContext, n: int = 1, skip_total: bool = False) -> dict[str, Any]:
    return {"count": n} if skip_total else {"count": n, "total": n * 2}


toy_declared.outputs = ("count", "total")  # type: ignore[attr-defined]


@register_stage("toy_echo")
def toy_echo(ctx: StageContext, value: Any = None) -> dict[str, Any]:
    return {"value": value}


def test_references_to_undeclared_outputs_are_caught_and_dir_is_always_there(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("stages:\n  a: {uses: toy_declared}\n"
                    "  b: {uses: toy_echo, value: '${a.totl} and ${a.dir} and ${a.count}'}\n"
                    "  c: {uses: toy_echo, value: '${b.anything}'}\n")  # toy_echo declares nothing: not checked
    assert _problems(path) == ["stages.b.value: refers to ${a.totl}, but stage 'a' has no output 'totl'. "
                               "Did you mean 'total'? Its outputs: count, dir, total."]


def test_runner_warns_when_a_stage_returns_less_than_it_declares(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("stages:\n  a: {uses: toy_declared, skip_total: true}\n")
    with pytest.warns(FathomWarning, match="declares outputs total but did not return them"):
        run_recipe(load_recipe(path), runs_dir=tmp_path / "runs", quiet=True)


def test_core_and_shipping_stages_declare_their_outputs() -> None:
    from fathom.recipes._stages import stage_function, stage_outputs

    for name in ("sft", "eval", "compare", "shipping_data"):
        assert stage_outputs(stage_function(name)), name  # type: ignore[arg-type]


def test_set_learning_rate_trains_the_tiny_model_with_0_001(tmp_path: Path, tiny_model_dir: Path) -> None:
    """The real thing, one optimizer step: the run folder's own record says 0.001 (a float)."""
    path = _sft_recipe(tmp_path, max_steps=1, batch_size=2, logging_steps=1, lora_rank=2, lora_alpha=4)
    result = run_recipe(load_recipe(path, ["sft.model=" + str(tiny_model_dir), "sft.learning_rate=1e-3"]),
                        runs_dir=tmp_path / "runs", quiet=True)
    assert result.stages[0].outputs["steps"] == 1
    config = json.loads((tmp_path / "runs/lr/sft/model/manifest.json").read_text())["config"]
    assert config["learning_rate"] == 0.001 and type(config["learning_rate"]) is float

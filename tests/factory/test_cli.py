"""``fathom factory ...`` in-process: files written, exit 0; bad input exits 2 with the reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli._run import run

from fathom._plugins import domain_plugins
from fathom.domains.factory import FAULTS, read_telemetry
from fathom.domains.factory.cli import _FAULT_NAMES


def test_the_plugin_is_installed_and_listed(capsys: pytest.CaptureFixture[str]) -> None:
    assert domain_plugins()["factory"].cli == "fathom.domains.factory.cli:factory"
    code, out, _ = run(["--help"], capsys)
    assert code == 0 and "factory" in out
    code, out, _ = run(["factory", "--help"], capsys)
    assert code == 0 and all(verb in out for verb in ("simulate", "docs", "categories"))


def test_the_help_lists_every_fault() -> None:
    assert _FAULT_NAMES.split(", ") == list(FAULTS)


def test_simulate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["factory", "simulate", "--hours", "2", "--fault", "tunnel_temp_drift", "--seed", "5",
                          "--onset", "10", "--out", str(tmp_path / "run")], capsys)
    assert code == 0, err
    assert out.startswith("120 minutes of telemetry (faults tunnel_temp_drift from minute 10), ")
    telemetry = read_telemetry(tmp_path / "run")
    assert telemetry.seed == 5 and telemetry.faults == ("tunnel_temp_drift",) and telemetry.onset == 10
    assert json.loads((tmp_path / "run" / "simulation.json").read_text())["minutes"] == 120


@pytest.mark.parametrize(("args", "expected"), [
    (["--hours", "1", "--fault", "tunnel_drift"], "Valid faults: tunnel_temp_drift, former_pressure_loss"),
    (["--hours", "0"], "hours=0 is out of range"),
    (["--hours", "ten"], "'ten' is not a valid float"),
    (["--hours", "1", "--onset", "90", "--fault", "belt_slip"], "onset=90 is outside the run"),
])
def test_simulate_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                    expected: str) -> None:
    code, _, err = run(["factory", "simulate", *args, "--out", str(tmp_path / "run")], capsys)
    assert code == 2 and expected in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_simulate_into_a_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "taken").write_text("x")
    code, _, err = run(["factory", "simulate", "--hours", "0.1", "--out", str(tmp_path / "taken")], capsys)
    assert code == 2 and "is a file" in err


def test_docs_and_categories(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["factory", "docs", "--out", str(tmp_path / "docs")], capsys)
    assert code == 0, err
    assert out.startswith("15 documents in ") and len(list((tmp_path / "docs").iterdir())) == 15
    code, out, err = run(["factory", "categories", "--out", str(tmp_path / "categories.yaml")], capsys)
    assert code == 0 and out.startswith("9 categories in "), err
    code, _, err = run(["factory", "categories", "--out", str(tmp_path)], capsys)
    assert code == 2 and "is a folder" in err
    code, _, err = run(["factory", "docs"], capsys)
    assert code == 2 and "Missing option '--out'" in err

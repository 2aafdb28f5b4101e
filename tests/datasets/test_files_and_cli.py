"""Whole files: every problem with its line, and the `fathom data` commands (exit codes, outputs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fathom.cli import cli
from fathom.datasets import check_file, read_examples, read_jsonl, validate_file, write_jsonl
from fathom.errors import DataError

ASSETS = Path(__file__).resolve().parents[1] / "assets"
BAD = ASSETS / "datasets_bad_tiny.jsonl"
CHAT = ASSETS / "datasets_chat_tiny.jsonl"
DPO = ASSETS / "datasets_dpo_tiny.jsonl"

# line -> a fragment of "field path: message" expected for that line of datasets_bad_tiny.jsonl
EXPECTED_BAD = {
    2: "not valid JSON",
    3: "messages[0]: assistant message before any user message",
    4: "messages[1].tool_calls[0].function.arguments: not valid JSON",
    5: "messages[1].tool_call_id: no preceding assistant tool call has id 'c9'",
    6: "messages[2]: a second system message",
    7: "messages[1].role: unknown role 'bot'",
    8: "messages[0].content: missing",
    9: "messages[1].tool_calls[0].function.name: calls tool 'get_weather', which is not in tools",
    10: "messages[1].tool_calls[0].function.arguments: must decode to a JSON object",
    11: "not valid JSON",
    12: "meta.id: duplicate id 'ok-1' (also on line 1)",
    13: "messages[0].content: expected a string, got int 42",
    14: "expected a JSON object, got list",
}


def test_validate_file_reports_every_line_with_its_problem() -> None:
    found = [str(p) for p in validate_file(BAD)]
    for line, fragment in EXPECTED_BAD.items():
        prefix = f"{BAD}:{line}"
        assert any(s.startswith(prefix) and fragment in s for s in found), (line, fragment)
    assert not any(s.startswith(f"{BAD}:1 ") or s.startswith(f"{BAD}:1:") for s in found)
    lines = [int(s[len(str(BAD)) + 1:].split(" ")[0].rstrip(":")) for s in found]
    assert lines == sorted(lines)


def test_both_malformed_lines_are_reported() -> None:
    malformed = [p for p in validate_file(BAD) if "not valid JSON" in p.message and " " not in p.where]
    assert [p.where for p in malformed] == [f"{BAD}:2", f"{BAD}:11"]


def test_read_examples_raises_with_every_problem(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        read_examples(BAD)
    assert len(info.value.problems) == len(validate_file(BAD)) >= len(EXPECTED_BAD)
    assert info.value.exit_code == 2
    assert read_examples(CHAT) == read_jsonl(CHAT)


def test_prompt_files(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.jsonl"
    write_jsonl(prompts, [{"messages": [{"role": "user", "content": "Forecast for Sole?"}]}])
    assert validate_file(prompts, needs_assistant=False) == []
    assert "no assistant message" in validate_file(prompts)[0].message
    assert read_examples(prompts, needs_assistant=False)[0]["messages"][0]["content"] == "Forecast for Sole?"


def test_cli_validate_exit_codes() -> None:
    runner = CliRunner()
    bad = runner.invoke(cli, ["data", "validate", str(BAD)])
    assert bad.exit_code == 2, bad.output
    for line, fragment in EXPECTED_BAD.items():
        assert any(f"{BAD}:{line}" in out and fragment in out for out in bad.output.splitlines()), line
    assert "problem(s) in 13 row(s)" in bad.output
    good = runner.invoke(cli, ["data", "validate", str(CHAT)])
    assert good.exit_code == 0, good.output
    assert "4 row(s) (fathom): clean" in good.output


def test_cli_validate_prompts_flag(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.jsonl"
    write_jsonl(prompts, [{"messages": [{"role": "user", "content": "Forecast for Sole?"}]}])
    assert CliRunner().invoke(cli, ["data", "validate", str(prompts)]).exit_code == 2
    assert CliRunner().invoke(cli, ["data", "validate", "--prompts", str(prompts)]).exit_code == 0


def test_cli_validate_checks_nova_rules(tmp_path: Path) -> None:
    nova = tmp_path / "nova.jsonl"
    write_jsonl(nova, [{"schemaVersion": "bedrock-conversation-2024", "messages": [
        {"role": "user", "content": [{"text": "User: forecast?"}]},
        {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "f", "input": {}}}]}]}])
    result = CliRunner().invoke(cli, ["data", "validate", str(nova)])
    assert result.exit_code == 2
    assert "(nova)" in result.output
    assert "banned string 'User:'" in result.output
    assert "no toolConfig" in result.output
    assert check_file(nova).bad_rows == 1


def test_cli_convert_round_trip(tmp_path: Path) -> None:
    runner = CliRunner()
    nova = tmp_path / "chat.nova.jsonl"
    result = runner.invoke(cli, ["data", "convert", str(CHAT), "--to", "nova", "--out", str(nova)])
    assert result.exit_code == 0, result.output
    assert "wrote 4 row(s)" in result.output and "left out meta/reference of 4 row(s)" in result.output
    back = tmp_path / "back.jsonl"
    result = runner.invoke(cli, ["data", "convert", str(nova), "--to", "fathom", "--out", str(back)])
    assert result.exit_code == 0, result.output
    assert "(nova -> fathom)" in result.output
    strip = [{k: v for k, v in r.items() if k not in ("meta", "reference")} for r in read_jsonl(CHAT)]
    assert read_jsonl(back) == strip


def test_cli_convert_reports_every_problem_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli, ["data", "convert", str(BAD), "--to", "sharegpt", "--out", str(out)])
    assert isinstance(result.exception, DataError)
    assert result.exception.exit_code == 2
    wheres = [p.where for p in result.exception.problems]
    assert f"{BAD}:2" in wheres and f"{BAD}:11" in wheres and f"{BAD}:14" in wheres
    assert any(w.startswith(f"{BAD}:4 ") for w in wheres)
    assert not out.exists()


def test_cli_split_writes_files_manifest_and_leakage(tmp_path: Path) -> None:
    # ten sources with three rows each; every source has one row asking the same question
    rows = [{"messages": [{"role": "user", "content": "Shared question?" if i < 10 else f"Forecast {i}?"},
                          {"role": "assistant", "content": "West 4."}],
             "meta": {"id": f"r{i}", "source": f"doc{i % 10}"}} for i in range(30)]
    src = tmp_path / "all.jsonl"
    write_jsonl(src, rows)
    out = tmp_path / "splits"
    args = ["data", "split", str(src), "--ratios", "0.6,0.2,0.2", "--seed", "3", "--out", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    sizes = {name: len(read_jsonl(out / f"{name}.jsonl")) for name in ("train", "val", "test")}
    assert sizes == {"train": 18, "val": 6, "test": 6}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sizes"] == sizes and manifest["config"]["seed"] == 3
    assert manifest["leakage"]["leaked_prompts"] == 1
    assert "1 prompt(s) occur in more than one split" in result.output and "'Shared question?'" in result.output
    assert CliRunner().invoke(cli, args + ["--fail-on-leak"]).exit_code == 1
    renamed = CliRunner().invoke(cli, ["data", "split", str(src), "--ratios", "0.5,0.5", "--names", "a,b",
                                       "--out", str(tmp_path / "ab")])
    assert renamed.exit_code == 0, renamed.output
    assert len(read_jsonl(tmp_path / "ab" / "a.jsonl")) + len(read_jsonl(tmp_path / "ab" / "b.jsonl")) == 30


def test_cli_split_bad_ratios(tmp_path: Path) -> None:
    from fathom.errors import ConfigError

    result = CliRunner().invoke(cli, ["data", "split", str(CHAT), "--ratios", "0.8,0.3", "--out", str(tmp_path)])
    assert isinstance(result.exception, ConfigError)
    assert "must sum to 1, got 1.1" in str(result.exception)

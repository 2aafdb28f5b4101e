"""``fathom grader import FILE.json``: checks an OpenAI grader file, prints its tree, writes a Fathom
grader spec a recipe can use, grades rows with ``--data``/``--completions``, and turns a bad file
into a precise message with exit code 2 (no traceback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from fathom.cli import main
from fathom.graders import build_grader

GRADER = {
    "type": "multi",
    "name": "tool use",
    "graders": {
        "function_name": {"type": "string_check", "name": "function_name", "operation": "eq",
                          "input": "get_forecast", "reference": "{{sample.output_tools[0].function.name}}"},
        "arguments": {"type": "python", "name": "arguments",
                      "source": "import json\n\ndef grade(sample, item):\n    calls = sample['output_tools']\n"
                                "    if not calls:\n        return 0.0\n"
                                "    args = json.loads(calls[0]['function']['arguments'])\n"
                                "    return float(args.get('area') == item['reference']['area'])\n"},
    },
    "calculate_output": "0.5 * function_name + 0.5 * arguments",
}


def call(name: str, area: str) -> dict[str, object]:
    return {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": name, "arguments": json.dumps({"area": area})}}]}


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(["grader", "import", *args])
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return int(code or 0), captured.out, captured.err


@pytest.fixture
def grader_file(tmp_path: Path) -> Path:
    path = tmp_path / "grader.json"
    path.write_text(json.dumps(GRADER))
    return path


def test_import_prints_the_tree_and_writes_a_recipe_spec(grader_file: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "grader.yaml"
    code, stdout, err = run([str(grader_file), "--out", str(out)], capsys)
    assert code == 0, err
    assert "tool use: multi  calculate_output='0.5 * function_name + 0.5 * arguments'" in stdout
    assert "├── function_name: string_check eq" in stdout and "└── arguments: python" in stdout
    spec = yaml.safe_load(out.read_text())
    assert spec == {"name": "openai", "config": GRADER}
    assert "source: |" in out.read_text()  # the python source stays readable
    grader = build_grader(spec)
    try:
        example = {"messages": [], "reference": {"area": "Dogger"}}
        assert grader(example, call("get_forecast", "Dogger")).score == 1.0
        assert grader(example, call("get_forecast", "Fisher")).score == 0.5
    finally:
        grader.close()  # type: ignore[attr-defined]


def test_import_grades_data_and_completions(grader_file: Path, tmp_path: Path, capsys) -> None:
    data, completions = tmp_path / "data.jsonl", tmp_path / "completions.jsonl"
    data.write_text("".join(json.dumps({"messages": [{"role": "user", "content": "Forecast?"}],
                                        "reference": {"area": a}, "meta": {"id": a}}) + "\n"
                            for a in ("Dogger", "Fisher", "Viking")))
    completions.write_text("".join(json.dumps({"id": a, **c}) + "\n" for a, c in (
        ("Viking", call("get_forecast", "Viking")), ("Dogger", call("get_weather", "Dogger")),
        ("Fisher", {"role": "assistant", "content": "Fisher: SW 5"}))))
    code, stdout, err = run([str(grader_file), "--data", str(data), "--completions", str(completions)], capsys)
    assert code == 0, err
    rows = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    assert [(r["id"], r["score"]) for r in rows] == [("Dogger", 0.5), ("Fisher", 0.0), ("Viking", 1.0)]
    assert rows[0]["components"] == {"function_name": 0.0, "arguments": 1.0, "arguments.raw": 1.0, "raw": 0.5}
    assert "mean score 0.5000 over 3 example(s)" in err


@pytest.mark.parametrize(("config", "message"), [
    ({**GRADER, "calculate_output": "0.5 * function_nme"}, "unknown name 'function_nme'. Did you mean"),
    ({"type": "string_check", "input": "a", "reference": "b", "operation": "eq", "opration": "ne"},
     "unknown key 'opration' for type 'string_check'. Did you mean 'operation'?"),
    ({"type": "score_model", "model": "o3-mini", "input": [{"role": "user", "content": "x"}]},
     "OpenAI models cannot run here"),
])
def test_a_bad_grader_file_exits_2_with_the_problem(tmp_path: Path, config: dict, message: str, capsys) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(config))
    code, _, err = run([str(path)], capsys)
    assert code == 2 and message in err and "Traceback" not in err


def test_data_without_completions_and_a_non_json_file_exit_2(grader_file: Path, tmp_path: Path, capsys) -> None:
    code, _, err = run([str(grader_file), "--data", str(grader_file)], capsys)
    assert code == 2 and "give both, or neither" in err
    broken = tmp_path / "broken.json"
    broken.write_text("{'type': 'multi'")
    code, _, err = run([str(broken)], capsys)
    assert code == 2 and "not valid JSON" in err


def test_item_templates_that_the_data_lacks_exit_2_before_grading(tmp_path: Path, capsys) -> None:
    path = tmp_path / "g.json"
    path.write_text(json.dumps({"type": "string_check", "input": "{{sample.output_text}}",
                                "reference": "{{item.reference.answr}}", "operation": "eq"}))
    data, completions = tmp_path / "d.jsonl", tmp_path / "c.jsonl"
    data.write_text(json.dumps({"messages": [], "reference": {"answer": "SW"}}) + "\n")
    completions.write_text(json.dumps({"role": "assistant", "content": "SW"}) + "\n")
    code, stdout, err = run([str(path), "--data", str(data), "--completions", str(completions)], capsys)
    assert code == 2 and "has no 'answr'. Did you mean 'answer'?" in err
    assert not [line for line in stdout.splitlines() if line.startswith("{")]  # nothing was graded

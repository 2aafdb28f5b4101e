"""``fathom grader export``: a grader written as an Amazon Nova RFT reward Lambda, scoring as Fathom does."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from fathom.cli import main


def test_export_writes_a_lambda_that_scores_like_the_grader(tmp_path: Path, capsys: object) -> None:
    out = tmp_path / "lambda"
    spec = json.dumps({"name": "exact", "ignore_punctuation": True})
    try:
        main(["grader", "export", "--grader", spec, "--out", str(out)])
    except SystemExit as exc:
        assert exc.code in (0, None)
    handler_file = out / "lambda_function.py"
    assert handler_file.exists()
    sys.path.insert(0, str(out))
    try:
        module_spec = importlib.util.spec_from_file_location("exported_lambda", handler_file)
        assert module_spec and module_spec.loader
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        rows = [{"id": "a", "messages": [{"role": "user", "content": "Capital of France?"},
                                         {"role": "assistant", "content": "Paris!"}], "reference_answer": "paris"},
                {"id": "b", "messages": [{"role": "user", "content": "2+2?"},
                                         {"role": "assistant", "content": "5"}], "reference_answer": "4"}]
        scores = {r["id"]: r["aggregate_reward_score"] for r in module.lambda_handler(rows, None)}
    finally:
        sys.path.remove(str(out))
    assert scores == {"a": 1.0, "b": 0.0}


def test_a_bad_spec_exits_2(tmp_path: Path) -> None:
    try:
        main(["grader", "export", "--grader", "exakt", "--out", str(tmp_path / "l")])
    except SystemExit as exc:
        assert exc.code == 2
    else:
        raise AssertionError("expected exit 2")
    assert not (tmp_path / "l" / "lambda_function.py").exists()

"""``scripts/make_toolcall_set.py``: valid, deterministic examples that the ``tool_call`` grader accepts."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from types import ModuleType

from fathom.datasets import validate_example
from fathom.graders import build_grader


def test_examples_are_valid_and_their_own_answers_score_one(toolcall_set: ModuleType) -> None:
    examples = toolcall_set.make_examples(50, seed=0)
    grader = build_grader("tool_call")
    for example in examples:
        assert validate_example(example) == [], example["meta"]["id"]
        assert grader(example, example["messages"][-1]).score == 1.0, example["meta"]["id"]
    tools = Counter(e["meta"]["tool"] for e in examples)
    assert 0 < tools["none"] < 15 and len(tools) == 7  # every tool and some no-call examples
    assert len({e["meta"]["id"] for e in examples}) == 50


def test_a_wrong_call_scores_below_one(toolcall_set: ModuleType) -> None:
    example = next(e for e in toolcall_set.make_examples(20, seed=1) if e["meta"]["tool"] == "set_timer")
    wrong = json.loads(json.dumps(example["messages"][-1]))
    wrong["tool_calls"][0]["function"]["arguments"] = json.dumps({"minutes": 999})
    grade = build_grader("tool_call")(example, wrong)
    assert 0 < grade.score < 1 and grade.components["name_f1"] == 1.0


def test_same_seed_same_file(toolcall_set: ModuleType, tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert toolcall_set.main([str(tmp_path / f"{name}.jsonl"), "--n", "12", "--seed", "5"]) == 0
    assert (tmp_path / "a.jsonl").read_text() == (tmp_path / "b.jsonl").read_text()
    assert toolcall_set.make_examples(12, seed=6) != toolcall_set.make_examples(12, seed=5)

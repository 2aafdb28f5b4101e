"""The shipped general-ability set: it loads, it is what its script writes, and every row's check is right:
its own answer scores 1, tolerant forms of it score 1, a wrong answer and the question echoed back score 0."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from fathom.datasets import validate_example
from fathom.errors import GraderError
from fathom.evaluate import general_set
from fathom.graders import build_grader
from fathom.graders._forgetting import CHECKS

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_general_set.py"
CATEGORIES = {"arithmetic", "units", "dates", "capitals", "format", "refusal"}
ROWS = general_set()
GRADE = build_grader("forgetting")


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fathom_script_make_general_set", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _gold(row: dict[str, Any]) -> str:
    return str(row["messages"][-1]["content"])


def _score(row: dict[str, Any], text: str) -> float:
    return GRADE(row, text).score


def test_the_set_loads_with_six_categories_of_valid_examples() -> None:
    assert 150 <= len(ROWS) <= 250
    counts = Counter(r["meta"]["category"] for r in ROWS)
    assert set(counts) == CATEGORIES and min(counts.values()) >= 20, counts
    assert len({r["meta"]["id"] for r in ROWS}) == len(ROWS)
    assert len({r["messages"][0]["content"] for r in ROWS}) == len(ROWS)  # no question asked twice
    for row in ROWS:
        assert validate_example(row) == [], row["meta"]["id"]
        assert row["meta"]["check"] in CHECKS and row["meta"]["source"] == "fathom-general"


def test_the_shipped_file_is_what_the_script_writes(tmp_path: Path) -> None:
    script = _script()
    assert script.main(["--check"]) == 0
    stale = tmp_path / "general.jsonl"
    stale.write_text(script.render().replace("Paris", "Lyon"), encoding="utf-8")
    assert script.main([str(stale), "--check"]) == 1


def _wrong_answers(row: dict[str, Any]) -> list[str]:
    """Answers that must score 0, made from what the row asks (never from its own check)."""
    meta, gold = row["meta"], _gold(row)
    kind = meta["kind"]
    if "answer_value" in meta:
        n = meta["answer_value"]
        return [str(n + 1), f"{n}5", f"-{n}", f"{n}.5", "I don't know."]
    if kind == "day_of_week":
        days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
        other = days[(days.index(gold) + 1) % 7]
        return [other, f"It is a {other}.", f"{gold} or {other}"]  # naming two days is no answer
    if kind == "leap_year":
        return ["No." if gold == "Yes." else "Yes.", "Yes or no."]
    if kind in ("capital", "country"):
        return ["I think it is Springfield.", "Atlantis"]
    if kind == "one_word":
        return [f"The answer is {gold}.", "banana"]
    if kind == "uppercase":
        return [gold.lower(), gold.title(), f"Sure! {gold}"]
    if kind == "json_key":
        (key, value), = json.loads(gold).items()
        return [json.dumps({key + "s": value}), json.dumps({key: "wrong"}), f"{key}: {value}"]
    if kind in ("list_commas", "list_lines"):
        items = gold.split("\n") if kind == "list_lines" else gold.split(", ")
        more = items + ["zebra"]
        return ["\n".join(more) if kind == "list_lines" else ", ".join(more), " and ".join(items)]
    if kind == "unknown_entity":
        return ["It is Velmograd, founded in 1820 by King Arvo.", "The answer is 42."]
    raise AssertionError(f"no wrong answers for kind {kind!r}")


@pytest.mark.parametrize("category", sorted(CATEGORIES))
def test_every_reference_scores_one_and_wrong_answers_zero(category: str) -> None:
    rows = [r for r in ROWS if r["meta"]["category"] == category]
    for row in rows:
        assert _score(row, _gold(row)) == 1.0, row["meta"]["id"]
        assert _score(row, row["messages"][0]["content"]) == 0.0, row["meta"]["id"]  # echoing the question
        for wrong in _wrong_answers(row):
            assert _score(row, wrong) == 0.0, (row["meta"]["id"], wrong)


def _row(kind: str, **meta: Any) -> dict[str, Any]:
    return next(r for r in ROWS if r["meta"]["kind"] == kind and all(r["meta"].get(k) == v for k, v in meta.items()))


def test_a_small_models_wordier_answers_still_count() -> None:
    thousands = next(r for r in ROWS if r["meta"].get("answer_value", 0) >= 1000)
    n = thousands["meta"]["answer_value"]
    assert _score(thousands, f"There are {n:,} of them.") == 1.0
    small = next(r for r in ROWS if r["meta"].get("answer_value") == 7)
    assert _score(small, "Seven.") == 1.0 and _score(small, "The answer is 7.0") == 1.0
    assert _score(_row("capital", country="France"), "The capital of France is paris.") == 1.0
    assert _score(_row("capital", country="Brazil"), "Brasilia") == 1.0
    day = _row("day_of_week")
    assert _score(day, f"That date was a {_gold(day).lower()}.") == 1.0
    leap = next(r for r in ROWS if r["meta"]["kind"] == "leap_year" and _gold(r) == "No.")
    assert _score(leap, f"No, {leap['meta']['year']} is not a leap year.") == 1.0
    one = _row("one_word")
    assert _score(one, f" {_gold(one).upper()}! ") == 1.0
    js = _row("json_key", key="answer")
    assert _score(js, 'Here it is:\n```json\n{"answer": "7"}\n```') == 1.0
    lines = _row("list_lines")
    numbered = "\n".join(f"{i}. {item}" for i, item in enumerate(_gold(lines).split("\n"), 1))
    assert _score(lines, numbered) == 1.0
    assert _score(lines, ", ".join(_gold(lines).split("\n"))) == 1.0  # the count matters, not the separator
    commas = _row("list_commas")
    assert _score(commas, "\n".join(f"- {item}" for item in _gold(commas).split(", "))) == 1.0
    refusal = _row("unknown_entity")
    for reply in ("I'm not sure that exists.", "There is no such country.", "I have no information about it.",
                  "That appears to be fictional; it is made-up."):
        assert _score(refusal, reply) == 1.0, reply


def test_the_grade_reports_its_category() -> None:
    row = _row("capital", country="Japan")
    grade = GRADE(row, "Tokyo")
    assert grade.components == {"regex": 1.0, "capitals": 1.0} and grade.reason.startswith("regex: ")


def test_an_unknown_check_is_a_clear_error() -> None:
    with pytest.raises(GraderError, match=r"meta.check='regx'.*Did you mean 'regex'\?.*Valid: exact, regex"):
        GRADE({"meta": {"id": "x", "check": "regx"}, "reference": {"pattern": "a"}}, "a")

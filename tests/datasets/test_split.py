"""Grouped splits (no source in two splits, deterministic, ratios met) and leakage detection."""

from __future__ import annotations

import random
from typing import Any

import pytest

from fathom.datasets import leakage_report, split_examples
from fathom.errors import ConfigError


def make_examples(n: int, sources: int, seed: int, with_source: float = 0.8) -> list[dict[str, Any]]:
    """n examples spread unevenly over `sources` documents; some have no source, some no id."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        meta: dict[str, Any] = {}
        if rng.random() < with_source:
            meta["source"] = f"doc{int(rng.paretovariate(1.2)) % sources}"
        if rng.random() < 0.7:
            meta["id"] = f"ex{i}"
        ex: dict[str, Any] = {"messages": [{"role": "user", "content": f"q{i}"},
                                           {"role": "assistant", "content": "a"}]}
        if meta:
            ex["meta"] = meta
        out.append(ex)
    return out


def split_of(splits: dict[str, list[dict[str, Any]]]) -> dict[int, str]:
    return {id(ex): name for name, rows in splits.items() for ex in rows}


@pytest.mark.parametrize("seed", range(8))
def test_no_source_lands_in_two_splits(seed: int) -> None:
    examples = make_examples(200, sources=25, seed=seed)
    splits = split_examples(examples, seed=seed)
    assert sorted(map(id, examples)) == sorted(id(ex) for rows in splits.values() for ex in rows)
    owner: dict[str, str] = {}
    for name, rows in splits.items():
        for ex in rows:
            source = ex.get("meta", {}).get("source")
            if source is not None:
                assert owner.setdefault(source, name) == name, f"{source} in {owner[source]} and {name}"


@pytest.mark.parametrize("seed", range(4))
def test_ratios_are_met_when_groups_are_small(seed: int) -> None:
    examples = make_examples(1000, sources=1000, seed=seed, with_source=0.0)
    sizes = {name: len(rows) for name, rows in split_examples(examples, seed=seed).items()}
    assert sizes == {"train": 800, "val": 100, "test": 100}


def test_deterministic_and_independent_of_input_order() -> None:
    examples = make_examples(120, sources=15, seed=1)
    first = split_of(split_examples(examples, seed=5))
    assert split_of(split_examples(examples, seed=5)) == first
    shuffled = list(examples)
    random.Random(0).shuffle(shuffled)
    assert split_of(split_examples(shuffled, seed=5)) == first
    assert split_of(split_examples(examples, seed=6)) != first


def test_splits_keep_input_order() -> None:
    examples = make_examples(60, sources=10, seed=2)
    position = {id(ex): i for i, ex in enumerate(examples)}
    for rows in split_examples(examples).values():
        assert [position[id(ex)] for ex in rows] == sorted(position[id(ex)] for ex in rows)


def test_examples_without_source_group_by_id_or_content() -> None:
    twin = {"messages": [{"role": "user", "content": "same"}, {"role": "assistant", "content": "a"}]}
    examples = [dict(twin) for _ in range(10)] + make_examples(30, sources=30, seed=3, with_source=0.0)
    splits = split_examples(examples, {"train": 0.5, "test": 0.5}, seed=0)
    holders = [name for name, rows in splits.items() if any(ex["messages"] == twin["messages"] for ex in rows)]
    assert len(holders) == 1  # identical content, no id: one group


def test_custom_group_key_and_names() -> None:
    examples = [{"messages": [], "meta": {"id": i, "doc": {"name": f"d{i % 4}"}}} for i in range(40)]
    splits = split_examples(examples, {"fit": 0.5, "holdout": 0.5}, seed=1, group_key="meta.doc.name")
    assert set(splits) == {"fit", "holdout"}
    docs = {name: {ex["meta"]["doc"]["name"] for ex in rows} for name, rows in splits.items()}
    assert not docs["fit"] & docs["holdout"]


def test_zero_ratio_split_stays_empty() -> None:
    splits = split_examples(make_examples(50, sources=50, seed=4), {"train": 0.9, "val": 0.0, "test": 0.1})
    assert splits["val"] == []


@pytest.mark.parametrize(("ratios", "message"), [
    ({"train": 0.8, "test": 0.3}, "must sum to 1"),
    ({"train": 1.2, "test": -0.2}, "must be a number >= 0"),
    ({}, "no splits requested"),
])
def test_bad_ratios(ratios: dict[str, float], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        split_examples(make_examples(5, sources=5, seed=0), ratios)


def chat(ident: str, question: str, answer: str = "a") -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer}],
            "meta": {"id": ident}}


def test_leakage_detects_normalised_duplicates_with_counts_and_ids() -> None:
    splits = {
        "train": [chat("t1", "Forecast for Dogger?"), chat("t2", "forecast  for DOGGER?"), chat("t3", "Sole?")],
        "val": [chat("v1", "Fisher?")],
        "test": [chat("s1", "Forecast for Dogger?\n", answer="different answer"), chat("s2", "Fisher?")],
    }
    report = leakage_report(splits)
    assert bool(report)
    by_prompt = {item.prompt: item for item in report.leaked}
    dogger = by_prompt["Forecast for Dogger?"]
    assert dogger.counts == {"train": 2, "test": 1}
    assert dogger.ids == {"train": ["t1", "t2"], "test": ["s1"]}
    assert by_prompt["Fisher?"].ids == {"val": ["v1"], "test": ["s2"]}
    assert report.leaked_examples == {"train": 2, "val": 1, "test": 2}
    assert "2 prompt(s) occur in more than one split" in str(report)


def test_no_leakage_and_duplicates_within_one_split() -> None:
    report = leakage_report({"train": [chat("a", "Q"), chat("b", "q")], "test": [chat("c", "Other")]})
    assert not report
    assert report.leaked == []
    assert str(report) == "no prompt occurs in more than one split (3 examples checked)"


def test_leakage_uses_position_when_ids_are_missing() -> None:
    plain = {"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]}
    report = leakage_report({"train": [plain], "test": [plain, plain]})
    assert report.leaked[0].ids == {"train": ["train[0]"], "test": ["test[0]", "test[1]"]}


def test_grouped_split_removes_leakage_of_shared_sources() -> None:
    # every source asks its own question three times: grouping by source keeps them together
    examples = [chat(f"e{i}", f"question {i % 20}") for i in range(60)]
    for i, ex in enumerate(examples):
        ex["meta"]["source"] = f"doc{i % 20}"
    assert not leakage_report(split_examples(examples, seed=0))
    assert leakage_report(split_examples(examples, seed=0, group_key=None))


@pytest.mark.parametrize("groups", [3, 4, 5, 7])
def test_few_large_groups_still_fill_every_split(groups: int) -> None:
    examples = [{"messages": [], "meta": {"id": i, "source": f"doc{i % groups}"}} for i in range(groups * 10)]
    for seed in range(5):
        sizes = {name: len(rows) for name, rows in split_examples(examples, seed=seed).items()}
        assert all(sizes.values()), sizes

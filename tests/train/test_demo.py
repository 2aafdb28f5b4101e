"""The built-in demo task: the data it draws and its whole loop on the tiny model."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from fathom.train import run_demo, sea_state_examples, sea_state_word


def test_sea_state_bands() -> None:
    edges = [(0.49, "smooth"), (0.5, "slight"), (1.24, "slight"), (1.25, "moderate"), (2.5, "rough"),
             (3.99, "rough"), (4.0, "very rough"), (6.0, "high"), (8.99, "high"), (9.0, "very high"),
             (13.99, "very high"), (14.0, "phenomenal"), (30.0, "phenomenal")]
    assert [sea_state_word(h) for h, _ in edges] == [w for _, w in edges]


def test_examples_are_balanced_seeded_and_disjoint() -> None:
    test = sea_state_examples(16, seed=1)
    train = sea_state_examples(64, seed=0, exclude={e["meta"]["id"] for e in test})
    assert train == sea_state_examples(64, seed=0, exclude={e["meta"]["id"] for e in test})
    assert not {e["meta"]["id"] for e in train} & {e["meta"]["id"] for e in test}
    assert set(Counter(e["messages"][-1]["content"] for e in train).values()) == {8}
    for example in train:
        height = float(example["meta"]["id"].removeprefix("hs-"))
        assert example["messages"][-1]["content"] == sea_state_word(height)


def test_demo_loop_on_the_tiny_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    result = run_demo(tmp_path / "demo", model=str(tiny_model_dir), n_train=16, n_test=8, max_steps=2,
                      device="cpu", progress=False)
    assert 0.0 <= result.base_accuracy <= 1.0 and 0.0 <= result.tuned_accuracy <= 1.0
    assert (result.n_train, result.n_test) == (16, 8)
    for name in ("train.jsonl", "test.jsonl", "predictions_base.jsonl", "predictions_tuned.jsonl", "summary.json"):
        assert (tmp_path / "demo" / name).is_file(), name
    rows = [json.loads(line) for line in (tmp_path / "demo" / "predictions_tuned.jsonl").read_text().splitlines()]
    assert len(rows) == 8 and sum(r["correct"] for r in rows) / 8 == result.tuned_accuracy
    assert (Path(result.model) / "adapter_config.json").is_file()

"""Splits: grouped by document (none in two splits), seeded, with the family holdout and its leakage report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.synth.conftest import Workspace

from fathom.errors import FathomWarning
from fathom.synth import Embedder, run_synth

DOCS = {f"plant/doc{i:02d}.txt": f"Record {i} family=fam{i % 5}. Pump P-{i} was checked on day {i}." for i in range(30)}


def _splits(out: Path) -> dict[str, list[dict]]:
    return {name: [json.loads(line) for line in (out / f"{name}.jsonl").read_text().splitlines() if line]
            for name in ("train", "val", "test")}


def test_no_document_is_in_two_splits_and_the_split_is_seeded(workspace: Workspace, embedder: Embedder,
                                                              tmp_path: Path) -> None:
    config = workspace(DOCS)
    first = run_synth(config, tmp_path / "a", embedder=embedder)
    splits = _splits(tmp_path / "a")
    sources = {name: {r["meta"]["source"] for r in rows} for name, rows in splits.items()}
    assert all(sources.values())
    assert not (sources["train"] & sources["val"] or sources["train"] & sources["test"]
                or sources["val"] & sources["test"])
    assert first.leakage["document_overlap"] == [] and first.leakage["clean"]
    assert first.leakage["documents_per_split"] == {n: len(s) for n, s in sources.items()}
    assert first.splits["train"] > first.splits["val"] and first.splits["train"] > first.splits["test"]
    assert set(first.leakage["near_duplicates_across_splits"]) == {"train~val", "train~test", "val~test"}
    run_synth(config, tmp_path / "b", embedder=embedder)
    assert _splits(tmp_path / "b") == splits  # same seed, same splits
    other = run_synth(workspace(DOCS, seed=7), tmp_path / "c", embedder=embedder)
    assert {r["meta"]["source"] for r in _splits(tmp_path / "c")["test"]} != sources["test"]
    assert other.kept == first.kept


@pytest.mark.parametrize("holdout", [["fam1", "fam3"], 0.4])
def test_family_holdout(holdout: list[str] | float, workspace: Workspace, embedder: Embedder,
                        tmp_path: Path) -> None:
    config = workspace(DOCS, holdout_families=holdout, splits={"train": 0.5, "val": 0.2, "test": 0.3})
    summary = run_synth(config, tmp_path / "out", embedder=embedder)
    held = set(summary.leakage["held_out_families"])
    assert held == {"fam1", "fam3"} if isinstance(holdout, list) else len(held) == 2
    families = {name: {r["meta"]["family"] for r in rows} for name, rows in _splits(tmp_path / "out").items()}
    assert families["test"] and families["test"] <= held
    assert families["train"] and not families["train"] & held and not families["val"] & held
    assert summary.leakage["family_overlap"] == [] and summary.leakage["document_overlap"] == []
    dropped = summary.rejected["family_holdout"]
    assert dropped > 0 and summary.asked == summary.kept + sum(summary.rejected.values())
    dead = [json.loads(line) for line in (tmp_path / "out" / "rejected.jsonl").read_text().splitlines()]
    assert sum(1 for r in dead if r["reason"] == "family_holdout") == dropped


def test_a_listed_family_that_never_occurs_is_warned_about(workspace: Workspace, embedder: Embedder,
                                                           tmp_path: Path) -> None:
    config = workspace(DOCS, holdout_families=["fam1", "fam9"])
    with pytest.warns(FathomWarning, match="held-out family 'fam9' never occurs"):
        summary = run_synth(config, tmp_path / "out", embedder=embedder)
    assert summary.leakage["held_out_families"] == ["fam1", "fam9"]

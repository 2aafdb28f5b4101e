"""``fathom synth`` on the factory's own documents with its template teacher: the PDF manual read by the
real parser feeds examples, whole machines' documents and paraphrase families are held out for test."""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path

import pytest

from fathom.domains.factory.categories import write_categories
from fathom.domains.factory.docs import write_documents
from fathom.synth import run_synth

TEST_DOCUMENTS = ["oven-1_*", "wrapper-1_*"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("factory-synth")
    write_documents(root / "docs")
    write_categories(root / "categories.yaml")
    config = {"documents": str(root / "docs"), "categories": str(root / "categories.yaml"),
              "tools": {"ref": "fathom.domains.factory.tools:tool_schemas"},
              "teacher": {"ref": "fathom.domains.factory.teacher:FactoryTemplateTeacher"},
              "tokenizer": "smollm2-135m", "chunk_tokens": 160, "overlap_tokens": 32, "n_per_chunk": 8,
              "holdout_families": 0.3, "test_documents": TEST_DOCUMENTS,
              "splits": {"train": 0.9, "val": 0.1, "test": 0.0}}
    run_synth(config, root / "out")
    return root


def _split(run: Path, name: str) -> list[dict]:
    return [json.loads(line) for line in (run / "out" / f"{name}.jsonl").read_text().splitlines()]


def test_the_pdf_manual_is_parsed_and_its_facts_reach_examples(run: Path) -> None:
    from pypdf import PdfReader

    pdf = next((run / "docs").glob("*.pdf"))
    text = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
    from_pdf = [e for name in ("train", "val", "test") for e in _split(run, name) if e["meta"]["source"] == pdf.name]
    assert from_pdf, "no example was written from the PDF manual"
    quotes = [q for e in from_pdf for q in e["meta"]["quotes"]]
    assert quotes and all(" ".join(q.split()) in " ".join(text.split()) for q in quotes)


def test_no_document_or_family_crosses_the_split(run: Path) -> None:
    splits = {name: _split(run, name) for name in ("train", "val", "test")}
    assert all(splits.values()), {name: len(rows) for name, rows in splits.items()}
    sources = {name: {e["meta"]["source"] for e in rows} for name, rows in splits.items()}
    assert not sources["train"] & sources["val"] and not sources["train"] & sources["test"] \
        and not sources["val"] & sources["test"]
    assert all(any(fnmatch.fnmatchcase(s, p) for p in TEST_DOCUMENTS) for s in sources["test"])
    assert not any(any(fnmatch.fnmatchcase(s, p) for p in TEST_DOCUMENTS) for s in sources["train"] | sources["val"])
    families = {name: {e["meta"]["family"] for e in rows} for name, rows in splits.items()}
    assert not families["test"] & (families["train"] | families["val"])
    summary = json.loads((run / "out" / "summary.json").read_text())
    assert summary["leakage"]["clean"] and summary["asked"] == summary["kept"] + sum(summary["rejected"].values())


def test_a_test_document_pattern_matching_nothing_is_refused_before_work(run: Path, tmp_path: Path) -> None:
    from fathom.errors import ConfigError

    config = {"documents": str(run / "docs"), "categories": str(run / "categories.yaml"),
              "tools": {"ref": "fathom.domains.factory.tools:tool_schemas"},
              "teacher": {"ref": "fathom.domains.factory.teacher:FactoryTemplateTeacher"},
              "tokenizer": "smollm2-135m", "test_documents": ["toaster-9_*"]}
    with pytest.raises(ConfigError, match=r"toaster-9_.*matches no document"):
        run_synth(config, tmp_path / "out")
    assert not (tmp_path / "out" / "summary.json").exists()

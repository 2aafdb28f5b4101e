"""Synth test set-up: a tiny word-level tokenizer, the wordllama embedder, and a workspace writer.

``workspace(docs, **config)`` writes the documents (``{relative path: text or bytes}``), the scripted
tools and categories (``tests/synth/_script.py``) and a ``synth.yaml`` whose values the keyword
arguments override (``teacher`` defaults to the in-process script, by reference). It returns the
config path.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.synth._script import CATEGORIES, TOOLS

from fathom.synth import Embedder


@pytest.fixture(scope="session")
def tokenizer_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A word-level ``tokenizer.json``: every word and every punctuation mark is one token."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    tokenizer = Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    path = tmp_path_factory.mktemp("tokenizer") / "tokenizer.json"
    tokenizer.save(str(path))
    return path


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    from fathom.synth import wordllama_embedder

    return wordllama_embedder()


Workspace = Callable[..., Path]


@pytest.fixture
def workspace(tmp_path: Path, tokenizer_file: Path) -> Workspace:
    def make(docs: dict[str, str | bytes], **config: Any) -> Path:
        folder = tmp_path / "docs"
        folder.mkdir(exist_ok=True)
        for name, content in docs.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        (tmp_path / "tools.yaml").write_text(yaml.safe_dump(TOOLS))
        (tmp_path / "categories.yaml").write_text(yaml.safe_dump({"categories": CATEGORIES}, sort_keys=False))
        values: dict[str, Any] = {"documents": "docs", "tools": "tools.yaml", "categories": "categories.yaml",
                                  "teacher": {"ref": "tests.synth._script:ScriptedTeacher"},
                                  "tokenizer": str(tokenizer_file), "chunk_tokens": 64, "overlap_tokens": 8,
                                  "n_per_chunk": 3, "concurrency": 4, "seed": 0,
                                  "splits": {"train": 0.6, "val": 0.2, "test": 0.2}}
        values.update(config)
        path = tmp_path / "synth.yaml"
        path.write_text(yaml.safe_dump(values, sort_keys=False))
        return path

    return make

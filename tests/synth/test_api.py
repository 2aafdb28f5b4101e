"""The public face of ``fathom.synth``, the CLI's report, config loading and the dedupe rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.cli._run import run
from tests.synth.conftest import Workspace

import fathom.errors
import fathom.synth
from fathom.synth import Candidate, Category, Chunk, Embedder, dedupe, load_config

PUBLIC = ["OUTPUT_SCHEMA", "REASONS", "SUFFIXES", "Candidate", "Category", "Chunk", "Document", "Embedder",
          "OpenAITeacher", "Prepared", "Rejection", "SplitPlan", "Summary", "SynthConfig", "Teacher", "TeacherRequest",
          "TokenCounter", "ToolSet", "build_example", "check_endpoint", "check_item", "chunk_document",
          "chunk_documents", "dedupe", "default_system_prompt", "load_categories", "load_config", "load_teacher",
          "load_token_counter", "load_tools", "normalise_text", "parse_answer", "prepare", "read_documents",
          "repair_request", "run_synth", "sentence_spans", "split_candidates", "system_prompt", "teacher_request",
          "wordllama_embedder"]


def test_the_public_face_is_pinned() -> None:
    assert sorted(fathom.synth.__all__) == sorted(PUBLIC)
    assert all(hasattr(fathom.synth, name) for name in PUBLIC)


def test_the_cli_prints_the_counts_and_writes_the_files(workspace: Workspace, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    docs = {"a.txt": "Pump P-1 runs. WRONGTOOL: fan F-2 is loud.", "b.txt": "Valve V-3 is shut.",
            "c.txt": "Motor M-4 hums.", "d.txt": "Belt B-5 is new."}
    code, out, err = run(["synth", "--config", str(workspace(docs)), "--out", str(tmp_path / "out"), "--nova"],
                         capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "asked 12, kept 11, rejected 1: unknown_tool 1"
    assert lines[1].startswith("splits: train ") and "categories: fact 4 (36%), status 3 (27%), maintain 4" in out
    assert "documents in two splits 0" in out and "teacher requests: 4;" in out
    for name in ("train.jsonl", "val.jsonl", "test.jsonl", "rejected.jsonl", "summary.json", "manifest.json",
                 "nova/train.jsonl", "cache/teacher.jsonl"):
        assert (tmp_path / "out" / name).exists(), name


def test_config_paths_are_taken_from_the_config_folder(workspace: Workspace, tokenizer_file: Path) -> None:
    path = workspace({"a.txt": "A."}, tokenizer="../" + tokenizer_file.parent.name + "/tokenizer.json")
    config = load_config(path)
    assert config.documents == path.parent / "docs" and config.tools == path.parent / "tools.yaml"
    assert Path(config.tokenizer).resolve() == tokenizer_file.resolve()
    assert load_config({"documents": "d", "categories": {"x": {"description": "X.", "tools": []}},
                        "teacher": {"ref": "m:C"}, "tokenizer": "smollm2-135m"}).tokenizer == "smollm2-135m"


def _candidate(question: str, calls: tuple = ()) -> Candidate:  # type: ignore[type-arg]
    chunk = Chunk(id=f"d#{len(question)}", source="d", text=question, index=0, metadata={})
    return Candidate(chunk, Category("c", "C.", ()), question, calls, "a", (question,), None, {})


def test_near_duplicates_need_the_same_identifiers(embedder: Embedder) -> None:
    questions = ["What is the torque of the M8 bolt?", "What torque does the M8 bolt need?",  # paraphrase: dropped
                 "What is the torque of the M10 bolt?",  # another bolt: kept despite cosine 0.97
                 "what is the torque of the M8 bolt",  # exact duplicate once normalised
                 "Which oil does the gearbox take?"]
    kept, rejected = dedupe([_candidate(q) for q in questions], embedder, 0.9)
    assert [c.question for c in kept] == [questions[0], questions[2], questions[4]]
    assert sorted(r.reason for r in rejected) == ["duplicate", "near_duplicate"]
    kept, _ = dedupe([_candidate(q) for q in questions], embedder, None)
    assert len(kept) == 4  # exact only


def test_tools_from_a_python_reference(workspace: Workspace, embedder: Embedder, tmp_path: Path) -> None:
    from fathom.synth import run_synth

    config = workspace({"a.txt": "Pump P-1 runs."}, tools={"ref": "tests.synth._script:TOOLS"}, splits={"train": 1.0})
    summary = run_synth(config, tmp_path / "out", embedder=embedder)
    assert summary.kept == 3 and summary.rejected == {}
    bad = workspace({"a.txt": "Pump P-1 runs."}, tools={"ref": "tests.synth._script:CATEGORIES"})
    with pytest.raises(fathom.errors.ConfigError, match="gave dict; it must be a list of OpenAI tool schemas"):
        run_synth(bad, tmp_path / "out2", embedder=embedder)

"""Synthetic training data from documents: ``fathom synth``.

Documents (txt, md, HTML, PDF, CSV) are cut into chunks of whole sentences sized in the target model's
tokens, with overlap; a teacher (any OpenAI-compatible endpoint, or an in-process :class:`Teacher`)
writes examples for each chunk as JSON; every example is checked (its category, each tool call against
the declared schemas, the category's tool sequence, every quote present in the chunk), duplicates and
near duplicates are dropped, and the rest is split by source document (with an optional family
holdout) into Fathom JSONL with a ``reference`` for the ``tool_call`` grader. Rejects go to
``rejected.jsonl`` with a reason code; ``summary.json`` counts everything, and a killed run resumes
from its cache.

* Run: :func:`run_synth` (``fathom synth --config synth.yaml --out DIR``), :func:`load_config`,
  :class:`SynthConfig`, :func:`prepare`, :class:`Summary`.
* Stages: :func:`read_documents`, :func:`chunk_documents` / :func:`chunk_document`,
  :func:`load_token_counter`, :func:`sentence_spans`, :func:`system_prompt`, :func:`teacher_request`,
  :func:`repair_request`, :func:`parse_answer`, :func:`check_item`, :func:`dedupe`,
  :func:`wordllama_embedder`, :func:`split_candidates`, :func:`build_example`.
* Types: :class:`Document`, :class:`Chunk`, :class:`Category`, :class:`TeacherRequest`, the
  :class:`Teacher` protocol, :class:`OpenAITeacher`, :class:`ToolSet`, :class:`Candidate`,
  :class:`Rejection`, :data:`REASONS`.

Not covered: judging answers with an LLM, multi-turn examples with tool results (the teacher writes
the first assistant turn: the calls, or the answer).
"""

from __future__ import annotations

from fathom.synth._chunk import TokenCounter, chunk_document, chunk_documents, load_token_counter, sentence_spans
from fathom.synth._config import SynthConfig, load_config
from fathom.synth._dedupe import Embedder, dedupe, wordllama_embedder
from fathom.synth._ingest import SUFFIXES, read_documents
from fathom.synth._output import build_example, default_system_prompt
from fathom.synth._prompt import OUTPUT_SCHEMA, repair_request, system_prompt, teacher_request
from fathom.synth._run import Prepared, prepare, run_synth
from fathom.synth._split import SplitPlan, split_candidates
from fathom.synth._summary import Summary
from fathom.synth._teacher import OpenAITeacher, check_endpoint, load_teacher
from fathom.synth._tools import ToolSet, load_categories, load_tools
from fathom.synth._types import Category, Chunk, Document, Teacher, TeacherRequest
from fathom.synth._validate import REASONS, Candidate, Rejection, check_item, normalise_text, parse_answer

__all__ = [
    "OUTPUT_SCHEMA",
    "REASONS",
    "SUFFIXES",
    "Candidate",
    "Category",
    "Chunk",
    "Document",
    "Embedder",
    "OpenAITeacher",
    "Prepared",
    "Rejection",
    "SplitPlan",
    "Summary",
    "SynthConfig",
    "Teacher",
    "TeacherRequest",
    "TokenCounter",
    "ToolSet",
    "build_example",
    "check_endpoint",
    "check_item",
    "chunk_document",
    "chunk_documents",
    "dedupe",
    "default_system_prompt",
    "load_categories",
    "load_config",
    "load_teacher",
    "load_token_counter",
    "load_tools",
    "normalise_text",
    "parse_answer",
    "prepare",
    "read_documents",
    "repair_request",
    "run_synth",
    "sentence_spans",
    "split_candidates",
    "system_prompt",
    "teacher_request",
    "wordllama_embedder",
]

"""The data that flows through ``fathom synth``: documents, chunks, categories and teacher requests.

Covers: :class:`Document` (one readable file, or one CSV file of records), :class:`Chunk` (a slice
of a document's text that fits the target model's context), :class:`Category` (a kind of example
and the tool sequence it expects), :class:`TeacherRequest` and the :class:`Teacher` protocol that
every teacher (an HTTP endpoint, an in-process template) implements.
Not covered: how they are made (:mod:`fathom.synth._ingest`, :mod:`fathom.synth._chunk`,
:mod:`fathom.synth._prompt`) and checked (:mod:`fathom.synth._validate`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = ["Category", "Chunk", "Document", "Teacher", "TeacherRequest"]


@dataclass(frozen=True)
class Document:
    """One source document, as text."""

    source: str
    """Stable id: the path relative to the documents folder, with ``/`` separators."""
    text: str
    kind: str
    """``text``, ``markdown``, ``html``, ``pdf`` or ``csv``."""
    segments: tuple[tuple[int, int], ...] | None = None
    """Spans of ``text`` the chunker must keep whole (CSV records); None: split into sentences."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """Per kind: ``pages`` and ``page_starts`` (PDF), ``rows`` and ``row_starts`` (CSV), ``title`` (HTML)."""


@dataclass(frozen=True)
class Chunk:
    """A slice of one document's text, sized in tokens of the target model's tokenizer."""

    id: str
    """``<source>#<index>``: stable while the document and the chunk settings stay the same."""
    source: str
    text: str
    index: int
    """Position of the chunk in its document, from 0."""
    metadata: dict[str, Any]
    """``start``/``end`` (character offsets in the document), ``tokens``, ``units`` (sentences or
    records), ``overlap_units`` (how many of them repeat the end of the previous chunk), ``oversized``
    (one unit longer than the chunk size, kept whole), and ``pages`` or ``rows`` where known."""


@dataclass(frozen=True)
class Category:
    """A kind of example the teacher writes, and the tools an answer to it calls."""

    name: str
    description: str
    tools: tuple[str, ...]
    """The expected tool sequence, in order; ``()`` means the answer comes from the document, no tool."""


@dataclass(frozen=True)
class TeacherRequest:
    """Everything a teacher needs to write examples for one chunk."""

    chunk: Chunk
    categories: tuple[Category, ...]
    tools: tuple[dict[str, Any], ...]
    """OpenAI tool schemas ``{"type": "function", "function": {name, description, parameters}}``."""
    messages: tuple[dict[str, Any], ...]
    """The rendered task prompt (system, user; a repair request adds the bad answer and a user turn)."""
    n: int
    """How many examples to write."""
    seed: int


@runtime_checkable
class Teacher(Protocol):
    """Writes examples for a chunk. ``complete`` returns the raw text, which should be JSON::

        {"examples": [{"category": str, "question": str,
                       "tool_calls": [{"name": str, "arguments": {...}}],
                       "answer": str | null, "quotes": [str, ...], "family": str}]}

    It is called from several threads at once (``concurrency``), so it must be thread-safe. Raise
    :class:`~fathom.errors.BackendError` when no answer can be had; the chunk is then counted as
    ``teacher_error`` and asked again by the next run.
    """

    def complete(self, request: TeacherRequest) -> str: ...

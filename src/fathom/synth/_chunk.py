"""Cutting documents into chunks that fit the target model: whole sentences, sized in its tokens, overlapping.

A document is first cut into *units*: sentences, or the records a reader marked as whole
(:attr:`~fathom.synth.Document.segments`, one per CSV row). Units are then packed greedily into
chunks of at most ``chunk_tokens`` tokens of the target model's tokenizer, and each chunk after the
first starts with the last units of the one before: the longest tail that fits in
``overlap_tokens``, and at least the last unit, so a positive overlap always repeats context. A chunk
is a verbatim slice of the document's text (quotes are checked against it), and a unit is never cut:
a single unit longer than ``chunk_tokens`` becomes a chunk of its own, marked ``oversized``.

Sentence ends are ``. ! ?`` (with closing quotes or brackets) before a capital, digit or opening
quote, except after common abbreviations (e.g., i.e., Dr., No., Fig. ...) and initials; a blank line
ends a unit; a single line break ends one when the line before ends a sentence or is a heading or a table
row, or the next line is a heading, a list item, a table row or a ``key: value`` line (so hard-wrapped
paragraphs, as PDFs extract them, stay whole sentences).

Why our own packer and not a library: ``semchunk`` 4.1 (measured on the same text in
``tests/synth/test_chunk.py``) packs by tokens with overlap but cuts sentences to meet the token
budget, and its overlapping chunks start and end mid-sentence; ``chonkie``'s ``SentenceChunker``
keeps sentences whole but brings four packages (a Rust core and a tokenizer library of its own) and
silently drops the overlap when no whole sentence fits in it, which is synthetic-data-kit's defect in
another form. The packer below is ~100 lines, exact in the target tokenizer, and its overlap is
tested. Not covered: semantic (embedding-based) boundaries, token-level splitting of oversized units.
"""

from __future__ import annotations

import bisect
import itertools
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fathom.errors import ConfigError, Problem
from fathom.synth._types import Chunk, Document

__all__ = ["TokenCounter", "chunk_document", "chunk_documents", "load_token_counter", "sentence_spans"]

TokenCounter = Callable[[str], int]
"""Number of tokens in a text (no special tokens added)."""

_ABBREVIATIONS = frozenset({"e.g", "i.e", "etc", "vs", "cf", "mr", "mrs", "ms", "dr", "prof", "no", "nr", "fig",
                            "figs", "eq", "approx", "ca", "st", "inc", "ltd", "co", "jr", "sr", "vol", "p", "pp",
                            "sec", "ref", "al", "max", "min", "resp", "incl", "dept", "est", "art"})
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")
_BLANK = re.compile(r"\n[ \t]*\n\s*")
_STRUCTURAL = re.compile(r"\s*(#{1,6}\s|[-*+•]\s|\d{1,3}[.)]\s|\||[^\s:][^:\n]{0,40}:\s)")
_ENDS_SENTENCE = re.compile(r"[.!?:;][\"'”’)\]]*\s*$")
_HEADING = re.compile(r"\s*#{1,6}\s")


def load_token_counter(spec: str | os.PathLike[str]) -> TokenCounter:
    """A token counter for the target model.

    Args:
        spec: a ``tokenizer.json`` file, a folder holding one (read with the ``tokenizers`` library,
            fast to load), or any model spec :func:`fathom.models.load_tokenizer` takes (bundled name,
            Hugging Face id, model folder).

    Raises:
        UnknownModelError: the spec names no tokenizer (from :func:`fathom.models.resolve_model`).
    """
    path = Path(spec).expanduser()
    file = path / "tokenizer.json" if path.is_dir() else path
    if file.is_file() and file.suffix == ".json":
        from tokenizers import Tokenizer

        fast = Tokenizer.from_file(str(file))
        return lambda text: len(fast.encode(text, add_special_tokens=False).ids)
    from fathom.models import load_tokenizer

    tokenizer = load_tokenizer(str(spec))
    return lambda text: len(tokenizer.encode(text, add_special_tokens=False))


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence (or structural line) of ``text``, whitespace trimmed.

    >>> text = "Check the pump. Dr. Lee said so.\\nIt was\\nwrapped.\\n- a list item"
    >>> [text[s:e] for s, e in sentence_spans(text)]
    ['Check the pump.', 'Dr. Lee said so.', 'It was\\nwrapped.', '- a list item']
    """
    cuts = {0, len(text)}
    cuts.update(m.end() for m in _BLANK.finditer(text))
    for match in re.finditer(r"\n", text):
        if _line_break_ends_unit(text, match.start()):
            cuts.add(match.end())
    for match in _SENTENCE_END.finditer(text):
        if not _abbreviation_before(text, match.start()):
            cuts.add(match.end())
    spans = []
    points = sorted(cuts)
    for start, end in itertools.pairwise(points):
        piece = text[start:end]
        stripped = piece.strip()
        if stripped:
            lead = len(piece) - len(piece.lstrip())
            spans.append((start + lead, start + lead + len(stripped)))
    return spans


def _line_break_ends_unit(text: str, at: int) -> bool:
    line_start = text.rfind("\n", 0, at) + 1
    previous = text[line_start:at]
    next_end = text.find("\n", at + 1)
    following = text[at + 1: len(text) if next_end < 0 else next_end]
    return bool(_ENDS_SENTENCE.search(previous) or _HEADING.match(previous) or previous.lstrip().startswith("|")
                or _STRUCTURAL.match(following))


def _abbreviation_before(text: str, at: int) -> bool:
    """True when the full stop at ``at`` closes an abbreviation or an initial (``J.``), not a sentence."""
    if text[at] != ".":
        return False
    word = re.search(r"([A-Za-z][A-Za-z.]*)$", text[max(0, at - 12):at])
    if not word:
        return False
    token = word.group(1)
    return token.lower().rstrip(".") in _ABBREVIATIONS or (len(token) == 1 and token.isupper())


def _units(document: Document) -> list[tuple[int, int]]:
    if document.segments is not None:
        return [span for span in document.segments if document.text[span[0]:span[1]].strip()]
    return sentence_spans(document.text)


def chunk_document(document: Document, count: TokenCounter, *, chunk_tokens: int,
                   overlap_tokens: int) -> list[Chunk]:
    """Cut one document into chunks of whole units (see the module docstring).

    Args:
        document: the document.
        count: the target tokenizer's counter (:func:`load_token_counter`).
        chunk_tokens: most tokens in a chunk (a single longer unit is kept whole, ``oversized``).
        overlap_tokens: tokens of the previous chunk's tail to repeat; 0 for none.

    Returns:
        The chunks in document order, ids ``<source>#<index>``.
    """
    text, units = document.text, _units(document)
    unit_tokens = [count(text[s:e]) for s, e in units]

    def exact(first: int, last: int) -> int:
        return count(text[units[first][0]:units[last][1]])

    chunks: list[Chunk] = []
    first, previous_last = 0, -1
    while units:
        floor = max(first, previous_last + 1)  # every chunk takes at least one new unit, so the loop ends
        last, estimate = floor, sum(unit_tokens[first:floor + 1])
        while last + 1 < len(units) and estimate + unit_tokens[last + 1] <= chunk_tokens:
            last += 1
            estimate += unit_tokens[last]
        tokens = exact(first, last)
        while last > floor and tokens > chunk_tokens:  # the joined text may count more than its parts
            last -= 1
            tokens = exact(first, last)
        overlap = max(0, previous_last - first + 1)
        chunks.append(_make_chunk(document, units, first, last, tokens, overlap, len(chunks), chunk_tokens))
        if last == len(units) - 1:
            break
        first, previous_last = _next_first(first, last, unit_tokens, chunk_tokens, overlap_tokens, exact), last
    return chunks


def _next_first(first: int, last: int, unit_tokens: Sequence[int], chunk_tokens: int, overlap_tokens: int,
                exact: Callable[[int, int], int]) -> int:
    """Where the next chunk starts: the carried tail of ``first..last``, or ``last + 1`` without overlap."""
    following = last + 1
    if overlap_tokens <= 0:
        return following
    start = last  # at least the last unit
    while start - 1 > first and sum(unit_tokens[start - 1:last + 1]) <= overlap_tokens:
        start -= 1
    while start <= last and start > first and exact(start, following) > chunk_tokens:
        start += 1  # the carry must leave room for at least one new unit
    if start == first and exact(start, following) > chunk_tokens:
        return following
    return start if start <= last else following


def _make_chunk(document: Document, units: list[tuple[int, int]], first: int, last: int, tokens: int,
                overlap: int, index: int, chunk_tokens: int) -> Chunk:
    start, end = units[first][0], units[last][1]
    metadata: dict[str, Any] = {"start": start, "end": end, "tokens": tokens, "units": last - first + 1,
                                "overlap_units": overlap, "oversized": tokens > chunk_tokens}
    if "page_starts" in document.metadata:
        starts = document.metadata["page_starts"]
        metadata["pages"] = [bisect.bisect_right(starts, start), bisect.bisect_right(starts, max(start, end - 1))]
    if "row_starts" in document.metadata:
        starts, rows = document.metadata["row_starts"], document.metadata["rows"]
        inside = [rows[i] for i, s in enumerate(starts) if start <= s < end]
        metadata["rows"] = [inside[0], inside[-1]] if inside else []
    return Chunk(id=f"{document.source}#{index}", source=document.source, text=document.text[start:end],
                 index=index, metadata=metadata)


def chunk_documents(documents: Sequence[Document], count: TokenCounter, *, chunk_tokens: int,
                    overlap_tokens: int) -> list[Chunk]:
    """:func:`chunk_document` for each document, in order.

    Raises:
        ConfigError: ``chunk_tokens`` below 1, or ``overlap_tokens`` negative or not below ``chunk_tokens``.
    """
    problems = []
    if chunk_tokens < 1:
        problems.append(Problem("chunk_tokens", f"must be at least 1, got {chunk_tokens}"))
    if overlap_tokens < 0 or overlap_tokens >= max(chunk_tokens, 1):
        problems.append(Problem("overlap_tokens", f"must be >= 0 and below chunk_tokens ({chunk_tokens}), "
                                                  f"got {overlap_tokens}"))
    if problems:
        raise ConfigError(problems)
    return [c for doc in documents for c in chunk_document(doc, count, chunk_tokens=chunk_tokens,
                                                             overlap_tokens=overlap_tokens)]

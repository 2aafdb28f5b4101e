"""Raw text for continued pre-training: reading corpora, packing them into blocks, holding part out, mixing.

Covers: :func:`read_corpus` (a folder of ``.txt``/``.md`` files, one such file, or JSON Lines with ``text``;
every problem listed before a model loads), :func:`pack_documents` (documents joined with the end-of-sequence
token and cut into blocks of ``max_seq_len`` tokens: "wrapped" packing, the classic pre-training layout, so no
document is truncated and no block is padded but the last), :func:`split_blocks` (the end of a corpus's
shuffled stream held out) and :func:`mix_blocks` (general blocks drawn by ratio beside the domain blocks).

Packing is done here, not by TRL's ``SFTConfig(packing=True)``, so that the held-out blocks, the evaluation
loss and the perplexity before and after all read the very same token blocks. TRL's ``bfd`` strategy would
also truncate documents longer than a block, which raw text has plenty of. Not covered: the run (:mod:`._cpt`).
"""

from __future__ import annotations

import hashlib
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fathom.errors import ConfigError, DataError, Problem

__all__ = ["TEXT_SUFFIXES", "Corpus", "mix_blocks", "pack_documents", "read_corpus", "split_blocks"]

TEXT_SUFFIXES = (".txt", ".md")
"""File kinds a corpus folder is read from."""


@dataclass(frozen=True)
class Corpus:
    """The documents of one corpus."""

    path: Path
    documents: list[str]
    """Non-empty texts, in file (or line) order."""
    files: int
    """Text files read (1 for a JSONL file)."""

    @property
    def characters(self) -> int:
        return sum(len(d) for d in self.documents)

    def sha256(self) -> str:
        """A fingerprint of the texts (recorded with the run, so a changed corpus is not silently resumed)."""
        digest = hashlib.sha256()
        for doc in self.documents:
            digest.update(doc.encode("utf-8"))
            digest.update(b"\0")
        return digest.hexdigest()


def read_corpus(path: str | os.PathLike[str], *, flag: str = "--data") -> Corpus:
    """Read a corpus: a folder of ``.txt``/``.md`` files (recursively, in sorted order), one such file, or a JSONL
    file whose rows carry the document in ``text``.

    Raises:
        ConfigError: the path does not exist, or is a file of another kind.
        DataError: no text at all (an empty folder, only empty files), or JSONL rows without a ``text``
            string (every line named).
    """
    from fathom._textfile import read_utf8

    path = Path(path)
    if not path.exists():
        raise ConfigError([Problem(flag, f"{path} does not exist; pass a folder of .txt/.md files, a .txt/.md file "
                                         f"or a JSONL file with a 'text' field")], title="missing data")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES)
        documents = [text for text in (read_utf8(p).strip() for p in files) if text]
        if not documents:
            found = f"{len(files)} .txt/.md file(s), all empty" if files else "no .txt or .md files"
            raise DataError([Problem(f"{flag} {path}", f"holds no text ({found}); put the corpus there as .txt or "
                                                       f".md files, or pass a JSONL file with a 'text' field")],
                            title="empty corpus")
        return Corpus(path, documents, len(files))
    if path.suffix.lower() in TEXT_SUFFIXES:
        text = read_utf8(path).strip()
        if not text:
            raise DataError([Problem(f"{flag} {path}", "is empty; there is no text to train on")],
                            title="empty corpus")
        return Corpus(path, [text], 1)
    if path.suffix.lower() == ".jsonl":
        return Corpus(path, _jsonl_documents(path, flag), 1)
    raise ConfigError([Problem(flag, f"{path} is a {path.suffix or 'suffix-less'} file; pass a folder of .txt/.md "
                                     f"files, a .txt/.md file or a .jsonl file with a 'text' field")])


def _jsonl_documents(path: Path, flag: str) -> list[str]:
    from fathom.datasets import scan_jsonl

    rows, problems = scan_jsonl(path)
    documents = []
    for line, row in rows:
        text = row.get("text")
        if not isinstance(text, str):
            problems.append(Problem(f"{path}:{line}", f"needs a 'text' string holding the document, got "
                                                      f"{'no text field' if text is None else type(text).__name__}"))
        elif text.strip():
            documents.append(text.strip())
    if not problems and not documents:
        problems.append(Problem(f"{flag} {path}", "holds no text (no rows, or only empty 'text' fields)"))
    if problems:
        raise DataError(problems, title=f"{path} cannot be used as a corpus")
    return documents


def pack_documents(tokenizer: Any, documents: list[str], block: int) -> list[list[int]]:
    """Token blocks of ``block`` ids: each document's tokens followed by the end-of-sequence token, all joined and
    cut every ``block`` tokens (the last block holds the rest; a rest under 2 tokens, nothing to predict, is
    dropped).

    >>> class Chars:  # a toy tokenizer: one id per character, 0 ends a document
    ...     eos_token_id = 0
    ...     def __call__(self, texts, add_special_tokens=False):
    ...         return {"input_ids": [[ord(c) for c in t] for t in texts]}
    >>> pack_documents(Chars(), ["abc", "de"], 4)
    [[97, 98, 99, 0], [100, 101, 0]]
    """
    eos = tokenizer.eos_token_id
    stream: list[int] = []
    for ids in tokenizer(documents, add_special_tokens=False)["input_ids"]:
        stream.extend(ids)
        if eos is not None:
            stream.append(eos)
    blocks = [stream[i:i + block] for i in range(0, len(stream), block)]
    return [b for b in blocks if len(b) >= 2]


def split_blocks(tokenizer: Any, corpus: Corpus, block: int, fraction: float, seed: int,
                 where: str) -> tuple[list[list[int]], list[list[int]]]:
    """``(train blocks, held-out blocks)`` of a corpus: documents shuffled (seeded), packed, and the last
    ``fraction`` of the blocks (at least one) held out, so held-out text is mostly whole unseen documents.

    Raises:
        DataError: the corpus makes fewer than 2 blocks (nothing to train on beside the held-out one).
    """
    documents = list(corpus.documents)
    random.Random(seed).shuffle(documents)
    blocks = pack_documents(tokenizer, documents, block)
    if len(blocks) < 2:
        raise DataError([Problem(f"{where} {corpus.path}", f"its {corpus.characters} characters make "
                                                           f"{len(blocks)} block(s) of --max-seq-len {block} tokens; "
                                                           f"at least 2 are needed (one to train on, one held out): "
                                                           f"add text or lower --max-seq-len")],
                        title="corpus too small")
    held = min(len(blocks) - 1, max(1, round(len(blocks) * fraction)))
    return blocks[:-held], blocks[-held:]


def mix_blocks(domain: list[list[int]], general: list[tuple[str, float, list[list[int]]]],
               seed: int) -> tuple[list[list[int]], dict[str, int]]:
    """The training blocks: every domain block, plus from each general source ``(name, ratio, blocks)`` as many
    blocks as make it ``ratio`` of the whole (drawn in a seeded order, repeating only when the source is short),
    shuffled together.

    Returns:
        ``(blocks, {name: blocks drawn})``.

    >>> blocks, drawn = mix_blocks([[1, 1]] * 6, [("g", 0.25, [[2, 2], [3, 3]])], seed=0)
    >>> len(blocks), drawn
    (8, {'g': 2})
    """
    rest = 1.0 - sum(ratio for _, ratio, _ in general)
    rng = random.Random(seed)
    mixed = list(domain)
    drawn = {}
    for name, ratio, blocks in general:
        want = round(len(domain) * ratio / rest)
        order = list(range(len(blocks)))
        rng.shuffle(order)
        picks = [blocks[order[i % len(order)]] for i in range(want)] if order else []
        mixed.extend(picks)
        drawn[name] = len(picks)
    rng.shuffle(mixed)
    return mixed, drawn

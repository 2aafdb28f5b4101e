"""Lexical search over the plant's document passages: BM25 (``bm25s``) with a tokenizer for codes.

``bm25s`` is small (numpy only), fast and maintained; its own tokenizer splits ``TUN-231`` into
``tun`` and ``231``, so this module tokenizes itself: lower case, words and numbers, and a
hyphenated or underscored token kept whole *and* as its parts (``tun-231``, ``tun``, ``231``;
``air_temp_c``, ``air``, ``temp``), so a query for the code, the device or the signal name all match.

Not covered: embeddings or hybrid retrieval (``fathom.rag`` will bring them).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fathom.domains.factory.docs import Passage

__all__ = ["Hit", "PassageIndex", "tokenize"]

_TOKEN = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
_STOPWORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "how", "i", "if", "in",
    "into", "is", "it", "its", "me", "my", "no", "not", "of", "on", "or", "our", "so", "than", "that", "the",
    "their", "then", "there", "these", "they", "this", "to", "was", "we", "what", "when", "where", "which",
    "while", "who", "why", "will", "with", "you", "your"))


def tokenize(text: str) -> list[str]:
    """Search tokens of ``text``.

    >>> tokenize("What does TUN-231 mean on the cooling tunnel?")
    ['does', 'tun-231', 'tun', '231', 'mean', 'cooling', 'tunnel']
    """
    tokens = []
    for token in _TOKEN.findall(text.lower()):
        parts = re.split(r"[-_]", token)
        for t in [token, *parts] if len(parts) > 1 else [token]:
            if t not in _STOPWORDS:
                tokens.append(t)
    return tokens


@dataclass(frozen=True)
class Hit:
    """One passage found, with its BM25 score."""

    passage: Passage
    score: float


class PassageIndex:
    """A BM25 index of passages (built once, queried many times)."""

    def __init__(self, passages: Sequence[Passage]):
        import bm25s  # type: ignore[import-untyped]  # no type information shipped

        self.passages = tuple(passages)
        self._bm25 = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
        self._bm25.index([tokenize(p.text) for p in self.passages], show_progress=False)

    def search(self, query: str, k: int = 3, device: str | None = None) -> list[Hit]:
        """The ``k`` best passages for ``query`` (only ``device``'s when given), best first; none score 0."""
        tokens = tokenize(query)
        if not tokens:
            return []
        scores = np.asarray(self._bm25.get_scores(tokens), dtype=float)
        order = np.argsort(-scores, kind="stable")
        hits = [Hit(self.passages[i], round(float(scores[i]), 3)) for i in order
                if scores[i] > 0 and (device is None or self.passages[i].device == device)]
        return hits[:k]

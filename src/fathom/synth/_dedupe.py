"""Dropping duplicate questions: exact (normalised text) and near (embedding cosine with the same identifiers).

Near duplicates are found with offline word embeddings (``wordllama``, whose 256-dimension weights ship
in its wheel: nothing is downloaded). An averaged word embedding cannot tell "pump P-101" from "pump
P-102" (cosine 0.97, measured), and those are different questions, so two questions are near duplicates
only when their cosine is at least the threshold *and* they name the same identifiers (the tokens
holding a digit: P-101, M8, 40) and the same tool sequence. Measured with wordllama: "What is the torque
of the M8 bolt?" / "What torque does the M8 bolt need?" 0.96; "When was pump P-101 last serviced?" /
"What was the date of the last service of pump P-101?" 0.82; unrelated questions about one gearbox 0.41.

Covers: :func:`question_key`, :func:`identifiers`, :func:`wordllama_embedder`, :func:`dedupe` (first
one kept, in input order) and :func:`cross_split_near_duplicates` for the leakage report.
Not covered: MinHash on long texts, answer-level duplicates.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from fathom.errors import MissingDependencyError
from fathom.synth._validate import Candidate, Rejection, normalise_text

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Embedder", "cross_split_near_duplicates", "dedupe", "identifiers", "question_key", "wordllama_embedder"]

Embedder = Callable[[Sequence[str]], "np.ndarray[Any, Any]"]
"""Texts to a ``(len(texts), dim)`` array of L2-normalised rows."""


def question_key(question: str) -> str:
    """The form exact duplicates are compared in: :func:`~fathom.synth.normalise_text`, end punctuation dropped.

    >>> question_key("  What is the torque of the M8 bolt? ") == question_key("what is the torque of the m8 bolt")
    True
    """
    return normalise_text(question).rstrip(" ?.!")


def identifiers(question: str) -> frozenset[str]:
    """The tokens of a question that hold a digit (ids, part numbers, quantities), normalised.

    >>> sorted(identifiers("When was pump P-101 serviced, and at 40 rpm?"))
    ['40', 'p-101']
    """
    return frozenset(t.strip(".,;:!?()[]\"'") for t in normalise_text(question).split() if re.search(r"\d", t))


def wordllama_embedder() -> Embedder:
    """The ``wordllama`` 256-dimension embedder, loaded from the files in its wheel (no download).

    wordllama looks for its tokenizer in ``<package>/tokenizer/`` while its wheel ships it in
    ``<package>/tokenizers/``; passing the package folder as the cache folder makes its loader find
    the packaged file, and ``disable_download=True`` makes a missing file an error, not a download.
    Its import configures the root logger at INFO (``logging.basicConfig``); that is undone here.

    Raises:
        MissingDependencyError: wordllama is not installed.
    """
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        import wordllama  # type: ignore[import-untyped]
        from wordllama import WordLlama
    except ImportError as exc:
        raise MissingDependencyError("wordllama (near-duplicate detection)", "pip install 'fathom[synth]'") from exc
    finally:  # importing wordllama calls logging.basicConfig(level=INFO): every HTTP request would be logged
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
        root.setLevel(level)
    from pathlib import Path

    model = WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)

    def embed(texts: Sequence[str]) -> np.ndarray[Any, Any]:
        import numpy as np

        if not texts:
            return np.zeros((0, 256), dtype=np.float32)
        return np.asarray(model.embed(list(texts), norm=True), dtype=np.float32)

    return embed


def _signature(candidate: Candidate) -> tuple[frozenset[str], tuple[str, ...]]:
    return identifiers(candidate.question), tuple(name for name, _ in candidate.calls)


def dedupe(candidates: Sequence[Candidate], embed: Embedder | None,
           threshold: float | None) -> tuple[list[Candidate], list[Rejection]]:
    """Keep the first of each group of duplicates, in input order.

    Args:
        candidates: checked examples, in a deterministic order (chunk order, then item order).
        embed: the embedder for near duplicates; None (or ``threshold=None``) checks exact ones only.
        threshold: cosine at or above which two questions with the same signature are near duplicates.

    Returns:
        ``(kept, rejections)``; each rejection names the question it duplicates.
    """
    import numpy as np

    kept: list[Candidate] = []
    rejected: list[Rejection] = []
    seen: dict[str, str] = {}
    unique = []
    for c in candidates:
        key = question_key(c.question)
        if key in seen:
            rejected.append(Rejection("duplicate", f"same question as one kept from {seen[key]}: {c.question[:80]!r}",
                                      c.chunk.id, c.chunk.source, c.raw))
            continue
        seen[key] = c.chunk.id
        unique.append(c)
    if embed is None or threshold is None or not unique:
        return unique, rejected
    vectors = embed([c.question for c in unique])
    groups: dict[tuple[frozenset[str], tuple[str, ...]], list[int]] = defaultdict(list)
    for i, c in enumerate(unique):
        group = groups[_signature(c)]
        if group:
            similarity = vectors[group] @ vectors[i]
            best = int(np.argmax(similarity))
            if similarity[best] >= threshold:
                twin = unique[group[best]]
                rejected.append(Rejection("near_duplicate", f"cosine {float(similarity[best]):.3f} >= {threshold} with "
                                                            f"{twin.question[:60]!r} (from {twin.chunk.id})",
                                          c.chunk.id, c.chunk.source, c.raw))
                continue
        group.append(i)
        kept.append(c)
    return kept, rejected


def cross_split_near_duplicates(splits: dict[str, list[Candidate]], embed: Embedder | None,
                                threshold: float) -> dict[str, int]:
    """For each pair of splits ``"a~b"``: questions of ``b`` that near-duplicate one of ``a`` (same rule as
    :func:`dedupe`, exact ones included). Empty when there is no embedder."""
    import numpy as np

    if embed is None:
        return {}
    names = [n for n in splits if splits[n]]
    vectors = {n: embed([c.question for c in splits[n]]) for n in names}
    counts = {}
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            by_signature: dict[Any, list[int]] = defaultdict(list)
            for j, c in enumerate(splits[a]):
                by_signature[_signature(c)].append(j)
            hits = 0
            for k, c in enumerate(splits[b]):
                rows = by_signature.get(_signature(c))
                if rows and float(np.max(vectors[a][rows] @ vectors[b][k])) >= threshold:
                    hits += 1
            counts[f"{a}~{b}"] = hits
    return counts

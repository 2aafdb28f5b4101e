"""The ``evaluation_metric`` functions of OpenAI ``text_similarity`` graders, each ``(output, reference) -> [0, 1]``.

=============  =====================================================================================
metric         computed with
=============  =====================================================================================
fuzzy_match    ``rapidfuzz.fuzz.ratio / 100`` (normalised Indel similarity; ``pip install rapidfuzz``)
bleu           sacrebleu sentence BLEU, effective order (as Fathom's ``bleu`` grader), / 100
gleu           ``nltk.translate.gleu_score.sentence_gleu`` on whitespace tokens (``pip install nltk``)
meteor         ``nltk.translate.meteor_score`` on whitespace tokens (``pip install nltk`` and the
               ``wordnet`` corpus: ``python -m nltk.downloader wordnet``)
rouge_1..5     n-gram overlap F1; rouge_l: longest-common-subsequence F1
cosine         cosine similarity of two embeddings from the ``embedder`` you pass (OpenAI used
               text-embedding-3-large, which cannot run here)
=============  =====================================================================================

OpenAI does not publish its exact implementations, so scores can differ from theirs in the last
digits (tokenisation, smoothing). A metric whose library or data is missing is a
:class:`~fathom.errors.ConfigError` when the grader is built, naming what to install.

Why ROUGE is hand-written: it is n-gram counting (a few lines), and the reference package
(``rouge-score``) pulls in nltk and absl for it; this follows rouge-score's ``RougeScorer`` without
stemming: lower-cased ``[a-z0-9]+`` tokens, F-measure, 0 when either side has no n-grams.
Not covered: stemming, ROUGE-Lsum, multiple references.
"""

from __future__ import annotations

import importlib.util
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from fathom.graders._text import _lcs_length

__all__ = ["METRICS", "Embedder", "load_embedder", "similarity_metric"]

METRICS = ("bleu", "cosine", "fuzzy_match", "gleu", "meteor", "rouge_1", "rouge_2", "rouge_3", "rouge_4",
           "rouge_5", "rouge_l")
Metric = Callable[[str, str], float]
Embedder = Callable[[Sequence[str]], Sequence[Sequence[float]]]
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _tokens(text: str) -> list[str]:
    return _NON_ALNUM.sub(" ", text.lower()).split()


def _f_measure(overlap: int, predicted: int, wanted: int) -> float:
    precision, recall = overlap / max(predicted, 1), overlap / max(wanted, 1)
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def rouge_n(output: str, reference: str, n: int) -> float:
    """ROUGE-N F-measure.

    >>> round(rouge_n("the cat sat", "the cat lay", 1), 4), rouge_n("the cat sat", "the cat lay", 2)
    (0.6667, 0.5)
    """
    def grams(tokens: list[str]) -> Counter[tuple[str, ...]]:
        return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
    got, want = grams(_tokens(output)), grams(_tokens(reference))
    return _f_measure(sum((got & want).values()), sum(got.values()), sum(want.values()))


def rouge_l(output: str, reference: str) -> float:
    """ROUGE-L F-measure (longest common subsequence of tokens).

    >>> rouge_l("the cat sat on the mat", "the cat on the mat")
    0.9090909090909091
    """
    got, want = _tokens(output), _tokens(reference)
    return _f_measure(_lcs_length(got, want), len(got), len(want))


def _optional(module: str) -> Any:
    """An optional library, imported when a metric runs (its absence is reported at build time)."""
    return importlib.import_module(module)


@lru_cache(maxsize=1)
def _sacrebleu() -> Any:
    from sacrebleu.metrics.bleu import BLEU

    return BLEU(effective_order=True)


def _bleu(output: str, reference: str) -> float:
    return min(1.0, max(0.0, float(_sacrebleu().sentence_score(output, [reference]).score) / 100.0))


def _fuzzy(output: str, reference: str) -> float:
    return float(_optional("rapidfuzz.fuzz").ratio(output, reference)) / 100.0


def _gleu(output: str, reference: str) -> float:
    return float(_optional("nltk.translate.gleu_score").sentence_gleu([reference.split()], output.split()))


def _meteor(output: str, reference: str) -> float:
    return float(_optional("nltk.translate.meteor_score").meteor_score([reference.split()], output.split()))


def _cosine(embedder: Embedder) -> Metric:
    def cosine(output: str, reference: str) -> float:
        a, b = embedder([output, reference])
        dot = sum(x * y for x, y in zip(a, b, strict=True))
        norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
        return min(1.0, max(0.0, dot / norm)) if norm else 0.0
    return cosine


def _missing(metric: str) -> str:
    """Why ``metric`` cannot run here ('' when it can)."""
    needs = {"fuzzy_match": "rapidfuzz", "gleu": "nltk", "meteor": "nltk"}.get(metric)
    if needs and importlib.util.find_spec(needs) is None:
        return (f"evaluation_metric {metric!r} needs the {needs} package, which is not installed. Install it "
                f"with: pip install {needs}  (or pip install 'fathom[openai-graders]')")
    if metric == "meteor":
        nltk = _optional("nltk")
        try:
            nltk.data.find("corpora/wordnet")
        except LookupError:
            try:
                nltk.data.find("corpora/wordnet.zip")
            except LookupError:
                return ("evaluation_metric 'meteor' needs nltk's wordnet corpus, which is not downloaded. "
                        "Download it once with: python -m nltk.downloader wordnet")
    return ""


def similarity_metric(metric: str, embedder: Embedder | None) -> tuple[Metric | None, str]:
    """The function for ``metric``, or ``(None, why it cannot run)``.

    >>> fn, _ = similarity_metric("rouge_2", None); fn("gale force eight", "gale force nine")
    0.5
    >>> similarity_metric("cosine", None)[1][:58]
    "evaluation_metric 'cosine' needs embeddings: give the grad"
    """
    if metric == "cosine":
        if embedder is None:
            return None, ("evaluation_metric 'cosine' needs embeddings: give the grader an `embedder` (a function "
                          "from a list of texts to a list of vectors, or a sentence-transformers model name), "
                          "or choose another metric")
        return _cosine(embedder), ""
    why = _missing(metric)
    if why:
        return None, why
    if metric.startswith("rouge_") and metric[-1] in "12345":
        n = int(metric[-1])
        return (lambda a, b: rouge_n(a, b, n)), ""
    table: dict[str, Metric] = {"bleu": _bleu, "fuzzy_match": _fuzzy, "gleu": _gleu, "meteor": _meteor,
                                "rouge_l": rouge_l}
    return table[metric], ""


def load_embedder(spec: str | Embedder | None) -> Embedder | None:
    """An embedder from a callable, or from a sentence-transformers model name (loaded on first use).

    Raises:
        MissingDependencyError: a model name was given but sentence-transformers is not installed.
    """
    if spec is None or callable(spec):
        return spec
    from fathom.errors import MissingDependencyError

    if importlib.util.find_spec("sentence_transformers") is None:
        raise MissingDependencyError("sentence-transformers (for embedder=" + repr(spec) + ")",
                                     "pip install sentence-transformers")
    holder: list[Any] = []

    def embed(texts: Sequence[str]) -> Sequence[Sequence[float]]:
        if not holder:
            holder.append(_optional("sentence_transformers").SentenceTransformer(spec))
        vectors: Sequence[Sequence[float]] = holder[0].encode(list(texts)).tolist()
        return vectors
    return embed

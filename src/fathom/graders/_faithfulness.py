"""The ``faithfulness`` grader: how much of an answer its sources support, lexically and offline.

Covers: answers checked against ``example["sources"]`` (a list of strings; ``reference["sources"]``
is read when the top-level key is absent), sentence by sentence: the share of a sentence's content
words (lower-cased, stopwords dropped, crudely stemmed) found in its best-matching source passage (a
source sentence, or two adjacent ones), with numbers matched exactly and a sentence that cites a
number no source contains counted as unsupported. The guardrails' grounding check uses it by default.
Not covered: paraphrase and entailment (a model judge does that: ``llm_judge``), relevance of the
answer to the question, sources in other languages than the answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, ClassVar

from fathom.errors import GraderError
from fathom.graders._common import check_choice, ref_field
from fathom.graders._protocol import Grade, completion_text

__all__ = ["content_tokens", "faithfulness"]

_TOKEN = re.compile(r"\d+(?:[.,:/]\d+)*|[^\W\d_]+")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?;])\s+|\n+")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_SUFFIXES = ((("ies", "y"), ("sses", "ss"), ("es", ""), ("s", "")), (("ing", ""), ("ed", ""), ("ly", "")))
_STOPWORD_TEXT = """
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have having
he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
nor not now of off on once only or other our ours ourselves out over own same she should so some such than
that the their theirs them themselves then there these they this those through to too under until up very
was we were what when where which while who whom why will with would you your yours yourself yourselves
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
"""English function words, dropped before comparing (they carry no facts)."""


def _stem(word: str) -> str:
    """Strip one plural ending, then one of -ing/-ed/-ly, then a final -e (keeping 3 letters)."""
    for suffixes in _SUFFIXES:
        for suffix, replacement in suffixes:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not (suffix == "s" and word.endswith("ss")):
                word = word[: -len(suffix)] + replacement
                break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def content_tokens(text: str) -> set[str]:
    """Content words (lower-cased, stopwords dropped, stemmed) and numbers (thousands commas removed).

    >>> sorted(content_tokens("The gales were issued at 0600, then 1,200 warnings."))
    ['0600', '1200', 'gal', 'issu', 'warn']
    """
    tokens = set()
    for token in _TOKEN.findall(_THOUSANDS.sub("", text)):
        if token[0].isdigit():
            tokens.add(token)
        elif (word := token.casefold()) not in STOPWORDS:
            tokens.add(_stem(word))
    return tokens


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_BREAK.split(text) if s.strip()]


def _sources(example: Mapping[str, Any]) -> list[str]:
    sources = example.get("sources")
    if sources is None:
        sources = ref_field(example, "sources")
    if isinstance(sources, str):
        sources = [sources]
    if not isinstance(sources, Sequence) or not sources or not all(isinstance(s, str) for s in sources):
        raise GraderError(f"faithfulness: example['sources'] must be a non-empty list of strings, got "
                          f"{type(sources).__name__}. Pass the retrieved passages the answer should rest on.")
    return list(sources)


def _passages(sources: list[str]) -> list[set[str]]:
    """Token sets of every source sentence and every pair of adjacent sentences of one source."""
    passages = []
    for source in sources:
        sentences = [content_tokens(s) for s in _sentences(source)]
        passages += sentences + [a | b for a, b in pairwise(sentences)]
    return [p for p in passages if p]


def _short(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


@dataclass(frozen=True)
class _Faithfulness:
    name: ClassVar[str] = "faithfulness"
    aggregate: str

    def __call__(self, example: dict[str, Any], completion: dict[str, Any] | str) -> Grade:
        passages = _passages(_sources(example))
        numbers = {token for passage in passages for token in passage if token[0].isdigit()}
        scored = []
        for sentence in _sentences(completion_text(completion)):
            tokens = content_tokens(sentence)
            if not tokens:
                continue
            if any(token[0].isdigit() and token not in numbers for token in tokens):
                support = 0.0
            else:
                support = max((len(tokens & passage) / len(tokens) for passage in passages), default=0.0)
            scored.append((support, sentence))
        if not scored:
            return Grade(0.0, {"faithfulness": 0.0}, {}, "the answer has no content words to check")
        supports = [support for support, _ in scored]
        score = min(supports) if self.aggregate == "min" else sum(supports) / len(supports)
        worst_support, worst = min(scored, key=lambda pair: pair[0])
        reason = (f"{self.aggregate} support {score:.2f} over {len(scored)} sentence(s); least supported "
                  f"({worst_support:.2f}): {_short(worst)}")
        return Grade(score, {"faithfulness": score}, {}, reason)


def faithfulness(*, aggregate: str = "mean") -> _Faithfulness:
    """Faithfulness to sources: per answer sentence, the share of its content words found in the
    best-matching source passage, aggregated over sentences; a number the sources lack makes its
    sentence unsupported.

    Why: an answer built from retrieved passages should say what they say; invented facts and wrong
    figures bring words and numbers the sources lack. Lexical support is cheap, offline and
    deterministic, so it can gate every answer (the guardrails' grounding check) and serve as a
    reward; paraphrases score lower than they deserve, so pick the threshold on labelled answers.

    Args:
        aggregate: ``"mean"`` (average support of the sentences) or ``"min"`` (the weakest sentence:
            one unsupported claim fails the whole answer).

    Returns:
        A grader with component ``faithfulness``; the reason names the least-supported sentence.

    Raises:
        ConfigError: an unknown ``aggregate``.

    >>> grade = faithfulness()
    >>> sources = ["Dogger: gale warning issued at 0600. Wind southwest 7 to severe gale 9."]
    >>> grade({"sources": sources}, "A gale warning was issued at 0600.").score
    1.0
    >>> grade({"sources": sources}, "Fog is expected at 1800.").score
    0.0
    """
    check_choice("faithfulness", "aggregate", aggregate, ["mean", "min"])
    return _Faithfulness(aggregate)

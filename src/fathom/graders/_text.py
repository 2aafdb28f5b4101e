"""Graders that compare completion text with reference text: ``exact``, ``regex``, ``rouge_l``,
``chrf`` and ``bleu``.

Each factory takes keyword parameters (what a recipe writes under ``grader:``) and returns a grader.
The reference is ``reference["text"]`` (a string, or a list of acceptable strings: the best match
counts) or, when absent, the example's last assistant message.
Not covered: structured outputs (``json_schema``), tool calls (``tool_call``), model judges.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

from fathom.errors import ConfigError, GraderError
from fathom.graders._common import check_choice, ref_field, reference_texts
from fathom.graders._protocol import Grade, completion_text

__all__ = ["bleu", "chrf", "exact", "regex", "rouge_l"]

_WORD = re.compile(r"\w+")


def _short(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


@dataclass(frozen=True)
class _Exact:
    name: ClassVar[str] = "exact"
    ignore_case: bool
    collapse_whitespace: bool
    ignore_punctuation: bool
    strip: bool

    def normalise(self, text: str) -> str:
        if self.ignore_punctuation:
            text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("P"))
        if self.collapse_whitespace:
            text = " ".join(text.split()) if self.strip else re.sub(r"\s+", " ", text)
        if self.strip:
            text = text.strip()
        if self.ignore_case:
            text = text.casefold()
        return text

    def __call__(self, example: dict[str, Any], completion: dict[str, Any] | str) -> Grade:
        got = self.normalise(completion_text(completion))
        refs = reference_texts(example, "exact")
        hit = any(got == self.normalise(ref) for ref in refs)
        reason = "matches the reference" if hit else f"{_short(got)} matches none of {len(refs)} reference(s)"
        return Grade(1.0 if hit else 0.0, {"exact": float(hit)}, {}, reason)


def exact(*, ignore_case: bool = True, collapse_whitespace: bool = True, ignore_punctuation: bool = False,
          strip: bool = True) -> _Exact:
    """Exact match after normalisation: 1 when the completion equals a reference, else 0.

    Why: short answers (a label, a number, a sea-area name) are right or wrong; normalising case and
    spacing keeps formatting noise from counting as an error.

    Args:
        ignore_case: compare case-folded text.
        collapse_whitespace: treat any run of whitespace as one space.
        ignore_punctuation: drop Unicode punctuation before comparing.
        strip: ignore leading and trailing whitespace.

    Returns:
        A grader with component ``exact``.

    >>> grade = exact()
    >>> grade({"reference": {"text": "Dogger Bank"}}, "  dogger   bank ").score
    1.0
    >>> grade({"reference": {"text": "Dogger"}}, "Fisher").score
    0.0
    >>> exact(ignore_punctuation=True)({"reference": {"text": "yes"}}, "Yes.").score
    1.0
    """
    return _Exact(ignore_case, collapse_whitespace, ignore_punctuation, strip)


@dataclass(frozen=True)
class _Regex:
    name: ClassVar[str] = "regex"
    pattern: str | None
    mode: str
    ignore_case: bool

    def _compiled(self, example: dict[str, Any]) -> re.Pattern[str]:
        pattern = self.pattern if self.pattern is not None else ref_field(example, "pattern")
        if not isinstance(pattern, str):
            raise GraderError("regex: no pattern. Give the grader a `pattern` parameter or the example a "
                              "reference.pattern string.")
        try:
            return re.compile(pattern, re.IGNORECASE if self.ignore_case else 0)
        except re.error as exc:
            raise GraderError(f"regex: reference.pattern {pattern!r} does not compile ({exc}).") from exc

    def __call__(self, example: dict[str, Any], completion: dict[str, Any] | str) -> Grade:
        compiled = self._compiled(example)
        text = completion_text(completion)
        found = compiled.fullmatch(text.strip()) if self.mode == "full" else compiled.search(text)
        verb = "matches" if self.mode == "full" else "is found in"
        reason = f"/{compiled.pattern}/ {verb} the completion" if found else \
            f"/{compiled.pattern}/ not {'matched by' if self.mode == 'full' else 'found in'} {_short(text)}"
        return Grade(1.0 if found else 0.0, {"regex": float(bool(found))}, {}, reason)


def regex(*, pattern: str | None = None, mode: str = "search", ignore_case: bool = False) -> _Regex:
    """Regular-expression check: 1 when the pattern is found in (``search``) or matches the whole of
    (``full``, surrounding whitespace ignored) the completion, else 0.

    Why: format rules ("ends with an answer line", "a date in ISO form") are cheap, exact gates.

    Args:
        pattern: the regular expression; when None, each example gives ``reference["pattern"]``.
        mode: ``"search"`` (anywhere) or ``"full"`` (the whole completion).
        ignore_case: match case-insensitively.

    Returns:
        A grader with component ``regex``.

    Raises:
        ConfigError: an invalid mode or a pattern that does not compile.

    >>> grade = regex(pattern=r"\\d{4}-\\d{2}-\\d{2}", mode="full")
    >>> grade({}, "2024-01-31\\n").score
    1.0
    >>> grade({}, "on 2024-01-31").score
    0.0
    """
    check_choice("regex", "mode", mode, ["full", "search"])
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError([f"grader 'regex': pattern {pattern!r} does not compile ({exc})."]) from exc
    return _Regex(pattern, mode, ignore_case)


def _lcs_length(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence (O(len(a)·len(b)) time, O(len(b)) memory)."""
    if not a or not b:
        return 0
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, 1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l_score(prediction: str, reference: str, *, beta: float = 1.0) -> float:
    """ROUGE-L F-measure over lower-cased word tokens (Lin 2004): LCS-based precision and recall.

    >>> round(rouge_l_score("the cat sat on the mat", "the cat lay on the mat"), 4)
    0.8333
    """
    pred, ref = _WORD.findall(prediction.lower()), _WORD.findall(reference.lower())
    if not pred and not ref:
        return 1.0
    lcs = _lcs_length(pred, ref)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(pred), lcs / len(ref)
    return (1 + beta**2) * precision * recall / (recall + beta**2 * precision)


@dataclass(frozen=True)
class _RougeL:
    name: ClassVar[str] = "rouge_l"
    beta: float

    def __call__(self, example: dict[str, Any], completion: dict[str, Any] | str) -> Grade:
        text = completion_text(completion)
        score = max(rouge_l_score(text, ref, beta=self.beta) for ref in reference_texts(example, "rouge_l"))
        return Grade(score, {"rouge_l": score}, {}, f"ROUGE-L F = {score:.3f}")


def rouge_l(*, beta: float = 1.0) -> _RougeL:
    """ROUGE-L: longest-common-subsequence overlap of words with the reference, in [0, 1].

    Why: rewards getting the reference's content in its order without demanding the exact wording;
    a standard summary metric (the best of several references counts).

    Args:
        beta: recall weight in the F-measure (1 = F1; larger favours recall).

    Returns:
        A grader with component ``rouge_l``.

    >>> grade = rouge_l()
    >>> grade({"reference": {"text": "gale force 8 later"}}, "Gale force 8 later.").score
    1.0
    >>> grade({"reference": {"text": "gale force 8 later"}}, "fair").score
    0.0
    """
    if beta <= 0:
        raise ConfigError([f"grader 'rouge_l': beta must be > 0, got {beta!r}."])
    return _RougeL(float(beta))


@dataclass(frozen=True)
class _Sacre:
    metric: str
    options: tuple[tuple[str, Any], ...]

    @property
    def name(self) -> str:
        return self.metric

    @cached_property
    def scorer(self) -> Any:
        from sacrebleu.metrics.bleu import BLEU
        from sacrebleu.metrics.chrf import CHRF

        options = dict(self.options)
        return BLEU(effective_order=True, **options) if self.metric == "bleu" else CHRF(**options)

    def __call__(self, example: dict[str, Any], completion: dict[str, Any] | str) -> Grade:
        refs = reference_texts(example, self.metric)
        score = self.scorer.sentence_score(completion_text(completion), refs).score / 100.0
        score = min(1.0, max(0.0, score))
        return Grade(score, {self.metric: score}, {}, f"{self.metric} = {score:.3f} (sacrebleu)")


def chrf(*, char_order: int = 6, word_order: int = 0, beta: int = 2, lowercase: bool = False) -> _Sacre:
    """chrF (sacrebleu): character n-gram F-score against the reference(s), scaled to [0, 1].

    Why: robust to inflection and small spelling differences, so a near-miss wording still earns
    most of the credit; ``word_order=2`` gives chrF++.

    Args:
        char_order: longest character n-gram.
        word_order: longest word n-gram (0 = chrF, 2 = chrF++).
        beta: recall weight.
        lowercase: compare lower-cased text.

    Returns:
        A grader with component ``chrf``.

    >>> grade = chrf()
    >>> grade({"reference": {"text": "Southwest veering west"}}, "Southwest veering west").score
    1.0
    >>> grade({"reference": {"text": "Southwest veering west"}}, "Easterly").score < 0.2
    True
    """
    if char_order < 1 or word_order < 0 or beta < 1:
        raise ConfigError([f"grader 'chrf': need char_order >= 1, word_order >= 0 and beta >= 1; got "
                           f"{char_order}, {word_order}, {beta}."])
    return _Sacre("chrf", (("char_order", char_order), ("word_order", word_order), ("beta", beta),
                           ("lowercase", lowercase)))


def bleu(*, tokenize: str = "13a", smooth_method: str = "exp", lowercase: bool = False) -> _Sacre:
    """Sentence BLEU (sacrebleu, effective n-gram order, smoothed), scaled to [0, 1].

    Why: the classic n-gram precision metric, kept for comparison with published numbers; prefer
    chrF or ROUGE-L for single sentences, where BLEU is noisy.

    Args:
        tokenize: sacrebleu tokenizer (``13a``, ``intl``, ``char``, ``none``, ...).
        smooth_method: ``exp``, ``floor``, ``add-k`` or ``none``.
        lowercase: compare lower-cased text.

    Returns:
        A grader with component ``bleu``.

    >>> grade = bleu()
    >>> grade({"reference": {"text": "rain later, good occasionally poor"}},
    ...       "rain later, good occasionally poor").score
    1.0
    >>> grade({"reference": {"text": "rain later, good occasionally poor"}}, "fog").score
    0.0
    """
    check_choice("bleu", "smooth_method", smooth_method, ["add-k", "exp", "floor", "none"])
    check_choice("bleu", "tokenize", tokenize, ["13a", "char", "intl", "none", "zh", "ja-mecab", "ko-mecab",
                                                 "spm", "flores101", "flores200"])
    return _Sacre("bleu", (("tokenize", tokenize), ("smooth_method", smooth_method), ("lowercase", lowercase)))

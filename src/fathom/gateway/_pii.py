"""PII recognisers for the guardrails: regular expressions plus checksums, standard library only.

Covers (Amazon Bedrock Guardrails type names):

* ``CREDIT_DEBIT_CARD_NUMBER``: 13-19 digits, single spaces or dashes between them; the Luhn
  check must pass.
* ``IBAN``: a country code from the ISO 13616 registry, two check digits and exactly that
  country's length of letters and digits (single spaces allowed, upper case); mod 97 must be 1.
* ``EMAIL``: ``local@domain.tld``.
* ``PHONE``: international ``+CC`` numbers (8-15 digits, E.164), UK national numbers (``0`` then
  9 or 10 digits) and US numbers written with separators (``(415) 555-2671``, ``415-555-2671``).
  Bare digit runs, 4-digit numbers and dates do not match, and no number is matched inside a longer
  run of digits.
* ``IP_ADDRESS``: IPv4 (octets 0-255, no leading zeros) and IPv6 (validated by :mod:`ipaddress`).
* ``UK_NATIONAL_INSURANCE_NUMBER``: HMRC format ``AB 12 34 56 C`` without the prefixes HMRC never
  issues (first letter D F I Q U V, second letter D F I O Q U V, and BG GB KN NK NT TN ZZ).

Digits of the right shape that fail their checksum (Luhn, mod 97) are not matched. Every built-in
match is at most :data:`MAX_MATCH_CHARS` characters long except e-mail addresses and IPv6
addresses, which contain no spaces (the stream hold-back relies on both facts).

Why written by hand rather than Presidio: Presidio's analyzer needs spaCy installed and, unless it is
configured with the no-op NLP engine, downloads a spaCy model on first use; Fathom's gateway must run
offline on a small CPU with nothing extra installed. When ``presidio-analyzer`` is installed, a
policy may add it as an extra source (``presidio: true``): :class:`PresidioSource` runs its pattern
and checksum recognisers through the ``no_op`` NLP engine (no model, no download) and maps its
entity names onto the Bedrock ones.
Not covered: names, addresses and other types that need a language model (NER); other countries'
national numbers; card numbers written without a separator pattern we recognise.
"""

from __future__ import annotations

import importlib
import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from fathom.errors import MissingDependencyError

__all__ = [
    "MAX_MATCH_CHARS",
    "PII_TYPES",
    "PRESIDIO_ENTITIES",
    "PRESIDIO_ONLY_TYPES",
    "PresidioSource",
    "Span",
    "find_pii",
    "iban_ok",
    "luhn_ok",
    "resolve_overlaps",
]

MAX_MATCH_CHARS = 60
"""Longest built-in match that may contain spaces: the longest registered IBAN (32 characters) with
a space before every character after the check digits. Cards reach 37, phone numbers 42."""


@dataclass(frozen=True)
class Span:
    """Where a recogniser matched: ``text[start:end]`` is of ``type`` (the text itself is not kept)."""

    start: int
    end: int
    type: str
    guard: str = "pii"
    """Which guard found it: ``pii``, ``regex`` or ``word``."""


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check used by card numbers.

    >>> luhn_ok("4111111111111111"), luhn_ok("4111111111111112")
    (True, False)
    """
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(iban: str) -> bool:
    """ISO 13616 check: move the first four characters to the end, letters to 10-35, mod 97 == 1.

    >>> iban_ok("GB82 WEST 1234 5698 7654 32"), iban_ok("GB82 WEST 1234 5698 7654 33")
    (True, False)
    """
    compact = iban.replace(" ", "").upper()
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


# ISO 13616 registry: country -> IBAN length (letters and digits, no spaces).
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
    "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}


def _iban_pattern() -> str:
    by_length: dict[int, list[str]] = {}
    for country, length in sorted(_IBAN_LENGTHS.items()):
        by_length.setdefault(length, []).append(country)
    branches = [f"(?:{'|'.join(codes)})\\d{{2}}(?: ?[A-Z0-9]){{{length - 4}}}"
                for length, codes in sorted(by_length.items(), reverse=True)]
    return f"(?<![A-Za-z0-9])(?:{'|'.join(branches)})(?![A-Za-z0-9])"


_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_NOT_AFTER_DIGITS = r"(?<![\d+])(?<!\d[ .-])"  # not inside a longer run of (separated) digits
_NOT_BEFORE_DIGITS = r"(?![ .-]?\d)"

_PATTERNS: dict[str, re.Pattern[str]] = {
    "CREDIT_DEBIT_CARD_NUMBER": re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-]?\d)"),
    "IBAN": re.compile(_iban_pattern()),
    "EMAIL": re.compile(r"(?<![\w.+%-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}"
                        r"(?![\w-])"),
    "PHONE": re.compile(
        _NOT_AFTER_DIGITS + "(?:"
        r"\+[1-9]\d{0,2}(?:[ .-]?\(0\))?(?:[ .-]?\(\d{1,5}\))?(?:[ .-]?\d){6,13}"  # +44 (0)20 7946 0958
        r"|(?:\(0\d{2,4}\)|0\d{2,4})[ -]?\d{3,4}[ -]?\d{3,4}"  # 020 7946 0958, (01632) 960 123
        r"|(?:1[ .-]?)?(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[ .-])[2-9]\d{2}[ .-]\d{4}"  # (415) 555-2671
        ")" + _NOT_BEFORE_DIGITS),
    "IP_ADDRESS": re.compile(rf"(?<![\w.:])(?:{_OCTET}\.){{3}}{_OCTET}(?!\.?\d|[\w:])"
                             r"|(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?"
                             r"(?![\w:])"),
    "UK_NATIONAL_INSURANCE_NUMBER": re.compile(
        r"(?<![A-Za-z0-9])([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]) ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])",
        re.IGNORECASE),
}
_NI_NEVER_ISSUED = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _phone_ok(match: re.Match[str]) -> bool:
    text = match.group()
    if text.startswith("+"):
        return 8 <= len(_digits(text.replace("(0)", ""))) <= 15
    if text.lstrip("(").startswith("0"):
        digits = _digits(text)
        return len(digits) in (10, 11) and digits[1] != "0"
    return True


def _ipv6_ok(text: str) -> bool:
    if "." not in text and not any(ch in "0123456789abcdefABCDEF" for ch in text):
        return False
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


_VALID: dict[str, Callable[[re.Match[str]], bool]] = {
    "CREDIT_DEBIT_CARD_NUMBER": lambda m: luhn_ok(_digits(m.group())),
    "IBAN": lambda m: iban_ok(m.group()),
    "PHONE": _phone_ok,
    "IP_ADDRESS": lambda m: ":" not in m.group() or _ipv6_ok(m.group()),
    "UK_NATIONAL_INSURANCE_NUMBER": lambda m: m.group(1).upper() not in _NI_NEVER_ISSUED,
}

PII_TYPES: tuple[str, ...] = tuple(sorted(_PATTERNS))
"""The PII types recognised without Presidio."""

PRESIDIO_ENTITIES: dict[str, str] = {
    "CREDIT_CARD": "CREDIT_DEBIT_CARD_NUMBER",
    "IBAN_CODE": "IBAN",
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "IP_ADDRESS": "IP_ADDRESS",
    "UK_NINO": "UK_NATIONAL_INSURANCE_NUMBER",
    "URL": "URL",
    "US_SSN": "US_SOCIAL_SECURITY_NUMBER",
    "US_ITIN": "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER",
    "US_PASSPORT": "US_PASSPORT_NUMBER",
    "US_BANK_NUMBER": "US_BANK_ACCOUNT_NUMBER",
    "UK_NHS": "UK_NATIONAL_HEALTH_SERVICE_NUMBER",
    "CRYPTO": "CRYPTO_WALLET",
}
"""Presidio entity name -> the Bedrock-style type it is reported as."""

PRESIDIO_ONLY_TYPES: tuple[str, ...] = tuple(sorted(set(PRESIDIO_ENTITIES.values()) - set(PII_TYPES)))
"""Types a policy may name only with ``presidio: true``."""


def find_pii(text: str, types: Iterable[str]) -> list[Span]:
    """Every match of the built-in recognisers for ``types`` (overlaps not yet resolved).

    >>> [(s.type, s.start) for s in find_pii("card 4111 1111 1111 1111, not 4111 1111 1111 1112", PII_TYPES)]
    [('CREDIT_DEBIT_CARD_NUMBER', 5)]
    """
    spans = []
    for kind in types:
        pattern, valid = _PATTERNS.get(kind), _VALID.get(kind)
        if pattern is None:
            continue
        spans += [Span(m.start(), m.end(), kind) for m in pattern.finditer(text) if valid is None or valid(m)]
    return spans


def resolve_overlaps(spans: Iterable[Span]) -> list[Span]:
    """Keep non-overlapping spans, left to right; at the same start the longer one wins.

    >>> [(s.start, s.end) for s in resolve_overlaps([Span(0, 4, "A"), Span(2, 9, "B"), Span(0, 6, "C")])]
    [(0, 6)]
    """
    kept: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -(s.end - s.start))):
        if not kept or span.start >= kept[-1].end:
            kept.append(span)
    return kept


class PresidioSource:
    """Presidio's pattern and checksum recognisers as an extra source of PII spans.

    Built with the ``no_op`` NLP engine: no spaCy model is loaded or downloaded, so NER entities
    (PERSON, LOCATION, ORG) are never reported. Tests and callers may pass a ready ``analyzer`` (any
    object with Presidio's ``analyze(text=, entities=, language=)`` returning results with
    ``entity_type``, ``start``, ``end`` and ``score``).
    """

    def __init__(self, analyzer: Any = None, *, min_score: float = 0.5, language: str = "en"):
        self.analyzer = analyzer if analyzer is not None else _no_op_analyzer(language)
        self.min_score = min_score
        self.language = language

    def find(self, text: str, types: Sequence[str]) -> list[Span]:
        """Spans of ``types`` (Bedrock names) that Presidio finds in ``text``."""
        wanted = {entity: kind for entity, kind in PRESIDIO_ENTITIES.items() if kind in types}
        if not wanted or not text:
            return []
        results = self.analyzer.analyze(text=text, entities=sorted(wanted), language=self.language)
        return [Span(int(r.start), int(r.end), wanted[r.entity_type]) for r in results
                if r.entity_type in wanted and float(r.score) >= self.min_score]


def _no_op_analyzer(language: str) -> Any:
    try:  # imported by name: presidio is an optional extra without type information
        analyzer = importlib.import_module("presidio_analyzer")
        nlp_engine = importlib.import_module("presidio_analyzer.nlp_engine")
    except ImportError as exc:
        raise MissingDependencyError("presidio-analyzer (for `presidio: true` in a guardrail policy)",
                                     "pip install presidio-analyzer") from exc
    config = {"nlp_engine_name": "no_op", "models": [{"lang_code": language, "model_name": "no_op"}]}
    engine = nlp_engine.NlpEngineProvider(nlp_configuration=config).create_engine()
    return analyzer.AnalyzerEngine(nlp_engine=engine, supported_languages=[language])

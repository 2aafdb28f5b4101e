"""Guardrails: checksum-validated PII, regexes and words masked or blocked per policy and direction,
matches split across stream chunks, denied topics, grounding, policy validation, and findings that
never carry the matched text."""

from __future__ import annotations

import dataclasses
import importlib.util
import random
from typing import Any

import pytest

from fathom.errors import ConfigError, MissingDependencyError
from fathom.gateway._guardrails import (
    HOLDBACK_CHARS,
    Guardrail,
    GuardrailPolicy,
    Verdict,
    load_policy,
    topic_similarity,
)
from fathom.gateway._pii import PII_TYPES, find_pii, iban_ok, luhn_ok, resolve_overlaps

CARD = "4111 1111 1111 1111"  # Luhn-valid test card
BAD_CARD = "4111 1111 1111 1112"  # the same digits, last one changed: Luhn fails
IBAN = "GB82 WEST 1234 5698 7654 32"  # the ISO 13616 example, mod 97 == 1
BAD_IBAN = "GB82 WEST 1234 5698 7654 33"
EMAIL = "jo.bloggs+gateway@example.co.uk"
SECRETS = [CARD, IBAN, EMAIL, "+44 20 7946 0958", "TKT-123456", "192.168.10.20", "AB 12 34 56 C"]

TOPIC = {
    "name": "investment_advice",
    "definition": "Recommendations about investing money in stocks, shares, bonds or funds.",
    "examples": ["Which stocks should I buy?", "Is now a good time to invest in index funds?"],
}
POLICY: dict[str, Any] = {
    "name": "test",
    "pii": {"CREDIT_DEBIT_CARD_NUMBER": "mask", "IBAN": "block", "EMAIL": {"input": "mask", "output": "block"},
            "PHONE": "mask", "IP_ADDRESS": "mask", "UK_NATIONAL_INSURANCE_NUMBER": "mask"},
    "regexes": [{"name": "ticket", "pattern": r"TKT-\d{6}", "action": "mask"}],
    "words": {"block": ["kaboom"], "mask": ["darn"]},
    "denied_topics": [TOPIC],
    "grounding": {"threshold": 0.6},
    "messages": {"blocked_input": "Request refused by policy.", "blocked_output": "Answer withheld by policy."},
}


def _guard(policy: dict[str, Any] | None = None) -> tuple[Guardrail, list[tuple[str, str]]]:
    actions: list[tuple[str, str]] = []
    guard = Guardrail(GuardrailPolicy.from_dict(policy or POLICY), lambda g, a: actions.append((g, a)))
    return guard, actions


def _user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def _found(text: str) -> list[tuple[str, str]]:
    return [(s.type, text[s.start:s.end]) for s in resolve_overlaps(find_pii(text, PII_TYPES))]


def _assert_no_secret(verdict: Verdict) -> None:
    logged = repr([dataclasses.asdict(f) for f in verdict.findings]) + repr(verdict.assessment())
    for secret in SECRETS:
        assert secret not in logged and secret.replace(" ", "") not in logged


# --- recognisers -------------------------------------------------------------------------------------


def test_checksums() -> None:
    assert luhn_ok(CARD.replace(" ", "")) and not luhn_ok(BAD_CARD.replace(" ", ""))
    assert iban_ok(IBAN) and not iban_ok(BAD_IBAN)


@pytest.mark.parametrize(("text", "expected"), [
    (f"card {CARD} ok", [("CREDIT_DEBIT_CARD_NUMBER", CARD)]),
    ("card 5500-0000-0000-0004.", [("CREDIT_DEBIT_CARD_NUMBER", "5500-0000-0000-0004")]),
    (f"iban {IBAN}, thanks", [("IBAN", IBAN)]),
    ("iban DE89370400440532013000", [("IBAN", "DE89370400440532013000")]),
    (f"write to {EMAIL}.", [("EMAIL", EMAIL)]),
    ("call +44 20 7946 0958 today", [("PHONE", "+44 20 7946 0958")]),
    ("call +1 (415) 555-2671", [("PHONE", "+1 (415) 555-2671")]),
    ("office 020 7946 0958, mobile 07700 900123", [("PHONE", "020 7946 0958"), ("PHONE", "07700 900123")]),
    ("US (415) 555-2671 or 415-555-2671", [("PHONE", "(415) 555-2671"), ("PHONE", "415-555-2671")]),
    ("host 192.168.10.20.", [("IP_ADDRESS", "192.168.10.20")]),
    ("host 2001:db8::8a2e:370:7334 is up", [("IP_ADDRESS", "2001:db8::8a2e:370:7334")]),
    ("NI number AB 12 34 56 C", [("UK_NATIONAL_INSURANCE_NUMBER", "AB 12 34 56 C")]),
    ("NI number ab123456c", [("UK_NATIONAL_INSURANCE_NUMBER", "ab123456c")]),
])
def test_recognisers_find(text: str, expected: list[tuple[str, str]]) -> None:
    assert _found(text) == expected


@pytest.mark.parametrize("text", [
    f"card {BAD_CARD}",  # Luhn fails
    f"iban {BAD_IBAN}",  # mod 97 fails
    "iban XX82 WEST 1234 5698 7654 32",  # no such country
    "digits 41111111111111111111",  # 20 digits: no card inside a longer run
    "pin 1234, year 2024, on 2024-01-31 or 31/01/2024 at 10:30:45",  # 4-digit numbers, dates, times
    "order 12345678 and +1234567",  # bare digits; too few digits after +
    "version 1.2.3 and 999.1.1.1 and 1.2.3.4.5",  # not IPv4
    "std::vector and a:b:c",  # not IPv6
    "NI QQ 12 34 56 C, GB 12 34 56 A, AB 12 34 56 E",  # prefixes never issued; bad suffix
    "mail me at jo.bloggs@ or @example.com",  # not e-mail
])
def test_near_misses_are_left_alone(text: str) -> None:
    assert _found(text) == []


# --- input and output checks -------------------------------------------------------------------------


def test_card_is_masked_and_broken_card_left_alone() -> None:
    guard, actions = _guard()
    messages = _user(f"charge {CARD} not {BAD_CARD}")
    verdict = guard.check_input(messages)
    assert not verdict.blocked and verdict.message is None
    assert verdict.messages == _user(f"charge {{CREDIT_DEBIT_CARD_NUMBER}} not {BAD_CARD}")
    assert messages == _user(f"charge {CARD} not {BAD_CARD}")  # the input is not mutated
    assert [(f.guard, f.type, f.action, f.span) for f in verdict.findings] == [
        ("pii", "CREDIT_DEBIT_CARD_NUMBER", "masked", (7, 7 + len(CARD)))]
    assert actions == [("pii", "masked")]


def test_iban_blocks_and_broken_iban_passes() -> None:
    guard, actions = _guard()
    verdict = guard.check_input(_user(f"pay {IBAN}"))
    assert verdict.blocked and verdict.message == "Request refused by policy."
    assert verdict.messages == _user("pay {IBAN}")
    assert actions == [("pii", "blocked")]
    clean = guard.check_input(_user(f"pay {BAD_IBAN}"))
    assert not clean.blocked and clean.findings == [] and clean.messages == _user(f"pay {BAD_IBAN}")


def test_actions_per_direction() -> None:
    guard, _ = _guard()
    assert guard.check_input(_user(f"mail {EMAIL}")).messages == _user("mail {EMAIL}")
    out = guard.check_output(f"mail {EMAIL}")
    assert out.blocked and out.message == "Answer withheld by policy." and out.text == "mail {EMAIL}"


def test_content_parts_roles_regex_and_words() -> None:
    guard, _ = _guard()
    messages = [
        {"role": "system", "content": "Support bot. Escalate TKT-123456."},
        {"role": "assistant", "content": f"Earlier answer mentioning {CARD}"},  # not scanned
        {"role": "user", "content": [{"type": "text", "text": "Darn, my IP is 192.168.10.20"},
                                     {"type": "image_url", "image_url": {"url": "data:..."}}]},
        {"role": "tool", "content": "NI AB 12 34 56 C; darning socks is fine"},
    ]
    verdict = guard.check_input(messages)
    assert not verdict.blocked
    assert verdict.messages is not None
    assert verdict.messages[0]["content"] == "Support bot. Escalate {ticket}."
    assert verdict.messages[1] == messages[1]
    assert verdict.messages[2]["content"][0]["text"] == "{WORD}, my IP is {IP_ADDRESS}"
    assert verdict.messages[2]["content"][1] == messages[2]["content"][1]
    assert verdict.messages[3]["content"] == "NI {UK_NATIONAL_INSURANCE_NUMBER}; darning socks is fine"
    assert {f.where for f in verdict.findings} == {"messages[0].content", "messages[2].content[0].text",
                                                   "messages[3].content"}
    assert guard.check_input(_user("It went KABOOM.")).blocked


def test_findings_never_contain_the_matched_text() -> None:
    guard, _ = _guard()
    text = " ".join(f"[{s}]" for s in SECRETS)
    for verdict in (guard.check_input(_user(text)), guard.check_output(text.replace(EMAIL, "")),
                    guard.check_output(text, sources=["unrelated"])):
        assert verdict.findings
        _assert_no_secret(verdict)
    stream = guard.stream()
    for i in range(0, len(text), 5):
        stream.feed(text[i:i + 5])
    stream.finish()
    _assert_no_secret(stream.verdict)


# --- streaming ---------------------------------------------------------------------------------------

ANSWER = (f"Your card {CARD} was charged; mail {EMAIL.replace('jo', 'a' * 40)} in future, or call "
          "+44 20 7946 0958. Quote TKT-654321 from host 10.0.0.1, darn it. ") * 3


def _stream(guard: Guardrail, text: str, sizes: list[int]) -> tuple[list[str], Any]:
    stream, released, at = guard.stream(), [], 0
    for size in sizes:
        released.append(stream.feed(text[at:at + size]))
        at += size
    released.append(stream.feed(text[at:]))
    released.append(stream.finish())
    return released, stream


def test_a_card_split_across_two_chunks_is_masked() -> None:
    guard, _ = _guard({"pii": {"CREDIT_DEBIT_CARD_NUMBER": "mask"}})
    text = f"Paid with {CARD}. Thanks!"
    released, stream = _stream(guard, text, [len("Paid with 4111 11")])
    assert "".join(released) == "Paid with {CREDIT_DEBIT_CARD_NUMBER}. Thanks!"
    assert not stream.blocked


@pytest.mark.parametrize("seed", range(6))
def test_released_stream_equals_the_masked_full_text(seed: int) -> None:
    guard, _ = _guard({**POLICY, "pii": {**POLICY["pii"], "EMAIL": "mask"}, "denied_topics": []})
    expected = guard.check_output(ANSWER).text
    assert expected is not None and "{EMAIL}" in expected and "{ticket}" in expected
    rng = random.Random(seed)
    sizes = [1] * 40 if seed == 0 else [rng.randint(1, 2 * HOLDBACK_CHARS) for _ in range(len(ANSWER) // 8)]
    released, stream = _stream(guard, ANSWER, sizes)
    assert "".join(released) == expected
    for secret in [CARD, "1111 1111", "a" * 40, "7946 0958", "654321"]:
        assert all(secret not in piece for piece in released)
    assert not stream.verdict.blocked
    assert [f.type for f in stream.verdict.findings] == [f.type for f in guard.check_output(ANSWER).findings]


def test_an_iban_split_across_chunks_blocks_the_stream() -> None:
    guard, actions = _guard()
    text = f"Send it to {IBAN} today, please. " + "More text follows here. " * 5
    released, stream = _stream(guard, text, [len("Send it to GB82 WE"), 3, 4])
    assert stream.blocked and stream.verdict.message == "Answer withheld by policy."
    assert "GB82" not in "".join(released) and "".join(released) in text
    assert ("pii", "blocked") in actions


def test_a_long_token_is_held_back_whole() -> None:
    guard, _ = _guard({"pii": {"EMAIL": "mask"}})
    address = "x" * 60 + "@mail.a-rather-long-subdomain-name.example-company.co.uk"  # 117 characters
    assert len(address) > HOLDBACK_CHARS
    released, _ = _stream(guard, f"write to {address} soon", [20, 60, 60, 40])
    assert "".join(released) == "write to {EMAIL} soon"
    assert all("xxxx" not in piece and "rather" not in piece for piece in released)


# --- denied topics and grounding ---------------------------------------------------------------------


def test_denied_topic_is_refused_with_the_policy_message() -> None:
    guard, actions = _guard()
    verdict = guard.check_input(_user("Which stocks should I buy this year?"))
    assert verdict.blocked and verdict.message == "Request refused by policy."
    assert [(f.guard, f.type, f.action) for f in verdict.findings] == [("topic", "investment_advice", "blocked")]
    assert actions == [("topic", "blocked")]
    assert not guard.check_input(_user("When does the ferry to Mull leave on Sunday?")).blocked
    out = guard.check_output("You should invest in index funds now: a good time to invest.")
    assert out.blocked and out.message == "Answer withheld by policy."


def test_topic_similarity_separates_on_and_off_topic() -> None:
    refs = [TOPIC["definition"], *TOPIC["examples"]]
    on = ["Which stocks should I buy?", "Should I invest my savings in index funds?", "Are bonds or shares better?"]
    off = ["What is the gale warning for Dogger?", "Book me a table for two.", "How do I reset my password?"]
    assert min(topic_similarity(t, refs) for t in on) > max(topic_similarity(t, refs) for t in off)


def test_a_topic_judged_by_a_grader() -> None:
    policy = {"denied_topics": [{**TOPIC, "grader": {"name": "regex", "pattern": "(?i)crypto"}, "threshold": 1.0}]}
    guard, _ = _guard(policy)
    assert guard.check_input(_user("Tell me about Crypto coins")).blocked
    assert not guard.check_input(_user("Which stocks should I buy?")).blocked  # the grader decides, not words


SOURCES = ["Dogger, Fisher: southwest gale 8 to storm 10, veering west later. Rain, then squally showers.",
           "A gale warning for Dogger was issued at 0600 UTC. Visibility moderate, occasionally poor."]


def test_grounded_and_ungrounded_answers_are_told_apart() -> None:
    guard, actions = _guard()
    grounded = guard.check_output("A gale warning for Dogger was issued at 0600 UTC. Southwest gale 8 to storm 10.",
                                  sources=SOURCES, query="What is the warning for Dogger?")
    assert not grounded.blocked and grounded.grounding is not None
    assert grounded.grounding.score >= 0.6 and not grounded.grounding.detected
    ungrounded = guard.check_output("Dogger expects easterly force 4 from 1800, with fog and snow.", sources=SOURCES)
    assert ungrounded.blocked and ungrounded.message == "Answer withheld by policy."
    assert ungrounded.grounding is not None and ungrounded.grounding.detected
    assert ungrounded.grounding.score < 0.6 and ungrounded.grounding.threshold == 0.6
    assert ungrounded.assessment()["grounding"] == {"type": "GROUNDING", "score": ungrounded.grounding.score,
                                                    "threshold": 0.6, "detected": True, "action": "BLOCKED"}
    assert actions == [("grounding", "blocked")]
    assert guard.check_output("Dogger expects fog.").grounding is None  # no sources, no check


def test_stream_judges_grounding_at_finish_and_withholds_the_tail() -> None:
    guard, _ = _guard()
    stream = guard.stream(sources=SOURCES)
    text = "Dogger expects easterly force 4 from 1800, with thick fog and heavy snow over the whole area by dawn."
    released = [stream.feed(text[i:i + 10]) for i in range(0, len(text), 10)]
    assert stream.finish() == ""
    assert stream.blocked and stream.verdict.grounding is not None and stream.verdict.grounding.detected
    assert stream.verdict.text == "".join(released) and len("".join(released)) < len(text)


# --- policy ------------------------------------------------------------------------------------------


def test_policy_errors_are_all_reported_with_hints() -> None:
    bad = {
        "name": "bad",
        "deniedtopics": [],
        "pii": {"EMAIL_ADRESS": "mask", "PHONE": "redact", "URL": "mask"},
        "regexes": [{"name": "ticket", "pattern": "TKT-(\\d{6}", "action": "mask"},
                    {"name": "empty", "pattern": "x*"}],
        "words": {"blok": ["x"]},
        "denied_topics": [{"name": "t", "definition": "d", "threshold": 1.5, "grader": {"name": "faithfulnes"}}],
        "grounding": {"threshold": -1},
    }
    with pytest.raises(ConfigError) as info:
        GuardrailPolicy.from_dict(bad)
    message = str(info.value)
    assert len(info.value.problems) == 10, message
    assert "deniedtopics: unknown key. Did you mean 'denied_topics'?" in message
    assert "pii.EMAIL_ADRESS: unknown PII type. Did you mean 'EMAIL' (Presidio's EMAIL_ADDRESS)?" in message
    assert "Valid: CREDIT_DEBIT_CARD_NUMBER, EMAIL, IBAN," in message
    assert "pii.PHONE: unknown action 'redact'. Valid: block, mask, none." in message
    assert "pii.URL: only Presidio detects this type: add `presidio: true`" in message
    assert "regexes[0].pattern: regex 'ticket': 'TKT-(\\\\d{6}' does not compile" in message
    assert "regex 'empty': 'x*' matches the empty string" in message
    assert "words.blok: unknown key. Did you mean 'block'?" in message
    assert "denied_topics[0].threshold: a threshold is a number in [0, 1], got 1.5" in message
    assert "unknown grader 'faithfulnes'. Did you mean 'faithfulness'?" in message
    assert "grounding.threshold" in message


def test_load_policy_from_yaml(tmp_path: Any) -> None:
    path = tmp_path / "guardrail.yaml"
    path.write_text("name: default\npii: {CREDIT_DEBIT_CARD_NUMBER: mask}\n"
                    "regexes: [{name: ticket, pattern: 'TKT-\\d{6}', action: {input: mask, output: block}}]\n")
    policy = load_policy(path)
    assert policy.pii["CREDIT_DEBIT_CARD_NUMBER"].output == "mask"
    assert policy.regexes[0].action.input == "mask" and policy.regexes[0].action.output == "block"
    path.write_text("pii: {CREDIT_CARD: mask}\n")
    with pytest.raises(ConfigError, match=r"guardrail\.yaml:pii\.CREDIT_CARD: unknown PII type\. Did you mean "
                                          r"'CREDIT_DEBIT_CARD_NUMBER' \(Presidio's CREDIT_CARD\)\?"):
        load_policy(path)
    with pytest.raises(ConfigError, match="not found"):
        load_policy(tmp_path / "missing.yaml")


# --- presidio as an optional source ------------------------------------------------------------------


class FakeAnalyzer:
    """Stands in for Presidio's AnalyzerEngine: finds 'https://' URLs and records its calls."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def analyze(self, *, text: str, entities: list[str], language: str) -> list[Any]:
        self.calls.append({"entities": entities, "language": language})
        start = text.find("https://")
        if start < 0:
            return []
        end = text.find(" ", start) % (len(text) + 1)
        return [type("Result", (), {"entity_type": "URL", "start": start, "end": end, "score": 0.9})()]


def test_presidio_is_an_optional_extra_source() -> None:
    analyzer = FakeAnalyzer()
    policy = GuardrailPolicy.from_dict({"presidio": True, "pii": {"URL": "mask", "EMAIL": "mask"}})
    guard = Guardrail(policy, presidio_analyzer=analyzer)
    verdict = guard.check_input(_user(f"see https://example.org/x or {EMAIL}"))
    assert verdict.messages == _user("see {URL} or {EMAIL}")
    assert analyzer.calls == [{"entities": ["EMAIL_ADDRESS", "URL"], "language": "en"}]


@pytest.mark.skipif(importlib.util.find_spec("presidio_analyzer") is not None, reason="presidio is installed")
def test_presidio_missing_names_the_install() -> None:
    with pytest.raises(MissingDependencyError, match="pip install presidio-analyzer"):
        Guardrail(GuardrailPolicy.from_dict({"presidio": True, "pii": {"URL": "mask"}}))

"""GCRA and token reservation on the in-memory store: exact counts on a fake clock, headers, concurrency."""

from __future__ import annotations

import math
import threading

import pytest

from fathom.errors import ConfigError
from fathom.gateway._limits import Admission, RateLimiter, _duration, estimate_prompt_tokens
from fathom.gateway._store import MemoryStore


def _admit(limiter: RateLimiter, *, rpm: int | None = 60, tpm: int | None = None, prompt: int = 0,
           max_tokens: int = 0, key: str = "key_a", model: str = "m") -> Admission:
    return limiter.admit(key, model, rpm=rpm, tpm=tpm, prompt_tokens_estimate=prompt, max_tokens=max_tokens)


# ---- requests: GCRA ---------------------------------------------------------------------------------


def test_gcra_admits_exactly_one_a_second_at_60_rpm_burst_1(clock):
    limiter = RateLimiter(MemoryStore(clock), burst=1)
    admitted_at = []
    for step in range(40):  # 10 s in quarter seconds
        if _admit(limiter).allowed:
            admitted_at.append(step * 0.25)
        clock.advance(0.25)
    assert admitted_at == [float(s) for s in range(10)]


def test_gcra_retry_after_says_when_the_next_request_fits(clock):
    limiter = RateLimiter(MemoryStore(clock), burst=1)
    assert _admit(limiter).allowed
    clock.advance(0.25)
    refused = _admit(limiter)
    assert (refused.allowed, refused.limit, refused.status_code) == (False, "requests", 429)
    assert refused.retry_after_s == pytest.approx(0.75)
    assert refused.headers["retry-after"] == "1"  # whole seconds, rounded up
    assert refused.headers["retry-after-ms"] == "750"
    assert refused.headers["x-ratelimit-remaining-requests"] == "0"
    clock.advance(0.75)  # exactly when it said
    assert _admit(limiter).allowed


def test_gcra_burst_then_one_per_period(clock):
    limiter = RateLimiter(MemoryStore(clock), burst=5)
    remaining = [_admit(limiter).headers["x-ratelimit-remaining-requests"] for _ in range(5)]
    assert remaining == ["4", "3", "2", "1", "0"]
    sixth = _admit(limiter)
    assert not sixth.allowed and sixth.retry_after_s == pytest.approx(1.0)
    assert sixth.headers["retry-after"] == "1"
    assert sixth.headers["x-ratelimit-reset-requests"] == "5s"  # five periods until the burst is whole again
    clock.advance(1.0)
    assert _admit(limiter).allowed
    assert not _admit(limiter).allowed


def test_default_burst_is_a_minute_of_requests(clock):
    limiter = RateLimiter(MemoryStore(clock))
    assert sum(_admit(limiter, rpm=30).allowed for _ in range(40)) == 30


def test_gcra_with_a_period_that_is_not_whole_microseconds(clock):
    limiter = RateLimiter(MemoryStore(clock), burst=1)
    admitted = 0
    for _ in range(600):  # 60 s in tenths; T = 60/7 s
        admitted += _admit(limiter, rpm=7).allowed
        clock.advance(0.1)
    assert admitted == 7


def test_limits_are_per_key_and_model(clock):
    per_model = RateLimiter(MemoryStore(clock), burst=1)
    assert _admit(per_model, model="a").allowed and _admit(per_model, model="b").allowed
    assert not _admit(per_model, model="a").allowed
    assert _admit(per_model, key="key_b", model="a").allowed
    per_key = RateLimiter(MemoryStore(clock), burst=1, per_model=False)
    assert _admit(per_key, model="a").allowed
    assert not _admit(per_key, model="b").allowed


# ---- tokens: reservation and reconciliation ---------------------------------------------------------


def test_reserve_then_refund_the_unused_part(clock):
    limiter = RateLimiter(MemoryStore(clock))
    admission = _admit(limiter, rpm=None, tpm=1000, prompt=100, max_tokens=400)
    assert admission.allowed and admission.reserved == 500
    assert admission.headers["x-ratelimit-remaining-tokens"] == "500"
    assert "x-ratelimit-limit-requests" not in admission.headers  # no request limit: no request headers
    settled = limiter.settle(admission, 120)
    assert settled is not None and settled.remaining == 880  # 380 refunded
    assert limiter.settle(admission, 0) is None  # a second settle changes nothing
    assert _admit(limiter, rpm=None, tpm=1000, max_tokens=880).headers["x-ratelimit-remaining-tokens"] == "0"


def test_settle_may_charge_more_and_leave_the_balance_negative(clock):
    limiter = RateLimiter(MemoryStore(clock))
    admission = _admit(limiter, rpm=None, tpm=6000, prompt=500, max_tokens=0)
    settled = limiter.settle(admission, 6700)  # the estimate was 6200 tokens short
    assert settled is not None and settled.remaining == 0
    assert settled.reset_s == pytest.approx(6700 / 100)  # -700 back to 6000 at 100 tokens a second
    refused = _admit(limiter, rpm=None, tpm=6000, max_tokens=100)
    assert (refused.allowed, refused.limit) == (False, "tokens")
    assert refused.retry_after_s == pytest.approx((100 + 700) / 100)  # (amount - balance) / rate
    assert refused.headers["retry-after"] == "8"
    clock.advance(8.0)
    assert _admit(limiter, rpm=None, tpm=6000, max_tokens=100).allowed


def test_token_retry_after_is_the_shortfall_over_the_rate(clock):
    limiter = RateLimiter(MemoryStore(clock))
    assert _admit(limiter, rpm=None, tpm=6000, max_tokens=6000).allowed
    refused = _admit(limiter, rpm=None, tpm=6000, prompt=50, max_tokens=200)
    assert refused.retry_after_s == pytest.approx(2.5)
    assert (refused.headers["retry-after"], refused.headers["x-ratelimit-reset-tokens"]) == ("3", "1m0s")
    assert refused.reserved == 0 and limiter.settle(refused, 10) is None
    clock.advance(2.5)
    assert _admit(limiter, rpm=None, tpm=6000, prompt=50, max_tokens=200).allowed


def test_a_request_larger_than_the_whole_limit_is_a_400_that_takes_nothing(clock):
    limiter = RateLimiter(MemoryStore(clock), burst=2)
    too_large = _admit(limiter, rpm=60, tpm=1000, prompt=200, max_tokens=900)
    assert (too_large.allowed, too_large.too_large, too_large.status_code) == (False, True, 400)
    assert too_large.retry_after_s == math.inf and "retry-after" not in too_large.headers
    assert "1100 tokens" in too_large.detail and "at most 800" in too_large.detail
    fits = _admit(limiter, rpm=60, tpm=1000, prompt=200, max_tokens=800)
    assert fits.allowed
    assert fits.headers["x-ratelimit-remaining-requests"] == "1"  # the 400 took no request slot
    assert fits.headers["x-ratelimit-remaining-tokens"] == "0"


def test_a_refusal_on_tokens_takes_no_request_slot(clock):
    limiter = RateLimiter(MemoryStore(clock))
    assert _admit(limiter, rpm=60, tpm=1000, max_tokens=600).headers["x-ratelimit-remaining-requests"] == "59"
    refused = _admit(limiter, rpm=60, tpm=1000, max_tokens=600)
    assert (refused.allowed, refused.limit) == (False, "tokens")
    assert refused.headers["x-ratelimit-remaining-requests"] == "59"  # still 59: nothing was taken
    assert _admit(limiter, rpm=60, tpm=1000, max_tokens=300).headers["x-ratelimit-remaining-requests"] == "58"


def test_a_refusal_on_requests_takes_no_tokens(clock):
    limiter = RateLimiter(MemoryStore(clock), burst=1)
    assert _admit(limiter, rpm=60, tpm=1000, max_tokens=100).allowed
    refused = _admit(limiter, rpm=60, tpm=1000, max_tokens=100)
    assert (refused.limit, refused.headers["x-ratelimit-remaining-tokens"]) == ("requests", "900")
    clock.advance(1.0)
    later = _admit(limiter, rpm=60, tpm=1000, max_tokens=100)
    assert later.headers["x-ratelimit-remaining-tokens"] == "816"  # 900 + 1000/60 refilled - 100


def test_when_both_refuse_the_longer_wait_is_reported(clock):
    limiter = RateLimiter(MemoryStore(clock), burst=1)
    assert _admit(limiter, rpm=60, tpm=600, max_tokens=600).allowed
    refused = _admit(limiter, rpm=60, tpm=600, max_tokens=300)  # requests: 1 s; tokens: 300/10 = 30 s
    assert refused.limit == "tokens" and refused.retry_after_s == pytest.approx(30.0)


def test_bad_limits_are_reported_together():
    limiter = RateLimiter(MemoryStore())
    with pytest.raises(ConfigError) as info:
        limiter.admit("k", "m", rpm=0, tpm=-5, prompt_tokens_estimate=-1, max_tokens=10)
    assert len(info.value.problems) == 3
    with pytest.raises(ConfigError, match="burst"):
        RateLimiter(MemoryStore(), burst=0)


# ---- concurrency ------------------------------------------------------------------------------------


def test_50_threads_on_a_frozen_clock_get_exactly_the_limit(clock):
    """Tokens bind first (6000 / 150 = 40 < 60 requests): exactly 40 admitted and exactly 40 slots taken."""
    limiter = RateLimiter(MemoryStore(clock))
    results: list[Admission] = []
    lock = threading.Lock()
    start = threading.Barrier(50)

    def work() -> None:
        start.wait()
        for _ in range(3):
            admission = _admit(limiter, rpm=60, tpm=6000, prompt=50, max_tokens=100)
            with lock:
                results.append(admission)

    threads = [threading.Thread(target=work) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(a.allowed for a in results) == 40
    assert {a.limit for a in results if not a.allowed} == {"tokens"}
    probe = _admit(limiter, rpm=60, tpm=6000, max_tokens=1)
    assert probe.headers["x-ratelimit-remaining-requests"] == "20"  # refusals on tokens took no slots


def test_50_threads_on_the_real_clock_never_pass_either_limit(hammer):
    requests = hammer([RateLimiter(MemoryStore())], threads=50, attempts=4, rpm=60, tpm=60_000, prompt=20,
                      max_tokens=80)
    assert 60 <= requests.admitted <= 60 + requests.elapsed_s / 1.0  # burst of 60, then one a second
    tokens = hammer([RateLimiter(MemoryStore())], threads=50, attempts=4, rpm=6000, tpm=6000, prompt=50,
                    max_tokens=100, use=lambda n, i: 150)
    assert tokens.admitted >= 40 and tokens.used <= 6000 + 100 * tokens.elapsed_s
    refunded = hammer([RateLimiter(MemoryStore())], threads=50, attempts=4, rpm=6000, tpm=6000, prompt=50,
                      max_tokens=100, use=lambda n, i: (n * 7 + i * 13) % 151)
    assert refunded.used <= 6000 + 100 * refunded.elapsed_s
    assert refunded.admitted > 40  # refunds made room for more


# ---- headers and estimates --------------------------------------------------------------------------


@pytest.mark.parametrize(("seconds", "text"), [(0.0, "0ms"), (0.25, "250ms"), (1.0, "1s"), (1.5, "1.5s"),
                                               (60.0, "1m0s"), (360.0, "6m0s"), (3723.0, "1h2m3s")])
def test_reset_durations_are_written_like_openai(seconds, text):
    assert _duration(seconds) == text


def test_prompt_estimate_counts_text_names_tool_calls_and_tools():
    assert estimate_prompt_tokens([]) == 3
    assert estimate_prompt_tokens([{"role": "user", "content": "abcd" * 10}]) == 10 + 4 + 3
    assert estimate_prompt_tokens([{"role": "user", "content": "abcde"}]) == 2 + 4 + 3  # rounded up
    parts = [{"role": "user", "content": [{"type": "text", "text": "abcd" * 5}, {"type": "image_url"}]}]
    assert estimate_prompt_tokens(parts) == 5 + 4 + 3
    call = {"role": "assistant", "content": None,
            "tool_calls": [{"function": {"name": "abcd", "arguments": "{\"a\":1}"}}]}
    assert estimate_prompt_tokens([call]) == math.ceil(11 / 4) + 4 + 3
    tools = [{"type": "function", "function": {"name": "f"}}]
    assert estimate_prompt_tokens([], tools) > estimate_prompt_tokens([])

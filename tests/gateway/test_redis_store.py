"""The LimitStore contract, run on MemoryStore and on RedisStore against a real redis-server.

Rates here are slow (1 request or 1 token a second) so that the real clocks move the state by
less than the tolerances while a test runs; the exact fake-clock counts are in test_limits.py.
Redis-only checks: key TTLs, both-or-neither in the one admit script, reloading flushed scripts,
and two gateway processes (two clients with their own connections) sharing one limit.
"""

from __future__ import annotations

import math

import pytest

from fathom.errors import ConfigError
from fathom.gateway._limits import RateLimiter
from fathom.gateway._store import LimitStore, MemoryStore, RedisStore


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> LimitStore:
    if request.param == "memory":
        return MemoryStore()
    return RedisStore(request.getfixturevalue("redis_url"), prefix=request.getfixturevalue("redis_prefix"))


@pytest.fixture
def redis_store(redis_url: str, redis_prefix: str) -> RedisStore:
    return RedisStore(redis_url, prefix=redis_prefix)


# ---- the contract -----------------------------------------------------------------------------------


def test_gcra_burst_then_refuse_with_the_wait(store):
    results = [store.gcra("req", period_s=60.0, burst=3) for _ in range(4)]
    assert [r.allowed for r in results] == [True, True, True, False]
    assert [r.remaining for r in results] == [2, 1, 0, 0]
    assert [r.reset_s for r in results[:3]] == pytest.approx([60, 120, 180], abs=0.5)
    assert results[3].retry_after_s == pytest.approx(60.0, abs=0.5)
    assert store.gcra("other", period_s=60.0, burst=1).allowed  # keys are independent


def test_bucket_reserve_settle_and_negative_balance(store):
    args = {"capacity": 60, "refill_per_s": 1.0}
    first = store.reserve("tok", amount=50, **args)
    assert (first.allowed, first.remaining) == (True, 10)
    assert store.settle("tok", refund=30, **args).remaining == pytest.approx(40, abs=1)
    negative = store.settle("tok", refund=-100, **args)  # charged 100 more than reserved: balance about -60
    assert negative.remaining == 0 and negative.reset_s == pytest.approx(120, abs=1)
    refused = store.reserve("tok", amount=10, **args)
    assert not refused.allowed and refused.retry_after_s == pytest.approx(70, abs=1)
    assert store.settle("tok", refund=1000, **args).remaining == 60  # never above the capacity


def test_bucket_refuses_more_than_its_capacity_forever(store):
    result = store.reserve("tok", amount=61, capacity=60, refill_per_s=1.0)
    assert not result.allowed and result.retry_after_s == math.inf and result.remaining == 60


def test_admit_takes_both_or_neither(store):
    args = {"period_s": 60.0, "burst": 2, "capacity": 100, "refill_per_s": 1.0}
    requests, tokens = store.admit("req", "tok", amount=80, **args)
    assert requests.allowed and tokens.allowed and (requests.remaining, tokens.remaining) == (1, 20)
    requests, tokens = store.admit("req", "tok", amount=80, **args)  # tokens short: the slot stays free
    assert requests.allowed and not tokens.allowed and requests.remaining == 1
    assert tokens.retry_after_s == pytest.approx(60, abs=1)
    requests, tokens = store.admit("req", "tok", amount=10, **args)
    assert requests.allowed and tokens.allowed and (requests.remaining, tokens.remaining) == (0, 10)
    requests, tokens = store.admit("req", "tok", amount=5, **args)  # requests refuse: no tokens taken
    assert not requests.allowed and tokens.allowed and requests.retry_after_s == pytest.approx(60, abs=1)
    assert store.reserve("tok", amount=10, capacity=100, refill_per_s=1.0).allowed


def test_bad_store_arguments_are_config_errors(store):
    with pytest.raises(ConfigError, match="period_s"):
        store.gcra("req", period_s=0, burst=1)
    with pytest.raises(ConfigError, match="burst"):
        store.gcra("req", period_s=1, burst=0)
    with pytest.raises(ConfigError) as info:
        store.reserve("tok", amount=1, capacity=0, refill_per_s=0)
    assert len(info.value.problems) == 2


# ---- Redis only -------------------------------------------------------------------------------------


def test_redis_keys_expire_when_their_state_is_fresh_again(redis_store):
    redis_store.gcra("req", period_s=60.0, burst=3)
    assert 59_000 < redis_store.client.pttl(redis_store.prefix + "req") <= 60_001
    redis_store.reserve("tok", amount=30, capacity=60, refill_per_s=1.0)
    assert 29_000 < redis_store.client.pttl(redis_store.prefix + "tok") <= 30_001


def test_redis_admit_writes_nothing_when_refused(redis_store):
    args = {"period_s": 60.0, "burst": 1, "capacity": 100, "refill_per_s": 1.0}
    requests, tokens = redis_store.admit("req", "tok", amount=101, **args)
    assert requests.allowed and not tokens.allowed
    assert redis_store.client.exists(redis_store.prefix + "req", redis_store.prefix + "tok") == 0


def test_redis_scripts_survive_a_script_flush_and_decoded_clients(redis_url, redis_prefix):
    import redis

    store = RedisStore(client=redis.Redis.from_url(redis_url, decode_responses=True), prefix=redis_prefix)
    assert store.gcra("req", period_s=60.0, burst=2).remaining == 1
    store.client.script_flush()
    assert store.gcra("req", period_s=60.0, burst=2).remaining == 0
    with pytest.raises(ConfigError, match="exactly one"):
        RedisStore(redis_url, client=store.client)


def test_two_gateway_processes_share_one_limit(redis_url, redis_prefix, hammer):
    """Two RedisStores with their own connection pools stand in for two gateway processes."""
    limiters = [RateLimiter(RedisStore(redis_url, prefix=redis_prefix + "a:")) for _ in range(2)]
    result = hammer(limiters, threads=50, attempts=3, rpm=60, tpm=60_000, prompt=20, max_tokens=80)
    assert 60 <= result.admitted <= 60 + result.elapsed_s
    assert result.limits == {"requests"}
    limiters = [RateLimiter(RedisStore(redis_url, prefix=redis_prefix + "b:")) for _ in range(2)]
    result = hammer(limiters, threads=50, attempts=3, rpm=6000, tpm=6000, prompt=50, max_tokens=100,
                    use=lambda n, i: 150)
    assert result.admitted >= 40 and result.used <= 6000 + 100 * result.elapsed_s
    assert result.limits == {"tokens"}
    limiters = [RateLimiter(RedisStore(redis_url, prefix=redis_prefix + "c:")) for _ in range(2)]
    result = hammer(limiters, threads=50, attempts=3, rpm=6000, tpm=6000, prompt=50, max_tokens=100,
                    use=lambda n, i: (n * 7 + i * 13) % 151)
    assert result.used <= 6000 + 100 * result.elapsed_s and result.admitted > 40

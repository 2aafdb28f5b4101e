"""Where rate-limit state lives: one process (:class:`MemoryStore`) or shared through Redis (:class:`RedisStore`).

Covers the atomic operations of :class:`LimitStore`, each a read-decide-write that no other caller
can interleave with:

* :meth:`~LimitStore.gcra`: the Generic Cell Rate Algorithm for requests. With emission interval
  ``T = period_s`` (60/rpm) and burst ``B``, a key stores only its theoretical arrival time TAT. A
  request at ``now`` is allowed iff ``TAT - now <= (B-1)*T``; then ``TAT <- max(TAT, now) + T``.
  Refused: ``retry_after = TAT - now - (B-1)*T``. There is no window edge to burst across.
* :meth:`~LimitStore.reserve` / :meth:`~LimitStore.settle`: a token bucket of ``capacity`` tokens
  refilled at ``refill_per_s``. ``reserve`` debits the whole reservation or nothing (short:
  ``retry_after = (amount - balance) / rate``; more than the capacity: never, ``retry_after`` is
  infinite); ``settle`` adds back ``reserved - actual``, which may be negative, so the balance may go
  below zero and later requests wait for it to refill.
* :meth:`~LimitStore.admit`: both at once, both-or-neither: the request slot is taken only if the
  tokens are there too, so a refusal on tokens costs no request capacity (and no caller ever sees a
  slot that another request held for a moment and gave back).

Times are whole microseconds, so both stores do the same arithmetic: :class:`MemoryStore` on an
injectable monotonic clock, :class:`RedisStore` in one Lua script per operation on the Redis server's
``TIME``, so gateway processes on several machines agree without synchronised clocks. Every key
carries a TTL equal to the time until its state is back to "fresh" (TAT reached, bucket full), so an
expired key and a fresh one are the same thing and idle keys cost nothing.

Not covered: which keys exist and what limits they have (the limiter's and the key store's), the
concurrency semaphore, Redis Cluster slot routing beyond the hash tag the limiter puts in its key
names. Redis 5 or later is needed (scripts that call ``TIME`` before writing).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from fathom.errors import ConfigError, MissingDependencyError

if TYPE_CHECKING:
    import redis

__all__ = ["BucketResult", "GcraResult", "LimitStore", "MemoryStore", "RedisStore"]

_US = 1_000_000  # microseconds a second
_SWEEP_EVERY = 4096  # MemoryStore operations between sweeps of expired keys


@dataclass(frozen=True)
class GcraResult:
    """One GCRA decision."""

    allowed: bool
    """The request fits (with :meth:`LimitStore.admit`, taken only if the tokens fit too)."""
    retry_after_s: float
    """Seconds until it would fit; 0 when allowed."""
    remaining: int
    """Further requests that would fit right now."""
    reset_s: float
    """Seconds until the key is back to a full burst."""


@dataclass(frozen=True)
class BucketResult:
    """One token-bucket decision (or the state after a settle)."""

    allowed: bool
    """The reservation fits (with :meth:`LimitStore.admit`, debited only if the request fits too)."""
    retry_after_s: float
    """Seconds until the reservation would fit; ``math.inf`` when it exceeds the capacity."""
    remaining: int
    """Whole tokens in the bucket (0 when the balance is negative)."""
    reset_s: float
    """Seconds until the bucket is full again."""


class LimitStore(Protocol):
    """Atomic rate-limit operations; see the module docstring for the algorithms.

    A key names one kind of state: use different keys for GCRA and for buckets.
    """

    def gcra(self, key: str, *, period_s: float, burst: int) -> GcraResult:
        """Take one request slot of ``key`` if GCRA allows it."""
        ...

    def reserve(self, key: str, *, amount: int, capacity: int, refill_per_s: float) -> BucketResult:
        """Debit ``amount`` tokens from ``key``'s bucket, all or nothing."""
        ...

    def settle(self, key: str, *, refund: int, capacity: int, refill_per_s: float) -> BucketResult:
        """Add ``refund`` (reserved minus used; negative to charge more) to ``key``'s bucket."""
        ...

    def admit(
        self, request_key: str, token_key: str, *, period_s: float, burst: int, amount: int, capacity: int,
        refill_per_s: float,
    ) -> tuple[GcraResult, BucketResult]:
        """:meth:`gcra` and :meth:`reserve` together: both state changes happen, or neither.

        Both results report their own check; the request was admitted iff both are ``allowed``.
        """
        ...


def _period_us(period_s: float) -> int:
    if not period_s > 0:
        raise ConfigError([f"period_s must be > 0 seconds, got {period_s!r}"], title="invalid rate limit")
    return max(1, math.ceil(period_s * _US - 1e-3))  # whole µs, never shorter than asked (float noise aside)


def _rate_us(capacity: int, refill_per_s: float) -> float:
    problems = []
    if capacity < 1:
        problems.append(f"capacity must be >= 1 token, got {capacity!r}")
    if not refill_per_s > 0:
        problems.append(f"refill_per_s must be > 0, got {refill_per_s!r}")
    if problems:
        raise ConfigError(problems, title="invalid token limit")
    return refill_per_s / _US


def _check_burst(burst: int) -> None:
    if burst < 1:
        raise ConfigError([f"burst must be >= 1 request, got {burst!r}"], title="invalid rate limit")


# ---- the arithmetic, shared by MemoryStore and mirrored line for line in the Lua below -------------


def _gcra_decide(tat: float, now: int, period: int, burst: int) -> tuple[GcraResult, float]:
    """(result, TAT if taken) for a TAT already raised to ``now``."""
    tau = (burst - 1) * period
    if tat - now <= tau:
        new_tat = tat + period
        remaining = math.floor((tau - (new_tat - now)) / period) + 1
        return GcraResult(True, 0.0, remaining, (new_tat - now) / _US), new_tat
    return GcraResult(False, (tat - now - tau) / _US, 0, (tat - now) / _US), tat


def _gcra_untaken(tat: float, now: int, period: int, burst: int) -> GcraResult:
    """The request check passed but the slot is not taken (tokens refused): the state as it stands."""
    remaining = math.floor(((burst - 1) * period - (tat - now)) / period) + 1
    return GcraResult(True, 0.0, max(0, remaining), (tat - now) / _US)


def _bucket_result(allowed: bool, balance: float, amount: int, capacity: int, rate: float) -> BucketResult:
    if allowed:
        retry = 0.0
    elif amount > capacity:
        retry = math.inf
    else:
        retry = (amount - balance) / rate / _US
    return BucketResult(allowed, retry, max(0, math.floor(balance)), (capacity - balance) / rate / _US)


class MemoryStore:
    """Limit state in this process's memory, behind one lock.

    Exact for one gateway process (threads and asyncio alike); several processes each keep their own
    counts, so use :class:`RedisStore` for those.

    Args:
        clock: seconds on a monotonic clock (tests pass a fake one).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._tats: dict[str, float] = {}
        self._buckets: dict[str, tuple[float, int, float]] = {}  # balance, last µs, full at µs
        self._ops = 0

    def _now(self) -> int:
        now = round(self._clock() * _US)
        self._ops += 1
        if self._ops % _SWEEP_EVERY == 0:
            self._sweep(now)
        return now

    def _sweep(self, now: int) -> None:
        self._tats = {k: tat for k, tat in self._tats.items() if tat > now}
        self._buckets = {k: state for k, state in self._buckets.items() if state[2] > now}

    def _balance(self, key: str, now: int, capacity: int, rate: float) -> float:
        state = self._buckets.get(key)
        if state is None:
            return float(capacity)
        balance, last, _ = state
        return min(float(capacity), balance + max(0, now - last) * rate)

    def _store_balance(self, key: str, now: int, balance: float, capacity: int, rate: float) -> None:
        self._buckets[key] = (balance, now, now + (capacity - balance) / rate)

    def gcra(self, key: str, *, period_s: float, burst: int) -> GcraResult:
        period = _period_us(period_s)
        _check_burst(burst)
        with self._lock:
            now = self._now()
            result, new_tat = _gcra_decide(max(self._tats.get(key, now), now), now, period, burst)
            if result.allowed:
                self._tats[key] = new_tat
            return result

    def reserve(self, key: str, *, amount: int, capacity: int, refill_per_s: float) -> BucketResult:
        rate = _rate_us(capacity, refill_per_s)
        with self._lock:
            now = self._now()
            balance = self._balance(key, now, capacity, rate)
            allowed = amount <= capacity and balance >= amount
            if allowed:
                balance -= amount
                self._store_balance(key, now, balance, capacity, rate)
            return _bucket_result(allowed, balance, amount, capacity, rate)

    def settle(self, key: str, *, refund: int, capacity: int, refill_per_s: float) -> BucketResult:
        rate = _rate_us(capacity, refill_per_s)
        with self._lock:
            now = self._now()
            balance = min(float(capacity), self._balance(key, now, capacity, rate) + refund)
            self._store_balance(key, now, balance, capacity, rate)
            return _bucket_result(True, balance, 0, capacity, rate)

    def admit(
        self, request_key: str, token_key: str, *, period_s: float, burst: int, amount: int, capacity: int,
        refill_per_s: float,
    ) -> tuple[GcraResult, BucketResult]:
        period = _period_us(period_s)
        _check_burst(burst)
        rate = _rate_us(capacity, refill_per_s)
        with self._lock:
            now = self._now()
            tat = max(self._tats.get(request_key, now), now)
            requests, new_tat = _gcra_decide(tat, now, period, burst)
            balance = self._balance(token_key, now, capacity, rate)
            fits = amount <= capacity and balance >= amount
            if requests.allowed and fits:
                self._tats[request_key] = new_tat
                balance -= amount
                self._store_balance(token_key, now, balance, capacity, rate)
            elif requests.allowed:
                requests = _gcra_untaken(tat, now, period, burst)
            return requests, _bucket_result(fits, balance, amount, capacity, rate)


# Lua 5.1 inside Redis: numbers are doubles (exact for integers below 2^53, i.e. µs since 1970 for
# another 285 years); floats go back to Python as strings ('%.17g' round-trips), since Redis
# truncates Lua numbers in replies to integers.
_LUA_PRELUDE = """
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local function num(x) return string.format('%.17g', x) end
local function read_tat(key, now)
  local tat = tonumber(redis.call('GET', key) or '')
  if tat == nil or tat < now then return now end
  return tat
end
local function write_tat(key, tat, now)
  redis.call('SET', key, string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000) + 1)
end
-- allowed, TAT if taken, retry µs, remaining, reset µs (mirrors _gcra_decide)
local function gcra_decide(tat, now, period, burst)
  local tau = (burst - 1) * period
  if tat - now <= tau then
    local new_tat = tat + period
    return 1, new_tat, 0, math.floor((tau - (new_tat - now)) / period) + 1, new_tat - now
  end
  return 0, tat, tat - now - tau, 0, tat - now
end
local function read_balance(key, now, capacity, rate)
  local v = redis.call('HMGET', key, 'b', 't')
  local b, t = tonumber(v[1]), tonumber(v[2])
  if b == nil or t == nil then return capacity end
  local elapsed = now - t
  if elapsed < 0 then elapsed = 0 end
  b = b + elapsed * rate
  if b > capacity then b = capacity end
  return b
end
local function write_balance(key, now, b, capacity, rate)
  redis.call('HSET', key, 'b', num(b), 't', string.format('%d', now))
  redis.call('PEXPIRE', key, math.ceil((capacity - b) / rate / 1000) + 1)
end
-- allowed, retry s, remaining, reset s (mirrors _bucket_result)
local function bucket_reply(allowed, b, amount, capacity, rate)
  local retry = '0'
  if allowed == 0 then
    if amount > capacity then retry = 'inf' else retry = num((amount - b) / rate / 1000000) end
  end
  local remaining = 0
  if b > 0 then remaining = math.floor(b) end
  return {allowed, retry, remaining, num((capacity - b) / rate / 1000000)}
end
"""

_LUA_GCRA = _LUA_PRELUDE + """
local now = now_us()
local period, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local ok, new_tat, retry, remaining, reset = gcra_decide(read_tat(KEYS[1], now), now, period, burst)
if ok == 1 then write_tat(KEYS[1], new_tat, now) end
return {ok, num(retry / 1000000), remaining, num(reset / 1000000)}
"""

_LUA_RESERVE = _LUA_PRELUDE + """
local now = now_us()
local amount, capacity, rate = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local b = read_balance(KEYS[1], now, capacity, rate)
local ok = 0
if amount <= capacity and b >= amount then
  ok = 1
  b = b - amount
  write_balance(KEYS[1], now, b, capacity, rate)
end
return bucket_reply(ok, b, amount, capacity, rate)
"""

_LUA_SETTLE = _LUA_PRELUDE + """
local now = now_us()
local refund, capacity, rate = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local b = read_balance(KEYS[1], now, capacity, rate) + refund
if b > capacity then b = capacity end
write_balance(KEYS[1], now, b, capacity, rate)
return bucket_reply(1, b, 0, capacity, rate)
"""

_LUA_ADMIT = _LUA_PRELUDE + """
local now = now_us()
local period, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local amount, capacity, rate = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local tat = read_tat(KEYS[1], now)
local ok, new_tat, retry, remaining, reset = gcra_decide(tat, now, period, burst)
local b = read_balance(KEYS[2], now, capacity, rate)
local fits = 0
if amount <= capacity and b >= amount then fits = 1 end
if ok == 1 and fits == 1 then
  write_tat(KEYS[1], new_tat, now)
  b = b - amount
  write_balance(KEYS[2], now, b, capacity, rate)
elseif ok == 1 then
  remaining = math.floor(((burst - 1) * period - (tat - now)) / period) + 1
  if remaining < 0 then remaining = 0 end
  reset = tat - now
end
local tokens = bucket_reply(fits, b, amount, capacity, rate)
return {ok, num(retry / 1000000), remaining, num(reset / 1000000),
        tokens[1], tokens[2], tokens[3], tokens[4]}
"""


def _gcra_reply(reply: list[Any]) -> GcraResult:
    return GcraResult(int(reply[0]) == 1, float(reply[1]), int(reply[2]), float(reply[3]))


def _bucket_reply(reply: list[Any]) -> BucketResult:
    return BucketResult(int(reply[0]) == 1, float(reply[1]), int(reply[2]), float(reply[3]))


class RedisStore:
    """Limit state in Redis, one Lua script per operation, timed by the server's ``TIME``.

    Several gateway processes (on several machines) sharing one Redis see one set of limits. Scripts
    are loaded once and called by SHA (``EVALSHA``, reloaded if the server forgot them).

    Args:
        url: a Redis URL (``redis://127.0.0.1:6379/0``); or pass ``client``.
        client: an existing ``redis.Redis`` client (either response decoding works).
        prefix: put before every key, so one Redis can hold other data.
    """

    def __init__(self, url: str | None = None, *, client: redis.Redis | None = None, prefix: str = "fathom:rl:"):
        if (url is None) == (client is None):
            raise ConfigError(["pass exactly one of url= (e.g. 'redis://127.0.0.1:6379/0') or client="],
                              title="invalid RedisStore")
        if client is None:
            try:
                import redis as redis_lib
            except ImportError as e:
                raise MissingDependencyError("The Redis client (for RedisStore)",
                                             "pip install 'fathom[gateway]'") from e
            client = redis_lib.Redis.from_url(str(url))
        self.client = client
        self.prefix = prefix
        self._gcra = client.register_script(_LUA_GCRA)
        self._reserve = client.register_script(_LUA_RESERVE)
        self._settle = client.register_script(_LUA_SETTLE)
        self._admit = client.register_script(_LUA_ADMIT)

    def gcra(self, key: str, *, period_s: float, burst: int) -> GcraResult:
        period = _period_us(period_s)
        _check_burst(burst)
        return _gcra_reply(self._gcra(keys=[self.prefix + key], args=[period, burst]))

    def reserve(self, key: str, *, amount: int, capacity: int, refill_per_s: float) -> BucketResult:
        rate = _rate_us(capacity, refill_per_s)
        return _bucket_reply(self._reserve(keys=[self.prefix + key], args=[int(amount), capacity, repr(rate)]))

    def settle(self, key: str, *, refund: int, capacity: int, refill_per_s: float) -> BucketResult:
        rate = _rate_us(capacity, refill_per_s)
        return _bucket_reply(self._settle(keys=[self.prefix + key], args=[int(refund), capacity, repr(rate)]))

    def admit(
        self, request_key: str, token_key: str, *, period_s: float, burst: int, amount: int, capacity: int,
        refill_per_s: float,
    ) -> tuple[GcraResult, BucketResult]:
        period = _period_us(period_s)
        _check_burst(burst)
        rate = _rate_us(capacity, refill_per_s)
        reply = self._admit(keys=[self.prefix + request_key, self.prefix + token_key],
                            args=[period, burst, int(amount), capacity, repr(rate)])
        return _gcra_reply(reply[:4]), _bucket_reply(reply[4:])

"""Upstreams: weighted routing, failover, circuit breakers and health checks over OpenAI-compatible servers.

A model's routes are tried in an order drawn by weight (a route with weight 3 goes first three times as
often as one with weight 1); a connect error, a timeout before the response starts, or a 5xx (or an
upstream's own 429) moves on to the next route, so a dead upstream costs a client nothing but a
connect attempt. ``breaker_failures`` failures in a row open an upstream's circuit: it is tried last
(only when everything else has failed) until ``cooldown_s`` has passed or a health check (``GET
/models`` every ``health_interval_s``) answers again. ``on_state(upstream, up)`` reports every change
(the gateway's ``fathom_upstream_up`` gauge).

Once an upstream has started answering, its answer is the client's: a failure mid-stream is the
client's error (the tokens already sent cannot be taken back).

Why aiohttp for the upstream side (and not httpx, which the rest of Fathom uses): the gateway's cost is
its HTTP client, and on this 2-core machine one sequential request through ``httpx.AsyncClient`` took
2.9 ms of the loop against 0.86 ms through ``aiohttp`` (C parser), to the same upstream.

Not covered: hedged requests, latency- or cost-based routing, retrying a request the upstream refused
with a 4xx (that is the client's answer).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import aiohttp
import orjson

from fathom.gateway._config import GatewayConfig, ModelConfig, Route, UpstreamConfig

__all__ = ["AllUpstreamsFailed", "Opened", "UpstreamError", "UpstreamPool", "UpstreamResponse"]

UpstreamError = (aiohttp.ClientError, asyncio.TimeoutError)
"""What reading an upstream's answer can raise (a connection reset, a read timeout)."""


@dataclass
class _Upstream:
    config: UpstreamConfig
    headers: dict[str, str]
    timeout: aiohttp.ClientTimeout
    session: aiohttp.ClientSession | None = None
    failures: int = 0
    open_until: float = 0.0
    up: bool = True

    def client(self) -> aiohttp.ClientSession:
        """The upstream's pooled session (made on first use, inside the running event loop)."""
        if self.session is None:
            self.session = aiohttp.ClientSession(
                base_url=self.config.url.rstrip("/") + "/", headers=self.headers, timeout=self.timeout,
                connector=aiohttp.TCPConnector(limit=self.config.max_connections), auto_decompress=False)
        return self.session


class UpstreamResponse:
    """An upstream's answer whose status is known and whose body is still to be read."""

    def __init__(self, response: aiohttp.ClientResponse):
        self._response = response
        self.status_code = response.status

    async def aread(self) -> bytes:
        return await self._response.read()

    async def aiter_lines(self) -> AsyncIterator[str]:
        async for line in self._response.content:
            yield line.decode("utf-8").rstrip("\r\n")

    async def aclose(self) -> None:
        """Release the connection (an unread body closes it, which stops the upstream generating)."""
        self._response.close()


@dataclass
class Opened:
    """An upstream response that has started (status and headers read; the body is still to come)."""

    upstream: str
    route: Route
    response: UpstreamResponse
    tried: list[str] = field(default_factory=list)
    """Upstreams that failed before this one answered (failover)."""


class AllUpstreamsFailed(Exception):
    """Every route of a model failed; ``status`` is 502 when an upstream answered with an error, 503 when
    none could be reached."""

    def __init__(self, model: str, errors: list[str], status: int):
        super().__init__(f"no upstream could serve {model!r}: " + "; ".join(errors))
        self.status = status


class UpstreamPool:
    """The upstreams of a gateway config, each with one pooled ``httpx.AsyncClient``.

    Args:
        config: the gateway config (upstreams and breaker settings).
        on_state: called with ``(upstream name, up)`` at start and whenever an upstream goes up or down.
        rng: the random source for weighted order (tests pass a seeded one).
        clock: monotonic seconds (tests pass a fake).
    """

    def __init__(self, config: GatewayConfig, *, on_state: Callable[[str, bool], None] | None = None,
                 rng: random.Random | None = None, clock: Callable[[], float] = time.monotonic):
        self._failures = config.breaker_failures
        self._cooldown = config.breaker_cooldown_s
        self._interval = config.health_interval_s
        self._rng = rng or random.Random()
        self._clock = clock
        self._on_state = on_state or (lambda name, up: None)
        self._upstreams: dict[str, _Upstream] = {}
        for name, upstream in config.upstreams.items():
            key = os.environ.get(upstream.api_key_env) if upstream.api_key_env else None
            timeout = aiohttp.ClientTimeout(total=None, connect=upstream.connect_timeout_s,
                                            sock_read=upstream.timeout_s)
            self._upstreams[name] = _Upstream(upstream, {"Authorization": f"Bearer {key}"} if key else {}, timeout)
            self._on_state(name, True)
        self._health_task: asyncio.Task[None] | None = None

    def is_up(self, name: str) -> bool:
        """Whether an upstream's circuit is closed (it answered last time)."""
        return self._upstreams[name].up

    def _usable(self, upstream: _Upstream) -> bool:
        return upstream.up or self._clock() >= upstream.open_until

    def order(self, model: ModelConfig) -> list[Route]:
        """The routes to try, in order: usable ones by weighted draw, then those with an open circuit."""
        pool = list(model.routes)
        ordered: list[Route] = []
        while pool:
            weights = [r.weight for r in pool]
            pick = self._rng.choices(range(len(pool)), weights=weights)[0] if len(pool) > 1 else 0
            ordered.append(pool.pop(pick))
        return sorted(ordered, key=lambda r: not self._usable(self._upstreams[r.upstream]))  # stable

    def _failed(self, upstream: _Upstream) -> None:
        upstream.failures += 1
        if upstream.failures >= self._failures:
            upstream.open_until = self._clock() + self._cooldown
            if upstream.up:
                upstream.up = False
                self._on_state(upstream.config.name, False)

    def _succeeded(self, upstream: _Upstream) -> None:
        upstream.failures = 0
        if not upstream.up:
            upstream.up = True
            self._on_state(upstream.config.name, True)

    async def open(self, model: ModelConfig, body: dict[str, object]) -> Opened:
        """Send a chat request along the model's routes until one upstream starts answering.

        The request's ``model`` is replaced by each route's. A 4xx other than 429 is returned as the
        answer (the request was refused, another upstream would refuse it too).

        Raises:
            AllUpstreamsFailed: every route failed (connect errors, timeouts, 5xx, 429).
        """
        errors: list[str] = []
        answered = False
        for route in self.order(model):
            upstream = self._upstreams[route.upstream]
            content = orjson.dumps({**body, "model": route.model})
            try:
                response = await upstream.client().post("chat/completions", data=content,
                                                        headers={"content-type": "application/json"})
            except UpstreamError as exc:
                self._failed(upstream)
                errors.append(f"{route.upstream}: {type(exc).__name__}")
                continue
            if response.status >= 500 or response.status == 429:
                answered = True
                response.close()
                self._failed(upstream)
                errors.append(f"{route.upstream}: HTTP {response.status}")
                continue
            self._succeeded(upstream)
            return Opened(route.upstream, route, UpstreamResponse(response), tried=[e.split(":")[0] for e in errors])
        raise AllUpstreamsFailed(model.name, errors, 502 if answered else 503)

    async def check(self) -> dict[str, bool]:
        """One health check of every upstream (``GET /models``); returns who is up."""

        async def probe(upstream: _Upstream) -> None:
            try:
                timeout = aiohttp.ClientTimeout(total=min(upstream.config.timeout_s, 5.0))
                async with upstream.client().get("models", timeout=timeout) as response:
                    ok = response.status < 500
            except UpstreamError:
                ok = False
            if ok:
                self._succeeded(upstream)
            else:
                upstream.failures = max(upstream.failures, self._failures - 1)
                self._failed(upstream)

        await asyncio.gather(*(probe(u) for u in self._upstreams.values()))
        return {name: u.up for name, u in self._upstreams.items()}

    async def _health_loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            with contextlib.suppress(Exception):  # a failed round is retried at the next interval
                await self.check()

    def start(self) -> None:
        """Start the periodic health checks (on the running event loop)."""
        if self._health_task is None:
            self._health_task = asyncio.get_running_loop().create_task(self._health_loop())

    async def aclose(self) -> None:
        """Stop health checks and close every connection pool."""
        if self._health_task is not None:
            self._health_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._health_task
        await asyncio.gather(*(u.session.close() for u in self._upstreams.values() if u.session is not None))

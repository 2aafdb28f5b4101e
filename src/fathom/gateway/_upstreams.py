"""Upstreams: weighted routing, failover, circuit breakers and health checks over OpenAI-compatible servers.

A model's routes are tried in an order drawn by weight (a route with weight 3 goes first three times as
often as one with weight 1); a connect error, a timeout before the response starts, or a 5xx (or an
upstream's own 429) moves on to the next route, so a dead upstream costs a client nothing but a
connect attempt. ``breaker_failures`` failures in a row open an upstream's circuit: it is tried last
(only when everything else has failed) until ``cooldown_s`` has passed or a health check (``GET
/models`` every ``health_interval_s``) answers again. ``on_state(upstream, up)`` reports every change
(the gateway's ``fathom_upstream_up`` gauge).

Once an upstream has started answering, its answer is the client's: a failure mid-stream is the
client's error (the tokens already sent cannot be taken back). Not covered: hedged requests, latency- or
cost-based routing, retrying a request the upstream refused with a 4xx (that is the client's answer).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import orjson

from fathom.gateway._config import GatewayConfig, ModelConfig, Route, UpstreamConfig

__all__ = ["AllUpstreamsFailed", "Opened", "UpstreamPool"]


@dataclass
class _Upstream:
    config: UpstreamConfig
    client: httpx.AsyncClient
    failures: int = 0
    open_until: float = 0.0
    up: bool = True


@dataclass
class Opened:
    """An upstream response that has started (status and headers read; the body is still to come)."""

    upstream: str
    route: Route
    response: httpx.Response
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
            client = httpx.AsyncClient(
                base_url=upstream.url, headers={"Authorization": f"Bearer {key}"} if key else {},
                timeout=httpx.Timeout(upstream.timeout_s, connect=upstream.connect_timeout_s),
                limits=httpx.Limits(max_connections=upstream.max_connections,
                                    max_keepalive_connections=upstream.max_connections))
            self._upstreams[name] = _Upstream(upstream, client)
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
            request = upstream.client.build_request("POST", "/chat/completions", content=content,
                                                    headers={"content-type": "application/json"})
            try:
                response = await upstream.client.send(request, stream=True)
            except httpx.TransportError as exc:
                self._failed(upstream)
                errors.append(f"{route.upstream}: {type(exc).__name__}")
                continue
            if response.status_code >= 500 or response.status_code == 429:
                answered = True
                await response.aclose()
                self._failed(upstream)
                errors.append(f"{route.upstream}: HTTP {response.status_code}")
                continue
            self._succeeded(upstream)
            return Opened(route.upstream, route, response, tried=[e.split(":")[0] for e in errors])
        raise AllUpstreamsFailed(model.name, errors, 502 if answered else 503)

    async def check(self) -> dict[str, bool]:
        """One health check of every upstream (``GET /models``); returns who is up."""

        async def probe(upstream: _Upstream) -> None:
            try:
                response = await upstream.client.get("/models", timeout=min(upstream.config.timeout_s, 5.0))
                ok = response.status_code < 500
            except httpx.HTTPError:
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
        await asyncio.gather(*(u.client.aclose() for u in self._upstreams.values()))

"""The gateway's Prometheus metrics (``GET /metrics``), named as in the serving notes.

Labels are only ``model``, ``adapter``, ``upstream`` and ``status`` (plus ``direction``, ``limit``, ``guard``
and ``action`` where the name says so): never a key, a user or any request text, which would leak secrets
and explode the series count. Per-key figures live in the ledger (``fathom gateway usage``).

* ``fathom_requests_total``, ``fathom_request_duration_seconds``: every answered chat request.
* ``fathom_time_to_first_token_seconds``: from arrival to the first non-empty content or tool-call delta.
* ``fathom_inter_chunk_seconds``: between content chunks of a stream (servers may coalesce tokens, so this
  approximates inter-token latency).
* ``fathom_tokens_total{direction=prompt|completion}``, ``fathom_ratelimited_total{limit}``,
  ``fathom_guardrail_actions_total{guard,action}``, ``fathom_inflight_requests``, ``fathom_upstream_up``.

Each gateway has its own registry (several gateways can live in one test process). Not covered: the
multi-process collector (one gateway process serves one port; run several behind a load balancer and
scrape each).
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["GatewayMetrics"]

_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
_CHUNK = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_LABELS = ("model", "adapter", "upstream", "status")


class GatewayMetrics:
    """The metric families of one gateway, in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("fathom_requests", "Chat requests answered.", _LABELS, registry=r)
        self.duration = Histogram("fathom_request_duration_seconds", "Arrival to last byte.", _LABELS,
                                  buckets=_LATENCY, registry=r)
        self.ttft = Histogram("fathom_time_to_first_token_seconds", "Arrival to first content or tool-call delta.",
                              ("model", "adapter", "upstream"), buckets=_LATENCY, registry=r)
        self.inter_chunk = Histogram("fathom_inter_chunk_seconds", "Time between content chunks of a stream.",
                                     ("model", "adapter", "upstream"), buckets=_CHUNK, registry=r)
        self.tokens = Counter("fathom_tokens", "Tokens, by direction (prompt or completion).",
                              ("model", "adapter", "upstream", "direction"), registry=r)
        self.ratelimited = Counter("fathom_ratelimited", "Requests refused by a limit (requests, tokens, budget).",
                                   ("model", "limit"), registry=r)
        self.guardrail = Counter("fathom_guardrail_actions", "Guardrail actions taken.", ("guard", "action"),
                                 registry=r)
        self.inflight = Gauge("fathom_inflight_requests", "Chat requests being handled.", registry=r)
        self.upstream_up = Gauge("fathom_upstream_up", "1 when the upstream's circuit is closed.", ("upstream",),
                                 registry=r)
        self._children: dict[tuple[str, str, str, int], tuple[Any, Any, Any, Any]] = {}

    def upstream_state(self, upstream: str, up: bool) -> None:
        self.upstream_up.labels(upstream=upstream).set(1 if up else 0)

    def guard_action(self, guard: str, action: str) -> None:
        self.guardrail.labels(guard=guard, action=action).inc()

    def answered(self, *, model: str, adapter: str | None, upstream: str | None, status: int, seconds: float,
                 prompt_tokens: int, completion_tokens: int) -> None:
        """Count one answered request."""
        key = (model, adapter or "", upstream or "", status)
        children = self._children.get(key)
        if children is None:  # label lookups cost more than the counting; each label set is looked up once
            labels = {"model": key[0], "adapter": key[1], "upstream": key[2]}
            children = (self.requests.labels(**labels, status=str(status)),
                        self.duration.labels(**labels, status=str(status)),
                        self.tokens.labels(**labels, direction="prompt"),
                        self.tokens.labels(**labels, direction="completion"))
            self._children[key] = children
        requests, duration, prompt, completion = children
        requests.inc()
        duration.observe(seconds)
        if prompt_tokens:
            prompt.inc(prompt_tokens)
        if completion_tokens:
            completion.inc(completion_tokens)

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)

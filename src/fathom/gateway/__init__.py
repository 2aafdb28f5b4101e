"""The gateway: an OpenAI-compatible front door for model servers, with keys, exact rate and token limits,
a usage and cost ledger, failover, guardrails and metrics, and no database server.

Covers: the app (:func:`create_gateway`, :class:`Gateway`) and its config (:func:`load_config`), the
upstream pool (:class:`UpstreamPool`: weighted routes, failover, circuit breakers, health checks), API
keys (:class:`KeyStore`, hashed), limits (:class:`RateLimiter`: requests by GCRA, tokens by reservation
and reconciliation, on a :class:`MemoryStore` or a :class:`RedisStore` shared by several gateways),
the ledger (:class:`Ledger`, SQLite WAL with group commit; :class:`PriceTable`; :class:`BudgetGuard`),
versioned prompt templates (:class:`TemplateStore`), guardrails (:class:`Guardrail`, a policy in the
shape of Bedrock Guardrails: PII by pattern and checksum, regexes, words, denied topics, grounding) and
the Prometheus metrics (:class:`GatewayMetrics`).
Not covered: the model servers themselves (``fathom serve``, llama.cpp, vLLM), a web UI.
"""

from __future__ import annotations

from fathom.gateway._app import Gateway, create_gateway
from fathom.gateway._config import GatewayConfig, ModelConfig, Route, UpstreamConfig, load_config
from fathom.gateway._guardrails import Guardrail, GuardrailPolicy, StreamGuard, Verdict, load_policy
from fathom.gateway._keys import KeyRecord, KeyStore
from fathom.gateway._ledger import BudgetGuard, Ledger, UsageRow
from fathom.gateway._limits import Admission, RateLimiter, estimate_prompt_tokens
from fathom.gateway._metrics import GatewayMetrics
from fathom.gateway._prices import PriceTable
from fathom.gateway._store import LimitStore, MemoryStore, RedisStore
from fathom.gateway._templates import TemplateStore
from fathom.gateway._upstreams import UpstreamPool

__all__ = [
    "Admission",
    "BudgetGuard",
    "Gateway",
    "GatewayConfig",
    "GatewayMetrics",
    "Guardrail",
    "GuardrailPolicy",
    "KeyRecord",
    "KeyStore",
    "Ledger",
    "LimitStore",
    "MemoryStore",
    "ModelConfig",
    "PriceTable",
    "RateLimiter",
    "RedisStore",
    "Route",
    "StreamGuard",
    "TemplateStore",
    "UpstreamConfig",
    "UpstreamPool",
    "UsageRow",
    "Verdict",
    "create_gateway",
    "estimate_prompt_tokens",
    "load_config",
    "load_policy",
]

"""The gateway app: an OpenAI-compatible front door with keys, limits, a ledger, guardrails and metrics.

One chat request, in order:

1. the body limit (413 before reading past ``max_body_mb``), then the key (``Authorization: Bearer``;
   none or unknown: 401), the JSON (400 listing what is wrong), the model (404 listing those served;
   not allowed for the key: 403), and ``template: name@version`` expanded into the messages;
2. the input guardrail: PII masked or the request refused with the policy's message (answered as a
   normal completion with ``finish_reason: "content_filter"``, as hosted APIs do);
3. the key's budget (429 ``insufficient_quota``), then its request and token limits (GCRA and a token
   reservation of prompt estimate + ``max_tokens``; 429 with ``Retry-After`` and ``x-ratelimit-*``);
4. the upstream, along the model's routes with failover (:class:`~fathom.gateway.UpstreamPool`); a
   stream is relayed chunk by chunk as it arrives, through the output guardrail's hold-back buffer;
5. the end: the token reservation settled from the upstream's ``usage`` (streams ask for it), the
   ledger row committed *before* the last bytes go out (so nothing a client saw finish is lost if the
   gateway is killed), metrics, and the chat log (PII redacted first) when enabled.

Every answer the gateway makes itself is in OpenAI's error shape: 4xx for what the client sent, 502 when
upstreams answered with errors, 503 when none could be reached, 500 only for a gateway bug (logged with
its traceback, never sent). Secrets never reach logs, metric labels or the ledger: keys are stored hashed
and rows name the key's id; request text is logged only in the redacted chat log.

Not covered: ``/v1/completions`` and ``/v1/embeddings`` (chat only), ``n > 1`` accounting beyond the
upstream's usage, budgets shared across gateway processes (each process holds its own in-flight costs;
see :class:`~fathom.gateway.BudgetGuard`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route as WebRoute

from fathom.gateway._config import GatewayConfig, ModelConfig
from fathom.gateway._guardrails import Guardrail, GuardrailPolicy, StreamGuard, load_policy
from fathom.gateway._keys import KeyRecord, KeyStore
from fathom.gateway._ledger import BudgetGuard, BudgetHold, Ledger, RowBatcher, UsageRow
from fathom.gateway._limits import Admission, RateLimiter, estimate_prompt_tokens
from fathom.gateway._metrics import GatewayMetrics
from fathom.gateway._pii import PII_TYPES
from fathom.gateway._prices import PriceTable
from fathom.gateway._store import LimitStore, MemoryStore, RedisStore
from fathom.gateway._templates import GatewayTemplateError, TemplateStore
from fathom.gateway._upstreams import AllUpstreamsFailed, Opened, UpstreamError, UpstreamPool
from fathom.serve import BodyLimit, openai_error

__all__ = ["Gateway", "create_gateway"]

log = logging.getLogger("fathom.gateway")

_GATEWAY_FIELDS = ("template", "variables", "sources")
"""Request fields the gateway reads and does not forward."""


class GatewayError(Exception):
    """An answer the gateway makes itself, in OpenAI's error shape."""

    def __init__(self, status: int, message: str, *, type_: str = "invalid_request_error", param: str | None = None,
                 code: str | None = None, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type_, param, code
        self.headers = dict(headers or {})

    def response(self, request_id: str) -> Response:
        body = orjson.dumps(openai_error(self.message, type_=self.type, param=self.param, code=self.code))
        return Response(body, status_code=self.status, media_type="application/json",
                        headers={**self.headers, "x-request-id": request_id})


@dataclass
class _Call:
    """One chat request on its way through the gateway."""

    request_id: str
    started: float
    arrived: float
    key: KeyRecord | None = None
    model: ModelConfig | None = None
    body: dict[str, Any] = field(default_factory=dict)
    stream: bool = False
    client_usage: bool = False
    prompt_estimate: int = 0
    max_tokens: int = 0
    admission: Admission | None = None
    hold: BudgetHold | None = None
    upstream: str | None = None
    ttft_s: float | None = None
    sources: list[str] | None = None

    @property
    def headers(self) -> dict[str, str]:
        out = {"x-request-id": self.request_id}
        if self.admission is not None:
            out.update(self.admission.headers)
        return out


def _bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _positive_int(body: dict[str, Any], name: str, cap: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise GatewayError(400, f"{name} must be a whole number >= 1, got {value!r}.", param=name)
    if value > cap:
        raise GatewayError(400, f"{name} is {value}, but this gateway allows at most {cap} tokens a request; ask "
                                f"for {cap} or fewer.", param=name, code="max_tokens_too_large")
    return value


def _check_messages(messages: Any) -> None:
    if not isinstance(messages, list) or not messages:
        raise GatewayError(400, f"messages must be a non-empty list of {{role, content}} objects, got "
                                f"{type(messages).__name__ if messages is not None else 'nothing'}.",
                           param="messages")
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise GatewayError(400, f"messages[{i}] must be an object with a string role, got "
                                    f"{type(message).__name__}.", param=f"messages[{i}]")


class Gateway:
    """The state of one gateway process: keys, limits, ledger, guardrails, upstreams and metrics.

    Args:
        config: the checked ``gateway.yaml``.
        store: where limits live (default: Redis when the config names it, else this process's memory).
        keys: the key store (default: ``<state>/keys.db``).
        ledger: the usage ledger (default: ``<state>/ledger.db``, priced by the config's price table).
    """

    def __init__(self, config: GatewayConfig, *, store: LimitStore | None = None, keys: KeyStore | None = None,
                 ledger: Ledger | None = None):
        self.config = config
        config.state_dir.mkdir(parents=True, exist_ok=True)
        self.metrics = GatewayMetrics()
        self.keys = keys or KeyStore(config.state_dir / "keys.db")
        prices = PriceTable.load(config.prices) if config.prices else PriceTable.free()
        self.ledger = ledger or Ledger(config.state_dir / "ledger.db", prices=prices)
        self.budgets = BudgetGuard(self.ledger)
        self.rows = RowBatcher(self.budgets)
        self.store: LimitStore = store or (RedisStore(config.redis_url) if config.redis_url else MemoryStore())
        self.limiter = RateLimiter(self.store)
        self.templates = TemplateStore(config.state_dir / "templates.db")
        self.guard = Guardrail(load_policy(config.guardrails), on_action=self.metrics.guard_action) \
            if config.guardrails else None
        self.redactor = Guardrail(GuardrailPolicy.from_dict({"pii": dict.fromkeys(PII_TYPES, "mask")})) \
            if config.chat_logs else None
        self.pool = UpstreamPool(config, on_state=self.metrics.upstream_state)

    async def aclose(self) -> None:
        await self.pool.aclose()
        self.ledger.close()
        self.keys.close()
        self.templates.close()

    # -- admission -------------------------------------------------------------------------------------

    def _authenticate(self, request: Request) -> KeyRecord:
        secret = _bearer(request)
        if secret is None:
            raise GatewayError(401, "No API key. Send 'Authorization: Bearer <key>'; create keys with "
                                    "`fathom gateway keys create`.", type_="authentication_error",
                               code="missing_api_key")
        key = self.keys.lookup(secret)
        if key is None:
            raise GatewayError(401, "Unknown or revoked API key. Check the key, or create one with "
                                    "`fathom gateway keys create`.", type_="authentication_error",
                               code="invalid_api_key")
        return key

    def _model(self, name: Any, key: KeyRecord) -> ModelConfig:
        if not isinstance(name, str) or not name:
            raise GatewayError(400, f"model must be a non-empty string, got {name!r}.", param="model")
        model = self.config.models.get(name)
        if model is None:
            served = ", ".join(m for m in self.config.models if key.allows(m)) or "none"
            raise GatewayError(404, f"The model {name!r} does not exist here. Models for this key: {served}.",
                               param="model", code="model_not_found")
        if not key.allows(name):
            raise GatewayError(403, f"This key may not use {name!r}; it may use: "
                                    f"{', '.join(key.models or []) or 'no models'}.", param="model",
                               code="model_not_allowed")
        return model

    async def _parse(self, request: Request, call: _Call) -> None:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            raise GatewayError(400, f"The body is not valid JSON ({exc}). Send a JSON object with model and "
                                    f"messages.") from None
        if not isinstance(body, dict):
            raise GatewayError(400, f"The body must be a JSON object with model and messages, got "
                                    f"{type(body).__name__}.")
        assert call.key is not None
        call.model = self._model(body.get("model"), call.key)
        if body.get("template") is not None:
            try:
                body["messages"] = self.templates.render(body.get("template"), body.get("variables"),
                                                         body.get("messages") or [])
            except GatewayTemplateError as exc:
                raise GatewayError(400, str(exc), param=exc.param) from None
        _check_messages(body.get("messages"))
        stream = body.get("stream", False)
        if not isinstance(stream, bool):
            raise GatewayError(400, f"stream must be true or false, got {stream!r}.", param="stream")
        cap = self.config.max_tokens_cap
        asked = _positive_int(body, "max_completion_tokens", cap) or _positive_int(body, "max_tokens", cap)
        sources = body.get("sources")
        if sources is not None and (not isinstance(sources, list) or not all(isinstance(s, str) for s in sources)):
            raise GatewayError(400, "sources must be a list of strings (the passages the answer must be "
                                    "grounded in).", param="sources")
        call.sources = sources
        call.stream = stream
        call.max_tokens = asked or min(self.config.default_max_tokens, cap)
        options = body.get("stream_options")
        call.client_usage = bool(isinstance(options, dict) and options.get("include_usage"))
        forwarded = {k: v for k, v in body.items() if k not in _GATEWAY_FIELDS}
        if asked is None:
            forwarded["max_tokens"] = call.max_tokens  # the upstream may not write past the reservation
        if stream:
            forwarded["stream_options"] = {**(options if isinstance(options, dict) else {}), "include_usage": True}
        call.body = forwarded

    def _guard_input(self, call: _Call) -> Response | None:
        if self.guard is None:
            return None
        verdict = self.guard.check_input(call.body["messages"])
        if verdict.blocked:
            return self._refusal(call, verdict.message or self.guard.policy.blocked_input)
        if verdict.messages is not None:
            call.body["messages"] = verdict.messages
        return None

    def _refusal(self, call: _Call, message: str) -> Response:
        """A guardrail's refusal, as a completion that stopped for its content filter."""
        assert call.model is not None
        created = int(time.time())
        if call.stream:
            chunk = {"id": f"chatcmpl-{call.request_id}", "object": "chat.completion.chunk", "created": created,
                     "model": call.model.name, "choices": [{"index": 0, "delta": {"role": "assistant",
                                                                                  "content": message},
                                                            "finish_reason": "content_filter"}]}
            payload = b"data: " + orjson.dumps(chunk) + b"\n\ndata: [DONE]\n\n"
            return Response(payload, media_type="text/event-stream", headers=call.headers)
        body = {"id": f"chatcmpl-{call.request_id}", "object": "chat.completion", "created": created,
                "model": call.model.name, "choices": [{"index": 0, "message": {"role": "assistant", "content": message},
                                                       "finish_reason": "content_filter"}],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}
        return Response(orjson.dumps(body), media_type="application/json", headers=call.headers)

    def _admit(self, call: _Call) -> None:
        assert call.key is not None and call.model is not None
        key, model = call.key, call.model
        call.prompt_estimate = estimate_prompt_tokens(call.body["messages"], call.body.get("tools"))
        hold = self.budgets.admit(key.id, key.budget_usd, model=model.name, adapter=model.adapter,
                                  prompt_tokens=call.prompt_estimate, max_tokens=call.max_tokens)
        if not hold.allowed:
            self.metrics.ratelimited.labels(model=model.name, limit="budget").inc()
            raise GatewayError(429, hold.detail, type_="insufficient_quota", code="insufficient_quota")
        call.hold = hold
        admission = self.limiter.admit(key.id, model.name, rpm=key.rpm, tpm=key.tpm,
                                       prompt_tokens_estimate=call.prompt_estimate, max_tokens=call.max_tokens)
        call.admission = admission
        if not admission.allowed:
            self.budgets.release(hold)
            call.hold = None
            if admission.too_large:
                raise GatewayError(400, admission.detail, param="max_tokens", code="tokens_over_limit",
                                   headers=admission.headers)
            self.metrics.ratelimited.labels(model=model.name, limit=admission.limit or "requests").inc()
            raise GatewayError(429, admission.detail, type_="rate_limit_exceeded", code="rate_limit_exceeded",
                               headers=admission.headers)

    # -- the end of a request ----------------------------------------------------------------------------

    def _finish(self, call: _Call, status: int, prompt_tokens: int = 0, completion_tokens: int = 0,
                answer: str | None = None) -> asyncio.Future[None] | None:
        """Settle the reservation, write the ledger row (the returned future resolves once it committed),
        count the metrics and log the chat."""
        if call.admission is not None and call.admission.allowed:
            self.limiter.settle(call.admission, prompt_tokens + completion_tokens)
        latency = time.perf_counter() - call.started
        model = call.model
        # before the model is known (a bad key or body) the label is "": never a name the client made up
        self.metrics.answered(model=model.name if model else "", adapter=model.adapter if model else None,
                              upstream=call.upstream, status=status, seconds=latency, prompt_tokens=prompt_tokens,
                              completion_tokens=completion_tokens)
        if call.key is None or model is None:
            return None
        row = UsageRow(request_id=call.request_id, ts=None, key_id=call.key.id, model=model.name,
                       adapter=model.adapter, upstream=call.upstream, status=status, prompt_tokens=prompt_tokens,
                       completion_tokens=completion_tokens,
                       reserved_tokens=call.admission.reserved if call.admission is not None else 0,
                       ttft_ms=None if call.ttft_s is None else call.ttft_s * 1000, latency_ms=latency * 1000)
        future = self.rows.add(call.hold, row)
        if self.redactor is not None and status < 400:
            messages = self.redactor.check_input(call.body.get("messages") or []).messages
            text = self.redactor.check_output(answer).text if answer else answer
            self.ledger.log_chat(call.request_id, key_id=call.key.id, model=model.name, messages=messages,
                                 answer=text)
        return future

    # -- the request ---------------------------------------------------------------------------------------

    async def chat(self, request: Request) -> Response:
        call = _Call(request_id=uuid.uuid4().hex, started=time.perf_counter(), arrived=time.time())
        self.metrics.inflight.inc()
        streaming = False
        try:
            call.key = self._authenticate(request)
            await self._parse(request, call)
            refusal = self._guard_input(call)
            if refusal is not None:
                await self._commit(self._finish(call, 200))
                return refusal
            self._admit(call)
            assert call.model is not None
            try:
                opened = await self.pool.open(call.model, call.body)
            except AllUpstreamsFailed as exc:
                raise GatewayError(exc.status, f"{exc} Try again shortly.", type_="server_error",
                                   code="upstream_unavailable") from None
            call.upstream = opened.upstream
            if opened.response.status_code >= 400:
                return await self._upstream_refused(call, opened)
            if call.stream:
                streaming = True
                return StreamingResponse(self._relay(call, opened), media_type="text/event-stream",
                                         headers={**call.headers, "cache-control": "no-cache"})
            return await self._whole(call, opened)
        except GatewayError as exc:
            await self._commit(self._finish(call, exc.status))
            return exc.response(call.request_id)
        except Exception:
            log.exception("gateway error in request %s", call.request_id)
            await self._commit(self._finish(call, 500))
            return GatewayError(500, f"The gateway failed on this request (id {call.request_id}); it is logged.",
                                type_="server_error").response(call.request_id)
        finally:
            if not streaming:
                self.metrics.inflight.dec()

    @staticmethod
    async def _commit(future: asyncio.Future[None] | None) -> None:
        if future is not None:
            await future

    async def _upstream_refused(self, call: _Call, opened: Opened) -> Response:
        """A 4xx from the upstream is the client's answer: relayed in OpenAI's shape."""
        raw = await opened.response.aread()
        await opened.response.aclose()
        status = opened.response.status_code
        try:
            body = orjson.loads(raw)
            ok = isinstance(body, dict) and isinstance(body.get("error"), dict)
        except orjson.JSONDecodeError:
            ok = False
        if not ok:
            raw = orjson.dumps(openai_error(f"The upstream refused the request with HTTP {status}: "
                                            f"{raw[:300].decode('utf-8', 'replace')}"))
        await self._commit(self._finish(call, status))
        return Response(raw, status_code=status, media_type="application/json", headers=call.headers)

    async def _whole(self, call: _Call, opened: Opened) -> Response:
        try:
            raw = await opened.response.aread()
        except UpstreamError as exc:
            raise GatewayError(502, f"The upstream {opened.upstream!r} failed while answering "
                                    f"({type(exc).__name__}).", type_="server_error", code="upstream_error") from None
        finally:
            await opened.response.aclose()
        try:
            body = orjson.loads(raw)
            choice = body["choices"][0]
            message = choice["message"]
        except (orjson.JSONDecodeError, KeyError, IndexError, TypeError):
            raise GatewayError(502, f"The upstream {opened.upstream!r} answered without choices[0].message.",
                               type_="server_error", code="upstream_error") from None
        assert call.model is not None
        call.ttft_s = time.perf_counter() - call.started
        usage = body.get("usage") or {}
        prompt_tokens = int(usage.get("prompt_tokens") or 0)
        completion_tokens = int(usage.get("completion_tokens") or 0)
        content = message.get("content")
        changed = False
        if self.guard is not None and isinstance(content, str):
            verdict = self.guard.check_output(content, sources=call.sources,
                                              query=_last_user(call.body["messages"]))
            if verdict.blocked:
                message["content"], choice["finish_reason"], changed = verdict.message, "content_filter", True
            elif verdict.text != content:
                message["content"], changed = verdict.text, True
            if verdict.grounding is not None:
                body["guardrail"], changed = verdict.assessment(), True
        if body.get("model") != call.model.name:  # the route's model name (an adapter, a host) stays private
            body["model"], changed = call.model.name, True
        await self._commit(self._finish(call, 200, prompt_tokens, completion_tokens,
                                        message.get("content") if isinstance(message.get("content"), str) else None))
        return Response(orjson.dumps(body) if changed else raw, media_type="application/json", headers=call.headers)

    async def _relay(self, call: _Call, opened: Opened) -> AsyncIterator[bytes]:
        """The upstream's stream, chunk by chunk as it arrives, through the output guardrail."""
        assert call.model is not None
        labels = {"model": call.model.name, "adapter": call.model.adapter or "", "upstream": opened.upstream}
        guard: StreamGuard | None = None
        if self.guard is not None:
            guard = self.guard.stream(sources=call.sources, query=_last_user(call.body["messages"]))
        usage: dict[str, Any] = {}
        chunks, pieces = 0, []
        last_chunk: float | None = None
        template: dict[str, Any] | None = None
        status, finished = 499, False
        try:
            async for line in opened.response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                try:
                    chunk = orjson.loads(data)
                except orjson.JSONDecodeError:
                    continue
                if not isinstance(chunk, dict):
                    continue
                if chunk.get("usage"):
                    usage = chunk["usage"]
                chunk["model"] = call.model.name  # the route's model name (an adapter, a host) stays private
                choices = chunk.get("choices") or []
                if not choices:
                    if call.client_usage:
                        yield b"data: " + orjson.dumps(chunk) + b"\n\n"
                    continue
                template = {k: v for k, v in chunk.items() if k not in ("choices", "usage")}
                delta = choices[0].get("delta") or {}
                content = delta.get("content")
                if content or delta.get("tool_calls"):
                    now = time.perf_counter()
                    if call.ttft_s is None:
                        call.ttft_s = now - call.started
                        self.metrics.ttft.labels(**labels).observe(call.ttft_s)
                    elif last_chunk is not None:
                        self.metrics.inter_chunk.labels(**labels).observe(now - last_chunk)
                    last_chunk = now
                    chunks += 1
                if isinstance(content, str) and content:
                    pieces.append(content)
                    if guard is not None:
                        delta["content"] = guard.feed(content)
                        if guard.blocked:
                            yield _content_chunk(template, guard, final=True)
                            finished = True
                            status = 200
                            break
                        if not delta["content"] and not delta.get("tool_calls") \
                                and not choices[0].get("finish_reason"):
                            continue
                if choices[0].get("finish_reason") and guard is not None:
                    tail = guard.finish()
                    if guard.blocked:
                        yield _content_chunk(template, guard, final=True)
                        finished, status = True, 200
                        break
                    if tail:
                        yield _content_chunk(template, guard, text=tail)
                yield b"data: " + orjson.dumps(chunk) + b"\n\n"
            finished, status = True, 200
        except UpstreamError as exc:
            status = 502
            log.warning("upstream %s failed mid-stream in request %s: %s", opened.upstream, call.request_id,
                        type(exc).__name__)
            yield b"data: " + orjson.dumps(openai_error(f"The upstream {opened.upstream!r} failed mid-answer.",
                                                        type_="server_error", code="upstream_error")) + b"\n\n"
        finally:
            await opened.response.aclose()
            prompt_tokens = int(usage.get("prompt_tokens") or call.prompt_estimate)
            completion_tokens = int(usage.get("completion_tokens") or chunks)
            future = self._finish(call, status if finished or status == 502 else 499, prompt_tokens,
                                  completion_tokens, "".join(pieces))
            self.metrics.inflight.dec()
        if finished:
            with contextlib.suppress(Exception):
                await self._commit(future)  # committed before the client sees the end
            yield b"data: [DONE]\n\n"

    async def models(self, request: Request) -> Response:
        request_id = uuid.uuid4().hex
        try:
            key = self._authenticate(request)
        except GatewayError as exc:
            return exc.response(request_id)
        data = [{"id": name, "object": "model", "created": 0, "owned_by": "fathom"}
                for name in self.config.models if key.allows(name)]
        return JSONResponse({"object": "list", "data": data})


def _last_user(messages: list[dict[str, Any]]) -> str | None:
    for message in reversed(messages):
        if message.get("role") == "user" and isinstance(message.get("content"), str):
            return str(message["content"])
    return None


def _content_chunk(template: dict[str, Any] | None, guard: StreamGuard, *, text: str | None = None,
                   final: bool = False) -> bytes:
    """A chunk carrying released text, or (``final``) the guardrail's refusal with ``content_filter``."""
    base = dict(template or {"object": "chat.completion.chunk"})
    if final:
        verdict = guard.verdict
        message = verdict.message if verdict is not None else None
        choice = {"index": 0, "delta": {"content": message or ""}, "finish_reason": "content_filter"}
    else:
        choice = {"index": 0, "delta": {"content": text or ""}, "finish_reason": None}
    return b"data: " + orjson.dumps({**base, "choices": [choice]}) + b"\n\n"


def create_gateway(config: GatewayConfig, **components: Any) -> Starlette:
    """The ASGI app of a gateway (``components``: ``store=``, ``keys=``, ``ledger=`` for :class:`Gateway`).

    The :class:`Gateway` is ``app.state.gateway``; it starts health checks when the app starts and closes
    (the ledger drained, connections closed) when it stops.
    """
    gateway = Gateway(config, **components)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "upstreams": {n: gateway.pool.is_up(n) for n in config.upstreams}})

    async def metrics(request: Request) -> Response:
        return Response(gateway.metrics.render(), media_type="text/plain; version=0.0.4")

    async def not_found(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        message = (f"No route {request.method} {request.url.path}. The gateway serves POST /v1/chat/completions, "
                   f"GET /v1/models, /health and /metrics.")
        return JSONResponse(openai_error(message, code="not_found" if status == 404 else "method_not_allowed"),
                            status_code=status)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        gateway.pool.start()
        try:
            yield
        finally:
            await gateway.aclose()

    app = Starlette(routes=[WebRoute("/v1/chat/completions", gateway.chat, methods=["POST"]),
                            WebRoute("/v1/models", gateway.models, methods=["GET"]),
                            WebRoute("/health", health, methods=["GET"]),
                            WebRoute("/metrics", metrics, methods=["GET"])],
                    exception_handlers={404: not_found, 405: not_found}, lifespan=lifespan)
    app.state.gateway = gateway
    max_bytes = int(config.max_body_mb * 1_000_000)
    app.add_middleware(BodyLimit, max_bytes=max_bytes)
    return _ChatFastPath(app, gateway, max_bytes)  # type: ignore[return-value]  # Starlette's interface


class _ChatFastPath:
    """``POST /v1/chat/completions`` straight to :meth:`Gateway.chat`; everything else to the Starlette app.

    Starlette's middleware stack and router cost about a tenth of a chat request's time in the gateway;
    ``chat`` needs none of them (it answers every error itself, in OpenAI's shape), only the body limit,
    which it keeps. Attribute access (``app.state``, ``app.routes``) goes to the Starlette app.
    """

    def __init__(self, app: Starlette, gateway: Gateway, max_bytes: int):
        self._app = app
        self._chat = BodyLimit(self._serve_chat, max_bytes=max_bytes)
        self._gateway = gateway

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app, name)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/v1/chat/completions" and scope["method"] == "POST":
            await self._chat(scope, receive, send)
        else:
            await self._app(scope, receive, send)

    async def _serve_chat(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        response = await self._gateway.chat(Request(scope, receive))
        await response(scope, receive, send)

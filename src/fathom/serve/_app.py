"""The OpenAI-compatible web app: ``/v1/chat/completions``, ``/v1/models``, ``/health``.

:func:`create_app` wraps any :class:`~fathom.backends.Backend`; concurrent requests are
micro-batched (:class:`~fathom.serve.Batcher`) into one ``generate`` call. The app is plain FastAPI,
so it can be mounted, wrapped (the gateway) or driven in-process with ``httpx.ASGITransport``.

Adapters on demand (:mod:`._routes`): a backend with LoRA adapters registered (its ``adapters`` list) is
served as the base name plus ``base:adapter`` for each adapter and any aliases; a request's ``model``
picks its adapter (``ChatRequest.adapter``), and a batch mixing adapters goes to the backend as one call
(the backend groups it).

Covers, for every backend:

* Limits one request cannot get past (:mod:`._limits`): a body over ``max_body_mb`` is a 413 before
  it is read; ``max_tokens`` over ``max_tokens_cap`` or not below the model's context is a 400 with
  the numbers (refused, not clamped); a prompt too long for the context is a 400 (by character count
  before tokenising, then by the backend's token count).
* ``stream: true``: server-sent events as the backend's ``on_text`` delivers text (:mod:`._stream`);
  a backend that cannot stream delivers it all at once. Tool calls are sent at the end.
* Cancelling: a request whose client disconnects (streaming or not, queued or generating) has its
  ``cancel`` event set, so its batch slot frees at once.
* ``tool_choice`` ``"required"`` or a named function: checked, retried once with a nudge, then a 422
  (:mod:`._toolchoice`); with ``stream`` the checked answer is sent as one burst of chunks.
* Errors, all in OpenAI's shape: 400 for a bad request (every problem listed; a ``ConfigError`` from
  the backend), 404 for an unknown model (listing those served) or route, 405, 413, 422, 502 for a
  backend failure (logged; with its traceback when Fathom did not foresee it), 503 when the batcher is
  closed or full.

Not covered: authentication, rate limits, usage ledgers (the gateway's job), ``n > 1``, the legacy
``/v1/completions`` endpoint.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from concurrent.futures import CancelledError
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from fathom.backends import Backend, ChatRequest, Completion
from fathom.errors import ConfigError, FathomError
from fathom.serve._batcher import Batcher, Unavailable
from fathom.serve._limits import BodyLimit, check_prompt_size, request_sampling
from fathom.serve._routes import ModelRoutes
from fathom.serve._schema import ApiError, ChatCompletionBody, openai_error
from fathom.serve._stream import (
    ClientGone,
    ContentFilter,
    SSEResponse,
    TextPipe,
    chunk_event,
    ending_events,
    error_event,
    replay_events,
)
from fathom.serve._toolchoice import nudged, obeys, refusal

__all__ = ["create_app"]

_log = logging.getLogger("fathom.serve")
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


def _choice(completion: Completion, body: ChatCompletionBody) -> tuple[dict[str, Any], str]:
    """The response message and finish reason; without tools on, calls in the text stay plain text."""
    message = dict(completion.message)
    reason = completion.finish_reason
    if not body.tools_on and message.get("tool_calls"):
        message = {"role": "assistant", "content": completion.text.strip()}
        reason = "length" if reason == "length" else "stop"
    message.setdefault("role", "assistant")
    return message, reason


def _failure(exc: BaseException) -> ApiError:
    """The HTTP error for an exception from submitting or generating a request."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, ConfigError):
        return ApiError(400, str(exc))
    if isinstance(exc, Unavailable):
        return ApiError(503, f"The server cannot take this request now: {exc}.", type_="server_error",
                        code="unavailable", headers={"Retry-After": "1"})
    if isinstance(exc, FathomError):  # foreseen (an HTTP backend gave up, ...): the message says why
        _log.error("the model backend failed: %s: %s", type(exc).__name__, exc)
    else:
        _log.error("the model backend failed: %s: %s", type(exc).__name__, exc, exc_info=exc)
    return ApiError(502, f"The model backend failed ({type(exc).__name__}: {exc}); see the server log for details.",
                    type_="server_error", code="backend_error")


def _outcome(pipe: TextPipe) -> Completion:
    """The finished request's completion; :class:`ApiError` when it failed."""
    assert pipe.future is not None and pipe.future.done()
    try:
        return pipe.future.result()
    except CancelledError as exc:  # only we cancel, and only once the client has gone
        raise ClientGone() from exc
    except Exception as exc:
        raise _failure(exc) from exc


def _gone() -> Response:
    """The answer to a client that has left (nobody reads it; uvicorn drops it)."""
    return JSONResponse(openai_error("The client closed the connection.", code="client_closed"), status_code=499)


class _Chats:
    """Running chat requests through the batcher, watching the client while they wait."""

    def __init__(self, batcher: Batcher):
        self.batcher = batcher

    def submit(self, chat: ChatRequest, *, stream: bool) -> TextPipe:
        pipe = TextPipe(asyncio.get_running_loop(), threading.Event())
        chat = dataclasses.replace(chat, on_text=pipe.on_text if stream else None, cancel=pipe.cancel)
        try:
            pipe.watch(self.batcher.submit(chat))
        except Unavailable as exc:
            raise _failure(exc) from exc
        return pipe

    async def complete(self, chat: ChatRequest, http: Request) -> Completion:
        """The completion of ``chat``; :class:`ClientGone` (request cancelled) if the client leaves."""
        pipe = self.submit(chat, stream=False)
        try:
            while await pipe.next(http) is not None:
                pass
        except BaseException:  # ClientGone, or this task cancelled (server stopping)
            pipe.abandon()
            raise
        return _outcome(pipe)

    async def forced_call(self, chat: ChatRequest, body: ChatCompletionBody, http: Request) -> Completion:
        """A completion obeying ``tool_choice`` "required" or a named function, asking twice at most."""
        first = await self.complete(chat, http)
        if obeys(first, body):
            return first
        second = await self.complete(dataclasses.replace(chat, messages=nudged(chat.messages, body)), http)
        if not obeys(second, body):
            raise refusal(second, body)
        return dataclasses.replace(second, prompt_tokens=first.prompt_tokens + second.prompt_tokens,
                                   completion_tokens=first.completion_tokens + second.completion_tokens)

    async def stream(self, chat: ChatRequest, body: ChatCompletionBody, http: Request,
                     head: dict[str, Any]) -> Response:
        """Server-sent events as text arrives. Waits for the first piece, so that a request failing
        before any text gets a real status code."""
        pipe = self.submit(chat, stream=True)
        try:
            first = await pipe.next(http)
        except BaseException:
            pipe.abandon()
            raise
        if first is None:
            _outcome(pipe)  # raises for a failure; a success is sent by _events
        return SSEResponse(_events(pipe, first, body, http, head), on_close=pipe.abandon)


async def _events(pipe: TextPipe, first: str | None, body: ChatCompletionBody, http: Request,
                  head: dict[str, Any]) -> AsyncGenerator[str, None]:
    """The events of a streamed request, from its first piece of text (None: it sent none) to the end."""
    content = ContentFilter(tools_on=body.tools_on)
    yield chunk_event(head, {"role": "assistant", "content": ""})
    piece = first
    try:
        while piece is not None:
            delta = content.feed(piece)
            if delta:
                yield chunk_event(head, {"content": delta})
            piece = await pipe.next(http)
        completion = _outcome(pipe)
    except ClientGone:
        return
    except ApiError as exc:
        yield error_event(exc.body)
        return
    message, reason = _choice(completion, body)
    usage = completion.usage() if body.stream_options and body.stream_options.include_usage else None
    for event in ending_events(head, message, reason, usage, content):
        yield event


def _openai_error_handlers(app: FastAPI) -> None:
    """Every HTTP error (404, 405, ...) and any unexpected exception answered in OpenAI's error shape."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        allowed = (exc.headers or {}).get("Allow")
        if exc.status_code == 405 and allowed:
            message = f"{request.method} is not allowed on {request.url.path}; use {allowed}."
        else:
            message = f"{exc.detail} ({request.method} {request.url.path})."
        return JSONResponse(openai_error(message, code=_HTTP_CODES.get(exc.status_code)),
                            status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if errors and errors[0].get("type") == "json_invalid":  # loc holds the character position, not a field
            why = (errors[0].get("ctx") or {}).get("error", "malformed")
            message = f"body: the body is not valid JSON ({why} at character {errors[0]['loc'][-1]})"
            return JSONResponse(openai_error(message), status_code=400)
        problems = [f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}" for e in errors]
        param = ".".join(str(p) for p in errors[0]["loc"][1:]) if errors else None
        return JSONResponse(openai_error("; ".join(problems), param=param or None), status_code=400)

    @app.exception_handler(Exception)  # Starlette re-raises it afterwards, so uvicorn logs the traceback
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(openai_error(f"Internal server error ({type(exc).__name__}); see the server log.",
                                         type_="server_error"), status_code=500)


def _check_settings(default_max_tokens: int, max_tokens_cap: int, max_body_mb: float, max_queued: int) -> None:
    problems = []
    if not 1 <= default_max_tokens <= max_tokens_cap:
        problems.append(f"default_max_tokens must be between 1 and max_tokens_cap ({max_tokens_cap}), "
                        f"got {default_max_tokens}")
    if max_body_mb <= 0:
        problems.append(f"max_body_mb must be above 0, got {max_body_mb}")
    if max_queued < 1:
        problems.append(f"max_queued must be at least 1, got {max_queued}")
    if problems:
        raise ConfigError(problems, title="invalid server settings")


def create_app(backend: Backend, *, model_name: str | None = None, max_batch_size: int = 8,
               batch_window_ms: float = 10.0, default_max_tokens: int = 256, default_temperature: float = 1.0,
               max_tokens_cap: int = 4096, max_body_mb: float = 1.0, max_queued: int = 1024,
               aliases: Mapping[str, str] | None = None) -> FastAPI:
    """An OpenAI-compatible FastAPI app serving one backend.

    Args:
        backend: what generates (any :class:`~fathom.backends.Backend`; its optional
            ``context_length`` attribute bounds prompt and answer, and its optional ``adapters`` list
            names the LoRA adapters served as ``model_name:adapter``).
        model_name: the base model's name, which clients request and ``/v1/models`` lists first
            (default: the backend's).
        max_batch_size: most requests generated together.
        batch_window_ms: how long the first request of a batch waits for company.
        default_max_tokens: the limit when a request sets neither ``max_tokens`` nor
            ``max_completion_tokens``.
        default_temperature: the temperature when a request sets none (OpenAI's default is 1).
        max_tokens_cap: most tokens one request may ask for; asking for more is a 400.
        max_body_mb: largest request body in megabytes (10**6 bytes); a larger one is a 413.
        max_queued: most requests waiting for a batch; beyond it requests get a 503.
        aliases: more model names for adapters, ``{alias: adapter name}``.

    Raises:
        ConfigError: the settings contradict each other, or an alias names no adapter of the backend
            (every problem listed).

    The batcher is stored as ``app.state.batcher`` (its ``stats`` count batches); it stops when the
    app shuts down. ``app.state.routes`` (:class:`~fathom.serve.ModelRoutes`) holds the model names served.
    """
    _check_settings(default_max_tokens, max_tokens_cap, max_body_mb, max_queued)
    name = model_name or backend.model_name
    routes = ModelRoutes(name, list(getattr(backend, "adapters", None) or []), aliases)
    context = getattr(backend, "context_length", None)
    context_length = context if isinstance(context, int) and context > 0 else None
    batcher = Batcher(backend, max_batch_size=max_batch_size, window_s=batch_window_ms / 1000, max_queued=max_queued)
    chats = _Chats(batcher)
    created = int(time.time())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await asyncio.to_thread(batcher.close)

    app = FastAPI(title="Fathom", summary=f"OpenAI-compatible server for {name}", lifespan=lifespan)
    app.add_middleware(BodyLimit, max_bytes=int(max_body_mb * 1_000_000))
    app.state.batcher = batcher
    app.state.model_name = name
    app.state.routes = routes
    _openai_error_handlers(app)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "model": name}

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return routes.listing(created)

    @app.post("/v1/chat/completions", response_model=None)
    async def chat_completions(body: ChatCompletionBody, http: Request) -> Response:
        adapter = routes.adapter_for(body.model)
        check_prompt_size(body, context_length)
        sampling = request_sampling(body, default_max_tokens=default_max_tokens,
                                    default_temperature=default_temperature, max_tokens_cap=max_tokens_cap,
                                    context_length=context_length)
        chat = ChatRequest(messages=body.chat_messages(), tools=body.tool_dicts(), sampling=sampling, adapter=adapter)
        head = {"id": f"chatcmpl-{uuid.uuid4().hex}", "created": int(time.time()), "model": body.model or name}
        try:
            if body.stream and not (body.tool_choice == "required" or body.forced_tool):
                return await chats.stream(chat, body, http, {**head, "object": "chat.completion.chunk"})
            if body.tool_choice == "required" or body.forced_tool:
                completion = await chats.forced_call(chat, body, http)
            else:
                completion = await chats.complete(chat, http)
        except ClientGone:
            return _gone()
        message, reason = _choice(completion, body)
        if body.stream:
            usage = completion.usage() if body.stream_options and body.stream_options.include_usage else None
            events = replay_events({**head, "object": "chat.completion.chunk"}, message, reason, usage)
            return SSEResponse(events, on_close=lambda: None)
        return JSONResponse({**head, "object": "chat.completion",
                             "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": reason}],
                             "usage": completion.usage()})

    return app

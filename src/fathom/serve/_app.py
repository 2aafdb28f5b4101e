"""The OpenAI-compatible web app: ``/v1/chat/completions``, ``/v1/models``, ``/health``.

:func:`create_app` wraps any :class:`~fathom.backends.Backend`; concurrent requests are
micro-batched (:class:`~fathom.serve.Batcher`) into one ``generate`` call. The app is plain FastAPI,
so it can be mounted, wrapped (the gateway) or driven in-process with ``httpx.ASGITransport``.
Every error is in OpenAI's error shape: a 400 for a bad request listing every problem, 404 and 405
for unknown routes and methods, a 502 (logged with its traceback) when the backend raises something
Fathom did not foresee. ``stream: true`` is answered as server-sent events in OpenAI's chunk
format, but the text arrives in one chunk once generation is done (the backends do not stream
tokens).

Not covered: authentication, rate limits, usage ledgers, adapters per request (the gateway's job).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from fathom.backends import Backend, ChatRequest, Completion, Sampling
from fathom.errors import ConfigError, FathomError
from fathom.serve._batcher import Batcher
from fathom.serve._schema import ChatCompletionBody, openai_error

__all__ = ["create_app"]

_log = logging.getLogger("fathom.serve")
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


def _sampling(body: ChatCompletionBody, *, default_max_tokens: int, default_temperature: float) -> Sampling:
    return Sampling(max_tokens=body.max_completion_tokens or body.max_tokens or default_max_tokens,
                    temperature=default_temperature if body.temperature is None else body.temperature,
                    top_p=1.0 if body.top_p is None else body.top_p, stop=tuple(body.stop or ()), seed=body.seed)


def _choice(completion: Completion, tool_choice: str | None) -> tuple[dict[str, Any], str]:
    """The response message and finish reason; with ``tool_choice="none"`` calls stay plain text."""
    message = dict(completion.message)
    reason = completion.finish_reason
    if tool_choice == "none" and message.get("tool_calls"):
        message = {"role": "assistant", "content": completion.text}
        reason = "length" if reason == "length" else "stop"
    message.setdefault("role", "assistant")
    return message, reason


def _stream(head: dict[str, Any], message: dict[str, Any], reason: str, usage: dict[str, int] | None) -> Iterator[str]:
    """OpenAI ``chat.completion.chunk`` events for a finished completion."""
    def event(delta: dict[str, Any], finish: str | None = None) -> str:
        chunk = {**head, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    yield event({"role": "assistant", "content": ""})
    if message.get("content"):
        yield event({"content": message["content"]})
    if message.get("tool_calls"):
        yield event({"tool_calls": [{"index": i, **call} for i, call in enumerate(message["tool_calls"])]})
    yield event({}, reason)
    if usage is not None:
        yield f"data: {json.dumps({**head, 'choices': [], 'usage': usage})}\n\n"
    yield "data: [DONE]\n\n"


def _backend_failure(exc: Exception) -> JSONResponse:
    """A 502 in OpenAI's shape for an exception from the backend; the traceback goes to the log."""
    _log.error("the model backend failed: %s: %s", type(exc).__name__, exc, exc_info=exc)
    message = f"The model backend failed ({type(exc).__name__}: {exc}); see the server log for details."
    return JSONResponse(openai_error(message, type_="server_error", code="backend_error"), status_code=502)


def _openai_error_handlers(app: FastAPI) -> None:
    """Every HTTP error (404, 405, ...) and any unexpected exception answered in OpenAI's error shape."""

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        allowed = (exc.headers or {}).get("Allow")
        if exc.status_code == 405 and allowed:
            message = f"{request.method} is not allowed on {request.url.path}; use {allowed}."
        else:
            message = f"{exc.detail} ({request.method} {request.url.path})."
        return JSONResponse(openai_error(message, code=_HTTP_CODES.get(exc.status_code)),
                            status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)  # Starlette re-raises it afterwards, so uvicorn logs the traceback
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(openai_error(f"Internal server error ({type(exc).__name__}); see the server log.",
                                         type_="server_error"), status_code=500)


def create_app(backend: Backend, *, model_name: str | None = None, max_batch_size: int = 8,
               batch_window_ms: float = 10.0, default_max_tokens: int = 256,
               default_temperature: float = 1.0) -> FastAPI:
    """An OpenAI-compatible FastAPI app serving one backend.

    Args:
        backend: what generates (any :class:`~fathom.backends.Backend`).
        model_name: the name clients request and ``/v1/models`` lists (default: the backend's).
        max_batch_size: most requests generated together.
        batch_window_ms: how long the first request of a batch waits for company.
        default_max_tokens: the limit when a request sets neither ``max_tokens`` nor
            ``max_completion_tokens``.
        default_temperature: the temperature when a request sets none (OpenAI's default is 1).

    The batcher is stored as ``app.state.batcher`` (its ``stats`` count batches); it stops when the
    app shuts down.
    """
    name = model_name or backend.model_name
    batcher = Batcher(backend, max_batch_size=max_batch_size, window_s=batch_window_ms / 1000)
    created = int(time.time())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await asyncio.to_thread(batcher.close)

    app = FastAPI(title="Fathom", summary=f"OpenAI-compatible server for {name}", lifespan=lifespan)
    app.state.batcher = batcher
    app.state.model_name = name

    _openai_error_handlers(app)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}" for e in exc.errors()]
        param = ".".join(str(p) for p in exc.errors()[0]["loc"][1:]) if exc.errors() else None
        return JSONResponse(openai_error("; ".join(problems), param=param or None), status_code=400)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "model": name}

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": name, "object": "model", "created": created, "owned_by": "fathom"}]}

    @app.post("/v1/chat/completions", response_model=None)
    async def chat_completions(body: ChatCompletionBody) -> JSONResponse | StreamingResponse:
        if body.model and body.model != name:
            return JSONResponse(openai_error(f"The model {body.model!r} does not exist here; this server serves "
                                             f"{name!r} (see /v1/models).", param="model", code="model_not_found"),
                                status_code=404)
        try:
            sampling = _sampling(body, default_max_tokens=default_max_tokens, default_temperature=default_temperature)
            request = ChatRequest(messages=body.chat_messages(), tools=body.tool_dicts(), sampling=sampling)
            completion = await asyncio.wrap_future(batcher.submit(request))
        except ConfigError as exc:
            return JSONResponse(openai_error(str(exc)), status_code=400)
        except FathomError as exc:
            return JSONResponse(openai_error(str(exc), type_="server_error"), status_code=500)
        except Exception as exc:  # the backend failed in a way Fathom did not foresee: a bad gateway, logged
            return _backend_failure(exc)
        message, reason = _choice(completion, body.tool_choice)
        head = {"id": f"chatcmpl-{uuid.uuid4().hex}", "created": int(time.time()), "model": name}
        if body.stream:
            usage = completion.usage() if body.stream_options and body.stream_options.include_usage else None
            return StreamingResponse(_stream({**head, "object": "chat.completion.chunk"}, message, reason, usage),
                                     media_type="text/event-stream")
        return JSONResponse({**head, "object": "chat.completion",
                             "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": reason}],
                             "usage": completion.usage()})

    return app

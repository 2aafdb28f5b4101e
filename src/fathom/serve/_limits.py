"""What one request may ask of the server: body size, prompt size and token limits.

Covers:

* :class:`BodyLimit`, an ASGI middleware that answers 413 (OpenAI's error shape) to a body over the
  limit without reading it: at once when ``Content-Length`` says so, and as soon as the bytes read
  pass the limit when the body is chunked. At most the limit is ever held in memory; uvicorn reads
  and drops the rest of the body after the answer and keeps the connection (closing it at once
  resets it under a client still sending, and many clients then lose the 413).
* :func:`request_sampling`, the request's sampling settings after the token checks: ``max_tokens``
  (or ``max_completion_tokens``) above the server's cap, or not below the model's context, is a 400
  with the numbers (never silently clamped); a request that sets none gets
  ``min(default_max_tokens, cap)``.
* :func:`check_prompt_size`: a prompt with more characters than the model's context could hold at
  :data:`CHARS_PER_TOKEN_MAX` characters a token is a 400 before anything tokenises it. The exact
  check, prompt tokens against the context, is the backend's (TransformersBackend raises a
  ``ConfigError`` with the counts, answered 400; a row whose prompt leaves less room than its
  ``max_tokens`` ends at the context with ``finish_reason="length"``).

Not covered: rate limits and per-key quotas (the gateway's), limits on the number of messages
(the body limit bounds them).
"""

from __future__ import annotations

import json
from typing import Any

from fathom.backends import Sampling
from fathom.serve._schema import ApiError, ChatCompletionBody, openai_error

__all__ = ["CHARS_PER_TOKEN_MAX", "BodyLimit", "check_prompt_size", "request_sampling"]

CHARS_PER_TOKEN_MAX = 16
"""More characters a token than any real text averages (English is about 4): a prompt longer than
``CHARS_PER_TOKEN_MAX * context`` characters cannot fit and is refused without tokenising it."""

Scope = dict[str, Any]
Message = dict[str, Any]


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``max_bytes`` with 413, reading at most that much.

    The body is read here (up to the limit) and handed to the app in one piece; later ``receive``
    calls (disconnect checks) go to the server as usual.

    Args:
        app: the ASGI app to protect.
        max_bytes: the largest body accepted.
    """

    def __init__(self, app: Any, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send, f"{int(declared)} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message: Message = await receive()
            if message["type"] != "http.request":  # the client left while sending: nothing to answer
                return
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(send, f"more than {self.max_bytes} bytes (chunked)")
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return dict(await receive())

        await self.app(scope, replay, send)

    async def _refuse(self, send: Any, got: str) -> None:
        limit_mb = self.max_bytes / 1_000_000
        payload = json.dumps(openai_error(
            f"The request body is {got}; this server accepts at most {self.max_bytes} bytes ({limit_mb:g} MB). "
            f"Send a shorter conversation, or start the server with a larger --max-body-mb.",
            code="request_too_large")).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": payload, "more_body": False})


def request_sampling(body: ChatCompletionBody, *, default_max_tokens: int, default_temperature: float,
                     max_tokens_cap: int, context_length: int | None) -> Sampling:
    """The request's sampling settings; :class:`ApiError` (400) when its token limit is too large."""
    asked = body.max_completion_tokens or body.max_tokens
    param = "max_completion_tokens" if body.max_completion_tokens else "max_tokens"
    if asked is not None and asked > max_tokens_cap:
        raise ApiError(400, f"{param} is {asked}, but this server generates at most {max_tokens_cap} tokens a "
                            f"request (fathom serve --max-tokens-cap); ask for {max_tokens_cap} or fewer.",
                       param=param, code="max_tokens_too_large")
    if asked is not None and context_length is not None and asked >= context_length:
        raise ApiError(400, f"{param} is {asked}, but the model's context holds {context_length} tokens for the "
                            f"prompt and the answer together; ask for fewer than {context_length}.",
                       param=param, code="context_length_exceeded")
    return Sampling(max_tokens=asked or min(default_max_tokens, max_tokens_cap),
                    temperature=default_temperature if body.temperature is None else body.temperature,
                    top_p=1.0 if body.top_p is None else body.top_p, stop=tuple(body.stop or ()), seed=body.seed)


def check_prompt_size(body: ChatCompletionBody, context_length: int | None) -> None:
    """:class:`ApiError` (400) when the messages cannot fit the context whatever the tokeniser."""
    if context_length is None:
        return
    chars, most = body.prompt_chars(), CHARS_PER_TOKEN_MAX * context_length
    if chars > most:
        raise ApiError(400, f"The messages and tools hold {chars} characters; the model's context holds "
                            f"{context_length} tokens, which no text over {most} characters fits. "
                            f"Shorten the conversation.", param="messages", code="context_length_exceeded")

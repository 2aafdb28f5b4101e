"""A scripted OpenAI-compatible upstream for the gateway tests, served for real on 127.0.0.1 (port 0).

The answer is the last user message echoed back (``"echo: <text>"``), with honest ``usage`` (whitespace
words as tokens); ``stream: true`` sends it one word per chunk ``delay_s`` apart (and the usage chunk when
asked). Special user messages: ``"weather in X"`` answers with a ``get_weather`` tool call; ``"say: T"``
answers exactly T (split into the chunks given by ``|``); ``"reveal contact"`` answers with an e-mail address
cut across two chunks. ``fail_with`` makes every request answer that
HTTP status. Every request body received is kept in ``bodies``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from fathom.serve import RunningServer, start_server


class ScriptedUpstream:
    def __init__(self, name: str = "up", delay_s: float = 0.0):
        self.name = name
        self.delay_s = delay_s
        self.fail_with: int | None = None
        self.bodies: list[dict[str, Any]] = []
        self.finished = threading.Event()
        self._lock = threading.Lock()

    def pieces(self, body: dict[str, Any]) -> list[str]:
        text = next((m["content"] for m in reversed(body["messages"]) if m.get("role") == "user"), "")
        text = text if isinstance(text, str) else json.dumps(text)
        if text.startswith("say: "):
            return text[len("say: "):].split("|")
        if text == "reveal contact":  # an e-mail address the request did not contain, cut across chunks
            return ["Write to ", "ops@exam", "ple.com today."]
        words = f"echo: {text}".split(" ")
        return [w if i == 0 else " " + w for i, w in enumerate(words)]

    def _usage(self, body: dict[str, Any], completion: int) -> dict[str, int]:
        prompt = sum(len(str(m.get("content") or "").split()) + 3 for m in body["messages"])
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    @staticmethod
    def _tool_call(body: dict[str, Any]) -> dict[str, Any] | None:
        text = str(body["messages"][-1].get("content") or "")
        if not text.startswith("weather in "):
            return None
        return {"id": "call_1", "type": "function",
                "function": {"name": "get_weather", "arguments": json.dumps({"city": text[len("weather in "):]})}}

    async def chat(self, request: Request) -> Response:
        body = await request.json()
        with self._lock:
            self.bodies.append(body)
        if self.fail_with is not None:
            return JSONResponse({"error": {"message": "scripted failure", "type": "server_error"}},
                                status_code=self.fail_with)
        self.finished.clear()
        call = self._tool_call(body)
        pieces = [] if call else self.pieces(body)
        limit = body.get("max_tokens") or body.get("max_completion_tokens") or 10_000
        pieces = pieces[:limit]
        base = {"id": "chatcmpl-up", "created": int(time.time()), "model": body["model"]}
        if not body.get("stream"):
            self.finished.set()
            message: dict[str, Any] = {"role": "assistant", "content": None if call else "".join(pieces)}
            if call:
                message["tool_calls"] = [call]
            return JSONResponse({**base, "object": "chat.completion", "choices": [
                {"index": 0, "message": message, "finish_reason": "tool_calls" if call else "stop"}],
                "usage": self._usage(body, 1 if call else len(pieces))})

        async def events() -> AsyncIterator[bytes]:
            chunk = {**base, "object": "chat.completion.chunk"}
            if call:
                deltas = [{"role": "assistant", "tool_calls": [{"index": 0, **call}]}]
            else:
                deltas = [{"role": "assistant", "content": p} for p in pieces]
            for i, delta in enumerate(deltas):
                last = i == len(deltas) - 1
                reason = ("tool_calls" if call else "stop") if last else None
                choice = {"index": 0, "delta": delta, "finish_reason": reason}
                yield f"data: {json.dumps({**chunk, 'choices': [choice]})}\n\n".encode()
                if self.delay_s:
                    await asyncio.sleep(self.delay_s)
            if (body.get("stream_options") or {}).get("include_usage"):
                usage = self._usage(body, 1 if call else len(pieces))
                yield f"data: {json.dumps({**chunk, 'choices': [], 'usage': usage})}\n\n".encode()
            self.finished.set()
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    async def models(self, request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": "m", "object": "model"}]})

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/chat/completions", self.chat, methods=["POST"]),
                                 Route("/v1/models", self.models, methods=["GET"])])


@contextmanager
def running(upstream: ScriptedUpstream) -> Iterator[RunningServer]:
    with start_server(upstream.app(), port=0) as server:
        yield server

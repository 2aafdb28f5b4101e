"""The scripted teacher (``tests/synth/_script.py``) as an OpenAI-compatible server on 127.0.0.1, port 0.

``GET /v1/models`` lists ``teacher``; ``POST /v1/chat/completions`` answers with the script after
``latency_s`` (an asyncio sleep, so concurrent requests overlap). ``ERROR500`` chunks fail their first
request with HTTP 500, ``DOWN`` chunks every one. ``requests`` counts chat requests per chunk id
(repairs and failed attempts included); ``models_calls`` counts preflights.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from tests.synth._script import answer_text, chunk_of

from fathom.serve import start_server


class TeacherServer:
    def __init__(self, latency_s: float = 0.0):
        self.latency_s = latency_s
        self.requests: Counter[str] = Counter()
        self.models_calls = 0
        self._lock = threading.Lock()

    async def chat(self, request: Request) -> Response:
        body = await request.json()
        chunk_id, text = chunk_of(body["messages"])
        with self._lock:
            self.requests[chunk_id] += 1
            attempt = self.requests[chunk_id]
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        if "DOWN" in text or ("ERROR500" in text and attempt == 1):
            return JSONResponse({"error": {"message": "scripted failure", "type": "server_error"}}, status_code=500)
        content = answer_text(body["messages"])
        return JSONResponse({"id": "chatcmpl-t", "object": "chat.completion", "model": body["model"],
                             "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                          "finish_reason": "stop"}],
                             "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})

    async def models(self, request: Request) -> Response:
        with self._lock:
            self.models_calls += 1
        return JSONResponse({"object": "list", "data": [{"id": "teacher", "object": "model"}]})

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/chat/completions", self.chat, methods=["POST"]),
                                 Route("/v1/models", self.models, methods=["GET"])])


@contextmanager
def serving(server: TeacherServer) -> Iterator[str]:
    """Run ``server`` and yield its API root (``http://127.0.0.1:PORT/v1``)."""
    with start_server(server.app(), port=0) as running:
        yield running.url + "/v1"

"""A fast fake OpenAI-compatible upstream for ``gateway_overhead.py``: raw asyncio, no framework.

Run:  .venv/bin/python benchmarks/_fake_upstream.py --port 8001        (serves until SIGINT/SIGTERM)

It answers ``POST /v1/chat/completions`` with one fixed small completion and its ``usage``, as one JSON
body or, with ``"stream": true``, as server-sent events (one chunk per word, a usage chunk when the request
asks ``stream_options.include_usage``, then ``data: [DONE]``), echoing the requested model. ``GET /v1/models``
lists that model, ``GET /health`` answers ``ok`` and ``GET /_last`` returns the body of the last chat request
it received (so the benchmark can check what a gateway forwarded, e.g. masked PII). HTTP/1.1 keep-alive and
pipelining; request bodies by ``Content-Length`` or chunked. The point is to cost as little as possible, so
that a proxy in front of it is what gets measured.

Not covered: anything an upstream would compute (tokenising, sampling), errors, ``/v1/completions``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import time
from typing import Any

__all__ = ["COMPLETION", "USAGE", "serve"]

COMPLETION = "Hello! This is a fixed answer from the fake upstream."
USAGE = {"prompt_tokens": 24, "completion_tokens": 12, "total_tokens": 36}
_STATUS = {200: b"200 OK", 400: b"400 Bad Request", 404: b"404 Not Found"}


def _response(status: int, body: bytes, content_type: bytes = b"application/json", close: bool = False) -> bytes:
    return (b"HTTP/1.1 " + _STATUS[status] + b"\r\ncontent-type: " + content_type
            + b"\r\ncontent-length: " + str(len(body)).encode() + (b"\r\nconnection: close" if close else b"")
            + b"\r\n\r\n" + body)


def _completion(model: str) -> bytes:
    return json.dumps({
        "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": COMPLETION}, "finish_reason": "stop"}],
        "usage": USAGE,
    }).encode()


def _stream(model: str, include_usage: bool, close: bool) -> bytes:
    head = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()), "model": model}
    words = COMPLETION.split(" ")
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    deltas += [{"content": (" " if i else "") + w} for i, w in enumerate(words)]
    events = [{**head, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
    events.append({**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    if include_usage:
        events.append({**head, "choices": [], "usage": USAGE})
    body = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events) + b"data: [DONE]\n\n"
    chunked = hex(len(body))[2:].encode() + b"\r\n" + body + b"\r\n0\r\n\r\n"
    return (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
            b"transfer-encoding: chunked" + (b"\r\nconnection: close" if close else b"") + b"\r\n\r\n" + chunked)


class _Http(asyncio.Protocol):
    """One connection: parse requests out of the buffer as they complete, answer each in order."""

    last: bytes = b"{}"

    def __init__(self) -> None:
        self.buf = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while self.transport is not None:
            parsed = self._next_request()
            if parsed is None:
                return
            method, path, body, close = parsed
            self.transport.write(self._answer(method, path, body, close))
            if close:
                self.transport.close()
                self.transport = None

    def _next_request(self) -> tuple[str, str, bytes, bool] | None:
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        lines = self.buf[:end].decode("latin-1").split("\r\n")
        method, path, version = (lines[0].split(" ") + ["", ""])[:3]
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        rest = self.buf[end + 4:]
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body, used = _dechunk(rest)
            if body is None:
                return None
        else:
            used = int(headers.get("content-length", "0") or 0)
            if len(rest) < used:
                return None
            body = rest[:used]
        self.buf = rest[used:]
        connection = headers.get("connection", "").lower()
        close = connection == "close" or (version == "HTTP/1.0" and connection != "keep-alive")
        return method, path.split("?", 1)[0], body, close

    def _answer(self, method: str, path: str, body: bytes, close: bool) -> bytes:
        if method == "POST" and path.endswith("/chat/completions"):
            _Http.last = body
            try:
                request = json.loads(body)
            except ValueError:
                return _response(400, b'{"error": {"message": "body is not JSON"}}', close=close)
            model = str(request.get("model", "fake"))
            if request.get("stream"):
                include_usage = bool((request.get("stream_options") or {}).get("include_usage"))
                return _stream(model, include_usage, close)
            return _response(200, _completion(model), close=close)
        if method == "GET" and path.endswith("/models"):
            return _response(200, b'{"object": "list", "data": [{"id": "fake-model", "object": "model"}]}', close=close)
        if method == "GET" and path == "/health":
            return _response(200, b"ok", b"text/plain", close=close)
        if method == "GET" and path == "/_last":
            return _response(200, _Http.last, close=close)
        return _response(404, b'{"error": {"message": "not found"}}', close=close)


def _dechunk(data: bytes) -> tuple[bytes | None, int]:
    """The body of a chunked request and the bytes it used, or ``(None, 0)`` while incomplete."""
    body, pos = b"", 0
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            return None, 0
        size = int(data[pos:eol].split(b";")[0], 16)
        start = eol + 2
        if size == 0:
            trailer = data.find(b"\r\n\r\n", eol)
            return (body, trailer + 4) if trailer >= 0 else (None, 0)
        if len(data) < start + size + 2:
            return None, 0
        body += data[start:start + size]
        pos = start + size + 2


async def serve(host: str, port: int) -> None:
    """Serve on ``host:port`` until SIGINT or SIGTERM."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Http, host, port, reuse_address=True, backlog=1024)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"fake upstream on http://{host}:{server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()

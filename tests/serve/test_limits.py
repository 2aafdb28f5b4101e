"""What one hostile request cannot do: oversized bodies (413 before reading them), token limits and prompt
sizes (400 with the numbers), malformed requests (4xx), a full or closed batcher (503). Every error is
in OpenAI's shape."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fathom.backends import ChatRequest, Completion, completion_from_text
from fathom.errors import ConfigError
from fathom.serve import create_app, start_server
from fathom.serve._limits import BodyLimit

MB = 1_000_000


class Recorder:
    """Answers "ok" and records requests; ``context_length`` like a local model; ``gate`` holds generate."""

    supports_batching = True
    model_name = "rec"

    def __init__(self, context_length: int | None = 2048):
        self.context_length = context_length
        self.calls: list[list[ChatRequest]] = []
        self.gate: threading.Event | None = None
        self.entered = threading.Event()

    def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        self.calls.append(list(requests))
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(10)
        return [completion_from_text("ok", finish_reason="stop", prompt_tokens=1, completion_tokens=1)
                for _ in requests]


def _request(app: Any, method: str = "POST", path: str = "/v1/chat/completions", **kwargs: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path, **kwargs)
    return asyncio.run(go())


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MB


@pytest.fixture
def recorder() -> Iterator[tuple[Any, Recorder]]:
    backend = Recorder()
    app = create_app(backend, model_name="tiny", max_tokens_cap=1000)
    yield app, backend
    app.state.batcher.close()


def _chat(**extra: Any) -> dict[str, Any]:
    return {"model": "tiny", "messages": [{"role": "user", "content": "Hi"}], **extra}


def test_declared_oversized_body_is_413_without_reading_it() -> None:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        raise AssertionError("the body was read")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def app(*args: Any) -> None:
        raise AssertionError("the app was called")

    scope = {"type": "http", "method": "POST", "path": "/v1/chat/completions",
             "headers": [(b"content-length", str(10 * MB).encode())]}
    asyncio.run(BodyLimit(app, max_bytes=MB)(scope, receive, send))
    assert sent[0]["status"] == 413
    error = json.loads(sent[1]["body"])["error"]
    assert error["code"] == "request_too_large" and "10000000 bytes" in error["message"]
    assert "--max-body-mb" in error["message"]


def test_chunked_body_is_counted_while_read_and_refused_past_the_limit() -> None:
    reads = 0

    async def endless() -> dict[str, Any]:  # a chunked body that never ends
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"x" * 65536, "more_body": True}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/v1/chat/completions", "headers": []}
    asyncio.run(BodyLimit(lambda *a: None, max_bytes=MB)(scope, endless, send))
    assert sent[0]["status"] == 413 and reads == MB // 65536 + 1


def test_a_5mb_body_to_a_real_server_is_413_and_memory_stays_flat() -> None:
    backend = Recorder()
    body = json.dumps({"messages": [{"role": "user", "content": "x" * (5 * MB)}]}).encode()
    with start_server(create_app(backend), port=0) as server, httpx.Client(timeout=30) as client:
        url = server.url + "/v1/chat/completions"
        before = _rss_mb()
        for _ in range(5):
            _error(client.post(url, content=body, headers={"content-type": "application/json"}), 413)
        chunked = client.post(url, content=(body[i:i + 65536] for i in range(0, len(body), 65536)),
                              headers={"content-type": "application/json"})
        assert "chunked" in _error(chunked, 413)["message"]
        grown = _rss_mb() - before
        # the connection survives and the server still answers
        assert client.post(url, json={"messages": [{"role": "user", "content": "Hi"}]}).status_code == 200
    assert grown < 100, f"resident memory grew {grown:.0f} MB"
    assert len(backend.calls) == 1


def test_body_limit_is_configurable() -> None:
    app = create_app(Recorder(), model_name="tiny", max_body_mb=0.002)
    try:
        assert _request(app, json=_chat()).status_code == 200
        _error(_request(app, json=_chat(messages=[{"role": "user", "content": "x" * 3000}])), 413)
    finally:
        app.state.batcher.close()


@pytest.mark.parametrize(("kwargs", "status", "param", "fragment"), [
    ({"content": b"x" * (10 * MB)}, 413, None, "at most 1000000 bytes"),
    ({"content": b'{"messages": [', "headers": {"content-type": "application/json"}}, 400, None,
     "the body is not valid JSON (Expecting value at character 14)"),
    ({"json": {"model": "tiny"}}, 400, "messages", "Field required"),
    ({"json": _chat(max_tokens=-5)}, 400, "max_tokens", "greater than or equal to 1"),
    ({"json": _chat(max_tokens=0)}, 400, "max_tokens", "greater than or equal to 1"),
    ({"json": _chat(model="gpt-4o")}, 404, "model", "'gpt-4o' does not exist here"),
    ({"json": _chat(max_tokens=5000)}, 400, "max_tokens", "max_tokens is 5000, but this server generates at most "
                                                          "1000 tokens a request (fathom serve --max-tokens-cap)"),
    ({"json": _chat(max_completion_tokens=1001)}, 400, "max_completion_tokens", "at most 1000"),
    ({"json": [1, 2]}, 400, None, "valid dictionary"),
])
def test_hostile_and_malformed_requests_get_openai_4xx(recorder: tuple[Any, Recorder], kwargs: dict[str, Any],
                                                      status: int, param: str | None, fragment: str) -> None:
    app, backend = recorder
    error = _error(_request(app, **kwargs), status)
    assert error["param"] == param and fragment in error["message"]
    assert backend.calls == []


def test_max_tokens_must_leave_room_in_the_context() -> None:
    backend = Recorder(context_length=512)
    app = create_app(backend, model_name="tiny", max_tokens_cap=4096)
    try:
        error = _error(_request(app, json=_chat(max_tokens=512)), 400)
        assert error["code"] == "context_length_exceeded"
        assert "max_tokens is 512, but the model's context holds 512 tokens" in error["message"]
        assert _request(app, json=_chat(max_tokens=511)).status_code == 200
    finally:
        app.state.batcher.close()
    assert [r.sampling.max_tokens for [r] in backend.calls] == [511]


def test_unset_max_tokens_is_the_default_within_the_cap() -> None:
    backend = Recorder()
    app = create_app(backend, default_max_tokens=300, max_tokens_cap=300)
    try:
        assert _request(app, json={"messages": [{"role": "user", "content": "Hi"}]}).status_code == 200
    finally:
        app.state.batcher.close()
    assert backend.calls[0][0].sampling.max_tokens == 300


def test_absurdly_long_prompt_is_refused_by_characters_before_tokenising(recorder: tuple[Any, Recorder]) -> None:
    app, backend = recorder
    messages = [{"role": "system", "content": "x" * 20_000}, {"role": "user", "content": "y" * 20_000}]
    error = _error(_request(app, json=_chat(messages=messages)), 400)
    assert error["param"] == "messages" and error["code"] == "context_length_exceeded"
    assert "40000 characters" in error["message"] and "2048 tokens" in error["message"]
    assert backend.calls == []


def test_prompt_over_the_context_in_tokens_is_400_with_the_counts(tiny_model_dir: Path) -> None:
    from fathom.backends import TransformersBackend

    app = create_app(TransformersBackend(str(tiny_model_dir), device="cpu"), model_name="tiny")
    try:
        error = _error(_request(app, json=_chat(messages=[{"role": "user", "content": "word " * 2100}])), 400)
    finally:
        app.state.batcher.close()
    assert "prompt too long" in error["message"] and "holds 2048 tokens" in error["message"]
    assert "the prompt is 21" in error["message"]


def test_a_closed_batcher_is_503() -> None:
    app = create_app(Recorder())
    app.state.batcher.close()
    response = _request(app, json=_chat(model=None))
    error = _error(response, 503)
    assert error["code"] == "unavailable" and "shutting down" in error["message"]
    assert response.headers["retry-after"] == "1"


def test_a_full_queue_is_503_and_the_rest_are_served() -> None:
    backend = Recorder()
    backend.gate = threading.Event()
    app = create_app(backend, max_batch_size=1, batch_window_ms=0, max_queued=1)

    async def go() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            running = asyncio.create_task(client.post("/v1/chat/completions", json=_chat(model=None)))
            await asyncio.to_thread(backend.entered.wait, 10)
            queued = asyncio.create_task(client.post("/v1/chat/completions", json=_chat(model=None)))
            await asyncio.sleep(0.2)
            refused = await client.post("/v1/chat/completions", json=_chat(model=None))
            assert backend.gate is not None
            backend.gate.set()
            return [await running, await queued, refused]

    try:
        responses = asyncio.run(go())
    finally:
        app.state.batcher.close()
    assert [r.status_code for r in responses] == [200, 200, 503]
    assert "1 requests already wait" in responses[2].json()["error"]["message"]


def test_contradictory_settings_are_one_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        create_app(Recorder(), default_max_tokens=500, max_tokens_cap=100, max_body_mb=0, max_queued=0)
    assert len(info.value.problems) == 3

"""Every error the server sends is in OpenAI's shape: a backend that raises something unforeseen
is a logged 502 (not FastAPI's bare 500), unknown routes and methods are 404 and 405."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest

from fathom.backends import ChatRequest, Completion
from fathom.serve import create_app

BODY = {"model": "tiny", "messages": [{"role": "user", "content": "Hi"}]}


class BrokenBackend:
    supports_batching = True
    model_name = "broken"

    def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        raise RuntimeError("CUDA error: device-side assert triggered")


def _request(app: Any, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path, **kwargs)
    return asyncio.run(go())


def _openai_shape(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


@pytest.fixture
def app() -> Any:
    app = create_app(BrokenBackend(), model_name="tiny")
    yield app
    app.state.batcher.close()


def test_unforeseen_backend_exception_is_a_logged_502(app: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="fathom.serve"):
        response = _request(app, "POST", "/v1/chat/completions", json=BODY)
    assert response.status_code == 502
    error = _openai_shape(response)
    assert error["type"] == "server_error" and error["code"] == "backend_error"
    assert "RuntimeError: CUDA error: device-side assert triggered" in error["message"]
    (record,) = [r for r in caplog.records if r.name == "fathom.serve"]
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError


def test_streaming_request_gets_the_same_502(app: Any) -> None:
    response = _request(app, "POST", "/v1/chat/completions", json={**BODY, "stream": True})
    assert response.status_code == 502 and _openai_shape(response)["code"] == "backend_error"


def test_get_on_the_chat_route_is_an_openai_405(app: Any) -> None:
    response = _request(app, "GET", "/v1/chat/completions")
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    error = _openai_shape(response)
    assert error["message"] == "GET is not allowed on /v1/chat/completions; use POST."
    assert error["type"] == "invalid_request_error" and error["code"] == "method_not_allowed"


def test_unknown_route_is_an_openai_404(app: Any) -> None:
    response = _request(app, "POST", "/v1/completion")
    assert response.status_code == 404
    error = _openai_shape(response)
    assert error["code"] == "not_found" and "/v1/completion" in error["message"]


def test_a_bug_outside_the_backend_is_an_openai_500(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import fathom.serve._app as app_module

    def broken_choice(*args: Any) -> Any:
        raise KeyError("content")

    class Fine(BrokenBackend):
        def generate(self, requests: list[ChatRequest]) -> list[Completion]:
            return [Completion({"role": "assistant", "content": "x"}, "x", "stop", 1, 1) for _ in requests]

    monkeypatch.setattr(app_module, "_choice", broken_choice)
    fine = create_app(Fine(), model_name="tiny")
    try:
        response = _request(fine, "POST", "/v1/chat/completions", json=BODY)
    finally:
        fine.state.batcher.close()
    assert response.status_code == 500
    error = _openai_shape(response)
    assert error["type"] == "server_error" and "KeyError" in error["message"]

"""OpenAIHTTPBackend streaming against a real ``fathom serve`` on 127.0.0.1: text arrives as it is generated,
a set ``cancel`` stops the server generating, and adapters are sent as model names.

The server runs the scripted slow backend of the serving tests, which writes one "token" every 50 ms and
records the requests it saw cancelled.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from tests.serve.test_streaming import SlowBackend

from fathom.backends import ChatRequest, OpenAIHTTPBackend, Sampling
from fathom.errors import BackendError, ConfigError
from fathom.serve import RunningServer, create_app, start_server


@pytest.fixture
def slow() -> Iterator[tuple[SlowBackend, RunningServer]]:
    backend = SlowBackend()
    with start_server(create_app(backend, model_name="slow", max_batch_size=1, batch_window_ms=0), port=0) as server:
        yield backend, server


def _long(**fields: object) -> ChatRequest:
    return ChatRequest([{"role": "user", "content": "long"}], sampling=Sampling(max_tokens=64), **fields)


def test_text_reaches_on_text_while_the_server_is_still_generating(slow: tuple[SlowBackend, RunningServer]) -> None:
    backend, server = slow
    pieces: list[str] = []
    early: list[bool] = []

    def on_text(piece: str) -> None:
        if not early:
            early.append(not backend.finished.is_set())
        pieces.append(piece)

    client = OpenAIHTTPBackend(server.url + "/v1", model="slow", retries=0)
    [done] = client.generate([_long(on_text=on_text)])
    assert early == [True] and len(pieces) > 10
    assert "".join(pieces) == done.text == "".join(f" w{i}" for i in range(40)).strip()
    assert done.finish_reason == "stop" and done.completion_tokens == 40  # usage from the last chunk


def test_cancel_closes_the_stream_and_the_server_stops_generating(slow: tuple[SlowBackend, RunningServer]) -> None:
    backend, server = slow
    cancel = threading.Event()
    pieces: list[str] = []

    def on_text(piece: str) -> None:
        pieces.append(piece)
        if len(pieces) == 3:
            cancel.set()

    client = OpenAIHTTPBackend(server.url + "/v1", model="slow", retries=0)
    started = time.monotonic()
    [done] = client.generate([_long(on_text=on_text, cancel=cancel)])
    assert done.finish_reason == "cancelled" and len(pieces) <= 4
    assert time.monotonic() - started < 40 * 0.05  # did not wait for the whole answer
    deadline = time.monotonic() + 5
    while not backend.cancelled and time.monotonic() < deadline:
        time.sleep(0.05)
    assert backend.cancelled == ["long"]  # the server saw the disconnect and freed the slot


def test_streamed_tool_call_deltas_are_joined() -> None:
    events = [
        {"choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": [
            {"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_", "arguments": ""}}]}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "function": {"name": "weather", "arguments": '{"city": '}}]}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '"Oban"}'}}]},
                      "finish_reason": "tool_calls"}]},
        {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 7}},
    ]
    import json

    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    seen: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})

    client = OpenAIHTTPBackend("http://up.test/v1", model="m", transport=httpx.MockTransport(handler),
                               adapter_models={"shipping": "base:shipping"})
    [done] = client.generate([ChatRequest([{"role": "user", "content": "Oban?"}], adapter="shipping",
                                          on_text=lambda _: None)])
    assert seen[0]["stream"] is True and seen[0]["model"] == "base:shipping"
    assert seen[0]["stream_options"] == {"include_usage": True}
    assert done.finish_reason == "tool_calls" and done.message["content"] is None
    assert done.message["tool_calls"] == [{"id": "call_1", "type": "function",
                                           "function": {"name": "get_weather", "arguments": '{"city": "Oban"}'}}]
    assert (done.prompt_tokens, done.completion_tokens) == (9, 7)
    with pytest.raises(ConfigError, match=r"unknown adapter 'shiping'\. Did you mean 'shipping'"):
        client.generate([ChatRequest([{"role": "user", "content": "x"}], adapter="shiping")])


def test_a_stream_that_breaks_after_its_first_chunk_is_an_error_not_a_retry() -> None:
    calls: list[int] = []

    class Broken(httpx.SyncByteStream):
        def __iter__(self):  # type: ignore[no-untyped-def]
            yield b'data: {"choices": [{"index": 0, "delta": {"content": "Gale"}}]}\n\n'
            raise httpx.RemoteProtocolError("peer closed connection")

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(200, stream=Broken(), headers={"content-type": "text/event-stream"})

    pieces: list[str] = []
    client = OpenAIHTTPBackend("http://up.test/v1", model="m", transport=httpx.MockTransport(handler), retries=3,
                               sleep=lambda _: None)
    with pytest.raises(BackendError, match="failed mid-stream"):
        client.generate([ChatRequest([{"role": "user", "content": "x"}], on_text=pieces.append)])
    assert pieces == ["Gale"] and calls == [1]  # sent once, never repeated by a retry

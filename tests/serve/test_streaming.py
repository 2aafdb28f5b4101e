"""Real token streaming and cancel-on-disconnect, against real servers on 127.0.0.1, port 0.

A scripted slow backend calls ``on_text`` once a token with a short sleep, records the cancel events it
saw, and says when it finished, so the tests can tell "streamed as generated" from "sent at the end" and
"slot freed" from "waited for the abandoned generation" without depending on exact timings.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai import APIError, OpenAI

from fathom.backends import ChatRequest, Completion, completion_from_text
from fathom.errors import BackendError
from fathom.serve import RunningServer, create_app, start_server

CALL = '<tool_call>[{"name": "get_weather", "arguments": {"city": "Paris"}}]</tool_call>'
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
TOKEN_S = 0.05


class SlowBackend:
    """Writes the last user message's words one "token" at a time, ``TOKEN_S`` apart, calling ``on_text``
    with each; ``"fail after N"`` raises after N tokens. Stops at once when the request's cancel is set."""

    supports_batching = True
    model_name = "slow"

    def __init__(self, words: int = 40):
        self.words = words
        self.cancelled: list[str] = []
        self.finished = threading.Event()
        self.started = threading.Event()
        self.calls = 0

    def _script(self, request: ChatRequest) -> list[str]:
        text = request.messages[-1]["content"]
        if text.startswith("say "):
            return [text[len("say "):]]
        return [f" w{i}" for i in range(self.words)] if text == "long" else [text]

    def _one(self, request: ChatRequest) -> Completion:
        pieces: list[str] = []
        for piece in self._script(request):
            if request.cancel is not None and request.cancel.is_set():
                self.cancelled.append(request.messages[-1]["content"])
                return completion_from_text("".join(pieces), finish_reason="cancelled", prompt_tokens=3,
                                            completion_tokens=len(pieces))
            if request.messages[-1]["content"] == "fail" and pieces:
                raise BackendError("the slow backend broke mid-answer")
            pieces.append(piece)
            if request.on_text is not None:
                request.on_text(piece)
            time.sleep(TOKEN_S)
        return completion_from_text("".join(pieces), finish_reason="stop", prompt_tokens=3,
                                    completion_tokens=len(pieces))

    def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        self.calls += 1
        self.started.set()
        try:
            return [self._one(r) for r in requests]
        finally:
            self.finished.set()


@pytest.fixture
def slow() -> Iterator[tuple[SlowBackend, RunningServer]]:
    backend = SlowBackend()
    with start_server(create_app(backend, model_name="slow", max_batch_size=1, batch_window_ms=0), port=0) as server:
        yield backend, server


def _client(server: RunningServer) -> OpenAI:
    return OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0, timeout=30)


def _user(text: str) -> list[Any]:
    return [{"role": "user", "content": text}]


def test_first_content_chunk_arrives_while_the_backend_is_still_generating(
        slow: tuple[SlowBackend, RunningServer]) -> None:
    backend, server = slow
    stream = _client(server).chat.completions.create(model="slow", messages=_user("long"), stream=True,
                                                     stream_options={"include_usage": True})
    seen_while_generating = None
    contents, usage = [], None
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            if seen_while_generating is None:
                seen_while_generating = not backend.finished.is_set()
            contents.append(chunk.choices[0].delta.content)
        if chunk.usage is not None:
            usage = chunk.usage
    assert seen_while_generating is True
    assert len(contents) > 10 and "".join(contents) == "".join(f" w{i}" for i in range(40)).strip()
    assert usage is not None and usage.completion_tokens == 40


def test_openai_client_plain_streaming_and_tool_calls() -> None:
    backend = SlowBackend()
    with start_server(create_app(backend, model_name="slow"), port=0) as server:
        client = _client(server)
        plain = client.chat.completions.create(model="slow", messages=_user("say Hello there."))
        assert plain.choices[0].message.content == "Hello there." and plain.choices[0].finish_reason == "stop"
        assert plain.usage is not None and plain.usage.total_tokens == 4
        streamed = client.chat.completions.create(model="slow", messages=_user("say Hello there."), stream=True)
        assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == "Hello there."
        called = client.chat.completions.create(model="slow", messages=_user(f"say Checking. {CALL}"),
                                                tools=TOOLS)  # type: ignore[arg-type]
        [call] = called.choices[0].message.tool_calls or []
        assert called.choices[0].finish_reason == "tool_calls"
        assert (call.function.name, json.loads(call.function.arguments)) == ("get_weather", {"city": "Paris"})
        chunks = list(client.chat.completions.create(model="slow", messages=_user(f"say Checking. {CALL}"),
                                                     tools=TOOLS, stream=True))  # type: ignore[arg-type]
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert "".join(d.content or "" for d in deltas) == "Checking."
    [[streamed_call]] = [d.tool_calls for d in deltas if d.tool_calls]
    assert streamed_call.function is not None and streamed_call.function.name == "get_weather"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"


def test_tool_call_text_is_never_streamed_as_content() -> None:
    class Pieces(SlowBackend):
        def _script(self, request: ChatRequest) -> list[str]:  # the tag arrives cut in two
            return ["Let me ", "check. <to", "ol_c", "all>[{\"name\": \"get_weather\", ", "\"arguments\": {}}]",
                    "</tool_call>"]

    with start_server(create_app(Pieces(), model_name="slow"), port=0) as server:
        chunks = list(_client(server).chat.completions.create(model="slow", messages=_user("x"), tools=TOOLS,
                                                              stream=True))  # type: ignore[arg-type]
    contents = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert contents == ["Let me", " check."]
    assert [c.choices[0].delta.tool_calls[0].function.name for c in chunks  # type: ignore[union-attr,index]
            if c.choices and c.choices[0].delta.tool_calls] == ["get_weather"]


def test_a_failure_after_the_first_chunk_is_an_error_event(slow: tuple[SlowBackend, RunningServer]) -> None:
    backend, server = slow
    backend._script = lambda request: ["one", " two", " three"]  # type: ignore[method-assign]
    stream = _client(server).chat.completions.create(model="slow", messages=_user("fail"), stream=True)
    with pytest.raises(APIError, match="the slow backend broke mid-answer"):
        for _ in stream:
            pass


def _wait_started(backend: SlowBackend) -> None:
    assert backend.started.wait(10), "the backend never started generating"


def _next_is_served_at_once(server: RunningServer, backend: SlowBackend, started: float) -> None:
    """The next request is answered long before the abandoned one would have finished (40 tokens)."""
    reply = httpx.post(server.url + "/v1/chat/completions", json={"messages": _user("say quick")}, timeout=30)
    assert reply.status_code == 200 and reply.json()["choices"][0]["message"]["content"] == "quick"
    assert time.monotonic() - started < 40 * TOKEN_S * 0.75
    assert backend.cancelled == ["long"]


def test_a_streaming_client_that_disconnects_frees_its_slot(slow: tuple[SlowBackend, RunningServer]) -> None:
    backend, server = slow
    started = time.monotonic()
    with httpx.Client(timeout=30) as client, client.stream(
            "POST", server.url + "/v1/chat/completions", json={"messages": _user("long"), "stream": True}) as response:
        for line in response.iter_lines():
            if '"w2"' in line or " w2" in line:
                break  # leave mid-answer: the with-blocks close the connection
    _next_is_served_at_once(server, backend, started)


def test_a_waiting_client_that_disconnects_frees_its_slot(slow: tuple[SlowBackend, RunningServer]) -> None:
    backend, server = slow
    host, port = server.url.removeprefix("http://").split(":")
    body = json.dumps({"messages": _user("long")}).encode()
    started = time.monotonic()
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        _wait_started(backend)
    _next_is_served_at_once(server, backend, started)


def test_a_queued_request_whose_client_left_never_reaches_the_backend() -> None:
    backend = SlowBackend(words=10)
    app = create_app(backend, model_name="slow", max_batch_size=1, batch_window_ms=0)
    with start_server(app, port=0) as server:
        first = threading.Thread(target=httpx.post, args=(server.url + "/v1/chat/completions",),
                                 kwargs={"json": {"messages": _user("long")}, "timeout": 30})
        first.start()
        _wait_started(backend)
        with pytest.raises(httpx.ReadTimeout):  # queued behind "long", then gone
            httpx.post(server.url + "/v1/chat/completions", json={"messages": _user("queued")}, timeout=0.2)
        first.join(30)
        deadline = time.monotonic() + 10
        while app.state.batcher.stats.cancelled == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert app.state.batcher.stats.cancelled == 1 and backend.calls == 1


def test_transformers_stream_joins_to_the_plain_answer(tiny_model_dir: Path) -> None:
    from fathom.backends import TransformersBackend

    backend = TransformersBackend(str(tiny_model_dir), device="cpu")
    body = {"messages": _user("Écris un poème ☃ 日本"), "max_tokens": 24, "temperature": 1.0, "seed": 3}
    with start_server(create_app(backend, model_name="tiny"), port=0) as server:
        client = _client(server)
        plain = client.chat.completions.create(model="tiny", **body)  # type: ignore[call-overload]
        chunks = list(client.chat.completions.create(model="tiny", stream=True, **body))  # type: ignore[call-overload]
    contents = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(contents) > 3 and "".join(contents) == plain.choices[0].message.content


def _feed(pieces: list[str], tools_on: bool) -> list[str]:
    from fathom.serve._stream import ContentFilter

    content = ContentFilter(tools_on=tools_on)
    return [delta for delta in (content.feed(p) for p in pieces) if delta]


def test_content_filter_holds_back_a_partial_tag_and_whitespace() -> None:
    assert _feed(["  Hi", " there ", "\n"], tools_on=False) == ["Hi", " there"]
    assert _feed(["Look", " <", "tool", "_call>", '[{"name": "f"}]'], tools_on=True) == ["Look"]
    assert _feed(["a <to", "day> b"], tools_on=True) == ["a", " <today> b"]  # not a tag after all
    assert _feed(["<tool_call>x</tool_call>", " after"], tools_on=False) == ["<tool_call>x</tool_call>", " after"]


def test_content_filter_sends_the_rest_of_the_final_content() -> None:
    from fathom.serve._stream import ContentFilter

    content = ContentFilter(tools_on=True)
    assert content.feed("Checking. <tool_call>[]") == "Checking."
    assert content.finish("Checking. Done.") == " Done."  # text after the block comes at the end
    assert content.sent == "Checking. Done." and content.finish("Checking. Done.") == ""

"""The OpenAI-compatible app, driven in-process through ``httpx.ASGITransport`` with a scripted backend."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import fathom.serve
from fathom.backends import ChatRequest, Completion, completion_from_text
from fathom.errors import BackendError
from fathom.serve import create_app

CALL = '<tool_call>[{"name": "get_weather", "arguments": {"city": "Paris"}}]</tool_call>'
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]


class ScriptedBackend:
    """Replies with scripted texts (cycling) and records every ``generate`` call."""

    supports_batching = True
    model_name = "scripted"

    def __init__(self, *replies: str, fail: bool = False):
        self.replies = list(replies) or ["Hello!"]
        self.fail = fail
        self.calls: list[list[ChatRequest]] = []
        self.threads: set[str] = set()

    def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        self.calls.append(list(requests))
        self.threads.add(threading.current_thread().name)
        if self.fail:
            raise BackendError("the scripted backend broke")
        return [completion_from_text(self.replies[i % len(self.replies)], finish_reason="stop", prompt_tokens=10 + i,
                                     completion_tokens=3) for i, _ in enumerate(requests)]


@pytest.fixture
def app_and_backend() -> Iterator[tuple[Any, ScriptedBackend]]:
    backend = ScriptedBackend()
    app = create_app(backend, model_name="tiny", batch_window_ms=50)
    yield app, backend
    app.state.batcher.close()


def _post(app: Any, body: dict[str, Any]) -> httpx.Response:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            return await client.post("/v1/chat/completions", json=body)
    return asyncio.run(go())


def _get(app: Any, path: str) -> httpx.Response:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            return await client.get(path)
    return asyncio.run(go())


def _body(**extra: Any) -> dict[str, Any]:
    return {"model": "tiny", "messages": [{"role": "user", "content": "Hi"}], **extra}


def test_public_api_is_pinned() -> None:
    assert sorted(fathom.serve.__all__) == ["BatchStats", "Batcher", "BodyLimit", "ChatCompletionBody", "ModelRoutes",
                                            "RunningServer", "Unavailable", "bind_socket", "create_app",
                                            "openai_error", "run_server", "start_server"]


def test_health_and_models(app_and_backend: tuple[Any, ScriptedBackend]) -> None:
    app, _ = app_and_backend
    assert _get(app, "/health").json() == {"status": "ok", "model": "tiny"}
    listing = _get(app, "/v1/models").json()
    assert listing["object"] == "list" and [m["id"] for m in listing["data"]] == ["tiny"]


def test_chat_completion_shape_and_sampling(app_and_backend: tuple[Any, ScriptedBackend]) -> None:
    app, backend = app_and_backend
    response = _post(app, _body(temperature=0.3, top_p=0.8, max_completion_tokens=17, stop="END", seed=4,
                                user="someone", presence_penalty=0))
    assert response.status_code == 200
    data = response.json()
    assert data["object"] == "chat.completion" and data["model"] == "tiny" and data["id"].startswith("chatcmpl-")
    assert isinstance(data["created"], int)
    assert data["choices"] == [{"index": 0, "message": {"role": "assistant", "content": "Hello!"}, "logprobs": None,
                                "finish_reason": "stop"}]
    assert data["usage"] == {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13}
    [[sent]] = backend.calls
    assert sent.sampling.to_dict() == {"max_tokens": 17, "temperature": 0.3, "top_p": 0.8, "stop": ["END"], "seed": 4}


def test_defaults_when_request_sets_no_sampling(app_and_backend: tuple[Any, ScriptedBackend]) -> None:
    app, backend = app_and_backend
    parts = [{"type": "text", "text": "Hi "}, {"type": "text", "text": "there"}]
    _post(app, {"messages": [{"role": "user", "content": parts}]})
    [[sent]] = backend.calls
    assert (sent.sampling.max_tokens, sent.sampling.temperature) == (256, 1.0)
    assert sent.messages == [{"role": "user", "content": "Hi there"}]


def test_tool_calls_and_tool_choice(app_and_backend: tuple[Any, ScriptedBackend]) -> None:
    app, backend = app_and_backend
    backend.replies = [CALL]
    data = _post(app, _body(tools=TOOLS, tool_choice="auto")).json()
    choice = data["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    assert choice["message"]["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    assert backend.calls[-1][0].tools == TOOLS
    none = _post(app, _body(tools=TOOLS, tool_choice="none")).json()["choices"][0]
    assert none["finish_reason"] == "stop" and none["message"] == {"role": "assistant", "content": CALL}
    assert backend.calls[-1][0].tools is None


def test_history_with_tool_turns_is_passed_through(app_and_backend: tuple[Any, ScriptedBackend]) -> None:
    app, backend = app_and_backend
    messages = [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "Weather?"},
                {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "call_0", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "call_0", "content": "18C"}]
    assert _post(app, {"messages": messages, "tools": TOOLS}).status_code == 200
    sent = backend.calls[-1][0].messages
    assert sent[0] == {"role": "system", "content": "Be brief."}
    assert sent[2]["tool_calls"][0]["id"] == "call_0" and sent[3]["tool_call_id"] == "call_0"


@pytest.mark.parametrize(("body", "param", "fragment"), [
    ({"messages": []}, "messages", "at least 1 item"),
    (_body(n=2), "n", "less than or equal to 1"),
    (_body(temperature=3), "temperature", "less than or equal to 2"),
    (_body(max_tokens=0), "max_tokens", "greater than or equal to 1"),
    (_body(tool_choice="required"), "tool_choice", "'required' needs tools"),
    (_body(tools=TOOLS, tool_choice={"type": "function", "function": {"name": "get_time"}}), "tool_choice",
     "'get_time', which is not among the tools ('get_weather')"),
    (_body(tool_choice="sometimes"), "tool_choice", "must be 'auto', 'none', 'required' or"),
    (_body(stop="x" * 1001), "stop", "at most 1000 characters"),
    (_body(stop=["a", "b", "c", "d", "e"]), "stop", "at most 4"),
    ({"messages": [{"role": "robot", "content": "x"}]}, "messages.0.role", "Input should be"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]}, "messages.0.content",
     "only text content parts"),
])
def test_bad_requests_get_openai_400(app_and_backend: tuple[Any, ScriptedBackend], body: dict, param: str,
                                     fragment: str) -> None:
    app, backend = app_and_backend
    response = _post(app, body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert fragment in error["message"]
    assert backend.calls == []


def test_every_problem_is_reported_at_once(app_and_backend: tuple[Any, ScriptedBackend]) -> None:
    message = _post(app_and_backend[0], _body(n=3, top_p=0, max_tokens=-1)).json()["error"]["message"]
    assert all(field in message for field in ("n:", "top_p:", "max_tokens:"))


def test_unknown_model_is_404(app_and_backend: tuple[Any, ScriptedBackend]) -> None:
    response = _post(app_and_backend[0], _body(model="gpt-4o"))
    assert response.status_code == 404 and response.json()["error"]["code"] == "model_not_found"


def test_backend_error_is_502_with_message() -> None:
    app = create_app(ScriptedBackend(fail=True), model_name="tiny")
    response = _post(app, _body())
    app.state.batcher.close()
    assert response.status_code == 502
    assert response.json()["error"] == {
        "message": "The model backend failed (BackendError: the scripted backend broke); see the server log for "
                   "details.", "type": "server_error", "param": None, "code": "backend_error"}


def test_concurrent_requests_are_batched_into_one_generate_call(app_and_backend: tuple[Any, ScriptedBackend]) -> None:
    app, backend = app_and_backend

    async def go() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            return await asyncio.gather(*[client.post("/v1/chat/completions", json=_body(
                messages=[{"role": "user", "content": f"q{i}"}], max_tokens=i + 1)) for i in range(8)])

    responses = asyncio.run(go())
    assert all(r.status_code == 200 for r in responses)
    assert [len(call) for call in backend.calls] == [8]
    assert sorted(r.sampling.max_tokens for r in backend.calls[0]) == list(range(1, 9))
    assert app.state.batcher.stats.sizes == {8: 1}
    assert backend.threads == {"fathom-batcher"}
    # each response got its own completion back (the scripted backend numbers prompt tokens by position)
    by_prompt = {r.messages[0]["content"]: 10 + i for i, r in enumerate(backend.calls[0])}
    assert [resp.json()["usage"]["prompt_tokens"] for resp in responses] == [by_prompt[f"q{i}"] for i in range(8)]


def test_max_batch_size_splits_batches() -> None:
    backend = ScriptedBackend()
    app = create_app(backend, model_name="tiny", max_batch_size=3, batch_window_ms=50)

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            await asyncio.gather(*[client.post("/v1/chat/completions", json=_body()) for _ in range(7)])

    asyncio.run(go())
    app.state.batcher.close()
    assert sorted(len(call) for call in backend.calls) == [1, 3, 3]


def test_streaming_sends_openai_chunks(app_and_backend: tuple[Any, ScriptedBackend]) -> None:
    app, backend = app_and_backend
    backend.replies = ["Sure. " + CALL]
    response = _post(app, _body(stream=True, stream_options={"include_usage": True}, tools=TOOLS))
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [line[len("data: "):] for line in response.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" and c["id"] == chunks[0]["id"] for c in chunks)
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert deltas[0] == {"role": "assistant", "content": ""}
    assert "".join(d.get("content", "") for d in deltas) == "Sure."
    [calls] = [d["tool_calls"] for d in deltas if "tool_calls" in d]
    assert calls[0]["index"] == 0 and calls[0]["function"]["name"] == "get_weather"
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "tool_calls"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] == 13


def test_one_bad_request_does_not_fail_its_batch() -> None:
    class PickyBackend(ScriptedBackend):
        def generate(self, requests: list[ChatRequest]) -> list[Completion]:
            if any(r.messages[-1]["content"] == "poison" for r in requests):
                self.calls.append(list(requests))
                raise BackendError("cannot render 'poison'")
            return super().generate(requests)

    backend = PickyBackend()
    app = create_app(backend, model_name="tiny", batch_window_ms=50)

    async def go() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            return await asyncio.gather(*[client.post("/v1/chat/completions", json=_body(
                messages=[{"role": "user", "content": text}])) for text in ("fine", "poison", "also fine")])

    responses = asyncio.run(go())
    app.state.batcher.close()
    assert [r.status_code for r in responses] == [200, 502, 200]
    assert "cannot render 'poison'" in responses[1].json()["error"]["message"]
    assert len(backend.calls[0]) == 3  # tried together first


def test_a_backend_returning_too_few_completions_fails_the_rest_not_the_worker() -> None:
    from fathom.serve import Batcher

    class Short(ScriptedBackend):
        def generate(self, requests: list[ChatRequest]) -> list[Completion]:
            return super().generate(requests)[:1]

    batcher = Batcher(Short(), max_batch_size=2, window_s=0.2)
    try:
        first, second = (batcher.submit(ChatRequest([{"role": "user", "content": "x"}])) for _ in range(2))
        assert first.result(10).text == "Hello!"
        with pytest.raises(BackendError, match="returned 1 completions for 2 requests"):
            second.result(10)
        assert batcher.submit(ChatRequest([{"role": "user", "content": "again"}])).result(10).text == "Hello!"
    finally:
        batcher.close()


def test_cancelled_requests_never_reach_the_backend() -> None:
    from fathom.serve import Batcher

    backend = ScriptedBackend()
    batcher = Batcher(backend, max_batch_size=4, window_s=0.2)
    gone = threading.Event()
    gone.set()
    try:
        futures = [batcher.submit(ChatRequest([{"role": "user", "content": t}], cancel=gone if t == "gone" else None))
                   for t in ("here", "gone")]
        done = [f.result(10) for f in futures]
    finally:
        batcher.close()
    assert [c.finish_reason for c in done] == ["stop", "cancelled"]
    assert [[r.messages[0]["content"] for r in call] for call in backend.calls] == [["here"]]
    assert batcher.stats.cancelled == 1


def test_a_request_that_streamed_is_not_retried_when_its_batch_fails() -> None:
    from fathom.serve import Batcher

    class Breaks(ScriptedBackend):
        def generate(self, requests: list[ChatRequest]) -> list[Completion]:
            self.calls.append(list(requests))
            if len(requests) > 1:
                for r in requests:
                    if r.on_text is not None:
                        r.on_text("half an ans")
                raise BackendError("out of memory")
            return [completion_from_text("whole", finish_reason="stop", prompt_tokens=1, completion_tokens=1)]

    backend = Breaks()
    batcher = Batcher(backend, max_batch_size=2, window_s=0.2)
    pieces: list[str] = []
    try:
        streaming = batcher.submit(ChatRequest([{"role": "user", "content": "s"}], on_text=pieces.append))
        plain = batcher.submit(ChatRequest([{"role": "user", "content": "p"}]))
        with pytest.raises(BackendError, match="out of memory"):
            streaming.result(10)
        assert plain.result(10).text == "whole"
    finally:
        batcher.close()
    assert pieces == ["half an ans"]  # never sent twice
    assert [[r.messages[0]["content"] for r in call] for call in backend.calls] == [["s", "p"], ["p"]]

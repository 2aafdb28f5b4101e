"""OpenAIHTTPBackend: request body, retries, backoff, Retry-After, errors, concurrency, keys.

The transport is injected (``httpx.MockTransport``) so failures can be scripted exactly; the real
server round trip is covered by the contract suite (test_contract.py).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import httpx
import pytest

from fathom.backends import ChatRequest, OpenAIHTTPBackend, Sampling
from fathom.errors import BackendError, ConfigError

URL = "http://upstream.test/v1"


def _ok(content: str | None = "hi", tool_calls: list | None = None, finish: str = "stop") -> httpx.Response:
    message = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return httpx.Response(200, json={"id": "x", "object": "chat.completion", "choices": [
        {"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14}})


def _backend(handler: Callable[[httpx.Request], httpx.Response],
             **kwargs: object) -> tuple[OpenAIHTTPBackend, list[float]]:
    sleeps: list[float] = []
    options = {"model": "m", "retries": 3, "backoff": 1.0, "jitter_seed": 0, **kwargs}
    backend = OpenAIHTTPBackend(URL, transport=httpx.MockTransport(handler), sleep=sleeps.append, **options)
    return backend, sleeps


def _request(**sampling: object) -> ChatRequest:
    return ChatRequest([{"role": "user", "content": "Hello"}], sampling=Sampling(**sampling))


def test_body_carries_messages_tools_and_sampling() -> None:
    seen: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url == f"{URL}/chat/completions"
        seen.append(json.loads(request.content))
        return _ok()

    backend, _ = _backend(handler)
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    request = ChatRequest([{"role": "user", "content": "Hello"}], tools=tools,
                          sampling=Sampling(max_tokens=7, temperature=0.5, top_p=0.9, stop=("END",), seed=3))
    [done] = backend.generate([request])
    assert seen == [{"model": "m", "messages": [{"role": "user", "content": "Hello"}], "temperature": 0.5,
                     "top_p": 0.9, "max_tokens": 7, "stop": ["END"], "seed": 3, "tools": tools}]
    assert (done.message, done.prompt_tokens, done.completion_tokens) == ({"role": "assistant", "content": "hi"}, 11, 3)


def test_tool_calls_read_from_response_and_from_raw_text() -> None:
    call = {"id": "c9", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    replies = iter([_ok(None, [call], "tool_calls"),
                    _ok('<tool_call>[{"name": "g", "arguments": {"a": 1}}]</tool_call>')])
    backend, _ = _backend(lambda r: next(replies), concurrency=1)
    structured, raw = backend.generate([_request(), _request()])
    assert structured.message["tool_calls"] == [call] and structured.finish_reason == "tool_calls"
    assert raw.message["tool_calls"][0]["function"] == {"name": "g", "arguments": '{"a": 1}'}
    assert raw.finish_reason == "tool_calls" and raw.message["content"] is None


def test_retries_5xx_and_429_then_succeeds_with_exponential_backoff() -> None:
    replies = iter([httpx.Response(503, text="busy"), httpx.Response(429, text="slow down"), _ok()])
    backend, sleeps = _backend(lambda r: next(replies))
    [done] = backend.generate([_request()])
    assert done.message["content"] == "hi"
    assert len(sleeps) == 2
    assert 0.5 <= sleeps[0] < 1.5 and 1.0 <= sleeps[1] < 3.0  # backoff * 2**attempt * jitter in [0.5, 1.5)


def test_retry_after_header_is_honoured_and_capped() -> None:
    replies = iter([httpx.Response(429, headers={"Retry-After": "7"}),
                    httpx.Response(503, headers={"Retry-After": "999"}), _ok()])
    backend, sleeps = _backend(lambda r: next(replies), max_backoff=20.0)
    backend.generate([_request()])
    assert sleeps == [7.0, 20.0]


def test_connect_errors_and_timeouts_are_retried() -> None:
    errors = iter([httpx.ConnectError("refused"), httpx.ReadTimeout("slow")])

    def handler(request: httpx.Request) -> httpx.Response:
        error = next(errors, None)
        if error is not None:
            raise error
        return _ok()

    backend, sleeps = _backend(handler)
    assert backend.generate([_request()])[0].message["content"] == "hi"
    assert len(sleeps) == 2


def test_gives_up_after_last_retry_with_status_body_and_url() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(502, text="bad gateway from upstream")

    backend, sleeps = _backend(handler, retries=2)
    with pytest.raises(BackendError) as info:
        backend.generate([_request()])
    message = str(info.value)
    assert len(calls) == 3 and len(sleeps) == 2
    assert f"{URL}/chat/completions" in message and "HTTP 502" in message and "bad gateway from upstream" in message
    assert "after 3 attempts" in message


def test_client_errors_are_not_retried() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(400, json={"error": {"message": "messages: field required"}})

    backend, sleeps = _backend(handler)
    with pytest.raises(BackendError, match=r"HTTP 400.*messages: field required"):
        backend.generate([_request()])
    assert (len(calls), sleeps) == (1, [])


def test_concurrency_limit_and_order() -> None:
    """No timing: every request is held until 3 are in flight at once, so the batch finishes only if the
    backend really runs 3 concurrently; the in-flight peak then shows it never runs more than 3."""
    lock = threading.Lock()
    all_in_flight = threading.Event()
    state = {"now": 0, "peak": 0, "timed_out": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
            if state["now"] == 3:
                all_in_flight.set()
        released = all_in_flight.wait(timeout=30)  # generous: only a too-serial backend waits this long
        all_in_flight.set()  # after one time-out, fail in 30 s rather than 30 s per request
        with lock:
            state["now"] -= 1
            state["timed_out"] += not released
        return _ok(json.loads(request.content)["messages"][0]["content"])

    backend, _ = _backend(handler, concurrency=3)
    requests = [ChatRequest([{"role": "user", "content": f"q{i}"}]) for i in range(10)]
    done = backend.generate(requests)
    assert [c.message["content"] for c in done] == [f"q{i}" for i in range(10)]
    assert (state["peak"], state["timed_out"]) == (3, 0)


def test_api_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return _ok()

    monkeypatch.delenv("FATHOM_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fallback")
    _backend(handler)[0].generate([_request()])
    monkeypatch.setenv("FATHOM_API_KEY", "fk-primary")
    _backend(handler)[0].generate([_request()])
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.delenv("FATHOM_API_KEY")
    _backend(handler)[0].generate([_request()])
    assert seen == ["Bearer sk-fallback", "Bearer fk-primary", None]


def test_model_name_from_fragment_or_models_endpoint() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/models"
        return httpx.Response(200, json={"object": "list", "data": [{"id": "only-one", "object": "model"}]})

    transport = httpx.MockTransport(handler)
    assert OpenAIHTTPBackend("http://h.test:9/v1#named", transport=transport).model_name == "named"
    assert OpenAIHTTPBackend("http://h.test:9", transport=transport).model_name == "only-one"  # /v1 added


def test_several_models_need_a_name() -> None:
    listing = {"data": [{"id": "a"}, {"id": "b"}]}
    with pytest.raises(ConfigError, match="lists 2 models \\(a, b\\); name one"):
        OpenAIHTTPBackend(URL, transport=httpx.MockTransport(lambda r: httpx.Response(200, json=listing)))


def test_invalid_settings_are_all_reported() -> None:
    with pytest.raises(ConfigError) as info:
        OpenAIHTTPBackend("ftp://x", model="m", concurrency=0, retries=-1, timeout=0)
    assert len(info.value.problems) == 4

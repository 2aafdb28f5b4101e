"""``tool_choice``: "required" and a named function are checked, retried once with a nudge, then a 422;
"none" and requests without tools never get tool calls back."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from fathom.backends import ChatRequest, Completion, completion_from_text
from fathom.serve import create_app

WEATHER = '<tool_call>[{"name": "get_weather", "arguments": {"city": "Paris"}}]</tool_call>'
TIME = '<tool_call>[{"name": "get_time", "arguments": {}}]</tool_call>'
TOOLS = [{"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}
         for name in ("get_weather", "get_time")]


class Replies:
    """Answers each successive generate call with the next scripted text; records the requests."""

    supports_batching = True
    model_name = "replies"

    def __init__(self, *texts: str):
        self.texts = list(texts)
        self.seen: list[ChatRequest] = []

    def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        self.seen.extend(requests)
        text = self.texts[min(len(self.seen), len(self.texts)) - 1]
        return [completion_from_text(text, finish_reason="stop", prompt_tokens=10, completion_tokens=4)
                for _ in requests]


def _post(backend: Replies, **body: Any) -> httpx.Response:
    app = create_app(backend, model_name="tiny")

    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            return await client.post("/v1/chat/completions",
                                     json={"messages": [{"role": "user", "content": "Weather in Paris?"}], **body})
    try:
        return asyncio.run(go())
    finally:
        app.state.batcher.close()


def _named(name: str) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name}}


def test_required_is_met_first_time() -> None:
    backend = Replies(WEATHER)
    choice = _post(backend, tools=TOOLS, tool_choice="required").json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["tool_calls"][0]["function"]["name"] == \
        "get_weather"
    assert len(backend.seen) == 1 and backend.seen[0].tools == TOOLS


def test_required_retries_once_with_a_nudge() -> None:
    backend = Replies("It is sunny, probably.", WEATHER)
    data = _post(backend, tools=TOOLS, tool_choice="required").json()
    assert data["choices"][0]["finish_reason"] == "tool_calls"
    assert data["usage"] == {"prompt_tokens": 20, "completion_tokens": 8, "total_tokens": 28}  # both attempts
    first, second = backend.seen
    assert first.messages == [{"role": "user", "content": "Weather in Paris?"}]
    assert second.messages[0]["role"] == "system" and "tool call" in second.messages[0]["content"]
    assert second.messages[1:] == first.messages


def test_the_nudge_joins_an_existing_system_message() -> None:
    backend = Replies("No.", WEATHER)
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather?"}]
    assert _post(backend, messages=messages, tools=TOOLS, tool_choice="required").status_code == 200
    nudged = backend.seen[1].messages
    assert len(nudged) == 2 and nudged[0]["content"].startswith("Be brief.\n\n")


def test_named_function_only_that_tool_is_shown_and_other_calls_do_not_count() -> None:
    backend = Replies(TIME, TIME)
    response = _post(backend, tools=TOOLS, tool_choice=_named("get_weather"))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "tool_choice_not_followed" and error["param"] == "tool_choice"
    assert "a call to 'get_weather'" in error["message"] and "called get_time" in error["message"]
    assert [r.tools for r in backend.seen] == [TOOLS[:1], TOOLS[:1]]
    assert "get_weather" in backend.seen[1].messages[0]["content"]


def test_required_not_met_twice_is_a_422_quoting_the_model() -> None:
    backend = Replies("I cannot check the weather.")
    response = _post(backend, tools=TOOLS, tool_choice="required")
    assert response.status_code == 422
    assert "wrote 'I cannot check the weather.'" in response.json()["error"]["message"]
    assert len(backend.seen) == 2


def test_required_with_stream_sends_the_checked_calls() -> None:
    backend = Replies("Let me see.", "Sure. " + WEATHER)
    response = _post(backend, tools=TOOLS, tool_choice="required", stream=True)
    events = [line[len("data: "):] for line in response.text.splitlines() if line.startswith("data: ")]
    chunks = [json.loads(e) for e in events[:-1]]
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert "".join(d.get("content") or "" for d in deltas) == "Sure."
    assert [d["tool_calls"][0]["function"]["name"] for d in deltas if "tool_calls" in d] == ["get_weather"]
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls" and events[-1] == "[DONE]"
    failed = _post(Replies("no"), tools=TOOLS, tool_choice="required", stream=True)
    assert failed.status_code == 422 and failed.headers["content-type"] == "application/json"


def test_without_tools_calls_stay_text() -> None:
    for body in ({}, {"tools": TOOLS, "tool_choice": "none"}):
        backend = Replies(f" {WEATHER} ")
        choice = _post(backend, **body).json()["choices"][0]
        assert choice == {"index": 0, "message": {"role": "assistant", "content": WEATHER}, "logprobs": None,
                          "finish_reason": "stop"}
        assert backend.seen[0].tools is None

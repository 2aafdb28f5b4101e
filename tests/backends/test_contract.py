"""The behaviour every backend owes, written once (:class:`BackendContract`) and run per backend.

* transformers on a tiny random model (batch size 2, so sorting and chunking are exercised);
* OpenAI HTTP against a real ``fathom serve`` app of the same tiny model on 127.0.0.1, port 0
  (uvicorn in a background thread; the model name comes from ``/v1/models``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fathom.backends import Backend, ChatRequest, Completion, Sampling

TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Current weather for a city",
                                           "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                          "required": ["city"]}}}]
PROMPTS = ["What is the capital of France?", "Hi", "Write a long poem about the sea and the wind and the rain.",
           "Count to three."]


def _chat(text: str, **sampling: Any) -> ChatRequest:
    return ChatRequest([{"role": "user", "content": text}], sampling=Sampling(**sampling))


def _content(completion: Completion) -> str:
    return completion.message.get("content") or ""


class BackendContract:
    """Subclasses provide a ``backend`` fixture; every test here must pass for every backend."""

    def test_is_a_backend(self, backend: Backend) -> None:
        assert isinstance(backend, Backend)
        assert isinstance(backend.supports_batching, bool)
        assert isinstance(backend.model_name, str) and backend.model_name

    def test_empty_batch(self, backend: Backend) -> None:
        assert backend.generate([]) == []

    def test_batch_keeps_order_and_matches_one_at_a_time(self, backend: Backend) -> None:
        requests = [_chat(p, max_tokens=6) for p in PROMPTS]
        batched = backend.generate(requests)
        assert len(batched) == len(requests)
        singles = [backend.generate([r])[0] for r in requests]
        assert [_content(c) for c in batched] == [_content(c) for c in singles]
        assert [c.prompt_tokens for c in batched] == [c.prompt_tokens for c in singles]
        assert len({c.prompt_tokens for c in batched}) == len(PROMPTS)  # different prompts, so order is visible

    def test_message_shape_and_usage(self, backend: Backend) -> None:
        [done] = backend.generate([_chat("Hello there", max_tokens=4)])
        assert done.message["role"] == "assistant"
        assert isinstance(done.message["content"], str)
        assert done.finish_reason in ("stop", "length", "tool_calls")
        assert done.prompt_tokens > 5 and 1 <= done.completion_tokens <= 4
        assert done.usage()["total_tokens"] == done.prompt_tokens + done.completion_tokens

    def test_max_tokens_ends_with_length(self, backend: Backend) -> None:
        [done] = backend.generate([_chat("Tell me a story.", max_tokens=5)])
        assert (done.finish_reason, done.completion_tokens) == ("length", 5)

    def test_greedy_is_deterministic(self, backend: Backend) -> None:
        a, b = backend.generate([_chat("Say something.", max_tokens=8)] * 2)
        assert _content(a) == _content(b)

    def test_stop_string_ends_generation_and_is_cut(self, backend: Backend) -> None:
        [full] = backend.generate([_chat("Tell me a story.", max_tokens=16)])
        text = _content(full)
        match = re.search(r"[A-Za-z]{3}", text[2:])
        assert match, f"need an ASCII stop string inside {text!r}"
        stop = match.group(0)
        [cut] = backend.generate([_chat("Tell me a story.", max_tokens=16, stop=[stop])])
        assert _content(cut) == text[:text.find(stop)].strip()
        assert cut.finish_reason == "stop"
        assert cut.completion_tokens < full.completion_tokens

    def test_seeded_sampling_is_reproducible(self, backend: Backend) -> None:
        first, again, other = backend.generate([_chat("Pick a word.", max_tokens=8, temperature=1.0, seed=s)
                                                for s in (7, 7, 8)])
        assert _content(first) == _content(again)
        assert _content(first) != _content(other)

    def test_mixed_sampling_in_one_batch(self, backend: Backend) -> None:
        greedy = _chat("Say something.", max_tokens=8)
        [alone] = backend.generate([greedy])
        mixed = backend.generate([_chat("Pick a word.", max_tokens=3, temperature=1.0, top_p=0.9, seed=1), greedy])
        assert _content(mixed[1]) == _content(alone)
        assert mixed[0].completion_tokens <= 3

    def test_tools_are_rendered_into_the_prompt(self, backend: Backend) -> None:
        plain = _chat("Weather in Paris?", max_tokens=2)
        with_tools = ChatRequest(plain.messages, tools=TOOLS, sampling=plain.sampling)
        a, b = backend.generate([plain, with_tools])
        assert b.prompt_tokens > a.prompt_tokens + 50

    def test_tool_history_with_string_arguments(self, backend: Backend) -> None:
        messages = [{"role": "user", "content": "Weather in Paris?"},
                    {"role": "assistant", "content": None, "tool_calls": [
                        {"id": "call_0", "type": "function",
                         "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
                    {"role": "tool", "tool_call_id": "call_0", "content": "18C"}]
        [done] = backend.generate([ChatRequest(messages, tools=TOOLS, sampling=Sampling(max_tokens=3))])
        assert done.completion_tokens >= 1


@pytest.fixture(scope="module")
def transformers_backend(varied_model_dir: Path) -> Backend:
    from fathom.backends import TransformersBackend

    return TransformersBackend(str(varied_model_dir), device="cpu", batch_size=2)


@pytest.fixture(scope="module")
def http_backend(varied_model_dir: Path) -> Iterator[Backend]:
    from fathom.backends import OpenAIHTTPBackend, TransformersBackend
    from fathom.serve import create_app, start_server

    local = TransformersBackend(str(varied_model_dir), device="cpu", batch_size=4)
    with start_server(create_app(local, model_name="tiny"), host="127.0.0.1", port=0) as server:
        remote = OpenAIHTTPBackend(server.url + "/v1", concurrency=4, retries=0, timeout=60)
        yield remote
        remote.close()


class TestTransformersBackend(BackendContract):
    @pytest.fixture
    def backend(self, transformers_backend: Backend) -> Backend:
        return transformers_backend


class TestOpenAIHTTPBackend(BackendContract):
    @pytest.fixture
    def backend(self, http_backend: Backend) -> Backend:
        return http_backend

"""load_backend: spec routing, explicit engines, reserved engines, option checking; public API."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

import fathom.backends
from fathom.backends import OpenAIHTTPBackend, TransformersBackend, load_backend
from fathom.errors import ConfigError


def test_public_api_is_pinned() -> None:
    assert sorted(fathom.backends.__all__) == [
        "BACKENDS", "Backend", "ChatRequest", "Completion", "GenerateSummary", "LlamaCppBackend", "OpenAIHTTPBackend",
        "PARITY_PROMPTS", "ParityReport", "ParsedToolCalls", "RULE_PREFIX", "Sampling", "TransformersBackend",
        "VLLMBackend", "check_parity", "check_prompt_file", "completion_from_text",
        "completion_record", "example_id", "generate_file", "load_backend", "parse_tool_calls",
        "parse_tool_calls_detailed", "progress_bar", "prompt_messages", "register_rule_backend",
        "rule_backend_names"]
    for name in fathom.backends.__all__:
        assert getattr(fathom.backends, name) is not None


def test_url_gives_http_backend_with_model_from_fragment_or_option() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(500))
    backend = load_backend("http://127.0.0.1:9/v1#judge", transport=transport)
    assert isinstance(backend, OpenAIHTTPBackend) and backend.model_name == "judge"
    backend = load_backend("https://api.example.test/v1", model="other", transport=transport)
    assert backend.model_name == "other" and backend.base_url == "https://api.example.test/v1"


def test_local_spec_gives_transformers_backend(varied_model_dir: Path) -> None:
    backend = load_backend(str(varied_model_dir), batch_size=3, device="cpu")
    assert isinstance(backend, TransformersBackend)
    assert (backend.batch_size, backend.model_name) == (3, str(varied_model_dir))
    explicit = load_backend(str(varied_model_dir), backend="transformers", device="cpu")
    assert isinstance(explicit, TransformersBackend)


def test_loaded_model_object_is_accepted(varied_model_dir: Path) -> None:
    from fathom.models import load_model

    model, tokenizer = load_model(str(varied_model_dir), device="cpu")
    backend = TransformersBackend(model, tokenizer=tokenizer, model_name="mine")
    assert backend.model_name == "mine"
    assert backend.generate([fathom.backends.ChatRequest([{"role": "user", "content": "x"}],
                                                         sampling=fathom.backends.Sampling(max_tokens=2))])


def test_unknown_options_are_listed_with_suggestions() -> None:
    with pytest.raises(ConfigError) as info:
        load_backend("smollm2-135m", batch_sise=4, temprature=1.0)
    message = str(info.value)
    assert "batch_sise" in message and "Did you mean 'batch_size'?" in message and "temprature" in message
    assert len(info.value.problems) == 2


def test_mismatched_engine_and_spec() -> None:
    with pytest.raises(ConfigError, match="needs a URL"):
        load_backend("smollm2-135m", backend="openai")
    with pytest.raises(ConfigError, match="remote endpoint"):
        load_backend("http://127.0.0.1:9/v1#m", backend="transformers")

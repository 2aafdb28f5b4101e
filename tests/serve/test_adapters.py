"""Adapters on demand through the server: the request's ``model`` picks the LoRA adapter.

In-process (``httpx.ASGITransport``) with a scripted backend that has adapters: the listing, the routing
into ``ChatRequest.adapter``, one backend call for a mixed batch, the 404 and bad aliases. Then a real
server on 127.0.0.1 port 0, spoken to with the official ``openai`` client, on each engine (transformers,
and llama.cpp on an ``f32`` export) with two random adapters on the untied tiny model. Last, the
``fathom serve`` options ``--engine``, ``--adapter`` and ``--alias``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fathom.backends import ChatRequest, Completion, Sampling, completion_from_text
from fathom.errors import ConfigError
from fathom.serve import create_app, start_server


class AdapterEcho:
    """Answers each request with the adapter it was routed to; records every ``generate`` call."""

    supports_batching = True
    model_name = "echo"

    def __init__(self) -> None:
        self.adapters = ["alpha", "beta"]
        self.calls: list[list[str | None]] = []

    def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        self.calls.append([r.adapter for r in requests])
        return [completion_from_text(str(r.adapter), finish_reason="stop", prompt_tokens=1, completion_tokens=1)
                for r in requests]


@pytest.fixture
def echo_app() -> Iterator[tuple[Any, AdapterEcho]]:
    backend = AdapterEcho()
    app = create_app(backend, model_name="tiny", batch_window_ms=200, aliases={"fast": "beta"})
    yield app, backend
    app.state.batcher.close()


async def _chats(app: Any, models: list[str | None]) -> list[httpx.Response]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        bodies = [{"messages": [{"role": "user", "content": "Hi"}], **({"model": m} if m is not None else {})}
                  for m in models]
        return list(await asyncio.gather(*(client.post("/v1/chat/completions", json=b) for b in bodies)))


def test_listing_names_the_base_each_adapter_and_the_aliases(echo_app: tuple[Any, AdapterEcho]) -> None:
    async def listing() -> Any:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=echo_app[0]), base_url="http://test") as c:
            return (await c.get("/v1/models")).json()

    assert [m["id"] for m in asyncio.run(listing())["data"]] == ["tiny", "tiny:alpha", "tiny:beta", "fast"]


def test_model_picks_the_adapter_and_a_mixed_batch_is_one_backend_call(echo_app: tuple[Any, AdapterEcho]) -> None:
    app, backend = echo_app
    models = ["tiny", "tiny:alpha", "fast", None, "tiny:beta"]
    replies = asyncio.run(_chats(app, models))
    assert [r.json()["choices"][0]["message"]["content"] for r in replies] == ["None", "alpha", "beta", "None", "beta"]
    assert [r.json()["model"] for r in replies] == ["tiny", "tiny:alpha", "fast", "tiny", "tiny:beta"]
    assert len(backend.calls) == 1 and sorted(map(str, backend.calls[0])) == ["None", "None", "alpha", "beta", "beta"]


def test_unknown_model_is_404_listing_what_is_served(echo_app: tuple[Any, AdapterEcho]) -> None:
    [reply] = asyncio.run(_chats(echo_app[0], ["tiny:alpah"]))
    error = reply.json()["error"]
    assert reply.status_code == 404 and error["code"] == "model_not_found" and error["param"] == "model"
    assert error["message"] == ("The model 'tiny:alpah' does not exist here. Did you mean 'tiny:alpha'? This server "
                                "serves: tiny, tiny:alpha, tiny:beta, fast (see /v1/models).")
    assert echo_app[1].calls == []


def test_bad_aliases_are_refused_when_the_app_is_built() -> None:
    with pytest.raises(ConfigError) as info:
        create_app(AdapterEcho(), model_name="tiny", aliases={"a": "alpah", "tiny": "alpha", "tiny:beta": "beta"})
    message = str(info.value)
    assert "invalid model aliases (3)" in message
    assert ("aliases['a']: 'alpah' is not a registered adapter. Did you mean 'alpha'? "
            "Registered: alpha, beta.") in message
    assert "aliases['tiny']: 'tiny' is served already (as the base model)" in message
    assert "aliases['tiny:beta']: 'tiny:beta' is served already (as an adapter)" in message


# --- a real server, the openai client, each engine ---------------------------------------------------------------

ENGINES = ["transformers", "llamacpp"]
PROMPT = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(scope="module", params=ENGINES)
def served(request: pytest.FixtureRequest, varied_model_dir: Path,
           adapters: dict[str, Path]) -> Iterator[tuple[Any, Any, dict[str | None, str]]]:
    """``(openai client, app, expected)``: a real server on the base with both adapters (alias ``fast`` ->
    beta); ``expected`` is each adapter's greedy answer from the backend itself."""
    import openai

    from fathom.backends import load_backend

    options = {"gguf_type": "f32", "context_length": 512} if request.param == "llamacpp" else {"device": "cpu"}
    backend = load_backend(str(varied_model_dir), backend=request.param, parallel=4, adapters=adapters, **options)
    expected = {name: backend.generate([ChatRequest(PROMPT, sampling=Sampling(max_tokens=8), adapter=name)])[0]
                .message["content"] for name in (None, "alpha", "beta")}
    assert len(set(expected.values())) == 3, expected  # the adapters change the answer
    app = create_app(backend, model_name="tiny", aliases={"fast": "beta"}, batch_window_ms=200)
    with start_server(app, host="127.0.0.1", port=0) as server:
        client = openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0, timeout=60)
        yield client, app, expected
        client.close()


def _ask(client: Any, model: str) -> str:
    reply = client.chat.completions.create(model=model, messages=PROMPT, max_tokens=8, temperature=0)
    assert reply.model == model
    return str(reply.choices[0].message.content or "")


def test_openai_client_lists_and_picks_adapters(served: tuple[Any, Any, dict[str | None, str]]) -> None:
    client, _, expected = served
    assert [m.id for m in client.models.list()] == ["tiny", "tiny:alpha", "tiny:beta", "fast"]
    assert _ask(client, "tiny:alpha") == expected["alpha"]
    assert _ask(client, "fast") == expected["beta"]
    assert _ask(client, "tiny") == expected[None]


def test_concurrent_requests_for_different_adapters_share_a_batch(
        served: tuple[Any, Any, dict[str | None, str]]) -> None:
    client, app, expected = served
    models = ["tiny", "tiny:alpha", "fast", "tiny:beta"]
    answers: dict[str, str] = {}
    threads = [threading.Thread(target=lambda m=m: answers.__setitem__(m, _ask(client, m))) for m in models]
    before = app.state.batcher.stats.batches
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert answers == {"tiny": expected[None], "tiny:alpha": expected["alpha"], "fast": expected["beta"],
                       "tiny:beta": expected["beta"]}
    assert app.state.batcher.stats.batches - before < len(models)  # some requests of different adapters batched


def test_openai_client_gets_not_found_for_an_unknown_adapter(served: tuple[Any, Any, dict[str | None, str]]) -> None:
    import openai

    client, _, _ = served
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="tiny:gamma", messages=PROMPT, max_tokens=8)
    assert info.value.code == "model_not_found"
    assert "This server serves: tiny, tiny:alpha, tiny:beta, fast" in info.value.message


# --- fathom serve --engine / --adapter / --alias -----------------------------------------------------------------


def test_serve_passes_engine_and_adapters_to_load_backend(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    import fathom.backends
    import fathom.serve
    from fathom.cli import main

    (tmp_path / "alpha").mkdir()
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")  # a model folder (never loaded: load_backend is faked)
    calls: list[tuple[str, dict[str, Any]]] = []
    served: list[Any] = []

    def fake_load(spec: str, **kwargs: Any) -> AdapterEcho:
        calls.append((spec, kwargs))
        return AdapterEcho()

    monkeypatch.setattr(fathom.backends, "load_backend", fake_load)
    def fake_run(app: Any, **kwargs: Any) -> None:
        served.append(app)
        kwargs["sock"].close()
        kwargs["on_ready"]("http://127.0.0.1:1")

    monkeypatch.setattr(fathom.serve, "run_server", fake_run)
    main(["serve", str(tmp_path / "model"), "--port", "0", "--engine", "llamacpp",
          "--adapter", f"alpha={tmp_path / 'alpha'}", "--alias", "fast=alpha", "--model-name", "tiny"])
    [(spec, kwargs)] = calls
    assert spec == str(tmp_path / "model") and kwargs["backend"] == "llamacpp"
    assert kwargs["adapters"] == {"alpha": str(tmp_path / "alpha")}
    assert served[0].state.routes.names == ["tiny", "tiny:alpha", "tiny:beta", "fast"]
    assert capsys.readouterr().out.splitlines()[1] == "Models: tiny, tiny:alpha, tiny:beta, fast"
    served[0].state.batcher.close()


@pytest.mark.parametrize(("args", "fragment"), [
    (["--adapter", "alpha"], "'alpha' is not NAME=PATH (for example shipping=runs/sft/adapter)"),
    (["--adapter", "alpha=/no/such/folder"], "'alpha=/no/such/folder': there is no adapter folder '/no/such/folder'"),
    (["--alias", "fast"], "'fast' is not ALIAS=ADAPTER"),
    (["--alias", "fast=alpha"], "aliases['fast']: 'alpha' is not a registered adapter. Registered: none"),
])
def test_serve_refuses_bad_adapter_options_before_loading(args: list[str], fragment: str, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from fathom.cli import main

    (tmp_path / "config.json").write_text("{}")  # a model folder that would fail to load: nothing may load it
    with pytest.raises(SystemExit) as info:
        main(["serve", str(tmp_path), "--port", "0", *args])
    assert info.value.code == 2
    assert fragment in " ".join(capsys.readouterr().err.split())

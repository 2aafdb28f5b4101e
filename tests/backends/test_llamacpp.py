"""The llama.cpp backend: the shared contract, GGUF export parity with PyTorch, adapters per request, errors.

The contract runs on the untied tiny random model exported to GGUF (``f32``, so greedy outputs are comparable
with PyTorch's); adapters are random LoRA weights on it, written by PEFT and converted by Fathom.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.backends.test_contract import BackendContract

from fathom.backends import Backend, ChatRequest, Sampling


@pytest.fixture(scope="module")
def varied_gguf(varied_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from fathom.models import export_gguf

    out = tmp_path_factory.mktemp("gguf") / "varied-f32.gguf"
    export_gguf(str(varied_model_dir), out, quant="f32")
    return out


@pytest.fixture(scope="module")
def llamacpp_backend(varied_model_dir: Path) -> Backend:
    from fathom.backends import LlamaCppBackend

    return LlamaCppBackend(str(varied_model_dir), parallel=2, gguf_type="f32", context_length=1024)


class TestLlamaCppBackend(BackendContract):
    @pytest.fixture
    def backend(self, llamacpp_backend: Backend) -> Backend:
        return llamacpp_backend


def _requests(n_tokens: int = 12) -> list[ChatRequest]:
    prompts = ["What is the capital of France?", "Hi", "Count to three.", "Write a long poem about the sea."]
    return [ChatRequest([{"role": "user", "content": p}], sampling=Sampling(max_tokens=n_tokens)) for p in prompts]


def test_gguf_export_logprobs_match_pytorch(varied_model_dir: Path, varied_gguf: Path) -> None:
    """The first answer token's top-5 log-probabilities agree with PyTorch's to within llama.cpp's float16
    attention cache: the tensor names, the query/key row order, the norms and the rotary base are all right (a
    layout slip costs whole nats)."""
    from fathom.backends import check_parity

    report = check_parity(str(varied_model_dir), varied_gguf, max_tokens=8)
    assert report.max_logprob_diff < 1e-2, report
    assert report.matched >= report.prompts - 1, report.mismatches  # a random model has near-ties


def test_adapters_per_request_match_each_adapter_alone(varied_model_dir: Path, adapters: dict[str, Path]) -> None:
    from fathom.backends import LlamaCppBackend

    shared = LlamaCppBackend(str(varied_model_dir), parallel=2, gguf_type="f32", context_length=512,
                             adapters={k: str(v) for k, v in adapters.items()})
    assert shared.adapters == ["alpha", "beta"]
    names = [None, "alpha", "beta", "alpha", None, "beta"]
    prompt = _requests(10)[0].messages
    requests = [ChatRequest(prompt, sampling=Sampling(max_tokens=10), adapter=n) for n in names]
    mixed = shared.generate(requests)
    texts = {n: c.text for n, c in zip(names, mixed, strict=True)}
    assert len(set(texts.values())) == 3, texts  # base and the two adapters all answer differently
    for name, folder in adapters.items():
        alone = LlamaCppBackend(str(folder), parallel=1, gguf_type="f32", context_length=512)
        [done] = alone.generate([ChatRequest(prompt, sampling=Sampling(max_tokens=10))])
        assert done.text == texts[name]
        assert [c.text for n, c in zip(names, mixed, strict=True) if n == name] == [done.text] * 2


def test_adapter_conversion_matches_peft(varied_model_dir: Path, adapters: dict[str, Path]) -> None:
    from fathom.backends import check_parity
    from fathom.models import gguf_for

    base = gguf_for(str(varied_model_dir), quant="f32")
    report = check_parity(str(adapters["alpha"]), base, adapter=str(adapters["alpha"]), max_tokens=6)
    assert report.max_logprob_diff < 1e-2, report


def test_unknown_adapter_is_refused(varied_model_dir: Path, adapters: dict[str, Path]) -> None:
    from fathom.backends import LlamaCppBackend
    from fathom.errors import ConfigError

    backend = LlamaCppBackend(str(varied_model_dir), parallel=1, gguf_type="f32", context_length=256,
                              adapters={"alpha": str(adapters["alpha"])})
    with pytest.raises(ConfigError, match=r"unknown adapter 'alpah'.*Did you mean 'alpha'"):
        backend.generate([ChatRequest([{"role": "user", "content": "Hi"}], adapter="alpah")])


def test_gguf_spec_loads_llamacpp_by_default(varied_gguf: Path) -> None:
    from fathom.backends import LlamaCppBackend, load_backend

    backend = load_backend(str(varied_gguf), parallel=1, context_length=256)
    assert isinstance(backend, LlamaCppBackend)


def test_prompt_longer_than_the_context_is_refused(varied_model_dir: Path) -> None:
    from fathom.backends import LlamaCppBackend
    from fathom.errors import ConfigError

    backend = LlamaCppBackend(str(varied_model_dir), parallel=1, gguf_type="f32", context_length=64)
    with pytest.raises(ConfigError, match=r"the prompt is \d+ tokens; .* 64 tokens of context"):
        backend.generate([ChatRequest([{"role": "user", "content": "word " * 200}])])


def test_cancel_stops_generation_and_streams_pieces(varied_model_dir: Path) -> None:
    import threading

    from fathom.backends import LlamaCppBackend

    backend = LlamaCppBackend(str(varied_model_dir), parallel=1, gguf_type="f32", context_length=512)
    pieces: list[str] = []
    cancel = threading.Event()

    def on_text(piece: str) -> None:
        pieces.append(piece)
        if len(pieces) == 3:
            cancel.set()

    request = ChatRequest([{"role": "user", "content": "Tell me a story."}], sampling=Sampling(max_tokens=200),
                          on_text=on_text, cancel=cancel)
    [done] = backend.generate([request])
    assert done.finish_reason == "cancelled"
    assert len(pieces) <= 4 and "".join(pieces) == done.text
    [full] = backend.generate([ChatRequest(request.messages, sampling=Sampling(max_tokens=12))])
    assert full.finish_reason == "length" and full.completion_tokens == 12  # the slot was freed

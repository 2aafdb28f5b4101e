"""VLLMBackend: the ``vllm serve`` command line, start-up and shutdown, adapters as model names, streaming.

On machines without a GPU the server is ``engines/fake_vllm.py`` (the same command line, served by
Fathom's own server on the tiny model), which tests Fathom's side of the lifecycle; the last test runs
the real vLLM and is skipped unless vLLM and a CUDA GPU are both there.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

from fathom.backends import ChatRequest, Sampling, TransformersBackend, load_backend
from fathom.backends._vllm import LORA_RANKS, VLLMBackend, vllm_command
from fathom.errors import BackendError, ConfigError, MissingDependencyError

FAKE = [sys.executable, str(Path(__file__).parent / "engines" / "fake_vllm.py")]
PROMPTS = ["Name a colour.", "Count to three.", "Say hello."]


def _requests(adapter: str | None) -> list[ChatRequest]:
    return [ChatRequest([{"role": "user", "content": p}], sampling=Sampling(max_tokens=8), adapter=adapter)
            for p in PROMPTS]


def _with_rank(folder: Path, out: Path, rank: int) -> Path:
    shutil.copytree(folder, out)
    config = json.loads((out / "adapter_config.json").read_text())
    (out / "adapter_config.json").write_text(json.dumps({**config, "r": rank}))
    return out


def test_command_line_loads_every_adapter_at_the_smallest_rank_vllm_accepts(
        adapters: dict[str, Path], tmp_path: Path) -> None:
    ranked = {"wide": _with_rank(adapters["alpha"], tmp_path / "wide", 20), "beta": adapters["beta"]}
    command = vllm_command(["vllm"], "/models/base", served_name="base", port=8123, adapters=ranked,
                           max_model_len=2048, extra_args=["--max-num-seqs", "32"])
    assert command[:3] == ["vllm", "serve", "/models/base"]
    flags = dict(zip(command[3::2], command[4::2], strict=False))
    assert flags["--served-model-name"] == "base" and flags["--port"] == "8123" and flags["--host"] == "127.0.0.1"
    assert flags["--max-model-len"] == "2048"
    start = command.index("--lora-modules")
    assert command[start + 1:start + 3] == [f"wide={ranked['wide']}", f"beta={ranked['beta']}"]
    assert command[command.index("--max-loras") + 1] == "2"
    assert command[command.index("--max-lora-rank") + 1] == "32"  # 20 rounds up to the next rank vLLM allows
    assert command[-2:] == ["--max-num-seqs", "32"] and "--enable-lora" in command
    assert "--enable-lora" not in vllm_command(["vllm"], "b", served_name="b", port=1, adapters={})


def test_an_adapter_above_the_largest_rank_is_refused(adapters: dict[str, Path], tmp_path: Path) -> None:
    huge = _with_rank(adapters["alpha"], tmp_path / "huge", LORA_RANKS[-1] + 1)
    with pytest.raises(ConfigError, match="fathom train merge"):
        vllm_command(["vllm"], "b", served_name="b", port=1, adapters={"huge": huge})


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed here")
def test_without_vllm_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(MissingDependencyError, match=r"pip install 'fathom\[vllm\]'"):
        load_backend("smollm2-135m", backend="vllm")


def test_gguf_and_bad_options_are_refused_before_starting(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    with pytest.raises(ConfigError, match="llamacpp backend"):
        VLLMBackend(str(model), command=FAKE)
    with pytest.raises(ConfigError) as info:
        VLLMBackend("smollm2-135m", concurrency=0, gpu_memory_utilization=1.5, command=FAKE)
    assert len(info.value.problems) == 2


def test_adapters_are_models_on_the_server_and_match_the_local_engine(
        varied_model_dir: Path, adapters: dict[str, Path]) -> None:
    local = TransformersBackend(str(varied_model_dir), device="cpu", adapters=adapters)
    # fathom serve (the fake engine) trims the answer's edges, as chat servers do
    expected = {name: [c.text.strip() for c in local.generate(_requests(name))] for name in (None, "alpha", "beta")}
    assert expected["alpha"] != expected[None] != expected["beta"]  # the adapters change the answers
    backend = load_backend(str(varied_model_dir), backend="vllm", parallel=3, adapters=adapters, command=FAKE,
                           startup_timeout=120)
    try:
        assert isinstance(backend, VLLMBackend) and backend.adapters == ["alpha", "beta"]
        for name in ("alpha", None, "beta", "alpha"):  # alternating: no adapter stays switched on
            assert [c.text for c in backend.generate(_requests(name))] == expected[name]
        pieces: list[str] = []
        [streamed] = backend.generate([ChatRequest(_requests("beta")[0].messages, sampling=Sampling(max_tokens=8),
                                                   adapter="beta", on_text=pieces.append)])
        assert pieces and "".join(pieces) == streamed.text == expected["beta"][0]
        with pytest.raises(ConfigError, match="unknown adapter 'c'"):
            backend.generate(_requests("c"))
    finally:
        backend.close()
    assert backend._process.poll() is not None  # the server was stopped


def test_a_server_that_fails_to_start_is_reported_with_its_log(monkeypatch: pytest.MonkeyPatch,
                                                                varied_model_dir: Path) -> None:
    monkeypatch.setenv("FAKE_VLLM_FAIL", "RuntimeError: No CUDA GPUs are available")
    with pytest.raises(BackendError, match="exited with code 1") as info:
        VLLMBackend(str(varied_model_dir), command=FAKE, startup_timeout=60)
    assert "No CUDA GPUs are available" in str(info.value)


def test_a_server_that_never_answers_is_stopped_after_the_timeout(varied_model_dir: Path) -> None:
    with pytest.raises(BackendError, match="did not answer /health within 1 s") as info:
        VLLMBackend(str(varied_model_dir), command=[sys.executable, "-c", "import time; time.sleep(60)"],
                    startup_timeout=1)
    assert "startup_timeout" in str(info.value)


def _gpu() -> bool:
    if importlib.util.find_spec("vllm") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


@pytest.mark.gpu
@pytest.mark.skipif(not _gpu(), reason="needs vLLM and a CUDA GPU")
def test_real_vllm_serves_two_adapters_like_the_transformers_engine(
        varied_model_dir: Path, adapters: dict[str, Path]) -> None:
    local = TransformersBackend(str(varied_model_dir), device="cpu", adapters=adapters, dtype="float32")
    backend = VLLMBackend(str(varied_model_dir), adapters=adapters, dtype="float32", max_model_len=512,
                          gpu_memory_utilization=0.3, extra_args=["--enforce-eager"])
    try:
        for name in (None, "alpha", "beta"):
            assert [c.text for c in backend.generate(_requests(name))] == \
                   [c.text for c in local.generate(_requests(name))]
    finally:
        backend.close()

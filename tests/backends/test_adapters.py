"""Adapters on demand: one base model, several LoRA adapters, each request picking one, on both local engines.

Two random LoRA adapters on the untied tiny model (``random_adapter`` in conftest: large enough to change greedy
answers). A call mixing base, ``alpha`` and ``beta`` requests must answer each exactly as a backend holding
that adapter alone (or the plain base) answers the same requests, on the same engine.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from fathom.backends import ChatRequest, Sampling
from fathom.errors import ConfigError

PROMPTS = ["What is the capital of France?", "Count to three, please."]
ENGINES = ["transformers", "llamacpp"]


@pytest.fixture(scope="module", params=ENGINES)
def shared(request: pytest.FixtureRequest, varied_model_dir: Path, adapters: dict[str, Path]) -> tuple[str, Any]:
    """``(engine, backend)``: the base model with both adapters registered, on each engine."""
    return request.param, _backend(request.param, varied_model_dir, adapters=adapters)


def _backend(engine: str, spec: Path, **options: Any) -> Any:
    from fathom.backends import LlamaCppBackend, TransformersBackend

    if engine == "transformers":
        return TransformersBackend(str(spec), device="cpu", batch_size=8, **options)
    return LlamaCppBackend(str(spec), parallel=2, gguf_type="f32", context_length=512, **options)


def _requests(adapter: str | None = None) -> list[ChatRequest]:
    return [ChatRequest([{"role": "user", "content": p}], sampling=Sampling(max_tokens=8), adapter=adapter)
            for p in PROMPTS]


def test_mixed_requests_match_each_adapter_alone(shared: tuple[str, Any], varied_model_dir: Path,
                                                 adapters: dict[str, Path]) -> None:
    engine, backend = shared
    assert backend.adapters == ["alpha", "beta"]
    names = [None, "alpha", "beta", "beta", None, "alpha"]
    requests = [ChatRequest([{"role": "user", "content": PROMPTS[i // 3]}], sampling=Sampling(max_tokens=8),
                            adapter=name) for i, name in enumerate(names)]
    mixed = [c.text for c in backend.generate(requests)]
    expected = {None: [c.text for c in _backend(engine, varied_model_dir).generate(_requests())]}
    for name, folder in adapters.items():
        expected[name] = [c.text for c in _backend(engine, folder).generate(_requests())]
    assert len({tuple(texts) for texts in expected.values()}) == 3, expected  # the adapters change the answers
    assert mixed == [expected[name][i // 3] for i, name in enumerate(names)]


def test_adapter_spec_is_the_default_and_the_base_stays_reachable_by_name(varied_model_dir: Path,
                                                                          adapters: dict[str, Path]) -> None:
    """Spec = adapter ``alpha``: ``adapter=None`` means alpha; ``beta`` is registered beside it."""
    backend = _backend("transformers", adapters["alpha"], adapters={"beta": adapters["beta"]})
    assert backend.adapters == ["alpha", "beta"]
    default = [c.text for c in backend.generate(_requests())]
    assert default == [c.text for c in backend.generate(_requests("alpha"))]
    assert default != [c.text for c in backend.generate(_requests("beta"))]


def test_unknown_adapter_is_refused_with_did_you_mean(shared: tuple[str, Any]) -> None:
    _, backend = shared
    expected = r"unknown adapter 'alpah'\. Did you mean 'alpha'\? Registered: alpha, beta\."
    with pytest.raises(ConfigError, match=expected):
        backend.generate([ChatRequest([{"role": "user", "content": "Hi"}], adapter="alpah")])


def test_adapter_of_another_base_and_a_taken_name_are_refused_before_loading(
        adapters: dict[str, Path], tmp_path: Path) -> None:
    from fathom.backends import TransformersBackend

    other = tmp_path / "other"
    shutil.copytree(adapters["beta"], other)
    config = json.loads((other / "adapter_config.json").read_text())
    (other / "adapter_config.json").write_text(json.dumps({**config, "base_model_name_or_path": "org/other-model"}))
    with pytest.raises(ConfigError) as info:
        TransformersBackend(str(adapters["alpha"]), device="cpu",
                            adapters={"alpha": adapters["beta"], "other": other, "gone": tmp_path / "missing"})
    message = str(info.value)
    assert "invalid adapters (3)" in message
    assert "adapters['alpha']: the name 'alpha' is taken already" in message
    assert f"adapters['other']: adapter 'other' ({other}) was trained on 'org/other-model'" in message
    assert "this backend's base model is" in message and "adapters['gone']" in message


def test_a_plain_backend_refuses_any_adapter(varied_model_dir: Path) -> None:
    backend = _backend("transformers", varied_model_dir)
    assert backend.adapters == []
    with pytest.raises(ConfigError, match=r"unknown adapter 'alpha'\. Registered: none\."):
        backend.generate(_requests("alpha"))

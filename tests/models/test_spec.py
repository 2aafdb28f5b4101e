"""Model spec kinds are types: each has exactly its own fields, round-trips through its spec string,
and is dispatched on by type (no optional fields narrowed by asserts)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

import fathom.models
from fathom.errors import ModelError
from fathom.models import (
    AdapterSpec,
    BundledSpec,
    HubSpec,
    LocalSpec,
    ModelSpec,
    RemoteSpec,
    is_remote,
    model_folder,
    pull_model,
    resolve_model,
)


def test_public_api_is_pinned() -> None:
    assert sorted(fathom.models.__all__) == [
        "AdapterSpec", "BUNDLED", "BundledSpec", "CHAT_TEMPLATES", "GGUFExport", "GGUFSpec", "GGUF_TYPES",
        "HubSpec", "LocalSpec", "ModelSpec", "RemoteSpec", "SMOLLM2_TOOL_CARD_TEMPLATE",
        "SMOLLM2_TOOL_TEMPLATE", "adapter_gguf_for", "bundled_dir", "bundled_gguf", "default_device",
        "ensure_tool_template", "export_gguf", "export_gguf_adapter", "gguf_chat_template", "gguf_for",
        "is_cached", "is_remote", "list_models", "load_model", "load_tokenizer", "make_tiny_model",
        "model_folder", "no_progress_bars", "prepare_messages", "pull_model", "resolve_model",
        "set_chat_template", "template_handles_tools"]


def _folders(tmp_path: Path) -> tuple[str, str]:
    local = tmp_path / "local"
    local.mkdir()
    (local / "config.json").write_text("{}")
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "org/base"}))
    return str(local), str(adapter)


def _kinds(tmp_path: Path) -> list[tuple[str, type[ModelSpec], str, list[str]]]:
    local, adapter = _folders(tmp_path)
    return [("smollm2-135m", BundledSpec, "bundled", ["spec"]),
            ("HuggingFaceTB/SmolLM2-135M-Instruct", HubSpec, "hub", ["spec"]),
            (local, LocalSpec, "local", ["spec", "path"]),
            (adapter, AdapterSpec, "adapter", ["spec", "path", "base"]),
            ("http://127.0.0.1:9/v1#m", RemoteSpec, "remote", ["spec", "url", "remote_model"])]


def test_each_kind_is_a_type_with_exactly_its_fields_and_round_trips(tmp_path: Path) -> None:
    for text, cls, kind, fields in _kinds(tmp_path):
        spec = resolve_model(text)
        assert type(spec) is cls and isinstance(spec, ModelSpec), text
        assert spec.kind == cls.kind == kind
        assert [f.name for f in dataclasses.fields(spec)] == fields
        assert spec.spec == text and resolve_model(spec.spec) == spec
        assert all(getattr(spec, f) is not None for f in fields if f != "remote_model")


def test_kind_fields_hold_what_the_spec_names(tmp_path: Path) -> None:
    local, adapter = _folders(tmp_path)
    assert resolve_model(local) == LocalSpec(local, path=Path(local).resolve())
    assert resolve_model(adapter) == AdapterSpec(adapter, path=Path(adapter).resolve(), base="org/base")
    assert resolve_model("https://api.test/v1/") == RemoteSpec("https://api.test/v1/", url="https://api.test/v1")


def test_specs_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        resolve_model("smollm2-135m").spec = "other"  # type: ignore[misc]


def test_is_remote_is_the_one_url_check() -> None:
    assert is_remote("http://h:1/v1") and is_remote("https://h/v1#m")
    assert not is_remote("httpbin/model") and not is_remote("smollm2-135m") and not is_remote("./http")
    assert isinstance(resolve_model("http://h:1/v1"), RemoteSpec)
    assert isinstance(resolve_model("httpbin/model"), HubSpec)


def test_dispatch_by_kind(tmp_path: Path) -> None:
    local, adapter = _folders(tmp_path)
    assert model_folder(local) == str(Path(local).resolve())
    assert pull_model(local) == Path(local).resolve() and pull_model(adapter) == Path(adapter).resolve()
    with pytest.raises(ModelError, match="adapter model and has no single weights folder"):
        model_folder(adapter)
    with pytest.raises(ModelError, match="remote endpoint; there is nothing to pull"):
        pull_model("http://127.0.0.1:9/v1#m")

"""Damaged adapter folders, hub ids that cannot be reached offline, unreadable Hugging Face caches:
each a precise error or a counted warning, fast, without touching the network."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from fathom.cli import main
from fathom.errors import FathomWarning, ModelError
from fathom.models import list_models, model_folder, pull_model, resolve_model

NOT_CACHED = "fathom-tests/not-a-cached-model"


def _adapter(tmp_path: Path, config: bytes) -> Path:
    folder = tmp_path / "adapter"
    folder.mkdir()
    (folder / "adapter_config.json").write_bytes(config)
    return folder


@pytest.mark.parametrize(("config", "message"), [
    (b'{"base_model_name_or_path": "smollm2-135m",', r"adapter_config\.json is not valid JSON \(Expecting"),
    (b"[1, 2]", r"adapter_config\.json must hold a JSON object, got list"),
    (b'{"r": 8}', r"adapter_config\.json names no base model: 'base_model_name_or_path' is missing"),
    (b'{"base_model_name_or_path": ""}', r"names no base model: 'base_model_name_or_path' is ''"),
    (b"\x89PNG\x00\x00", r"adapter_config\.json is not UTF-8 text \(byte offset 0\)"),
], ids=["truncated", "list", "no-key", "empty-base", "binary"])
def test_damaged_adapter_config(tmp_path: Path, config: bytes, message: str) -> None:
    folder = _adapter(tmp_path, config)
    with pytest.raises(ModelError, match=message) as err:
        resolve_model(str(folder))
    assert str(folder) in str(err.value) and "fathom train sft --out" in str(err.value)


def test_damaged_fathom_json(tmp_path: Path) -> None:
    folder = _adapter(tmp_path, json.dumps({"base_model_name_or_path": "smollm2-135m"}).encode())
    (folder / "fathom.json").write_text("{not json")
    with pytest.raises(ModelError, match=r"fathom\.json is not valid JSON"):
        resolve_model(str(folder))


def test_damaged_adapter_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _adapter(tmp_path, b"{")
    with pytest.raises(SystemExit) as exit_:
        main(["models", "pull", str(folder)])
    err = capsys.readouterr().err
    assert exit_.value.code == 1 and "adapter_config.json is not valid JSON" in err and "Traceback" not in err


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection fails the test."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the test tried to reach the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


def test_offline_hub_id_not_cached_fails_fast(no_network: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(ModelError) as err:
        model_folder(NOT_CACHED)
    assert time.perf_counter() - start < 5
    text = str(err.value)
    assert f"{NOT_CACHED!r} is a Hugging Face hub id that is not in the local cache, and HF_HUB_OFFLINE is set" in text
    assert f"fathom models pull {NOT_CACHED}" in text and "local folder" in text
    with pytest.raises(ModelError, match="HF_HUB_OFFLINE is set"):
        pull_model(NOT_CACHED)


def test_unreachable_hub_is_detected_and_reported(no_network: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from fathom.models import _hub

    monkeypatch.setattr(_hub, "hub_reachable", lambda timeout=2.0: False)
    with pytest.raises(ModelError, match="the Hugging Face hub cannot be reached"):
        model_folder(NOT_CACHED)


def test_offline_hub_id_in_the_cache_loads_from_its_folder(no_network: None, monkeypatch, tmp_path: Path) -> None:
    import huggingface_hub

    calls: list[dict[str, object]] = []

    def cached(repo_id: str, **kwargs: object) -> str:
        calls.append({"repo_id": repo_id, **kwargs})
        return str(tmp_path / "snapshot")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", cached)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert model_folder("org/cached") == str(tmp_path / "snapshot")
    assert pull_model("org/cached") == tmp_path / "snapshot"
    assert calls == [{"repo_id": "org/cached", "local_files_only": True}] * 2


def test_hub_reachable_probes_the_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    from fathom.models._hub import hub_reachable

    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    listening = socket.create_server(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    try:
        monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{port}")
        assert hub_reachable(timeout=2.0)
    finally:
        listening.close()
    assert not hub_reachable(timeout=2.0)  # nothing listens there any more: refused at once


def test_unreadable_hub_cache_is_warned_about(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "hub"
    not_a_folder.write_text("")
    with pytest.warns(FathomWarning, match=f"could not read the Hugging Face cache at {not_a_folder}"):
        rows = list_models(hub_cache=not_a_folder)
    assert [r.kind for r in rows] == ["bundled"]


def test_damaged_hub_cache_entries_are_counted(tmp_path: Path) -> None:
    cache = tmp_path / "hub"
    for name in ("models--org--broken", "models--org--also-broken"):
        (cache / name).mkdir(parents=True)  # no snapshots/ folder: the hub calls it corrupted
    with pytest.warns(FathomWarning, match=r"the Hugging Face cache at .* has 2 unreadable entries, not listed"):
        rows = list_models(hub_cache=cache)
    assert [r.kind for r in rows] == ["bundled"]


def test_missing_hub_cache_is_fine(tmp_path: Path, recwarn: pytest.WarningsRecorder) -> None:
    assert [r.kind for r in list_models(hub_cache=tmp_path / "none")] == ["bundled"]
    assert not [w for w in recwarn if issubclass(w.category, FathomWarning)]

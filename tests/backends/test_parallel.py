"""One parallelism setting: ``load_backend(parallel=N)`` and ``--parallel N`` on every model-running command.

``parallel`` means requests in flight at once: the batch size of a local model, the concurrent requests
to an endpoint. The backend decides which; the commands only pass the number on. The old option names
(``--batch-size``, ``--concurrency``) still work, with a deprecation notice on stderr.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

import fathom.backends
from fathom.backends import OpenAIHTTPBackend, TransformersBackend, load_backend
from fathom.cli import cli
from fathom.errors import BackendError, ConfigError

URL = "http://127.0.0.1:9/v1#m"


def _transport() -> httpx.MockTransport:
    return httpx.MockTransport(lambda r: httpx.Response(500))


@pytest.mark.parametrize("parallel", [1, 5])
def test_parallel_is_concurrency_for_an_endpoint(parallel: int) -> None:
    backend = load_backend(URL, parallel=parallel, transport=_transport())
    assert isinstance(backend, OpenAIHTTPBackend) and backend.concurrency == parallel


def test_parallel_is_batch_size_for_a_local_model(varied_model_dir: Path) -> None:
    backend = load_backend(str(varied_model_dir), parallel=3, device="cpu")
    assert isinstance(backend, TransformersBackend) and backend.batch_size == 3


def test_no_parallel_keeps_each_engines_default(varied_model_dir: Path) -> None:
    assert load_backend(URL, transport=_transport()).concurrency == 8  # type: ignore[attr-defined]
    assert load_backend(str(varied_model_dir), device="cpu").batch_size == 8  # type: ignore[attr-defined]


def test_device_is_for_local_models_and_endpoints_ignore_it() -> None:
    backend = load_backend(URL, parallel=2, device="cuda", transport=_transport())
    assert isinstance(backend, OpenAIHTTPBackend) and backend.concurrency == 2


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_parallel_must_be_a_whole_number_from_one(bad: Any) -> None:
    with pytest.raises(ConfigError) as info:
        load_backend(URL, parallel=bad, transport=_transport())
    [problem] = info.value.problems
    assert problem.where == "parallel" and repr(bad) in problem.message


def test_parallel_and_the_engines_own_option_must_agree() -> None:
    with pytest.raises(ConfigError, match="parallel=3 and concurrency=4 disagree"):
        load_backend(URL, parallel=3, concurrency=4, transport=_transport())
    assert load_backend(URL, parallel=4, concurrency=4, transport=_transport()).concurrency == 4  # type: ignore[attr-defined]


def test_each_engine_names_the_option_parallel_sets() -> None:
    assert (TransformersBackend.parallel_option, OpenAIHTTPBackend.parallel_option) == ("batch_size", "concurrency")


# --- the commands: --parallel reaches load_backend; old names warn and map onto it ---------------------------


class _Stop(BackendError):
    """Raised by the recording load_backend so the command stops right after choosing its backend."""


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def record(spec: str, **kwargs: Any) -> Any:
        calls.append({"spec": spec, **kwargs})
        raise _Stop("stopped by the test")

    monkeypatch.setattr(fathom.backends, "load_backend", record)
    return calls


def _command(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    data = tmp_path / "in.jsonl"
    data.write_text(json.dumps({"messages": [{"role": "user", "content": "q"}], "reference": "a"}) + "\n")
    if name == "generate":
        return ["generate", "-m", "smollm2-135m", "-d", str(data), "-o", str(tmp_path / "out.jsonl")]
    if name == "eval":
        return ["eval", "--model", "smollm2-135m", "--data", str(data), "--grader", "exact", "--out",
                str(tmp_path / "run")]
    if name == "serve":
        return ["serve", "smollm2-135m", "--port", "0"]
    import fathom.domains.shipping.stats as stats

    monkeypatch.setattr(stats, "compute_stats", lambda runs, **options: {"areas": {}})
    return ["shipping", "forecast", str(tmp_path), "--model", "smollm2-135m"]


COMMANDS = ["generate", "eval", "serve", "shipping forecast"]


def _invoke(args: list[str]) -> Any:
    return CliRunner().invoke(cli, args)


@pytest.mark.parametrize("name", COMMANDS)
def test_parallel_option_reaches_the_backend(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             recorded: list[dict[str, Any]]) -> None:
    result = _invoke([*_command(name, tmp_path, monkeypatch), "--parallel", "5"])
    assert result.exit_code != 0 and "stopped by the test" in str(result.exception) + result.output
    [call] = recorded
    assert call["parallel"] == 5 and "batch_size" not in call and "concurrency" not in call
    assert "deprecated" not in result.output


@pytest.mark.parametrize(("name", "old"), [("generate", "--batch-size"), ("eval", "--batch-size"),
                                           ("eval", "--concurrency"), ("serve", "--batch-size"),
                                           ("shipping forecast", "--batch-size")])
def test_old_option_names_still_work_and_warn(name: str, old: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              recorded: list[dict[str, Any]]) -> None:
    result = _invoke([*_command(name, tmp_path, monkeypatch), old, "3"])
    assert len(recorded) == 1, result.output
    [call] = recorded
    assert call["parallel"] == 3
    assert f"{old} is deprecated; use --parallel 3" in result.stderr


@pytest.mark.parametrize("order", ["new-first", "old-first"])
def test_parallel_wins_over_a_deprecated_alias(order: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               recorded: list[dict[str, Any]]) -> None:
    pair = [["--parallel", "5"], ["--batch-size", "3"]]
    extra = pair[0] + pair[1] if order == "new-first" else pair[1] + pair[0]
    _invoke([*_command("generate", tmp_path, monkeypatch), *extra])
    assert recorded[0]["parallel"] == 5


def test_defaults_are_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                recorded: list[dict[str, Any]]) -> None:
    for name in COMMANDS:
        _invoke(_command(name, tmp_path, monkeypatch))
    assert [c["parallel"] for c in recorded] == [8, 8, 8, 32]


def test_old_names_are_hidden_from_help() -> None:
    for args in (["generate"], ["eval"], ["serve"], ["shipping", "forecast"]):
        text = _invoke([*args, "--help"]).output
        assert "--parallel" in text and "--batch-size" not in text and "--concurrency" not in text

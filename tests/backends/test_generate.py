"""``fathom generate`` and generate_file: prompts, ids, output shape; the bundled-model acceptance test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from fathom.backends import ChatRequest, Completion, Sampling, completion_from_text, generate_file
from fathom.cli import cli
from fathom.errors import DataError


class RecordingBackend:
    """Answers every request with a fixed text and records what it was asked."""

    supports_batching = True
    model_name = "recorder"

    def __init__(self, text: str = "ok"):
        self.text = text
        self.calls: list[list[ChatRequest]] = []

    def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        self.calls.append(list(requests))
        return [completion_from_text(self.text, finish_reason="stop", prompt_tokens=4, completion_tokens=2)
                for _ in requests]


def _write(path: Path, rows: list[dict | str]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_prompt_drops_trailing_assistant_and_ids_follow_meta_id_line(tmp_path: Path) -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    data = _write(tmp_path / "in.jsonl", [
        {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "ref"}], "meta": {"id": "m1"}},
        "",
        {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "b"}], "id": 42, "tools": tools},
        {"messages": [{"role": "user", "content": "c"}]},
    ])
    backend = RecordingBackend('<tool_call>[{"name": "f", "arguments": {"x": 1}}]</tool_call>')
    sampling = Sampling(max_tokens=9, temperature=1.0, seed=5)
    summary = generate_file(backend, data, tmp_path / "out.jsonl", sampling=sampling)
    [sent] = backend.calls
    assert [r.messages[-1]["content"] for r in sent] == ["a", "b", "c"]
    assert [r.tools for r in sent] == [None, tools, None]
    assert [r.sampling.seed for r in sent] == [5, 6, 7] and sent[0].sampling.max_tokens == 9
    rows = _read(tmp_path / "out.jsonl")
    assert [r["id"] for r in rows] == ["m1", 42, 4]  # line 4: the blank line 2 still counts
    call = {"id": "call_0", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}}
    assert rows[0] == {"id": "m1", "role": "assistant", "content": None, "tool_calls": [call],
                       "finish_reason": "tool_calls",
                       "usage": {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}}
    assert (summary.examples, summary.completion_tokens, summary.finish_reasons) == (3, 6, {"tool_calls": 3})


def test_bad_examples_are_all_reported_before_generating(tmp_path: Path) -> None:
    data = _write(tmp_path / "in.jsonl", [
        {"messages": [{"role": "assistant", "content": "only"}]},
        {"messages": "nope"},
        {"messages": [{"role": "user", "content": "fine"}], "tools": {"not": "a list"}},
    ])
    backend = RecordingBackend()
    with pytest.raises(DataError) as info:
        generate_file(backend, data, tmp_path / "out.jsonl")
    assert [p.where.rsplit(":", 1)[1] for p in info.value.problems] == ["1", "2", "3"]
    assert backend.calls == [] and not (tmp_path / "out.jsonl").exists()


def test_cli_generate_with_tiny_model(varied_model_dir: Path, tmp_path: Path) -> None:
    data = _write(tmp_path / "in.jsonl", [{"messages": [{"role": "user", "content": f"q{i}"}], "id": f"e{i}"}
                                          for i in range(3)])
    out = tmp_path / "sub" / "out.jsonl"
    result = CliRunner().invoke(cli, ["generate", "--model", str(varied_model_dir), "--data", str(data), "--out",
                                      str(out), "--max-tokens", "4", "--batch-size", "2", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "Wrote 3 completions" in result.output
    rows = _read(out)
    assert [r["id"] for r in rows] == ["e0", "e1", "e2"]
    assert all(r["role"] == "assistant" and r["finish_reason"] == "length" and r["usage"]["completion_tokens"] == 4
               for r in rows)


def test_cli_generate_reports_bad_input(varied_model_dir: Path, tmp_path: Path) -> None:
    data = _write(tmp_path / "in.jsonl", ["{not json"])
    result = CliRunner().invoke(cli, ["generate", "-m", str(varied_model_dir), "-d", str(data), "-o",
                                      str(tmp_path / "o.jsonl"), "--device", "cpu"])
    assert result.exit_code != 0
    assert isinstance(result.exception, DataError) and "not valid JSON" in str(result.exception)


@pytest.mark.bundled
def test_bundled_model_knows_the_capital_of_france(bundled_model_dir: Path, tmp_path: Path) -> None:
    """Acceptance: `fathom models pull smollm2-135m`, then `fathom generate` gives a sensible answer."""
    runner = CliRunner()
    assert runner.invoke(cli, ["models", "pull", "smollm2-135m"]).exit_code == 0
    data = _write(tmp_path / "in.jsonl", [{"messages": [{"role": "user", "content": "What is the capital of France?"}],
                                           "meta": {"id": "france"}}])
    out = tmp_path / "out.jsonl"
    result = runner.invoke(cli, ["generate", "--model", "smollm2-135m", "--data", str(data), "--out", str(out),
                                 "--max-tokens", "12", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    [row] = _read(out)
    assert row["id"] == "france" and "Paris" in row["content"]


def test_cli_generate_through_an_http_endpoint(tmp_path: Path) -> None:
    from fathom.serve import create_app, start_server

    backend = RecordingBackend("remote answer")
    data = _write(tmp_path / "in.jsonl", [{"messages": [{"role": "user", "content": f"q{i}"}]} for i in range(3)])
    out = tmp_path / "out.jsonl"
    with start_server(create_app(backend, model_name="rec"), port=0) as server:
        result = CliRunner().invoke(cli, ["generate", "-m", f"{server.url}/v1#rec", "-d", str(data), "-o", str(out),
                                          "--max-tokens", "5", "--batch-size", "3"])
    assert result.exit_code == 0, result.output
    assert [(r["id"], r["content"]) for r in _read(out)] == [(i, "remote answer") for i in (1, 2, 3)]
    assert sorted(r.messages[0]["content"] for call in backend.calls for r in call) == ["q0", "q1", "q2"]
    assert all(r.sampling.max_tokens == 5 and r.sampling.temperature == 0.0 for call in backend.calls for r in call)


def _fewshot_requests(sampling: Sampling) -> list[ChatRequest]:
    shots: list[dict[str, Any]] = [{"role": "system", "content": "You write short forecasts for sea areas."}]
    for i in range(6):
        shots += [{"role": "user", "content": f"Area {i}: wind {i * 7} degrees, force {i % 8}."},
                  {"role": "assistant", "content": f"Force {i % 8}, veering later. Good."}]
    return [ChatRequest([*shots, {"role": "user", "content": f"Area {name}: wind {n} degrees."}], None,
                        Sampling(max_tokens=sampling.max_tokens, temperature=sampling.temperature, seed=n))
            for n, name in enumerate(["Dogger", "Fisher", "Viking", "Thames", "Dover", "Wight and Portland"])]


# greedy on the bundled model (a random model's near-flat logits flip argmax on rounding differences between
# the two layouts), seeded sampling on the random one
@pytest.mark.parametrize(("model", "temperature"), [("bundled_model_dir", 0.0), ("varied_model_dir", 1.0)])
def test_a_shared_prompt_prefix_is_computed_once_with_the_same_results(
        model: str, temperature: float, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    import fathom.backends._transformers as hf

    backend = hf.TransformersBackend(str(request.getfixturevalue(model)), batch_size=8)
    requests = _fewshot_requests(Sampling(max_tokens=10, temperature=temperature))
    prompts = [backend.prompt_ids(r) for r in requests]
    shared = hf._shared_prefix(prompts)
    assert shared >= hf.SHARED_PREFIX_MIN and all(p[:shared] == prompts[0][:shared] for p in prompts)
    import functools

    calls: list[int] = []
    real_forward = backend.model.forward

    @functools.wraps(real_forward)  # generate reads forward's signature (position_ids)
    def counting_forward(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["input_ids"].shape[1] if "input_ids" in kwargs else -1)
        return real_forward(*args, **kwargs)

    monkeypatch.setattr(backend.model, "forward", counting_forward)
    cached = [c.text for c in backend.generate(requests)]
    assert calls[0] == shared  # the prefix alone, once
    assert max(calls[1:]) < max(len(p) for p in prompts) - shared + 1  # rows only prefill their own part
    monkeypatch.setattr(hf, "SHARED_PREFIX_MIN", 10**9)
    plain = [c.text for c in backend.generate(requests)]
    assert cached == plain
    assert len(set(cached)) > 1 or temperature == 0.0


def test_shared_prefix_leaves_each_row_a_token_and_ignores_short_ones() -> None:
    from fathom.backends._transformers import SHARED_PREFIX_MIN, _shared_prefix

    long = list(range(SHARED_PREFIX_MIN + 5))
    assert _shared_prefix([long, long]) == len(long) - 1
    assert _shared_prefix([[*long, 1], [*long, 2]]) == len(long)
    assert _shared_prefix([[1, 2, 3], [1, 2, 4]]) == 0

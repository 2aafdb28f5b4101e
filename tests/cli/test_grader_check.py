"""``fathom grader check``: the report or its JSON, exit 0 when ready and 3 when not, and bad input
(unknown grader, missing or unpromptable data, ``--n 1``, references the grader cannot read) refused
with exit 2 before any model loads. A scripted backend stands in for the model, except in one test
that samples the tiny random model end to end."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
from tests.cli._run import run

import fathom.backends
from fathom.backends import ChatRequest, Completion
from fathom.datasets import write_jsonl

ASSETS = Path(__file__).resolve().parents[1] / "assets"


@pytest.fixture(scope="module")
def examples() -> list[dict[str, Any]]:
    """Every sea area of two synthetic runs (62 examples), from the shipping dataset builder."""
    from fathom.domains.shipping.lm import examples_from_stats
    from fathom.domains.shipping.writer import random_stats

    return [*examples_from_stats("20250105T00Z", random_stats(0)),
            *examples_from_stats("20250105T12Z", random_stats(1))]


@pytest.fixture
def data(tmp_path: Path, examples: list[dict[str, Any]]) -> Path:
    return write_jsonl(tmp_path / "prompts.jsonl", examples)


def _variants(ref: str, others: list[str]) -> list[str]:
    """The reference, variants with one field from another area, and one answer that does not parse."""
    def swap(other: str, j: int) -> str:
        return ". ".join(o if k == j else m for k, (m, o) in enumerate(zip(ref.split(". "), other.split(". "),
                                                                             strict=True)))
    return [ref, *(swap(o, k % 4) for k, o in enumerate(others)), "No idea."]


class ScriptedBackend:
    """Answers by prompt and seed from perturbed references; remembers how it was built."""

    supports_batching: ClassVar[bool] = True
    model_name = "scripted"

    def __init__(self, examples: Sequence[dict[str, Any]], **options: Any) -> None:
        texts = [e["reference"]["text"] for e in examples]
        self.answers = {e["messages"][1]["content"]: _variants(texts[i], [texts[(i + k) % len(texts)] for k in
                                                                          range(1, 7)])
                        for i, e in enumerate(examples)}
        self.options = options
        self.requests = 0

    def generate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        self.requests += len(requests)
        out = []
        for r in requests:
            options = self.answers[r.messages[-1]["content"]]
            text = options[(r.sampling.seed or 0) % len(options)]
            out.append(Completion({"role": "assistant", "content": text}, text))
        return out


@pytest.fixture
def backends(monkeypatch: pytest.MonkeyPatch, examples: list[dict[str, Any]]) -> list[ScriptedBackend]:
    """``load_backend`` replaced by one that builds a :class:`ScriptedBackend`; the list holds each one built."""
    built: list[ScriptedBackend] = []

    def load(spec: str, **options: Any) -> ScriptedBackend:
        built.append(ScriptedBackend(examples, spec=spec, **options))
        return built[-1]

    monkeypatch.setattr(fathom.backends, "load_backend", load)
    return built


def test_ready_grader_exits_0_and_prints_the_json_contract(data: Path, tmp_path: Path,
                                                           backends: list[ScriptedBackend], capsys) -> None:
    out = tmp_path / "check" / "reward_check.json"
    code, stdout, err = run(["grader", "check", "--grader", "shipping", "--data", str(data), "--model", "m",
                             "--n", "8", "--limit", "6", "--parallel", "4", "--json", "--out", str(out),
                             "--strict", '{"name": "shipping", "mode": "strict"}'], capsys)
    assert code == 0, stdout + err
    result = json.loads(stdout)
    assert result == json.loads(out.read_text())
    assert result["schema"] == "fathom.reward_check/1" and result["advice"] == "ready"
    assert result["prompts"] == 6 and result["n"] == 8 and result["reward"]["n"] == 48
    assert result["strict"]["source"] == "shipping_grader_strict"
    assert [p["name"] for p in result["probes"]] == ["empty", "echo", "repeat", "long", "duplicate_call", "wrong"]
    assert all(p["passed"] is not False for p in result["probes"]) and result["probes"][-1]["n"] == 6
    assert result["meta"]["model"] == "scripted" and result["meta"]["temperature"] == 1.0
    [backend] = backends
    assert backend.options["spec"] == "m" and backend.options["parallel"] == 4 and backend.requests == 48


def test_a_binary_reward_exits_3_with_the_report(data: Path, backends: list[ScriptedBackend], capsys) -> None:
    code, stdout, _ = run(["grader", "check", "--grader", "exact", "--data", str(data), "--model", "m",
                           "--n", "4", "--limit", "5"], capsys)
    assert code == 3
    assert "Reward check of 'exact': 5 prompts x 4 samples" in stdout
    assert "Advice: binary. Binary:" in stdout and "partial credit" in stdout


def _no_prompt(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "bad.jsonl", [{"messages": [{"role": "assistant", "content": "Gale 8."}]}])


@pytest.mark.parametrize(("make_args", "message"), [
    (lambda d, t: ["--grader", "shiping", "--data", str(d)], "Did you mean 'shipping'?"),
    (lambda d, t: ["--grader", "shipping", "--data", str(t / "missing.jsonl")], "does not exist"),
    (lambda d, t: ["--grader", "shipping", "--data", str(d), "--n", "1"], "need at least 2 samples per prompt"),
    (lambda d, t: ["--grader", "shipping", "--data", str(d), "--strict", "{nope"], "--strict"),
    (lambda d, t: ["--grader", "shipping", "--data", str(_no_prompt(t))], "bad.jsonl:1: no prompt"),
    (lambda d, t: ["--grader", "shipping", "--data", str(ASSETS / "datasets_chat_tiny.jsonl")],
     "example 2: The shipping grader needs example['reference']"),
    (lambda d, t: ["--grader", "shipping", "--data", str(d), "--out", str(d / "x.json")], "cannot write"),
], ids=["unknown-grader", "missing-file", "n-1", "bad-strict-spec", "no-prompt", "no-reference", "bad-out"])
def test_bad_input_exits_2_before_any_model_loads(make_args, message: str, data: Path, tmp_path: Path,
                                                  backends: list[ScriptedBackend], capsys) -> None:
    code, _, err = run(["grader", "check", "--model", "m", *make_args(data, tmp_path)], capsys)
    assert code == 2, err
    assert message in err
    assert "Traceback" not in err
    assert backends == []  # nothing was loaded


def test_samples_the_tiny_model(tiny_model_dir: Path, data: Path, capsys) -> None:
    code, stdout, err = run(["grader", "check", "--grader", "exact", "--data", str(data), "--model",
                             str(tiny_model_dir), "--n", "2", "--limit", "2", "--max-tokens", "4", "--json"], capsys)
    result = json.loads(stdout)
    assert code == 3, err  # a random model never writes the forecast: too hard
    assert result["advice"] == "too_hard" and result["reward"]["mean"] == 0.0 and result["reward"]["n"] == 4
    assert "SFT first" in result["advice_text"]
    assert result["meta"]["max_tokens"] == 4 and result["meta"]["model"] == str(tiny_model_dir)

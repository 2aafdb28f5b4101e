"""Chat examples for the training tests: tools, tool results, system prompts, multi-turn chats.

Tests get the builders through the ``chats`` fixture (``chats.tool_chat("Oslo")``) and files through
``train_file`` / ``eval_file`` / ``write_rows``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather now at a place",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
SEA_TOOL = {"type": "function", "function": {
    "name": "sea_state", "description": "Significant wave height in a sea area",
    "parameters": {"type": "object", "properties": {"area": {"type": "string"}, "hours": {"type": "integer"}},
                   "required": ["area"]}}}


def tool_chat(city: str = "Paris") -> dict[str, Any]:
    """System prompt, tools, a tool call, its result and a final answer."""
    return {"messages": [
        {"role": "system", "content": "You are a weather assistant."},
        {"role": "user", "content": f"Weather in {city}?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function",
             "function": {"name": "get_weather", "arguments": json.dumps({"city": city})}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "18C, sunny"},
        {"role": "assistant", "content": f"It is 18C and sunny in {city}."}],
        "tools": [WEATHER_TOOL, SEA_TOOL]}


def multi_turn_chat() -> dict[str, Any]:
    """Two user turns, text then tool call with text, and no system prompt."""
    return {"messages": [
        {"role": "user", "content": "Hello!"},
        {"role": "assistant", "content": "Hi, how can I help?"},
        {"role": "user", "content": "Sea state in Dogger for 12 hours?"},
        {"role": "assistant", "content": "Checking.", "tool_calls": [
            {"id": "c9", "type": "function", "function": {"name": "sea_state",
                                                          "arguments": json.dumps({"area": "Dogger", "hours": 12})}}]},
        {"role": "tool", "tool_call_id": "c9", "content": "2.1 m"},
        {"role": "assistant", "content": "Moderate, 2.1 metres."}],
        "tools": [SEA_TOOL]}


def simple_chat(question: str, answer: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]}


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


class Chats:
    """The builders above, handed to tests by the ``chats`` fixture."""

    tool_chat = staticmethod(tool_chat)
    multi_turn_chat = staticmethod(multi_turn_chat)
    simple_chat = staticmethod(simple_chat)
    write_jsonl = staticmethod(write_jsonl)
    tools = (WEATHER_TOOL, SEA_TOOL)


@pytest.fixture
def chats() -> type[Chats]:
    return Chats


@pytest.fixture
def train_file(tmp_path: Path) -> Path:
    """24 mixed examples (tool chats, multi-turn chats, one-liners)."""
    rows = []
    for i in range(8):
        rows += [tool_chat(["Paris", "Oslo", "Cork", "Brest"][i % 4]), multi_turn_chat(),
                 simple_chat(f"What is {i} plus {i}?", f"{2 * i}.")]
    return write_jsonl(tmp_path / "train.jsonl", rows)


@pytest.fixture
def eval_file(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "val.jsonl", [tool_chat("Wick"), simple_chat("What is 9 plus 9?", "18.")])


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Any:
    """Run each training test on one torch thread (restored afterwards).

    The tiny model's operations are so small that thread barriers dominate them; on a busy machine two
    threads made a tiny run 3.5x slower than one.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _kill_after_first_checkpoint(argv: list[str], out: Path, log: Path) -> list[Path]:
    """Run ``fathom ARGV`` in a child process, SIGKILL it once ``out`` holds a complete checkpoint, and
    return the complete checkpoints it left (the run must not have finished)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from fathom.train import complete_checkpoints

    code = "import sys; from fathom.cli import main; main(sys.argv[1:])"
    with open(log, "wb") as fh:  # a file, not a pipe: a full pipe would block the child
        proc = subprocess.Popen([sys.executable, "-c", code, *argv], stdout=fh, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONWARNINGS": "ignore"})
    deadline = time.monotonic() + 240
    try:
        while not complete_checkpoints(out):
            assert proc.poll() is None, f"the run ended before its first checkpoint: {log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, "no checkpoint within 240 s"
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    before = complete_checkpoints(out)
    assert before and not (out / "result.json").exists()  # killed before the end
    return before


@pytest.fixture
def kill_after_first_checkpoint() -> Any:
    """``kill(argv, out, log) -> checkpoints``: a CLI training run killed after its first checkpoint."""
    return _kill_after_first_checkpoint


@pytest.fixture
def no_model_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything loads a model or a generation backend (bad input must be refused first)."""
    import fathom.backends
    import fathom.models

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a model was loaded before the bad input was reported")

    monkeypatch.setattr(fathom.models, "load_model", refuse)
    monkeypatch.setattr(fathom.backends, "load_backend", refuse)

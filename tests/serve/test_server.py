"""Real servers on 127.0.0.1, port 0: ``fathom serve`` as a subprocess, and a background-thread server
spoken to by the HTTP backend (tool calls and batching across a real socket)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from fathom.backends import ChatRequest, Completion, OpenAIHTTPBackend, Sampling, completion_from_text
from fathom.errors import BackendError
from fathom.serve import bind_socket, create_app, start_server

CALL = '<tool_call>[{"name": "get_weather", "arguments": {"city": "Paris"}}]</tool_call>'


class EchoBackend:
    """Answers each request with its last user message (a tool call when it says so); records batches."""

    supports_batching = True
    model_name = "echo"

    def __init__(self) -> None:
        self.batches: list[int] = []

    def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        self.batches.append(len(requests))
        texts = [CALL if r.messages[-1]["content"] == "call" else r.messages[-1]["content"] for r in requests]
        return [completion_from_text(t, finish_reason="stop", prompt_tokens=5, completion_tokens=2) for t in texts]


def test_http_backend_through_a_real_server_batches_and_parses_tool_calls() -> None:
    echo = EchoBackend()
    with start_server(create_app(echo, batch_window_ms=100), port=0) as server:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.url)
        client = OpenAIHTTPBackend(server.url + "/v1", concurrency=8, retries=0)
        assert client.model_name == "echo"
        requests = [ChatRequest([{"role": "user", "content": f"m{i}"}], sampling=Sampling(max_tokens=4))
                    for i in range(7)]
        requests.append(ChatRequest([{"role": "user", "content": "call"}]))
        done = client.generate(requests)
        client.close()
    assert [c.message.get("content") for c in done[:7]] == [f"m{i}" for i in range(7)]
    assert done[7].finish_reason == "tool_calls"
    assert done[7].message["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    assert sum(echo.batches) == 8 and len(echo.batches) <= 2  # 8 concurrent requests, at most 2 generate calls


def test_busy_port_is_a_clear_error() -> None:
    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    try:
        with pytest.raises(BackendError, match=f"Cannot listen on 127.0.0.1:{port}.*--port"):
            bind_socket("127.0.0.1", port)
    finally:
        sock.close()


def test_fathom_serve_cli_port_zero(tiny_model_dir: Path) -> None:
    command = [sys.executable, "-c", "from fathom.cli import main; main()", "serve", str(tiny_model_dir),
               "--port", "0", "--model-name", "tiny", "--device", "cpu", "--log-level", "warning",
               "--max-body-mb", "0.01", "--max-tokens-cap", "50"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        match = re.search(r"Serving tiny at (http://127\.0\.0\.1:(\d+)/v1)", line)
        assert match, f"unexpected first line {line!r}; stderr: {proc.stderr.read() if proc.poll() is not None else ''}"
        url = match.group(1)
        assert int(match.group(2)) > 0
        with httpx.Client(timeout=60) as client:
            # the socket is bound (and listening) before the URL is printed, so this waits in the backlog
            health = client.get(url.removesuffix("/v1") + "/health")
            assert health.json() == {"status": "ok", "model": "tiny"}
            reply = client.post(url + "/chat/completions", json={
                "model": "tiny", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 3, "temperature": 0})
            too_big = client.post(url + "/chat/completions",
                                  json={"messages": [{"role": "user", "content": "x" * 20_000}]})
            too_many = client.post(url + "/chat/completions", json={"messages": [{"role": "user", "content": "Hi"}],
                                                                    "max_tokens": 51})
        assert reply.status_code == 200
        assert reply.json()["usage"]["completion_tokens"] == 3
        assert too_big.status_code == 413 and "10000 bytes" in too_big.json()["error"]["message"]
        assert too_many.status_code == 400 and "at most 50 tokens" in too_many.json()["error"]["message"]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_fathom_serve_refuses_a_default_above_the_cap_before_loading(capsys: pytest.CaptureFixture[str]) -> None:
    from fathom.cli import main

    with pytest.raises(SystemExit) as info:
        main(["serve", "no-such-model", "--max-tokens", "300", "--max-tokens-cap", "200"])
    assert info.value.code == 2
    assert "--max-tokens (300) is above --max-tokens-cap (200)" in capsys.readouterr().err

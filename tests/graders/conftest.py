"""A scripted OpenAI-compatible judge server on loopback, for the LLM-judge tests.

``ScriptedJudges`` is a small FastAPI app answering ``/v1/chat/completions`` with canned replies
chosen by a Python function of (model name, the request's messages); it records every request so
tests can count calls and inspect what the judge was sent. It is served by serve's own
:func:`fathom.serve.start_server` on 127.0.0.1, port 0 (the OS picks a free port), in a background
thread, for one test module at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

Reply = Callable[[str, list[dict[str, Any]]], str]


class ScriptedJudges:
    """Canned judge replies over HTTP; ``script(model, messages) -> reply text``."""

    def __init__(self) -> None:
        self.script: Reply = lambda model, messages: '{"reason": "default", "score": 3}'
        self.requests: list[dict[str, Any]] = []
        self.url = ""

    def app(self) -> Any:
        from fastapi import FastAPI

        app = FastAPI()

        @app.post("/v1/chat/completions")
        def chat(body: dict[str, Any]) -> dict[str, Any]:
            self.requests.append(body)
            text = self.script(body["model"], body["messages"])
            return {"id": f"cmpl-{len(self.requests)}", "object": "chat.completion", "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": text}}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}

        return app


@pytest.fixture(scope="module")
def judge_server() -> Iterator[ScriptedJudges]:
    from fathom.serve import start_server

    judges = ScriptedJudges()
    with start_server(judges.app()) as running:
        judges.url = f"{running.url}/v1"
        yield judges


@pytest.fixture()
def judges(judge_server: ScriptedJudges) -> ScriptedJudges:
    """The module's server with a fresh request log and the default script."""
    judge_server.requests.clear()
    judge_server.script = lambda model, messages: '{"reason": "default", "score": 3}'
    return judge_server

"""Teachers: the OpenAI-compatible one (retries, preflight), in-process ones by reference, and the prompt."""

from __future__ import annotations

import json

import httpx
import pytest
from tests.synth._script import CATEGORIES, TOOLS

from fathom.errors import BackendError, ConfigError
from fathom.synth import (
    Category,
    Chunk,
    OpenAITeacher,
    check_endpoint,
    load_teacher,
    repair_request,
    system_prompt,
    teacher_request,
)

CATS = tuple(Category(n, s["description"], tuple(s["tools"])) for n, s in CATEGORIES.items())
CHUNK = Chunk(id="m.txt#2", source="m.txt", text="Pump P-1 runs.", index=2, metadata={})


def _request():  # type: ignore[no-untyped-def]
    return teacher_request(CHUNK, CATS, TOOLS, system=system_prompt(CATS, TOOLS), n=3, seed=0)


def test_the_prompt_has_its_sections_and_ends_with_the_chunk() -> None:
    system, user = _request().messages
    headings = [line for line in system["content"].splitlines() if line.startswith("## ")]
    assert headings == ["## Role", "## Categories", "## Tools", "## Output", "## Examples (placeholders in <angle "
                                                                             "brackets> stand for facts from the "
                                                                             "document)"]
    assert "- `maintain`: Check an asset, then schedule work on it. Tools: get_status -> schedule_work." \
        in system["content"]
    assert "- `fact`: A question a sentence of the document answers. Tools: no tool" in system["content"]
    assert user["content"].endswith("source: m.txt (part 3)\n\nPump P-1 runs.")
    assert "exactly 3 example(s)" in user["content"]
    repair = repair_request(_request(), "{bad", "Expecting value")
    assert [m["role"] for m in repair.messages] == ["system", "user", "assistant", "user"]
    assert repair.messages[2]["content"] == "{bad" and "Expecting value" in repair.messages[3]["content"]


def test_the_http_teacher_retries_server_errors_and_sends_the_seed() -> None:
    seen: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        if len(seen) < 3:
            return httpx.Response(503 if len(seen) == 1 else 429, json={"error": "busy"})
        return httpx.Response(200, json={"choices": [{"message": {"role": "assistant", "content": '{"examples": []}'},
                                                      "finish_reason": "stop"}]})

    waits: list[float] = []
    teacher = OpenAITeacher("http://teacher.test", "t", transport=httpx.MockTransport(handler), retries=3,
                            backoff=0.1, sleep=waits.append)
    request = _request()
    assert teacher.complete(request) == '{"examples": []}'
    assert len(seen) == 3 and len(waits) == 2 and waits[1] > waits[0] * 0.6
    assert seen[0]["seed"] == request.seed and seen[0]["model"] == "t" and teacher.base_url == "http://teacher.test/v1"
    failing = OpenAITeacher("http://teacher.test", "t", retries=1, backoff=0, sleep=waits.append,
                            transport=httpx.MockTransport(lambda r: httpx.Response(500, text="down")))
    with pytest.raises(BackendError, match="after 2 attempts"):
        failing.complete(request)


def test_the_preflight_names_what_is_wrong() -> None:
    def models(names: list[str], status: int = 200) -> httpx.MockTransport:
        return httpx.MockTransport(lambda r: httpx.Response(status, json={"data": [{"id": n} for n in names]}))

    assert check_endpoint("http://t.test/v1", "m", transport=models(["m", "n"])) == []
    assert check_endpoint("http://t.test", "m", transport=models([], 404)) == []  # no /models: taken as up
    [wrong] = check_endpoint("http://t.test", "mm", transport=models(["m", "n"]))
    assert wrong.where == "teacher.model" and "'mm' is not served at http://t.test/v1" in wrong.message
    assert check_endpoint("http://t.test", "mm", transport=models(["m"]), check_model=False) == []
    [key] = check_endpoint("http://t.test", "m", transport=models([], 401))
    assert key.where == "teacher.api_key_env" and "rejected the API key (HTTP 401)" in key.message


def test_an_in_process_teacher_by_reference() -> None:
    teacher = load_teacher({"ref": "tests.synth._script:ScriptedTeacher"}, concurrency=1)
    assert json.loads(teacher.complete(_request()))["examples"][0]["category"] == "fact"
    with pytest.raises(ConfigError, match=r"cannot load 'tests\.synth\._script:Nope'"):
        load_teacher({"ref": "tests.synth._script:Nope"}, concurrency=1)
    with pytest.raises(ConfigError, match="does not take these options"):
        load_teacher({"ref": "tests.synth._script:ScriptedTeacher", "options": {"x": 1}}, concurrency=1)
    with pytest.raises(ConfigError, match="has no complete"):
        load_teacher({"ref": "tests.synth._script:TOOLS"}, concurrency=1)

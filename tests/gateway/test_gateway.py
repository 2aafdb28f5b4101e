"""The gateway end to end in one process: real servers on 127.0.0.1 (the gateway and scripted upstreams),
the official ``openai`` client, keys, errors, failover, guardrails through the relay, templates, metrics.

Multi-process checks (Redis-shared limits, SIGKILL and the ledger, secrets in every log) are in
``test_gateway_processes.py``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from openai import OpenAI
from tests.gateway._upstream import ScriptedUpstream, running

from fathom.gateway import create_gateway, load_config
from fathom.serve import RunningServer, start_server

CARD = "4111 1111 1111 1111"  # passes Luhn
BAD_CARD = "4111 1111 1111 1112"  # fails it


def write_config(folder: Path, upstreams: dict[str, str], *, routes: list[dict[str, Any]] | None = None,
                 policy: dict[str, Any] | None = None, **extra: Any) -> Path:
    config: dict[str, Any] = {
        "state": str(folder / "state"),
        "upstreams": [{"name": n, "url": u, "timeout_s": 10, "connect_timeout_s": 1} for n, u in upstreams.items()],
        "models": [{"name": "shipping", "adapter": "shipping",
                    "routes": routes or [{"upstream": n, "model": "base:shipping"} for n in upstreams]},
                   {"name": "other", "routes": [{"upstream": next(iter(upstreams)), "model": "base"}]}],
        "breaker": {"failures": 1, "cooldown_s": 30, "health_interval_s": 0.2},
        **extra,
    }
    if policy is not None:
        (folder / "policy.yaml").write_text(yaml.safe_dump(policy))
        config["guardrails"] = "policy.yaml"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "gateway.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


class Running:
    """A gateway app served on a free port, with a key."""

    def __init__(self, config_path: Path, **key: Any):
        self.config = load_config(config_path)
        self.app = create_gateway(self.config)
        self.gateway = self.app.state.gateway
        _, self.key = self.gateway.keys.create("tester", **key)
        self._server = start_server(self.app, port=0)
        self.server: RunningServer = self._server.__enter__()
        self.url = self.server.url

    def client(self, key: str | None = None) -> OpenAI:
        return OpenAI(base_url=self.url + "/v1", api_key=key or self.key, max_retries=0, timeout=20)

    def post(self, body: Any, *, key: str | None = "own", raw: bytes | None = None) -> httpx.Response:
        headers = {"content-type": "application/json"}
        if key is not None:
            headers["authorization"] = f"Bearer {self.key if key == 'own' else key}"
        content = raw if raw is not None else json.dumps(body).encode()
        return httpx.post(self.url + "/v1/chat/completions", content=content, headers=headers, timeout=20)

    def close(self) -> None:
        self._server.__exit__(None, None, None)


@pytest.fixture
def upstream() -> Iterator[tuple[ScriptedUpstream, RunningServer]]:
    scripted = ScriptedUpstream(delay_s=0.05)
    with running(scripted) as server:
        yield scripted, server


@pytest.fixture
def gateway(tmp_path: Path, upstream: tuple[ScriptedUpstream, RunningServer]) -> Iterator[Running]:
    running_gateway = Running(write_config(tmp_path, {"up": upstream[1].url + "/v1"}))
    yield running_gateway
    running_gateway.close()


def _user(text: str) -> list[Any]:
    return [{"role": "user", "content": text}]


def test_openai_client_plain_streaming_and_tool_calls(gateway: Running,
                                                      upstream: tuple[ScriptedUpstream, RunningServer]) -> None:
    scripted, _ = upstream
    client = gateway.client()
    reply = client.chat.completions.create(model="shipping", messages=_user("gale warning"))
    assert reply.choices[0].message.content == "echo: gale warning"
    assert reply.usage is not None and reply.usage.completion_tokens == 3
    assert scripted.bodies[-1]["model"] == "base:shipping"  # the route's model name went upstream
    assert scripted.bodies[-1]["max_tokens"] == 256  # the reservation is the upstream's limit

    stream = client.chat.completions.create(model="shipping", messages=_user("one two three four five six"),
                                            stream=True)
    early, pieces = None, []
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            if early is None:
                early = not scripted.finished.is_set()
            pieces.append(chunk.choices[0].delta.content)
        assert chunk.usage is None  # the client did not ask for usage, so the gateway's own request's is dropped
    assert early is True and "".join(pieces) == "echo: one two three four five six"

    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    called = client.chat.completions.create(model="shipping", messages=_user("weather in Oban"), tools=tools)
    [call] = called.choices[0].message.tool_calls or []
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Oban"}
    streamed = client.chat.completions.create(model="shipping", messages=_user("weather in Wick"), tools=tools,
                                              stream=True, stream_options={"include_usage": True})
    chunks = list(streamed)
    calls = [c.choices[0].delta.tool_calls for c in chunks if c.choices and c.choices[0].delta.tool_calls]
    assert calls and calls[0][0].function.name == "get_weather"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 1


@pytest.mark.parametrize(("body", "raw", "status", "fragment"), [
    (None, b"{not json", 400, "not valid JSON"),
    ({"model": "shipping"}, None, 400, "messages must be a non-empty list"),
    ({"model": "shipping", "messages": _user("hi"), "max_tokens": -5}, None, 400, "max_tokens must be"),
    ({"model": "shipping", "messages": _user("hi"), "max_tokens": 10**6}, None, 400, "at most 8192"),
    ({"model": "shiping", "messages": _user("hi")}, None, 404, "Models for this key: shipping, other"),
    ({"model": "shipping", "messages": _user("hi"), "stream": "yes"}, None, 400, "stream must be"),
    ([1, 2], None, 400, "must be a JSON object"),
])
def test_bad_input_is_a_4xx_in_openai_shape(gateway: Running, body: Any, raw: bytes | None, status: int,
                                            fragment: str) -> None:
    response = gateway.post(body, raw=raw)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert fragment in error["message"] and error["type"] == "invalid_request_error"
    assert response.headers["x-request-id"]


def test_a_10_mb_body_is_413_and_keys_are_checked(gateway: Running) -> None:
    big = gateway.post({"model": "shipping", "messages": _user("x" * 10_000_000)})
    assert big.status_code == 413 and big.json()["error"]["code"] == "request_too_large"
    for key, code in ((None, "missing_api_key"), ("fth-wrong", "invalid_api_key")):
        response = gateway.post({"model": "shipping", "messages": _user("hi")}, key=key)
        assert response.status_code == 401 and response.json()["error"]["code"] == code
    _, narrow = gateway.gateway.keys.create("narrow", models=["other"])
    denied = gateway.post({"model": "shipping", "messages": _user("hi")}, key=narrow)
    assert denied.status_code == 403 and "may use: other" in denied.json()["error"]["message"]
    listing = httpx.get(gateway.url + "/v1/models", headers={"authorization": f"Bearer {narrow}"}).json()
    assert [m["id"] for m in listing["data"]] == ["other"]


def test_upstream_errors_are_502_and_unreachable_upstreams_503(
        tmp_path: Path, gateway: Running, upstream: tuple[ScriptedUpstream, RunningServer]) -> None:
    scripted, _ = upstream
    scripted.fail_with = 500
    failed = gateway.post({"model": "shipping", "messages": _user("hi")})
    assert failed.status_code == 502 and failed.json()["error"]["type"] == "server_error"
    scripted.fail_with = 400  # a 4xx from the upstream is the client's answer, relayed
    refused = gateway.post({"model": "shipping", "messages": _user("hi")})
    assert refused.status_code == 400 and refused.json()["error"]["message"] == "scripted failure"
    dead = Running(write_config(tmp_path / "dead", {"down": "http://127.0.0.1:9/v1"}))
    try:
        unreachable = dead.post({"model": "shipping", "messages": _user("hi")})
        assert unreachable.status_code == 503 and "Try again shortly" in unreachable.json()["error"]["message"]
    finally:
        dead.close()


def test_failover_when_an_upstream_dies_mid_run(tmp_path: Path) -> None:
    first, second = ScriptedUpstream("first"), ScriptedUpstream("second")
    with running(second) as second_server:
        first_server = start_server(first.app(), port=0).__enter__()
        gw = Running(write_config(tmp_path, {"first": first_server.url + "/v1", "second": second_server.url + "/v1"},
                                  routes=[{"upstream": "first", "weight": 1000}, {"upstream": "second"}]))
        try:
            before = [gw.post({"model": "shipping", "messages": _user(f"r{i}")}).status_code for i in range(5)]
            assert before == [200] * 5 and len(first.bodies) >= 4
            first_server.stop()
            after = [gw.post({"model": "shipping", "messages": _user(f"r{i}")}).status_code for i in range(10)]
            assert after == [200] * 10  # no client error: every request failed over
            assert len(second.bodies) >= 10
            metrics = httpx.get(gw.url + "/metrics").text
            assert 'fathom_upstream_up{upstream="first"} 0.0' in metrics
            assert 'fathom_upstream_up{upstream="second"} 1.0' in metrics
        finally:
            gw.close()


POLICY = {"pii": {"CREDIT_DEBIT_CARD_NUMBER": "mask", "EMAIL": {"input": "mask", "output": "block"}},
          "denied_topics": [{"name": "investment_advice", "definition": "advice on which stocks or shares to buy",
                             "examples": ["which shares should I buy", "is it a good time to buy stocks"]}],
          "grounding": {"threshold": 0.6},
          "messages": {"blocked_input": "I can't discuss that.", "blocked_output": "I can't share that."}}


def test_guardrails_mask_inputs_and_catch_a_card_split_across_chunks(
        tmp_path: Path, upstream: tuple[ScriptedUpstream, RunningServer]) -> None:
    scripted, server = upstream
    gw = Running(write_config(tmp_path, {"up": server.url + "/v1"}, policy=POLICY))
    try:
        client = gw.client()
        client.chat.completions.create(model="shipping", messages=_user(f"my card is {CARD}, bill it"))
        assert CARD not in json.dumps(scripted.bodies[-1])  # masked before it left the gateway
        assert "{CREDIT_DEBIT_CARD_NUMBER}" in scripted.bodies[-1]["messages"][-1]["content"]
        client.chat.completions.create(model="shipping", messages=_user(f"not a card: {BAD_CARD}"))
        assert BAD_CARD in scripted.bodies[-1]["messages"][-1]["content"]  # fails Luhn: left alone

        # the upstream answers with the card cut in two chunks: the relay still masks it
        split = "say: Your card 4111 1111 |1111 1111 is on file."
        stream = client.chat.completions.create(model="shipping", messages=_user(split), stream=True)
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        assert text == "Your card {CREDIT_DEBIT_CARD_NUMBER} is on file."
        plain = client.chat.completions.create(model="shipping", messages=_user(split))
        assert plain.choices[0].message.content == "Your card {CREDIT_DEBIT_CARD_NUMBER} is on file."

        blocked = client.chat.completions.create(model="shipping", messages=_user("reveal contact"))
        assert blocked.choices[0].finish_reason == "content_filter"
        assert blocked.choices[0].message.content == "I can't share that."
        chunks = list(client.chat.completions.create(model="shipping", messages=_user("reveal contact"),
                                                     stream=True))
        streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert "ops@" not in streamed and streamed.endswith("I can't share that.")
        assert chunks[-1].choices[0].finish_reason == "content_filter"

        sent = len(scripted.bodies)
        topic = client.chat.completions.create(model="shipping", messages=_user("Which shares should I buy now?"))
        assert topic.choices[0].finish_reason == "content_filter"
        assert topic.choices[0].message.content == "I can't discuss that." and len(scripted.bodies) == sent
        metrics = httpx.get(gw.url + "/metrics").text
        assert 'fathom_guardrail_actions_total{action="masked",guard="pii"}' in metrics
        assert 'fathom_guardrail_actions_total{action="blocked",guard="topic"} 1.0' in metrics
    finally:
        gw.close()


def test_grounding_tells_a_grounded_answer_from_an_ungrounded_one(
        tmp_path: Path, upstream: tuple[ScriptedUpstream, RunningServer]) -> None:
    _, server = upstream
    gw = Running(write_config(tmp_path, {"up": server.url + "/v1"}, policy=POLICY))
    sources = ["Viking: southwest 5 to 7, occasionally gale 8 later. Rain. Moderate or poor."]
    try:
        client = gw.client()
        grounded = client.chat.completions.create(
            model="shipping", messages=_user("say: Viking: southwest 5 to 7, occasionally gale 8 later."),
            extra_body={"sources": sources})
        made_up = client.chat.completions.create(
            model="shipping", messages=_user("say: Viking: northeast 9, violent storm 11, fog."),
            extra_body={"sources": sources})
        assert grounded.choices[0].finish_reason == "stop"
        assert made_up.choices[0].finish_reason == "content_filter"
        assert made_up.choices[0].message.content == "I can't share that."
    finally:
        gw.close()


def test_templates_by_name_and_version(gateway: Running, upstream: tuple[ScriptedUpstream, RunningServer]) -> None:
    scripted, _ = upstream
    store = gateway.gateway.templates
    assert store.add("forecaster", [{"role": "system", "content": "You write forecasts for {area}."}]) == 1
    assert store.add("forecaster", [{"role": "system", "content": "Forecasts for {area}, {style}."}]) == 2
    ok = gateway.post({"model": "shipping", "messages": _user("go"), "template": "forecaster@1",
                       "variables": {"area": "Viking"}})
    assert ok.status_code == 200
    assert scripted.bodies[-1]["messages"][0] == {"role": "system", "content": "You write forecasts for Viking."}
    assert "template" not in scripted.bodies[-1] and "variables" not in scripted.bodies[-1]
    missing = gateway.post({"model": "shipping", "messages": _user("go"), "template": "forecaster",
                            "variables": {"area": "Viking"}})
    assert missing.status_code == 400 and "needs the variables style" in missing.json()["error"]["message"]
    unknown = gateway.post({"model": "shipping", "messages": _user("go"), "template": "forcaster@1"})
    assert unknown.status_code == 400 and "Did you mean 'forecaster'" in unknown.json()["error"]["message"]


def test_ledger_rows_and_metrics_after_a_run(gateway: Running) -> None:
    client = gateway.client()
    for i in range(3):
        client.chat.completions.create(model="shipping", messages=_user(f"hello {i}"))
    list(client.chat.completions.create(model="other", messages=_user("streamed"), stream=True))
    gateway.post({"model": "shipping", "messages": _user("hi"), "max_tokens": 0})
    time.sleep(0.1)
    rows = {r["model"]: r for r in gateway.gateway.ledger.usage(by="model")}
    assert rows["shipping"]["requests"] == 4 and rows["shipping"]["errors"] == 1
    assert rows["shipping"]["completion_tokens"] == 9 and rows["other"]["completion_tokens"] == 2
    metrics = httpx.get(gateway.url + "/metrics").text
    assert 'fathom_requests_total{adapter="shipping",model="shipping",status="200",upstream="up"} 3.0' in metrics
    assert "fathom_time_to_first_token_seconds_count" in metrics and "fathom_inflight_requests 0.0" in metrics


def test_the_grafana_dashboard_queries_metrics_the_gateway_exports(gateway: Running) -> None:
    import re

    list(gateway.client().chat.completions.create(model="shipping", messages=_user("a b c"), stream=True))
    exported = httpx.get(gateway.url + "/metrics").text
    dashboard = json.loads((Path(__file__).parents[2] / "docs" / "grafana" / "fathom-gateway.json").read_text())
    queried = {name for p in dashboard["panels"] for t in p["targets"] for name in re.findall(r"fathom_\w+", t["expr"])}
    assert len(queried) >= 8
    for name in queried:
        family = re.sub(r"_(bucket|sum|count)$", "", name)  # a histogram's series
        assert f"# TYPE {family} " in exported, f"{name} is queried by the dashboard but not exported"

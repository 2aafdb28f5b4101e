"""The gateway as users run it: ``fathom gateway`` processes on 127.0.0.1 (port 0) under concurrent load.

Covers (issue 15's acceptance checks): exact request and token limits under 50 concurrent clients on one
gateway and on two gateways sharing one Redis and one state folder (no over-admission, no under-admission,
every refusal a 429 with ``Retry-After`` and ``x-ratelimit-*``, the ledger agreeing with what the clients
saw); an upstream killed mid-run (failover, errors only for the requests in flight); the gateway killed
with SIGKILL (the ledger intact, every answer a client saw finish on disk); secrets and planted PII in
no artefact (logs, state files with their WAL, metrics).

Not covered: the in-process behaviour of single requests (``test_gateway.py``), the limiter's arithmetic
(``test_limits.py``), the CLI's key, template and usage commands (``test_gateway_cli.py``).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.gateway._upstream import ScriptedUpstream, running
from tests.gateway.test_gateway import write_config

from fathom.gateway import KeyStore, estimate_prompt_tokens

REPO = Path(__file__).resolve().parents[2]
FATHOM = Path(sys.executable).with_name("fathom")

RPM, TPM = 60, 6000
LOAD_CLIENTS, LOAD_SECONDS = 50, 10.0
WORDS = ["gale", "rain", "fog", "sleet", "squally", "showers", "veering", "backing", "moderate", "poor", "good",
         "occasionally"]

_UPSTREAM_MAIN = """
import sys
from tests.gateway._upstream import ScriptedUpstream
from fathom.serve import run_server
upstream = ScriptedUpstream(sys.argv[1], delay_s=float(sys.argv[2]))
run_server(upstream.app(), log_level="warning",
           on_ready=lambda url: print("Upstream on " + url, file=sys.stderr, flush=True))
"""


# ---- processes -------------------------------------------------------------------------------------------


class Proc:
    """A subprocess with stdout and stderr in files, ready once ``ready`` matches its stderr."""

    def __init__(self, args: list[str], logs: Path, name: str, ready: str, timeout_s: float = 30.0):
        logs.mkdir(parents=True, exist_ok=True)
        self.name, self.args, self.ready = name, args, re.compile(ready)
        self.stdout_path, self.stderr_path = logs / f"{name}.stdout", logs / f"{name}.stderr"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with self.stdout_path.open("ab") as out, self.stderr_path.open("ab") as err:
            self.popen = subprocess.Popen(args, stdout=out, stderr=err, cwd=REPO, env=env)
        self.url = self._wait_ready(timeout_s)

    def _wait_ready(self, timeout_s: float) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            match = self.ready.search(self.stderr())
            if match:
                return match[1]
            if self.popen.poll() is not None:
                break
            time.sleep(0.05)
        self.kill()
        raise AssertionError(f"{self.name} did not start (exit {self.popen.returncode}); stderr:\n{self.stderr()}")

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL, and wait until it is gone."""
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait(10)

    def stop(self, timeout_s: float = 15.0) -> None:
        """SIGTERM (a graceful stop: the gateway drains its ledger), SIGKILL after ``timeout_s``."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Callable[..., Proc]]:
    """``procs(args, name, ready)`` starts a :class:`Proc`; every one is stopped (killed if stuck) after."""
    started: list[Proc] = []

    def start(args: list[str], name: str, ready: str) -> Proc:
        proc = Proc(args, tmp_path / "logs", name, ready)
        started.append(proc)
        return proc

    yield start
    for proc in reversed(started):
        proc.stop()


def _gateway(procs: Callable[..., Proc], config: Path, name: str = "gateway") -> Proc:
    return procs([str(FATHOM), "gateway", "--config", str(config), "--port", "0"], name,
                 r"Gateway on (http://\S+)")


def _upstream_process(procs: Callable[..., Proc], name: str, delay_s: float) -> Proc:
    return procs([sys.executable, "-c", _UPSTREAM_MAIN, name, str(delay_s)], f"upstream-{name}",
                 r"Upstream on (http://\S+)")


def _cli_key(config: Path, name: str, *extra: str) -> dict[str, Any]:
    """``fathom gateway keys create --json``: the one JSON object it prints."""
    done = subprocess.run([str(FATHOM), "gateway", "keys", "create", "--config", str(config), "--name", name,
                           "--json", *extra], capture_output=True, text=True, timeout=60, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr
    key: dict[str, Any] = json.loads(done.stdout)
    return key


def _store_key(config: Path, name: str) -> tuple[str, str]:
    """(id, secret) of a key without limits, made with :class:`KeyStore` in the config's state folder."""
    store = KeyStore(config.parent / "state" / "keys.db")
    try:
        record, secret = store.create(name)
    finally:
        store.close()
    return record.id, secret


# ---- clients ---------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one client request got."""

    url: str
    body: dict[str, Any]
    sent: float
    """``time.monotonic()`` when it was sent."""
    status: int = 0
    """The HTTP status; 0 when no response came (connection refused or reset)."""
    headers: dict[str, str] = field(default_factory=dict)
    request_id: str | None = None
    usage: dict[str, Any] | None = None
    complete: bool = False
    """A whole 200: the JSON body read, or for a stream ``data: [DONE]`` seen."""
    error: dict[str, Any] | None = None
    """The OpenAI-shaped error body of a refusal."""
    exception: str | None = None


async def _request(client: httpx.AsyncClient, url: str, key: str, body: dict[str, Any]) -> Outcome:
    outcome = Outcome(url=url, body=body, sent=time.monotonic())
    headers = {"authorization": f"Bearer {key}"}
    try:
        async with client.stream("POST", url + "/v1/chat/completions", json=body, headers=headers) as response:
            outcome.status, outcome.headers = response.status_code, dict(response.headers)
            outcome.request_id = response.headers.get("x-request-id")
            if response.status_code != 200 or not body.get("stream"):
                data = json.loads(await response.aread())
                outcome.error = data.get("error") if response.status_code != 200 else None
                outcome.usage = data.get("usage") if response.status_code == 200 else None
                outcome.complete = response.status_code == 200
                return outcome
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    outcome.complete = True
                    break
                chunk = json.loads(payload)
                outcome.usage = chunk.get("usage") or outcome.usage
                outcome.error = chunk.get("error") or outcome.error
    except (httpx.HTTPError, json.JSONDecodeError) as exc:
        outcome.exception = f"{type(exc).__name__}: {exc}"
    return outcome


@dataclass
class Load:
    outcomes: list[Outcome]
    elapsed_s: float
    """From before the first request was sent to after the last answer."""
    began: float


async def _load(urls: list[str], key: str, *, clients: int, seconds: float,
                body: Callable[[int, int], dict[str, Any]],
                during: Callable[[float], Any] | None = None) -> Load:
    """``clients`` concurrent clients (client ``n`` on ``urls[n % len(urls)]``) sending ``body(n, i)`` for
    ``seconds``; a 429 sleeps ``min(Retry-After, time left)``, a failed connection 0.05 s.
    ``during(began)``, a coroutine function, runs beside them (to kill something mid-run)."""
    outcomes: list[Outcome] = []
    limits = httpx.Limits(max_connections=clients * 2, max_keepalive_connections=clients * 2)
    async with httpx.AsyncClient(timeout=httpx.Timeout(30, connect=5), limits=limits) as client:
        began = time.monotonic()
        deadline = began + seconds

        async def worker(n: int) -> None:
            i = 0
            while time.monotonic() < deadline:
                outcome = await _request(client, urls[n % len(urls)], key, body(n, i))
                outcomes.append(outcome)
                i += 1
                left = max(0.0, deadline - time.monotonic())
                if outcome.status == 429:
                    retry = outcome.headers.get("retry-after", "1")
                    await asyncio.sleep(min(float(retry) if retry.isdigit() else 1.0, left))
                elif outcome.status == 0 or not outcome.complete:
                    await asyncio.sleep(min(0.05, left))

        tasks = [worker(n) for n in range(clients)]
        if during is not None:
            tasks.append(during(began))
        await asyncio.gather(*tasks)
        return Load(outcomes, time.monotonic() - began, began)


def _limited_body(seed: int) -> Callable[[int, int], dict[str, Any]]:
    """Prompts of 20-70 words and max_tokens 100-300, half of them streamed (with usage).

    The scripted upstream echoes the prompt, so a request uses about 2 x words + 4 tokens (94 on average)
    and reserves about 280: 60 requests fit in the 6,000 tokens, but 50 at once do not.
    """

    def body(n: int, i: int) -> dict[str, Any]:
        rng = random.Random(seed * 1_000_003 + n * 10_007 + i)
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 70)))
        out: dict[str, Any] = {"model": "shipping", "messages": [{"role": "user", "content": text}],
                               "max_tokens": rng.randint(100, 300)}
        if rng.random() < 0.5:
            out |= {"stream": True, "stream_options": {"include_usage": True}}
        return out

    return body


def _reservation(body: dict[str, Any]) -> int:
    return estimate_prompt_tokens(body["messages"]) + int(body["max_tokens"])


# ---- the ledger ------------------------------------------------------------------------------------------


def _sql(path: Path, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path, timeout=10)
    try:
        return conn.execute(query, params).fetchall()
    finally:
        conn.close()


def _ledger_totals(path: Path, key_id: str) -> tuple[int, int, int, int]:
    """(rows, rows with status 200, prompt tokens, completion tokens) of one key."""
    [(rows, ok, prompt, completion)] = _sql(
        path, "SELECT COUNT(*), COALESCE(SUM(status = 200), 0), COALESCE(SUM(prompt_tokens), 0), "
              "COALESCE(SUM(completion_tokens), 0) FROM usage WHERE key_id = ?", (key_id,))
    return int(rows), int(ok), int(prompt), int(completion)


# ---- 1, 2: limits under load -----------------------------------------------------------------------------


def _check_limits(load: Load, ledger: Path, key_id: str) -> None:
    """The acceptance bounds for one key limited to RPM and TPM, over every gateway the load used."""
    outcomes = load.outcomes
    assert not [o.exception for o in outcomes if o.exception], "requests failed without an HTTP answer"
    others = [(o.status, o.error) for o in outcomes if o.status not in (200, 429)]
    assert not others, f"answers other than 200 and 429: {others[:3]}"
    admitted = [o for o in outcomes if o.status == 200]
    assert all(o.complete and o.usage for o in admitted), "a 200 without its whole body or usage"
    refused = [o for o in outcomes if o.status == 429]
    for o in refused:
        retry = o.headers.get("retry-after", "")
        assert retry.isdigit() and int(retry) >= 1, f"429 with Retry-After {retry!r}"
        for name in ("limit", "remaining", "reset"):
            for what in ("requests", "tokens"):
                assert f"x-ratelimit-{name}-{what}" in o.headers, f"429 without x-ratelimit-{name}-{what}"
        assert o.headers["x-ratelimit-limit-requests"] == str(RPM)
        assert o.headers["x-ratelimit-limit-tokens"] == str(TPM)
    by_tokens = [o for o in refused if o.error and "tokens a minute" in o.error["message"]]
    by_requests = [o for o in refused if o.error and "requests a minute" in o.error["message"]]
    assert len(by_tokens) + len(by_requests) == len(refused)
    used = sum(int(o.usage["total_tokens"]) for o in admitted if o.usage)
    elapsed = load.elapsed_s
    summary = (f"{len(admitted)} admitted, {len(by_requests)} refused for requests, {len(by_tokens)} for tokens, "
               f"{used} tokens used in {elapsed:.2f} s")
    # GCRA: a burst of RPM at once, then one every 60/RPM s; every admission lies inside the elapsed window
    assert len(admitted) <= RPM + int(elapsed * RPM / 60), summary
    assert len(admitted) >= RPM, f"under-admitted (the burst was not granted): {summary}"
    # the bucket: TPM at once, then TPM/60 a second; the last admission may hold one reservation on top
    assert used <= TPM + elapsed * TPM / 60 + max(_reservation(o.body) for o in admitted), summary
    assert by_tokens and by_requests, f"both limits must bind during the run: {summary}"

    seen_prompt = sum(int(o.usage["prompt_tokens"]) for o in admitted if o.usage)
    seen_completion = sum(int(o.usage["completion_tokens"]) for o in admitted if o.usage)
    expected = (len(outcomes), len(admitted), seen_prompt, seen_completion)
    deadline = time.monotonic() + 3
    while _ledger_totals(ledger, key_id) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _ledger_totals(ledger, key_id) == expected, "ledger (rows, 200s, prompt, completion) != the clients'"
    rows = dict(_sql(ledger, "SELECT request_id, status FROM usage WHERE key_id = ?", (key_id,)))
    assert {o.request_id: o.status for o in outcomes} == rows


def test_limits_hold_under_load_on_one_gateway(tmp_path: Path, procs: Callable[..., Proc]) -> None:
    with running(ScriptedUpstream(delay_s=0.01)) as upstream:
        config = write_config(tmp_path, {"up": upstream.url + "/v1"})
        key = _cli_key(config, "load", "--rpm", str(RPM), "--tpm", str(TPM))
        assert (key["rpm"], key["tpm"]) == (RPM, TPM)
        gateway = _gateway(procs, config)
        load = asyncio.run(_load([gateway.url], key["key"], clients=LOAD_CLIENTS, seconds=LOAD_SECONDS,
                                 body=_limited_body(1)))
        _check_limits(load, tmp_path / "state" / "ledger.db", key["id"])


def test_limits_hold_across_two_gateways_sharing_redis(tmp_path: Path, procs: Callable[..., Proc],
                                                       redis_url: str) -> None:
    with running(ScriptedUpstream(delay_s=0.01)) as upstream:
        config = write_config(tmp_path, {"up": upstream.url + "/v1"}, redis=redis_url)
        key = _cli_key(config, "load", "--rpm", str(RPM), "--tpm", str(TPM))
        gateways = [_gateway(procs, config, "gateway-a"), _gateway(procs, config, "gateway-b")]
        urls = [g.url for g in gateways]
        assert urls[0] != urls[1]
        load = asyncio.run(_load(urls, key["key"], clients=LOAD_CLIENTS, seconds=LOAD_SECONDS,
                                 body=_limited_body(2)))
        _check_limits(load, tmp_path / "state" / "ledger.db", key["id"])
        for url in urls:  # both gateways admitted some of the total
            assert any(o.url == url and o.status == 200 for o in load.outcomes), url


# ---- 3: faults -------------------------------------------------------------------------------------------


def _mixed_body(n: int, i: int) -> dict[str, Any]:
    text = " ".join(WORDS[(n + i + j) % len(WORDS)] for j in range(4 + (n * 7 + i) % 9))
    out: dict[str, Any] = {"model": "shipping", "messages": [{"role": "user", "content": f"{n}-{i} {text}"}],
                           "max_tokens": 64}
    if (n + i) % 2:
        out |= {"stream": True, "stream_options": {"include_usage": True}}
    return out


FAULT_CLIENTS = 10


def test_an_upstream_killed_mid_run_fails_over(tmp_path: Path, procs: Callable[..., Proc]) -> None:
    first = _upstream_process(procs, "first", delay_s=0.02)
    with running(ScriptedUpstream("second", delay_s=0.02)) as second:
        config = write_config(tmp_path, {"first": first.url + "/v1", "second": second.url + "/v1"},
                              routes=[{"upstream": "first", "weight": 1000}, {"upstream": "second"}])
        key_id, secret = _store_key(config, "faults")
        gateway = _gateway(procs, config)
        dead: list[float] = []

        async def kill_first(began: float) -> None:
            await asyncio.sleep(1.0)
            await asyncio.to_thread(first.kill)
            dead.append(time.monotonic())

        load = asyncio.run(_load([gateway.url], secret, clients=FAULT_CLIENTS, seconds=3.0, body=_mixed_body,
                                 during=kill_first))
        metrics = httpx.get(gateway.url + "/metrics", timeout=10).text

    failed = [o for o in load.outcomes if not o.complete]
    assert len(failed) <= FAULT_CLIENTS, [(o.status, o.exception, o.error) for o in failed]
    after = [o for o in load.outcomes if o.sent > dead[0]]
    assert len(after) >= 2 * FAULT_CLIENTS and all(o.complete for o in after), \
        [(o.status, o.exception, o.error) for o in after if not o.complete]
    assert all(o.status in (200, 502) for o in load.outcomes), {o.status for o in load.outcomes}
    served = dict(_sql(tmp_path / "state" / "ledger.db",
                       "SELECT upstream, COUNT(*) FROM usage WHERE key_id = ? AND status = 200 GROUP BY upstream",
                       (key_id,)))
    assert served.get("first", 0) >= FAULT_CLIENTS and served.get("second", 0) >= 2 * FAULT_CLIENTS, served
    assert 'fathom_upstream_up{upstream="first"} 0.0' in metrics
    assert 'fathom_upstream_up{upstream="second"} 1.0' in metrics


def test_a_gateway_killed_mid_run_loses_no_finished_request(tmp_path: Path, procs: Callable[..., Proc]) -> None:
    with running(ScriptedUpstream(delay_s=0.02)) as upstream:
        config = write_config(tmp_path, {"up": upstream.url + "/v1"})
        key_id, secret = _store_key(config, "crash")
        gateway = _gateway(procs, config)

        killed: list[float] = []

        async def kill_gateway(began: float) -> None:
            await asyncio.sleep(1.5)
            killed.append(time.monotonic())
            await asyncio.to_thread(gateway.kill)

        load = asyncio.run(_load([gateway.url], secret, clients=FAULT_CLIENTS, seconds=2.5, body=_mixed_body,
                                 during=kill_gateway))
        assert gateway.popen.returncode == -signal.SIGKILL
        ledger = tmp_path / "state" / "ledger.db"
        assert _sql(ledger, "PRAGMA integrity_check") == [("ok",)]  # as the kill left it, WAL and all

        restarted = _gateway(procs, config, "gateway-restarted")
        again = asyncio.run(_load([restarted.url], secret, clients=2, seconds=0.5, body=_mixed_body))
        assert again.outcomes and all(o.complete for o in again.outcomes)
        restarted.stop()

    finished = [o for o in load.outcomes + again.outcomes if o.complete]
    streamed = [o for o in finished if o.body.get("stream")]
    assert len(finished) >= 2 * FAULT_CLIENTS and streamed, "too few requests finished to test anything"
    in_flight = [o for o in load.outcomes if o.sent < killed[0] and not o.complete]
    assert in_flight, "the kill hit no request in flight"
    for path in (ledger, tmp_path / "state" / "keys.db"):
        assert _sql(path, "PRAGMA integrity_check") == [("ok",)], path
    rows = {r[0]: r for r in _sql(ledger, "SELECT request_id, key_id, model, status, prompt_tokens, "
                                          "completion_tokens, price_version, cost, ts FROM usage")}
    for request_id, row_key, model, status, prompt, completion, version, cost, ts in rows.values():
        assert re.fullmatch(r"[0-9a-f]{32}", request_id) and row_key == key_id and model == "shipping"
        assert status in (200, 499, 502) and version is not None and cost is not None and ts > 0
        assert status != 200 or (prompt > 0 and completion > 0), f"a partial row: {request_id}"
    missing = [o.request_id for o in finished if o.request_id not in rows]
    assert not missing, f"{len(missing)} of {len(finished)} finished requests have no ledger row"
    for o in finished:
        assert o.usage is not None
        assert rows[o.request_id][4:6] == (o.usage["prompt_tokens"], o.usage["completion_tokens"])


# ---- 4: secrets ------------------------------------------------------------------------------------------


CARD = "4111 1111 1111 1111"  # passes Luhn
EMAIL = "jane.doe@example.org"
NI = "JG 10 37 62 A"
PLANTED = f"Bill my card {CARD}, mail {EMAIL} and note NI {NI} please"
SECRETS_POLICY = {"pii": {"CREDIT_DEBIT_CARD_NUMBER": "mask", "EMAIL": "mask", "UK_NATIONAL_INSURANCE_NUMBER": "mask"}}


def _near_copy(secret: str) -> str:
    """The secret with its last character changed: what a typo or a truncated paste sends."""
    return secret[:-1] + ("A" if secret[-1] != "A" else "B")


def _secret_requests(url: str, secret: str, limited: str, upstream: ScriptedUpstream) -> list[int]:
    """Plain, streamed, refused and failing requests carrying the planted PII; returns their statuses."""

    def user(text: str) -> list[dict[str, str]]:
        return [{"role": "user", "content": text}]

    def post(body: dict[str, Any], key: str | None = secret) -> int:
        headers = {"authorization": f"Bearer {key}"} if key is not None else {}
        if body.get("stream"):
            with httpx.stream("POST", url + "/v1/chat/completions", json=body, headers=headers, timeout=20) as r:
                text = r.read().decode()
                assert r.status_code != 200 or text.rstrip().endswith("data: [DONE]")
                return r.status_code
        return httpx.post(url + "/v1/chat/completions", json=body, headers=headers, timeout=20).status_code

    ok = {"model": "shipping", "messages": user(PLANTED)}
    statuses = [post(ok), post({**ok, "stream": True}), post({**ok, "stream": True, "stream_options":
                                                               {"include_usage": True}}),
                post({"model": "other", "messages": user("reveal contact")}),
                post({"model": "other", "messages": user("reveal contact"), "stream": True}),
                post({"model": "shipping", "messages": user("say: Your card 4111 1111 |1111 1111 is on file.")}),
                post({**ok, "max_tokens": -5}), post({**ok, "model": f"shipping {EMAIL}"}),
                post(ok, key=_near_copy(secret)), post({**ok, "stream": True}, key=_near_copy(secret)),
                post(ok, key=None), post(ok, key=limited), post(ok, key=limited)]
    upstream.fail_with = 400
    statuses.append(post(ok))
    upstream.fail_with = 500
    statuses.append(post({**ok, "stream": True}))
    upstream.fail_with = None
    return statuses


def _leaks(blob: bytes, needles: dict[str, bytes]) -> list[str]:
    return [name for name, needle in needles.items() if needle in blob]


def test_no_secret_or_planted_pii_in_any_artefact(tmp_path: Path, procs: Callable[..., Proc]) -> None:
    scripted = ScriptedUpstream(delay_s=0.01)
    with running(scripted) as server:
        config = write_config(tmp_path, {"up": server.url + "/v1"}, policy=SECRETS_POLICY,
                              chat_logs={"enabled": True})
        key = _cli_key(config, "secrets")
        limited = _cli_key(config, "limited", "--rpm", "1")
        gateway = _gateway(procs, config)
        statuses = _secret_requests(gateway.url, key["key"], limited["key"], scripted)
        metrics = httpx.get(gateway.url + "/metrics", timeout=10).content
        state = tmp_path / "state"
        running_files = {p.name: p.read_bytes() for p in sorted(state.iterdir()) if p.is_file()}
        gateway.stop()
        assert gateway.popen.returncode in (0, -signal.SIGTERM), gateway.stderr()  # uvicorn re-raises SIGTERM

    assert statuses == [200, 200, 200, 200, 200, 200, 400, 404, 401, 401, 401, 200, 429, 400, 502], statuses
    needles = {"api key": key["key"].encode(), "near copy": _near_copy(key["key"]).encode(),
               "limited key": limited["key"].encode(), "card": CARD.encode(),
               "card digits": CARD.replace(" ", "").encode(), "email": EMAIL.encode(), "NI": NI.encode(),
               "NI digits": NI.replace(" ", "").encode(), "upstream's email": b"ops@example.com"}
    sent_upstream = json.dumps(scripted.bodies).encode()
    assert len(scripted.bodies) >= 8 and b"{CREDIT_DEBIT_CARD_NUMBER}" in sent_upstream
    assert not _leaks(sent_upstream, {k: v for k, v in needles.items() if "key" not in k and "copy" not in k})
    artefacts = {"stderr": gateway.stderr_path.read_bytes(), "stdout": gateway.stdout_path.read_bytes(),
                 "metrics": metrics}
    artefacts |= {f"{name} (while running)": blob for name, blob in running_files.items()}
    artefacts |= {f"{p.name} (after stop)": p.read_bytes() for p in sorted(state.iterdir()) if p.is_file()}
    assert {"keys.db", "ledger.db", "templates.db"} <= {p.name for p in state.iterdir()}
    assert any(name.endswith("-wal (while running)") for name in artefacts), sorted(artefacts)
    leaks = {name: found for name, blob in artefacts.items() if (found := _leaks(blob, needles))}
    assert not leaks, f"secrets or PII found in: {leaks}"
    logs = _sql(state / "ledger.db", "SELECT messages_json, answer FROM chat_logs")
    assert len(logs) == 7, logs  # one per 200 (the refusals and failures are not logged)
    text = json.dumps(logs)
    assert "{EMAIL}" in text and "{CREDIT_DEBIT_CARD_NUMBER}" in text and "{UK_NATIONAL_INSURANCE_NUMBER}" in text
    [(rows,)] = _sql(state / "ledger.db", "SELECT COUNT(*) FROM usage")
    assert rows == 11  # every authenticated request with a known model: 15 - 3 unauthenticated - 1 unknown model

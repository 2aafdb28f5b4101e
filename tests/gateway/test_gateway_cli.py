"""``fathom gateway keys|templates|usage`` on a real state folder, beside a gateway serving on 127.0.0.1.

Covers: ``keys create`` (``--json``: one object with the secret; plain: the secret once), ``keys list``
(never a secret), ``keys revoke`` (a running gateway refuses the key within 2 s), ``templates add`` and
``list`` (and the gateway rendering what was added), ``usage --by key|model|adapter --format
table|csv|json --since``, and bad input (an unknown model in ``--models``, a bad ``--since``, a config
with typo'd keys, an unknown key to revoke): a message saying what is wrong, exit code != 0, no traceback.
Commands run in-process through :func:`fathom.cli.main`, as the console script runs them; serving a
bad config runs the real ``fathom`` executable.

Not covered: serving under load and faults (``test_gateway_processes.py``).
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.cli._run import run
from tests.gateway._upstream import ScriptedUpstream, running
from tests.gateway.test_gateway import Running, write_config

FATHOM = Path(sys.executable).with_name("fathom")


@pytest.fixture(autouse=True)
def _wide_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # rich tables: no column cut to fit 80 characters


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Running, ScriptedUpstream]]:
    """A gateway on a free port (with its own key, ``tester``) over a scripted upstream."""
    scripted = ScriptedUpstream()
    with running(scripted) as server:
        gateway = Running(write_config(tmp_path, {"up": server.url + "/v1"}))
        try:
            yield gateway, scripted
        finally:
            gateway.close()


def _config(gateway: Running) -> str:
    return str(gateway.config.path)


def _create(gateway: Running, capsys: pytest.CaptureFixture[str], name: str, *extra: str) -> dict[str, Any]:
    code, out, err = run(["gateway", "keys", "create", "--config", _config(gateway), "--name", name, "--json",
                          *extra], capsys)
    assert code == 0, err
    key: dict[str, Any] = json.loads(out)
    return key


def _user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def _no_traceback(err: str) -> None:
    assert "Traceback" not in err and 'File "' not in err, err


# ---- keys --------------------------------------------------------------------------------------------


def test_keys_create_json_prints_one_object_and_the_key_works(served: tuple[Running, ScriptedUpstream],
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    gateway, _ = served
    code, out, err = run(["gateway", "keys", "create", "--config", _config(gateway), "--name", "ci", "--models",
                          "shipping", "--rpm", "5", "--tpm", "900", "--budget", "2.5", "--json"], capsys)
    assert code == 0, err
    [line] = out.strip().splitlines()
    key = json.loads(line)
    assert {"id", "name", "key", "prefix", "models", "rpm", "tpm", "budget_usd"} <= set(key)
    assert (key["name"], key["models"], key["rpm"], key["tpm"], key["budget_usd"]) == ("ci", ["shipping"], 5, 900, 2.5)
    assert key["key"].startswith("fth-") and key["prefix"] == key["key"][:8] and key["id"].startswith("key_")
    assert key["key"] not in err
    ok = gateway.post({"model": "shipping", "messages": _user("hi")}, key=key["key"])
    assert ok.status_code == 200 and ok.headers["x-ratelimit-limit-requests"] == "5"
    assert gateway.post({"model": "other", "messages": _user("hi")}, key=key["key"]).status_code == 403

    code, out, err = run(["gateway", "keys", "create", "--config", _config(gateway), "--name", "plain"], capsys)
    assert code == 0, err
    secret = out.strip().splitlines()[-1]
    assert secret.startswith("fth-") and out.count(secret) == 1
    assert gateway.post({"model": "other", "messages": _user("hi")}, key=secret).status_code == 200

    code, out, err = run(["gateway", "keys", "create", "--config", _config(gateway), "--name", "ci"], capsys)
    assert code == 2 and f"an active key named 'ci' exists ({key['id']})" in err, err
    assert "fth-" not in out + err
    _no_traceback(err)


def test_keys_list_never_prints_secrets(served: tuple[Running, ScriptedUpstream],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    gateway, _ = served
    first, second = _create(gateway, capsys, "alpha"), _create(gateway, capsys, "beta", "--rpm", "7")
    assert run(["gateway", "keys", "revoke", "--config", _config(gateway), "alpha"], capsys)[0] == 0
    code, table, err = run(["gateway", "keys", "list", "--config", _config(gateway)], capsys)
    assert code == 0, err
    code, listed, err = run(["gateway", "keys", "list", "--config", _config(gateway), "--json"], capsys)
    assert code == 0, err
    for out in (table, listed):
        assert first["key"] not in out and second["key"] not in out and gateway.key not in out
        assert first["id"] in out and second["id"] in out and "alpha" in out and "beta" in out
    rows = {row["name"]: row for row in json.loads(listed)}
    assert set(rows) == {"tester", "alpha", "beta"}
    assert rows["alpha"]["revoked"] is not None and rows["beta"]["revoked"] is None and rows["beta"]["rpm"] == 7
    assert not [name for row in rows.values() for name in row if name == "key" or "secret" in name]


def test_a_revoked_key_is_refused_by_a_running_gateway_within_2_s(served: tuple[Running, ScriptedUpstream],
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    gateway, _ = served
    key = _create(gateway, capsys, "leaving")
    body = {"model": "shipping", "messages": _user("hi")}
    assert gateway.post(body, key=key["key"]).status_code == 200
    code, out, err = run(["gateway", "keys", "revoke", "--config", _config(gateway), "leaving"], capsys)
    assert code == 0 and f"Revoked {key['id']} (leaving)" in out, err
    revoked = time.monotonic()
    while (response := gateway.post(body, key=key["key"])).status_code == 200 and time.monotonic() - revoked < 3:
        time.sleep(0.05)
    took = time.monotonic() - revoked
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_api_key"
    assert took <= 2.0, f"the revoked key still worked {took:.2f} s later"
    assert gateway.post(body).status_code == 200  # other keys are untouched

    code, _, err = run(["gateway", "keys", "revoke", "--config", _config(gateway), "leavng"], capsys)
    assert code == 2 and "no key has the id or active name 'leavng'" in err and "tester" in err, err
    _no_traceback(err)


# ---- templates ----------------------------------------------------------------------------------------


def test_templates_add_list_and_the_gateway_renders_them(tmp_path: Path, served: tuple[Running, ScriptedUpstream],
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    gateway, scripted = served
    first, second, bad = tmp_path / "v1.yaml", tmp_path / "v2.yaml", tmp_path / "bad.yaml"
    first.write_text(yaml.safe_dump([{"role": "system", "content": "Forecasts for {area}."}]))
    second.write_text(yaml.safe_dump([{"role": "system", "content": "Forecasts for {area}, {style}."}]))
    bad.write_text(yaml.safe_dump({"role": "system", "content": "not a list"}))
    for path, version in ((first, 1), (second, 2)):
        code, out, err = run(["gateway", "templates", "add", "--config", _config(gateway), "--name", "forecaster",
                              str(path)], capsys)
        assert code == 0 and out.strip() == f"Stored forecaster@{version}.", err
    code, out, err = run(["gateway", "templates", "list", "--config", _config(gateway)], capsys)
    assert code == 0, err
    [row] = [line for line in out.splitlines() if "forecaster" in line]
    assert " 2 " in row and "area, style" in row

    response = gateway.post({"model": "shipping", "messages": _user("go"), "template": "forecaster@2",
                             "variables": {"area": "Viking", "style": "terse"}})
    assert response.status_code == 200, response.text
    assert scripted.bodies[-1]["messages"][0] == {"role": "system", "content": "Forecasts for Viking, terse."}

    code, _, err = run(["gateway", "templates", "add", "--config", _config(gateway), "--name", "broken", str(bad)],
                       capsys)
    assert code == 2 and "non-empty list of {role, content} messages" in err, err
    _no_traceback(err)


# ---- usage --------------------------------------------------------------------------------------------


def _usage(gateway: Running, capsys: pytest.CaptureFixture[str], by: str, fmt: str,
           since: str = "1h") -> str:
    code, out, err = run(["gateway", "usage", "--config", _config(gateway), "--by", by, "--format", fmt, "--since",
                          since], capsys)
    assert code == 0, err
    return out


def test_usage_by_key_model_and_adapter_in_every_format(served: tuple[Running, ScriptedUpstream],
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    gateway, _ = served
    a, b = _create(gateway, capsys, "team-a"), _create(gateway, capsys, "team-b")
    seen = {a["id"]: [0, 0], b["id"]: [0, 0]}
    for key, model, n in ((a, "shipping", 3), (b, "other", 2)):
        for i in range(n):
            response = gateway.post({"model": model, "messages": _user(f"gale warning {i}")}, key=key["key"])
            assert response.status_code == 200
            usage = response.json()["usage"]
            seen[key["id"]][0] += usage["prompt_tokens"]
            seen[key["id"]][1] += usage["completion_tokens"]
    refused = gateway.post({"model": "shipping", "messages": _user("hi"), "max_tokens": 0}, key=a["key"])
    assert refused.status_code == 400

    by_key = {row["key_id"]: row for row in json.loads(_usage(gateway, capsys, "key", "json"))}
    assert set(by_key) == {a["id"], b["id"]}  # the gateway's own key made no request
    assert (by_key[a["id"]]["requests"], by_key[a["id"]]["errors"]) == (4, 1)
    assert (by_key[b["id"]]["requests"], by_key[b["id"]]["errors"]) == (2, 0)
    for key_id, (prompt, completion) in seen.items():
        assert (by_key[key_id]["prompt_tokens"], by_key[key_id]["completion_tokens"]) == (prompt, completion)
    by_model = {row["model"]: (row["requests"], row["errors"]) for row in json.loads(_usage(gateway, capsys, "model",
                                                                                           "json"))}
    assert by_model == {"shipping": (4, 1), "other": (2, 0)}
    by_adapter = {row["adapter"]: row["requests"] for row in json.loads(_usage(gateway, capsys, "adapter", "json"))}
    assert by_adapter == {"shipping": 4, None: 2}  # the model "other" names no adapter

    rows = list(csv.DictReader(io.StringIO(_usage(gateway, capsys, "model", "csv"))))
    assert {r["model"]: (r["requests"], r["errors"]) for r in rows} == {"shipping": ("4", "1"), "other": ("2", "0")}
    keys_csv = {r["key_id"]: r["requests"] for r in csv.DictReader(io.StringIO(_usage(gateway, capsys, "key", "csv")))}
    assert keys_csv == {a["id"]: "4", b["id"]: "2"}
    table = _usage(gateway, capsys, "key", "table")
    assert "requests" in table and "errors" in table
    for key_id, requests in ((a["id"], "4"), (b["id"], "2")):
        [line] = [row for row in table.splitlines() if key_id in row]
        assert f" {requests} " in line

    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    assert json.loads(_usage(gateway, capsys, "model", "json", since=tomorrow)) == []
    assert json.loads(_usage(gateway, capsys, "model", "json", since="30d"))[0]["requests"] == 2  # sorted: other


def test_an_empty_usage_report_has_the_columns_of_a_full_one(served: tuple[Running, ScriptedUpstream],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    gateway, _ = served
    assert gateway.post({"model": "shipping", "messages": _user("hi")}).status_code == 200
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d")
    for by in ("key", "model", "adapter"):
        full = next(csv.reader(io.StringIO(_usage(gateway, capsys, by, "csv"))))
        empty = next(csv.reader(io.StringIO(_usage(gateway, capsys, by, "csv", since=tomorrow))))
        assert empty == full, f"--by {by}: a report with no rows has the header {empty}, one with rows {full}"


# ---- bad input ----------------------------------------------------------------------------------------


def test_an_unknown_model_in_models_is_refused_and_nothing_is_created(served: tuple[Running, ScriptedUpstream],
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    gateway, _ = served
    code, out, err = run(["gateway", "keys", "create", "--config", _config(gateway), "--name", "typo", "--models",
                          "shipping,shiping"], capsys)
    assert code == 2 and "--models" in err and "shiping" in err and "shipping, other" in err, err
    assert "fth-" not in out + err
    _no_traceback(err)
    assert "typo" not in {k.name for k in gateway.gateway.keys.list()}


@pytest.mark.parametrize("since", ["3 days", "yesterday", "7x", "-1h"])
def test_a_bad_since_is_a_clear_error(served: tuple[Running, ScriptedUpstream], capsys: pytest.CaptureFixture[str],
                                      since: str) -> None:
    gateway, _ = served
    gateway.post({"model": "shipping", "messages": _user("hi")})  # so a ledger exists
    code, out, err = run(["gateway", "usage", "--config", _config(gateway), "--since", since], capsys)
    assert code == 2 and "--since" in err and repr(since) in err, err
    assert "neither a duration (30m, 12h, 7d, 2w) nor an ISO date" in err
    _no_traceback(err)
    assert out == ""


def test_usage_by_something_else_and_usage_before_any_request(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, {"up": "http://127.0.0.1:9/v1"})
    code, _, err = run(["gateway", "usage", "--config", str(config), "--by", "team"], capsys)
    assert code == 2 and "'team' is not one of 'key', 'model', 'adapter'" in err, err
    code, _, err = run(["gateway", "usage", "--config", str(config)], capsys)
    assert code == 1 and "no ledger at" in err and "ledger.db" in err, err
    _no_traceback(err)


def _typo_config(tmp_path: Path) -> Path:
    path = write_config(tmp_path, {"up": "http://127.0.0.1:9/v1"})
    raw = yaml.safe_load(path.read_text())
    raw["chat_log"] = {"enabled": True}  # chat_logs
    raw["upstreams"][0]["timeout"] = 5  # timeout_s
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.parametrize("command", [["keys", "create", "--name", "x"], ["keys", "list"], ["usage"],
                                     ["templates", "list"]], ids=lambda c: " ".join(c[:2]))
def test_a_config_with_typos_names_each_with_did_you_mean(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          command: list[str]) -> None:
    config = _typo_config(tmp_path)
    code, out, err = run(["gateway", *command, "--config", str(config)], capsys)
    assert code == 2, (out, err)
    assert "invalid gateway config (2)" in err
    assert "gateway.yaml:chat_log: unknown key. Did you mean 'chat_logs'?" in err
    assert "gateway.yaml:upstreams[0].timeout: unknown key. Did you mean 'timeout_s'?" in err
    _no_traceback(err)
    assert not (tmp_path / "state" / "keys.db").exists()  # nothing was written


def test_serving_without_a_config_says_what_to_give(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["gateway"], capsys)
    assert code == 2 and "give --config gateway.yaml to serve" in err, err
    _no_traceback(err)


def test_serving_a_config_with_typos_exits_before_listening(tmp_path: Path) -> None:
    config = _typo_config(tmp_path)
    try:
        done = subprocess.run([str(FATHOM), "gateway", "--config", str(config), "--port", "0"], capture_output=True,
                              text=True, timeout=60, check=False)
    except subprocess.TimeoutExpired as exc:  # it served instead of refusing the config (run() killed it)
        raise AssertionError(f"fathom gateway served a config with typos: {exc.stderr!r}") from None
    assert done.returncode == 2, done.stderr
    assert "Did you mean 'chat_logs'?" in done.stderr and "Did you mean 'timeout_s'?" in done.stderr
    assert "Gateway on" not in done.stderr
    _no_traceback(done.stderr)

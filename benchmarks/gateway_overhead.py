"""What the gateway costs: requests per second and latency direct to a fast upstream, through ``fathom gateway``,
and through the LiteLLM proxy, side by side on loopback.

Run:  .venv/bin/python benchmarks/gateway_overhead.py                  (about 2 minutes on 2 cores, most of it
                                                                          LiteLLM; the first run also installs
                                                                          LiteLLM, about 2 minutes more)
      .venv/bin/python benchmarks/gateway_overhead.py --json           (only the figures, as JSON, on stdout)
      .venv/bin/python benchmarks/gateway_overhead.py --requests 200 --skip-litellm   (a quick check)

What it does, all on 127.0.0.1, every server in a process of its own, everything in a temporary folder:

* The upstream is ``benchmarks/_fake_upstream.py``: raw asyncio, one fixed small completion with ``usage``
  (streamed as server-sent events with ``--stream``), so that what stands in front of it is what gets measured.
* Targets: (1) the upstream itself; (2) ``fathom gateway`` with a key from ``fathom gateway keys create``
  (``--rpm``/``--tpm`` far above the load, so limits are checked but never hit), the usage ledger in its
  state folder, and a guardrails policy that masks card numbers and e-mail addresses in both directions
  (the prompt carries one of each; the run checks that the upstream received them masked, and that the
  ledger counted every request it was sent); (3) the LiteLLM proxy 1.80.x, config only (``model_list``
  with ``openai/`` and ``api_base``, a master key, no database), from its own venv in
  ``$FATHOM_HOME/bench/litellm-venv``, created and installed the first time (``--skip-litellm`` leaves it
  out; if it cannot be installed or started the run says why and reports ``"litellm": null``). 1.82.7 and
  1.82.8 were compromised on PyPI and are refused.
* The cheapest possible hop, for scale: nginx as a plain keep-alive reverse proxy (one worker, no
  access log) in front of the same upstream, when ``nginx`` is on the PATH (Debian's ``nginx-light``;
  ``--skip-nginx`` leaves it out). Whatever nginx loses against direct is the cost of a second hop on
  this machine (another process to wake, twice the loopback traffic), which no gateway can avoid.
* One load generator for all of them (this process, asyncio): ``--client aiohttp`` (the default) or
  ``--client httpx`` (what the ``openai`` SDK sends with), ``--concurrency`` connections kept alive;
  ``--warmup`` requests, then ``--requests`` requests with ``--concurrency`` in flight. Latency is per
  request as the client saw it (send to last byte; with ``--stream`` also to the first chunk). rps is
  requests over the wall-clock time of the measured run. The generator's own cost is in every figure: when
  it is the bottleneck of the direct run, the ratio flatters the gateways. That is why the default is
  aiohttp: measured here (2026-12-03) one ``httpx.AsyncClient`` managed 806 rps direct at 1 in flight but
  only 547 at 16, with a tenth of its requests over 100 ms, where aiohttp reached 6,000-8,500 rps.

The goal: Fathom keeps >= 80% of direct throughput and adds < 5 ms at p50. The anchors: LiteLLM 1.80 kept
about 25% of direct throughput on this loopback set-up (measured here earlier); LiteLLM publishes a median
overhead of 2-12 ms (docs.litellm.ai/docs/benchmarks; ``serving-notes.md`` section 5).
``--json`` prints ``{"direct": {"rps", "p50_ms", "p99_ms"}, "fathom": {...}, "litellm": {...} or null,
"ratio": fathom_rps / direct_rps, "added_p50_ms": fathom_p50 - direct_p50}`` with a few more keys
(``nginx`` and ``nginx_ratio`` among them, null when nginx was not measured).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import yaml

HERE = Path(__file__).resolve().parent
MODEL = "bench"
UPSTREAM_MODEL = "fake-model"
PROMPT = ("My card is 4111 1111 1111 1111 and my e-mail is ada@example.com; "
          "please confirm my booking for Tuesday and say hello.")
LITELLM_SPEC = "litellm[proxy]==1.80.*"
LITELLM_COMPROMISED = ("1.82.7", "1.82.8")  # serving-notes.md section 5: never install these
LITELLM_KEY = "sk-bench-master"
GOAL = "goal: Fathom keeps >= 80% of direct throughput and adds < 5 ms at p50"
ANCHOR = "anchor: LiteLLM 1.80 kept ~25% of direct here earlier; LiteLLM publishes 2-12 ms median overhead"
_ANNOUNCED = re.compile(r" on (http://[\w.\[\]:-]+)")
POLICY = {"name": "bench", "pii": {"CREDIT_DEBIT_CARD_NUMBER": "mask", "EMAIL": "mask"}}


class Unavailable(Exception):
    """A target that could not be set up; the message says why."""


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "REDIS_HOST")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(extra)
    return env


def _tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"


@contextlib.contextmanager
def _process(name: str, cmd: list[str], log: Path, *, health: str, timeout_s: float, url: str | None = None,
             env: dict[str, str] | None = None, cwd: Path | None = None) -> Iterator[str]:
    """Start ``cmd``, wait until ``health`` answers 200, yield the server's root URL, and always stop it after.

    The URL is ``url`` or, without one, the ``... on http://HOST:PORT`` line the server announces in its log
    (so it can take port 0). Its own session, so a Ctrl-C reaches only this process, which then stops the
    whole group (workers too).
    """
    _say(f"[{name}] starting: {' '.join(cmd)}")
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env or _child_env(), cwd=cwd,
                                start_new_session=True)
    try:
        yield _wait_ready(name, proc, url, health, log, timeout_s)
    finally:
        _stop(proc)


def _wait_ready(name: str, proc: subprocess.Popen[bytes], url: str | None, health: str, log: Path,
                timeout_s: float) -> str:
    start = time.monotonic()
    with httpx.Client(trust_env=False, timeout=2.0) as client:
        while time.monotonic() - start < timeout_s:
            if proc.poll() is not None:
                raise Unavailable(f"{name} exited with status {proc.returncode} before it was ready; its log:\n"
                                  f"{_tail(log)}")
            if url is None and (found := _ANNOUNCED.search(log.read_text(errors="replace"))):
                url = found.group(1)
            if url is not None:
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(url + health).status_code == 200:
                        _say(f"[{name}] ready on {url} after {time.monotonic() - start:.1f} s")
                        return url
            time.sleep(0.2)
    raise Unavailable(f"{name} was not ready ({url or 'no address announced'}{health} answering 200) within "
                      f"{timeout_s:.0f} s; its log:\n{_tail(log)}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


# ---------------------------------------------------------------------------------------------- load


def _body(stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"model": MODEL, "max_tokens": 32, "messages": [
        {"role": "system", "content": "You are a helpful booking assistant."},
        {"role": "user", "content": PROMPT}]}
    if stream:
        body |= {"stream": True, "stream_options": {"include_usage": True}}
    return body


class _Client:
    """The load generator's HTTP client: ``aiohttp`` (the default) or ``httpx``, kept-alive connections to one
    target, one request at a time per caller."""

    def __init__(self, kind: str, base_url: str, headers: dict[str, str], concurrency: int):
        self.kind, self.base_url, self.headers, self.concurrency = kind, base_url, headers, concurrency
        self._session: Any = None

    async def __aenter__(self) -> _Client:
        if self.kind == "httpx":
            limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
            self._session = httpx.AsyncClient(base_url=self.base_url, headers=self.headers, limits=limits,
                                              trust_env=False, timeout=httpx.Timeout(60.0))
        else:
            connector = aiohttp.TCPConnector(limit=self.concurrency, force_close=False)
            self._session = aiohttp.ClientSession(headers=self.headers, connector=connector, trust_env=False,
                                                  timeout=aiohttp.ClientTimeout(total=60.0))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._session.aclose() if self.kind == "httpx" else await self._session.close()

    async def one(self, body: dict[str, Any], stream: bool) -> tuple[float, float, str | None]:
        """Seconds to the last byte, to the first chunk, and an error (None when the answer looks right)."""
        start = time.perf_counter()
        first, tail, status = 0.0, b"", 0
        try:
            if self.kind == "httpx":
                async with self._session.stream("POST", "/chat/completions", json=body) as r:
                    status = r.status_code
                    async for chunk in r.aiter_bytes():
                        first = first or time.perf_counter() - start
                        tail = (tail + chunk)[-300:] if stream else tail + chunk
            else:
                async with self._session.post(self.base_url + "/chat/completions", json=body) as r:
                    status = r.status
                    async for chunk in r.content.iter_any():
                        first = first or time.perf_counter() - start
                        tail = (tail + chunk)[-300:] if stream else tail + chunk
        except (TimeoutError, httpx.HTTPError, aiohttp.ClientError) as e:
            return time.perf_counter() - start, 0.0, f"{type(e).__name__}: {e}"
        done = time.perf_counter() - start
        ok = status == 200 and ((b"[DONE]" in tail) if stream else (b'"choices"' in tail))
        return done, first or done, None if ok else f"HTTP {status}: {tail[:300].decode(errors='replace')}"


async def _load(client: _Client, n: int, concurrency: int, stream: bool) -> dict[str, Any]:
    body = _body(stream)
    latencies: list[float] = []
    firsts: list[float] = []
    errors: list[str] = []
    left = n

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            done, first, error = await client.one(body, stream)
            if error is None:
                latencies.append(done)
                firsts.append(first)
            else:
                errors.append(error)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(concurrency, n))))
    wall = time.perf_counter() - start
    return {"latencies": latencies, "firsts": firsts, "errors": errors, "wall_s": wall}


def _ms(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


async def _measure_async(base_url: str, headers: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    async with _Client(args.client, base_url, headers, args.concurrency) as client:
        _, _, error = await client.one(_body(args.stream), args.stream)
        if error is not None:
            raise Unavailable(f"the first request to {base_url} failed: {error}")
        if args.warmup:
            await _load(client, args.warmup, args.concurrency, args.stream)
        run = await _load(client, args.requests, args.concurrency, args.stream)
    ok = len(run["latencies"])
    row: dict[str, Any] = {"rps": round(ok / run["wall_s"], 1), "p50_ms": _ms(run["latencies"], 0.5),
                           "p99_ms": _ms(run["latencies"], 0.99), "requests": args.requests,
                           "errors": len(run["errors"]), "wall_s": round(run["wall_s"], 2)}
    if args.stream:
        row |= {"ttft_p50_ms": _ms(run["firsts"], 0.5), "ttft_p99_ms": _ms(run["firsts"], 0.99)}
    if run["errors"]:
        row["first_error"] = run["errors"][0]
        _say(f"  {len(run['errors'])} of {args.requests} requests failed; the first: {run['errors'][0]}")
    if not ok:
        raise Unavailable(f"every request to {base_url} failed; the first: {run['errors'][0]}")
    return row


def _measure(name: str, base_url: str, headers: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    _say(f"[{name}] {args.warmup} warm-up + {args.requests} requests, {args.concurrency} in flight")
    row = asyncio.run(_measure_async(base_url, headers, args))
    _say(f"[{name}] {row['rps']} rps, p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms")
    return row


# ------------------------------------------------------------------------------------------- targets


@contextlib.contextmanager
def _upstream(tmp: Path) -> Iterator[str]:
    cmd = [sys.executable, str(HERE / "_fake_upstream.py"), "--host", "127.0.0.1", "--port", "0"]
    with _process("upstream", cmd, tmp / "upstream.log", health="/health", timeout_s=30) as url:
        yield url + "/v1"


def _fathom_exe() -> str:
    beside = Path(sys.executable).parent / "fathom"
    return str(beside) if beside.exists() else "fathom"


def _fathom_config(tmp: Path, upstream: str) -> Path:
    folder = tmp / "fathom"
    folder.mkdir()
    (folder / "policy.yaml").write_text(yaml.safe_dump(POLICY))
    price = {"input_per_mtok": 0.1, "output_per_mtok": 0.4}  # under both names, so that every row costs something
    (folder / "prices.yaml").write_text(yaml.safe_dump({
        "version": "bench", "prices": {MODEL: price, UPSTREAM_MODEL: price},
        "default": {"input_per_mtok": 0.0, "output_per_mtok": 0.0}}))
    config = {
        "state": "./state", "redis": None,
        "upstreams": [{"name": "fake", "url": upstream, "api_key_env": None, "timeout_s": 60}],
        "models": [{"name": MODEL, "routes": [{"upstream": "fake", "model": UPSTREAM_MODEL, "weight": 1}],
                    "adapter": "bench"}],
        "prices": "./prices.yaml", "guardrails": "./policy.yaml",
        "chat_logs": {"enabled": False, "retention_days": 30}, "max_body_mb": 1.0,
    }
    path = folder / "gateway.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _fathom_cli(*argv: str) -> str:
    cmd = [_fathom_exe(), "gateway", *argv]
    done = subprocess.run(cmd, capture_output=True, text=True, env=_child_env(), check=False, timeout=120)
    if done.returncode:
        raise Unavailable(f"`{' '.join(cmd)}` failed with status {done.returncode}:\n{done.stderr[-3000:]}")
    return done.stdout


@contextlib.contextmanager
def _fathom(tmp: Path, upstream: str) -> Iterator[tuple[str, dict[str, str], Path]]:
    config = _fathom_config(tmp, upstream)
    out = _fathom_cli("keys", "create", "--config", str(config), "--name", "bench",
                      "--rpm", "100000000", "--tpm", "100000000000", "--json")
    try:
        key = json.loads(out.strip().splitlines()[-1])["key"]
    except (ValueError, KeyError, IndexError) as e:
        raise Unavailable(f"`fathom gateway keys create --json` printed no object with a 'key': {out[-500:]!r}") from e
    cmd = [_fathom_exe(), "gateway", "--config", str(config), "--host", "127.0.0.1", "--port", "0"]
    with _process("fathom", cmd, tmp / "fathom.log", health="/health", timeout_s=60) as url:
        yield url + "/v1", {"Authorization": f"Bearer {key}"}, config


def _masked(upstream: str) -> bool:
    """Whether the last request the upstream received carried the prompt's PII masked."""
    sent = httpx.get(upstream.removesuffix("/v1") + "/_last", trust_env=False).text
    return "4111" not in sent and "ada@example.com" not in sent and "{EMAIL}" in sent


def _fathom_usage(config: Path) -> Any:
    """What ``fathom gateway usage`` says about the run (the ledger), parsed when it is JSON."""
    try:
        out = _fathom_cli("usage", "--config", str(config), "--by", "key", "--format", "json")
    except (Unavailable, subprocess.TimeoutExpired) as e:
        _say(f"[fathom] could not read the ledger: {e}")
        return None
    try:
        return json.loads(out)
    except ValueError:
        return out.strip()[-2000:]


def _litellm_python() -> Path:
    """The LiteLLM venv's python, creating the venv and installing LiteLLM 1.80.x the first time."""
    from fathom._home import fathom_home

    venv = fathom_home() / "bench" / "litellm-venv"
    python, exe = venv / "bin" / "python", venv / "bin" / "litellm"
    if not (python.exists() and exe.exists()):
        _say(f"[litellm] creating {venv} and installing {LITELLM_SPEC} (once; later runs reuse it)")
        steps = [[sys.executable, "-m", "venv", str(venv)],
                 [str(python), "-m", "pip", "install", "--disable-pip-version-check", LITELLM_SPEC]]
        for step in steps:
            _say(f"[litellm] $ {' '.join(step)}")
            if subprocess.run(step, stdout=sys.stderr, stderr=sys.stderr, check=False).returncode:
                raise Unavailable(f"`{' '.join(step)}` failed (see above); delete {venv} to start over")
    version = _litellm_version(python)
    if version in LITELLM_COMPROMISED or not version.startswith("1.80."):
        raise Unavailable(f"{venv} holds litellm {version}, not 1.80.x (1.82.7 and 1.82.8 are compromised and "
                          f"never run); delete {venv} and run again to reinstall {LITELLM_SPEC}")
    return python


def _litellm_version(python: Path) -> str:
    done = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('litellm'))"],
                          capture_output=True, text=True, check=False)
    return done.stdout.strip() or "(not installed)"


@contextlib.contextmanager
def _litellm(tmp: Path, upstream: str) -> Iterator[tuple[str, dict[str, str], str]]:
    python = _litellm_python()
    version = _litellm_version(python)
    config = {
        "model_list": [{"model_name": MODEL, "litellm_params": {
            "model": f"openai/{UPSTREAM_MODEL}", "api_base": upstream, "api_key": "fake"}}],
        "litellm_settings": {"telemetry": False, "set_verbose": False, "json_logs": False},
        "general_settings": {"master_key": LITELLM_KEY},
    }
    path = tmp / "litellm.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    port = _free_port()
    cmd = [str(python.parent / "litellm"), "--config", str(path), "--host", "127.0.0.1", "--port", str(port),
           "--num_workers", "1", "--telemetry", "False"]
    env = _child_env(LITELLM_LOCAL_MODEL_COST_MAP="True", LITELLM_TELEMETRY="False", LITELLM_LOG="ERROR",
                     DISABLE_SCHEMA_UPDATE="True", ANONYMIZED_TELEMETRY="False", DO_NOT_TRACK="1")
    with _process("litellm", cmd, tmp / "litellm.log", url=f"http://127.0.0.1:{port}", health="/health/liveliness",
                  timeout_s=180, env=env, cwd=tmp) as url:
        yield url + "/v1", {"Authorization": f"Bearer {LITELLM_KEY}"}, version


_NGINX_CONF = """worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/nginx-body;
  proxy_temp_path {tmp}/nginx-proxy;
  upstream fake {{ server {upstream}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{ proxy_pass http://fake; proxy_http_version 1.1; proxy_set_header Connection ""; }}
  }}
}}
"""


@contextlib.contextmanager
def _nginx(tmp: Path, upstream: str) -> Iterator[str]:
    """nginx as a plain reverse proxy in front of ``upstream`` (``http://HOST:PORT/v1``)."""
    exe = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/sbin/nginx") if Path(p).exists()), None)
    if exe is None:
        raise Unavailable("nginx is not installed (Debian: apt-get install nginx-light)")
    port = _free_port()
    folder = tmp / "nginx"
    folder.mkdir()
    conf = folder / "nginx.conf"
    host = upstream.removeprefix("http://").removesuffix("/v1")
    conf.write_text(_NGINX_CONF.format(tmp=folder, upstream=host, port=port))
    cmd = [exe, "-c", str(conf), "-p", str(folder), "-e", str(folder / "nginx-error.log")]
    with _process("nginx", cmd, tmp / "nginx.log", url=f"http://127.0.0.1:{port}", health="/health",
                  timeout_s=30) as url:
        yield url + "/v1"


# ---------------------------------------------------------------------------------------------- main


def _run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"fathom": None, "fathom_masked_pii": None, "fathom_usage": None, "litellm": None,
                           "nginx": None}
    with _upstream(tmp) as upstream:
        out["direct"] = _measure("direct", upstream, {"Authorization": "Bearer fake"}, args)
        if args.skip_nginx:
            _say("[nginx] skipped (--skip-nginx)")
        else:
            try:
                with _nginx(tmp, upstream) as url:
                    out["nginx"] = _measure("nginx", url, {"Authorization": "Bearer fake"}, args)
            except Unavailable as e:
                _say(f"[nginx] not measured: {e}")
        try:
            out |= _run_fathom(args, tmp, upstream)
        except Unavailable as e:
            _say(f"[fathom] FAILED, not measured: {e}")
        if args.skip_litellm:
            _say("[litellm] skipped (--skip-litellm)")
            return out
        try:
            with _litellm(tmp, upstream) as (url, headers, version):
                out["litellm"] = _measure(f"litellm {version}", url, headers, args) | {"version": version}
        except Unavailable as e:
            _say(f"[litellm] not measured: {e}")
    return out


def _run_fathom(args: argparse.Namespace, tmp: Path, upstream: str) -> dict[str, Any]:
    with _fathom(tmp, upstream) as (url, headers, config):
        row = _measure("fathom", url, headers, args)
        masked = _masked(upstream)
    if not masked:
        _say("[fathom] WARNING: the upstream received the prompt's card number or e-mail unmasked")
    usage = _fathom_usage(config)
    logged = sum(r.get("requests", 0) for r in usage if isinstance(r, dict)) if isinstance(usage, list) else None
    sent = 1 + args.warmup + args.requests
    if logged != sent:
        _say(f"[fathom] WARNING: the ledger holds {logged} requests; {sent} were sent")
    return {"fathom": row, "fathom_masked_pii": masked, "fathom_usage": usage, "fathom_ledger_requests": logged,
            "fathom_requests_sent": sent}


def _table(out: dict[str, Any], args: argparse.Namespace) -> str:
    kind = "streaming" if args.stream else "non-streaming"
    lines = [f"gateway overhead on loopback: {args.requests} {kind} requests, {args.concurrency} in flight "
             f"({args.client} client), after {args.warmup} warm-up each",
             f"  {'target':<22}{'rps':>9}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}"]
    names = {"direct": "direct (fake upstream)", "nginx": "nginx (a bare hop)", "fathom": "fathom gateway",
             "litellm": f"litellm {(out['litellm'] or {}).get('version', '1.80')}"}
    for key, label in names.items():
        row = out[key]
        if row is None:
            lines.append(f"  {label:<22}{'not measured':>29}")
        else:
            lines.append(f"  {label:<22}{row['rps']:>9.1f}{row['p50_ms']:>10.2f}{row['p99_ms']:>10.2f}"
                         f"{row['errors']:>8}")
    if out["fathom"] is not None:
        lines.append(f"  fathom keeps {100 * out['ratio']:.0f}% of direct throughput and adds "
                     f"{out['added_p50_ms']:.2f} ms at p50 ({GOAL}); PII masked: {out['fathom_masked_pii']}")
    else:
        lines.append(f"  fathom gateway FAILED ({GOAL})")
    if out["nginx"] is not None:
        lines.append(f"  nginx, which only relays, keeps {100 * out['nginx_ratio']:.0f}% and adds "
                     f"{out['nginx_added_p50_ms']:.2f} ms at p50: the cost of a second hop on this machine")
    if out["litellm"] is not None:
        lines.append(f"  litellm keeps {100 * out['litellm_ratio']:.0f}% and adds {out['litellm_added_p50_ms']:.2f} ms "
                     f"at p50 ({ANCHOR})")
    else:
        lines.append(f"  ({ANCHOR})")
    return "\n".join(lines)


def _sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # so that every started process is stopped on the way out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per target")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--warmup", type=int, default=200, help="warm-up requests per target, not measured")
    parser.add_argument("--stream", action="store_true", help="streaming requests (server-sent events)")
    parser.add_argument("--client", choices=("aiohttp", "httpx"), default="aiohttp",
                        help="the load generator's HTTP client (httpx is what the openai SDK uses)")
    parser.add_argument("--skip-litellm", action="store_true", help="leave LiteLLM out")
    parser.add_argument("--skip-nginx", action="store_true", help="leave the nginx hop out")
    parser.add_argument("--json", action="store_true", help="only the figures, as one JSON object, on stdout")
    args = parser.parse_args()
    if args.requests < 1 or args.concurrency < 1 or args.warmup < 0:
        parser.error("--requests and --concurrency must be at least 1, --warmup at least 0")
    signal.signal(signal.SIGTERM, _sigterm)
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="fathom-gateway-bench-") as tmp:
            out = _run(args, Path(tmp))
    except Unavailable as e:
        raise SystemExit(f"gateway_overhead: {e}") from None
    except KeyboardInterrupt:
        raise SystemExit("gateway_overhead: interrupted; every server it started has been stopped") from None
    direct, fathom, litellm = out["direct"], out["fathom"], out["litellm"]
    out["ratio"] = round(fathom["rps"] / direct["rps"], 3) if fathom else None
    out["added_p50_ms"] = round(fathom["p50_ms"] - direct["p50_ms"], 3) if fathom else None
    out["nginx_ratio"] = round(out["nginx"]["rps"] / direct["rps"], 3) if out["nginx"] else None
    out["nginx_added_p50_ms"] = round(out["nginx"]["p50_ms"] - direct["p50_ms"], 3) if out["nginx"] else None
    if litellm is not None:
        out["litellm_ratio"] = round(litellm["rps"] / direct["rps"], 3)
        out["litellm_added_p50_ms"] = round(litellm["p50_ms"] - direct["p50_ms"], 3)
    out["goal_met"] = bool(fathom) and out["ratio"] >= 0.8 and out["added_p50_ms"] < 5.0
    out |= {"requests": args.requests, "concurrency": args.concurrency, "warmup": args.warmup,
            "stream": args.stream, "client": args.client, "seconds": round(time.monotonic() - started, 1)}
    table = _table(out, args)
    if args.json:
        print(table, file=sys.stderr)
        print(json.dumps(out))
    else:
        print(table)
    if fathom is None:
        raise SystemExit("gateway_overhead: the Fathom gateway was not measured (see above)")


if __name__ == "__main__":
    main()

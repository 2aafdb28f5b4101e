"""Gateway test set-up: a fake clock, a real ``redis-server`` on loopback, and the limiter hammer.

* ``redis_url``: one ``redis-server`` for the session on 127.0.0.1 and a free port, with no
  persistence (``--save '' --appendonly no``), stopped afterwards. Missing ``redis-server`` or the
  ``redis`` client skips the test on a developer machine and fails it under CI (``CI=true``).
* ``redis_prefix``: a key prefix of its own for each test, so tests never see each other's keys.
* ``hammer``: many threads against one key through a :class:`RateLimiter`, collecting what was
  admitted, for the "never more than the limit" checks every store must pass.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self, start: float = 1000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _missing(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_redis(exe: str, folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    import redis

    for _ in range(5):  # another process may take the free port between the check and the bind
        port = _free_port()
        proc = subprocess.Popen(
            [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(folder), "--daemonize", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                if client.ping():
                    client.close()
                    return proc, port
            except redis.ConnectionError:
                time.sleep(0.02)
        client.close()
        proc.kill()
        proc.wait()
    raise RuntimeError("redis-server did not start on 127.0.0.1 after 5 tries")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``redis://127.0.0.1:PORT/0`` of a redis-server started for this session."""
    exe = shutil.which("redis-server")
    if exe is None:
        _missing("redis-server is not installed (apt-get install -y redis-server)")
    try:
        import redis  # noqa: F401
    except ImportError:
        _missing("the redis client is not installed (pip install redis)")
    proc, port = _start_redis(str(exe), tmp_path_factory.mktemp("redis"))
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def redis_prefix() -> str:
    return f"test:{uuid.uuid4().hex[:12]}:"


@dataclass
class Hammered:
    """What a hammer run admitted."""

    admitted: int
    refused: int
    reserved: int
    """Tokens reserved by the admitted requests."""
    used: int
    """Tokens they were settled with."""
    elapsed_s: float
    """From before the first call to after the last."""
    limits: set[str]


def _hammer(limiters: list[Any], *, threads: int, attempts: int, rpm: int | None, tpm: int | None,
            prompt: int, max_tokens: int, use: Callable[[int, int], int] | None = None) -> Hammered:
    """``threads`` threads, each making ``attempts`` admissions on one key, spread over ``limiters``.

    ``use(thread, attempt)`` gives the tokens an admitted request is settled with (None: no settle).
    """
    lock = threading.Lock()
    totals = {"admitted": 0, "refused": 0, "reserved": 0, "used": 0}
    limits: set[str] = set()
    start = threading.Barrier(threads)

    def work(n: int) -> None:
        limiter = limiters[n % len(limiters)]
        start.wait()
        for i in range(attempts):
            admission = limiter.admit("key_shared", "m", rpm=rpm, tpm=tpm, prompt_tokens_estimate=prompt,
                                      max_tokens=max_tokens)
            used = 0
            if admission.allowed and use is not None:
                used = use(n, i)
                limiter.settle(admission, used)
            with lock:
                if admission.allowed:
                    totals["admitted"] += 1
                    totals["reserved"] += admission.reserved
                    totals["used"] += used
                else:
                    totals["refused"] += 1
                    limits.add(admission.limit)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    began = time.monotonic()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return Hammered(elapsed_s=time.monotonic() - began, limits=limits, **totals)


@pytest.fixture
def hammer() -> Callable[..., Hammered]:
    return _hammer

"""Running an app under uvicorn: in the foreground (``fathom serve``) or in a background thread (tests).

The listening socket is bound before uvicorn starts, so ``port=0`` picks a free port and the real
URL is known up front. Stopping waits :data:`GRACEFUL_SHUTDOWN_S` for requests in flight (a long
stream included), then cancels them. Not covered: TLS, multiple worker processes, reloading.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fathom.errors import BackendError

__all__ = ["RunningServer", "bind_socket", "run_server", "start_server"]


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port=0``: any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise BackendError(f"Cannot listen on {host}:{port}: {exc.strerror}. "
                           f"Pick another --port (0 picks a free one).") from exc
    sock.listen(128)
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


GRACEFUL_SHUTDOWN_S = 5
"""How long stopping waits for requests in flight; then they are cancelled (their generation with them)."""


def _server(app: Any, log_level: str) -> Any:
    import uvicorn

    return uvicorn.Server(uvicorn.Config(app, log_level=log_level, lifespan="on", access_log=False,
                                         timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S))


def run_server(app: Any, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "info",
               on_ready: Callable[[str], None] | None = None, sock: socket.socket | None = None) -> None:
    """Serve ``app`` until interrupted; ``on_ready(url)`` is called once the port is bound.

    ``sock``, a socket from :func:`bind_socket`, is used instead of binding ``host:port``: bind it
    before loading a model, so that a busy port is reported at once.
    """
    sock = sock if sock is not None else bind_socket(host, port)
    if on_ready is not None:
        on_ready(_url(sock))
    _server(app, log_level).run(sockets=[sock])


@dataclass
class RunningServer:
    """A server running in a background thread; stop it with :meth:`stop` or a ``with`` block."""

    url: str
    """``http://host:port`` (append ``/v1`` for the OpenAI API)."""
    _server: Any = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def stop(self, timeout: float = 30.0) -> None:
        """Ask uvicorn to exit and wait for the thread."""
        self._server.should_exit = True
        self._thread.join(timeout)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_server(app: Any, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning",
                 startup_timeout: float = 30.0) -> RunningServer:
    """Start ``app`` in a background thread and return once it accepts connections."""
    sock = bind_socket(host, port)
    url = _url(sock)
    server = _server(app, log_level)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="fathom-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(5.0)
            sock.close()
            raise BackendError(f"The server on {url} did not start within {startup_timeout} s; "
                               f"see the log above for why.")
        time.sleep(0.01)
    return RunningServer(url=url, _server=server, _thread=thread)

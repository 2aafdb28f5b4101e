"""Running a ``python`` grader's ``grade(sample, item) -> float`` in a subprocess, with limits.

One worker process per :class:`PythonSandbox` serves many gradings (started on first use, started
again after a failure); each grading is one JSON line in and one out. The worker runs with:

* **a wall-clock time limit** per grading: past it the worker is killed;
* **a memory limit**: ``RLIMIT_AS`` (address space) set in the worker before the grader's code runs;
* **no network, no processes, no native code**: an audit hook (:func:`sys.addaudithook`, PEP 578)
  refuses every ``socket.*`` event (creation, connect, bind, ``getaddrinfo``...), ``subprocess.Popen``,
  ``os.system``/``exec``/``spawn``/``posix_spawn``/``fork``/``forkpty``/``kill``, loading a library or
  looking up a symbol with ctypes, and raising the resource limits; ``_posixsubprocess.fork_exec``
  (which raises no audit event) is replaced before the grader's code runs. Python code cannot remove
  an audit hook, and a refused attempt is reported even when the grader catches the exception;
* a clean environment (``PATH``, ``HOME``, locale and one BLAS thread; no API keys), ``python -I``
  (no user site, no ``PYTHON*`` variables) and a temporary working folder;
* the grader's ``print()`` going to stderr, so it cannot corrupt the protocol;
* a watchdog thread that ends the worker if Fathom's process dies while a grading runs.

Why audit hooks: they are the one in-interpreter mechanism that sees these operations however the
Python code reaches them, with no root rights, containers or platform-specific sandboxes needed.

What this does **not** cover: it is a guard against mistakes and careless code, not a security
boundary for hostile code. Native code that is already importable (a compiled extension calling
libc directly) bypasses audit hooks; files are not restricted (the grader can read and write what
your user can); CPU count is not limited; a determined attacker can reach the worker's internals
(e.g. via :mod:`gc`) and forge results. Run untrusted graders in a container. POSIX only.

Errors are loud: a time-out, the memory limit, a refused operation, a grader that cannot be loaded
and (unless ``on_error="zero"``, OpenAI's behaviour) an exception or a non-number from ``grade``
raise :class:`~fathom.errors.GraderError` naming the grader and what to change.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import IO, Any

from fathom.errors import ConfigError, GraderError

__all__ = ["MAX_SOURCE_BYTES", "PythonSandbox", "SandboxResult"]

MAX_SOURCE_BYTES = 256 * 1024
_START_ALLOWANCE_S = 10.0  # interpreter start-up and the grader's imports, on top of the time limit
_KEEP_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "SYSTEMROOT")

_WORKER = r'''
import json, math, numbers, os, sys, traceback
proto = os.fdopen(os.dup(1), "w", encoding="utf-8")
os.dup2(2, 1)
sys.stdout = sys.stderr
def send(obj):
    proto.write(json.dumps(obj) + "\n"); proto.flush()
setup = json.loads(sys.stdin.readline())
import threading, time
def watchdog(parent=os.getppid()):
    while os.getppid() == parent:  # an orphaned worker (the parent died mid-loop) exits
        time.sleep(1.0)
    os._exit(1)
threading.Thread(target=watchdog, daemon=True).start()
import resource
limit = setup["memory_bytes"]
try:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
except (ValueError, OSError):
    pass
BLOCKED = {"subprocess.Popen", "os.system", "os.exec", "os.spawn", "os.posix_spawn", "os.fork", "os.forkpty",
           "os.kill", "os.killpg", "signal.pthread_kill", "os.startfile", "ctypes.dlsym", "ctypes.dlsym/handle",
           "ctypes.cdata", "resource.setrlimit", "resource.prlimit"}
def make_hook(violations):
    def hook(event, args):
        if (event.startswith("socket.") or event in BLOCKED
                or (event == "ctypes.dlopen" and args and args[0] is not None)
                or (event == "import" and args and args[0] == "_posixsubprocess")):
            violations.append(event)
            raise PermissionError(f"{event} is not allowed in a Fathom python grader "
                                  "(no network, no processes, no native code)")
    return hook
violations = []
import _posixsubprocess
def _refused(*args, _violations=violations, **kwargs):
    _violations.append("_posixsubprocess.fork_exec")
    raise PermissionError("_posixsubprocess.fork_exec is not allowed in a Fathom python grader")
_posixsubprocess.fork_exec = _refused
sys.addaudithook(make_hook(violations))
del make_hook, _refused
def describe(exc):
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return {"message": f"{type(exc).__name__}: {exc}", "traceback": "".join(lines[-12:])}
try:
    namespace = {"__name__": "grader"}
    exec(compile(setup["source"], "<grader>", "exec"), namespace)
    grade = namespace["grade"]
except BaseException as exc:
    send({"ok": False, "kind": "blocked" if violations else "load", "event": violations[:1], **describe(exc)})
    sys.exit(0)
send({"ready": True})
for line in sys.stdin:
    request = json.loads(line)
    violations.clear()
    try:
        value = grade(request["sample"], request["item"])
        reply = {"ok": True, "value": None}
        if isinstance(value, numbers.Real) and math.isfinite(float(value)):
            reply["value"] = float(value)
        else:
            reply = {"ok": False, "kind": "value", "message": f"grade() returned {value!r:.200} "
                     f"({type(value).__name__}); it must return a finite number"}
    except MemoryError as exc:
        reply = {"ok": False, "kind": "memory", **describe(exc)}
    except BaseException as exc:
        reply = {"ok": False, "kind": "exception", **describe(exc)}
    if violations:
        reply = {"ok": False, "kind": "blocked", "event": violations[:1], "message": reply.get("message", "")}
    send(reply)
'''


def _what(event: str) -> str:
    """What a refused audit event means, in words."""
    for prefix, words in (("socket.", "network access"), ("ctypes.", "loading native code"),
                          ("resource.", "changing the resource limits"), ("os.kill", "signalling a process"),
                          ("signal.", "signalling a thread")):
        if event.startswith(prefix):
            return words
    return "starting a process"


@dataclass(frozen=True)
class SandboxResult:
    """One grading: the value, or (``on_error="zero"``) why there is none."""

    value: float | None
    """What ``grade`` returned, as a float; None when it raised or returned a non-number."""
    error: str = ""
    """Why there is no value ('' when there is one)."""


def check_source(source: Any, where: str, problems: list[str]) -> None:
    """Build-time checks, without running anything: a string of at most 256 kB that compiles and
    defines ``grade`` taking two arguments."""
    if not isinstance(source, str) or not source.strip():
        problems.append(f"{where}: expected Python source defining grade(sample, item), got {source!r:.80}")
        return
    size = len(source.encode("utf-8"))
    if size > MAX_SOURCE_BYTES:
        problems.append(f"{where}: the source is {size:,} bytes; the limit is {MAX_SOURCE_BYTES:,} (256 kB)")
        return
    try:
        tree = ast.parse(source, filename="<grader>")
    except SyntaxError as exc:
        problems.append(f"{where}: line {exc.lineno}: {exc.msg} (the source does not compile)")
        return
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "grade"]
    if not defs:
        problems.append(f"{where}: the source defines no top-level function `grade(sample, item)`")
    elif len(defs[-1].args.posonlyargs + defs[-1].args.args) < 2 and defs[-1].args.vararg is None:
        problems.append(f"{where}: grade() must take two arguments, (sample, item)")


class PythonSandbox:
    """Runs one grader source in a limited worker process; call it with ``(sample, item)``.

    Args:
        source: Python source defining ``grade(sample, item) -> float``.
        name: the grader's name, used in messages.
        time_limit_s: wall-clock seconds one grading may take (start-up gets 10 s more).
        memory_mb: the worker's address-space limit in MiB.
        on_error: ``"raise"`` (default) or ``"zero"``: what an exception or non-number from ``grade``
            does (OpenAI scored those 0). Limits and refused operations always raise.

    Raises:
        ConfigError: the source is too big, does not compile or lacks ``grade``; bad limits.
    """

    def __init__(self, source: str, *, name: str = "python", time_limit_s: float = 120.0,
                 memory_mb: int = 2048, on_error: str = "raise"):
        problems: list[str] = []
        check_source(source, f"python grader {name!r}", problems)
        if not (isinstance(time_limit_s, (int, float)) and time_limit_s > 0):
            problems.append(f"time_limit_s must be a positive number, got {time_limit_s!r}")
        if not (isinstance(memory_mb, int) and memory_mb >= 32):
            problems.append(f"memory_mb must be an integer >= 32, got {memory_mb!r}")
        if on_error not in ("raise", "zero"):
            problems.append(f"on_error must be 'raise' or 'zero', got {on_error!r}")
        if os.name != "posix":
            problems.append("python graders need a POSIX system (Linux or macOS) for their limits")
        if problems:
            raise ConfigError(problems)
        self.source, self.name, self.on_error = source, name, on_error
        self.time_limit_s, self.memory_mb = float(time_limit_s), memory_mb
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._buffer = b""
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PythonSandbox({self.name!r}, time_limit_s={self.time_limit_s}, memory_mb={self.memory_mb})"

    def __getstate__(self) -> dict[str, Any]:  # copies and pickles start their own worker
        state = self.__dict__.copy()
        state.update(_proc=None, _stderr=None, _workdir=None, _buffer=b"", _lock=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _lock=threading.Lock())

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # at interpreter shutdown os and signal may be gone already
            self.close()

    def __call__(self, sample: Mapping[str, Any], item: Mapping[str, Any]) -> SandboxResult:
        """Grade one completion.

        Raises:
            GraderError: a limit was hit, a refused operation was tried, the grader failed to load,
                or (``on_error="raise"``) ``grade`` raised or returned a non-number.
        """
        return self.run_many([(sample, item)])[0]

    def run_many(self, pairs: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]]) -> list[SandboxResult]:
        """Grade several completions with the same worker (see :meth:`__call__`)."""
        with self._lock:
            return [self._one(sample, item) for sample, item in pairs]

    def close(self) -> None:
        """Stop the worker (a later grading starts a new one)."""
        proc, self._proc, self._buffer = getattr(self, "_proc", None), None, b""
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                proc.kill()
            proc.wait()
        stderr, workdir = getattr(self, "_stderr", None), getattr(self, "_workdir", None)
        self._stderr = self._workdir = None
        if stderr is not None:
            stderr.close()
        if workdir is not None:
            workdir.cleanup()

    def _one(self, sample: Mapping[str, Any], item: Mapping[str, Any]) -> SandboxResult:
        if self._proc is None:
            self._start()
        line = json.dumps({"sample": sample, "item": item}, default=str) + "\n"
        reply = self._exchange(line.encode("utf-8"), self.time_limit_s, "grade() did not return")
        if reply.get("ok"):
            return SandboxResult(float(reply["value"]))
        kind, message = reply.get("kind"), str(reply.get("message", ""))
        if kind in ("exception", "value") and self.on_error == "zero":
            return SandboxResult(None, message)
        raise self._error(reply)

    def _start(self) -> None:
        env = {k: v for k, v in os.environ.items() if k in _KEEP_ENV or k.startswith("OPENBLAS_CORETYPE")
               or k.startswith("OPENBLAS_L2")}
        env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0")
        self._workdir = tempfile.TemporaryDirectory(prefix="fathom-grader-")
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the worker; closed in close())
        self._proc = subprocess.Popen([sys.executable, "-I", "-c", _WORKER], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=self._stderr, cwd=self._workdir.name,
                                      env=env, start_new_session=True)
        setup = {"memory_bytes": self.memory_mb * 1024 * 1024, "source": self.source}
        reply = self._exchange((json.dumps(setup) + "\n").encode("utf-8"), self.time_limit_s + _START_ALLOWANCE_S,
                               "the grader's source did not finish loading")
        if not reply.get("ready"):
            raise self._error(reply)

    def _exchange(self, request: bytes, limit_s: float, late: str) -> dict[str, Any]:
        proc = self._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(request)
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._died() from None
        deadline = time.monotonic() + limit_s
        fd = proc.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.close()
                raise GraderError(f"python grader {self.name!r}: {late} within {limit_s:g} s (the time limit); "
                                  f"the worker was stopped. Look for an endless loop or slow code, or raise "
                                  f"the limit (python_time_limit_s).")
            if select.select([fd], [], [], remaining)[0]:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise self._died()
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def _died(self) -> GraderError:
        proc = self._proc
        code = proc.wait() if proc is not None else None
        tail = b""
        if self._stderr is not None:
            self._stderr.seek(0)
            tail = self._stderr.read()[-1500:]
        self.close()
        how = f"was killed by signal {signal.Signals(-code).name}" if code is not None and code < 0 else \
            f"exited with code {code}"
        hint = f" - probably over the memory limit ({self.memory_mb} MiB)" if code is not None and code < 0 else ""
        return GraderError(f"python grader {self.name!r}: the worker {how}{hint}. Its stderr ends:\n"
                           f"{tail.decode('utf-8', 'replace').strip() or '(nothing)'}")

    def _error(self, reply: dict[str, Any]) -> GraderError:
        kind, message = reply.get("kind"), str(reply.get("message", ""))
        trace = str(reply.get("traceback", "")).strip()
        if kind == "blocked":
            self.close()
            event = str((reply.get("event") or ["?"])[0])
            text = (f"tried {event} ({_what(event)}), which is refused: python graders run without network, "
                    f"processes or native libraries. Grade from `sample` and `item` alone.")
        elif kind == "memory":
            text = (f"exceeded the memory limit ({self.memory_mb} MiB, MemoryError). Use less memory or raise "
                    f"python_memory_mb.")
        elif kind == "load":
            self.close()
            text = f"the source failed to load: {message}\n{trace}"
        elif kind == "value":
            text = f"{message}. (OpenAI scored such results 0; set python_on_error: zero to do the same.)"
        else:
            text = (f"grade() raised {message}\n{trace}\n(OpenAI scored failed gradings 0; set "
                    f"python_on_error: zero to do the same.)")
        return GraderError(f"python grader {self.name!r}: {text}")

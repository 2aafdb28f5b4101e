"""The vLLM backend: vLLM's own OpenAI-compatible server, started for the backend and spoken to over HTTP.

vLLM is a GPU engine (paged attention, continuous batching, multi-LoRA). Fathom runs it the way its users
do, ``vllm serve BASE --enable-lora --lora-modules name=path ...`` on 127.0.0.1 and a free port, waits for
``/health``, and talks to it with :class:`~fathom.backends.OpenAIHTTPBackend` (streaming and cancelling
included: a closed connection aborts the request inside vLLM). Each adapter is a ``--lora-modules``
entry and a request picks one with ``ChatRequest.adapter``, sent as its ``model`` (vLLM's own way);
``--max-loras`` is the number of adapters (all resident on the GPU at once) and ``--max-lora-rank`` the
smallest rank vLLM accepts that covers every adapter's ``r``. The server's output goes to a log file
whose last lines are in every start-up error. :meth:`VLLMBackend.close` stops the server (SIGTERM, then
SIGKILL after ``stop_timeout``); the server is also stopped when the backend is garbage-collected or
the interpreter exits.

Why a server process rather than ``vllm.LLM`` in-process: the server streams, aborts on disconnect and
batches concurrent requests from several threads, which ``LLM.generate`` does not; and a CUDA engine
in its own process leaves this one free of CUDA state (the transformers and llama.cpp engines keep
running beside it).

Model specs: a hub id, a model folder, the bundled model (its converted folder), or an adapter folder
(served on its base; requests without an adapter use it). Not covered: GGUF files (use the llamacpp
backend), adapters added while running (``/v1/load_lora_adapter``), tensor parallelism settings beyond
``extra_args``, starting vLLM on another machine (pass its URL as an ``http://`` spec instead).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import httpx

from fathom.backends._adapters import adapter_folders
from fathom.backends._protocol import ChatRequest, Completion
from fathom.errors import BackendError, ConfigError, MissingDependencyError, Problem

if TYPE_CHECKING:
    from fathom.backends._http import OpenAIHTTPBackend
    from fathom.models import ModelSpec

__all__ = ["LORA_RANKS", "VLLMBackend", "vllm_command"]

LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
"""The values vLLM accepts for ``--max-lora-rank``."""


def _vllm_executable() -> list[str]:
    """``vllm`` of this environment (beside the interpreter), else the one on ``PATH``."""
    beside = Path(sys.executable).with_name("vllm")
    found = str(beside) if beside.exists() else shutil.which("vllm")
    if found is None:
        raise MissingDependencyError("The vllm backend needs vLLM ('vllm' command), which",
                                     "pip install 'fathom[vllm]' (on a machine with a CUDA GPU)")
    return [found]


def _adapter_rank(folder: Path) -> int:
    config = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
    ranks = [int(config.get("r") or 8), *(int(r) for r in (config.get("rank_pattern") or {}).values())]
    return max(ranks)


def vllm_command(executable: Sequence[str], base: str, *, served_name: str, port: int,
                 adapters: Mapping[str, Path], max_model_len: int | None = None,
                 gpu_memory_utilization: float = 0.9, dtype: str = "auto", seed: int = 0,
                 extra_args: Sequence[str] = ()) -> list[str]:
    """The ``vllm serve`` command line for a base model and its adapters (all loaded at start-up).

    >>> vllm_command(["vllm"], "org/base", served_name="base", port=8000, adapters={})[:6]
    ['vllm', 'serve', 'org/base', '--served-model-name', 'base', '--host']
    """
    command = [*executable, "serve", base, "--served-model-name", served_name, "--host", "127.0.0.1",
               "--port", str(port), "--dtype", dtype, "--seed", str(seed),
               "--gpu-memory-utilization", str(gpu_memory_utilization)]
    if max_model_len is not None:
        command += ["--max-model-len", str(max_model_len)]
    if adapters:
        rank = max(_adapter_rank(p) for p in adapters.values())
        allowed = next((r for r in LORA_RANKS if r >= rank), None)
        if allowed is None:
            raise ConfigError([Problem("adapters", f"an adapter has rank {rank}; vLLM serves ranks up to "
                                                   f"{LORA_RANKS[-1]}. Merge it (`fathom train merge`) instead")],
                              title="invalid adapters")
        command += ["--enable-lora", "--max-loras", str(len(adapters)), "--max-lora-rank", str(allowed),
                    "--lora-modules", *(f"{name}={path}" for name, path in adapters.items())]
    return [*command, *extra_args]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(process: subprocess.Popen[bytes], timeout: float) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(the log is empty)"


class VLLMBackend:
    """Generate with a vLLM server this backend starts (and stops).

    Args:
        model: a hub id, model folder, bundled name, or LoRA adapter folder (served on its base).
        adapters: more LoRA adapters on the same base, ``{name: adapter folder}``.
        concurrency: most requests in flight at once (vLLM batches them; its own cap is ``max_num_seqs``).
        max_model_len: tokens of context (default: vLLM's, the model's).
        gpu_memory_utilization: share of GPU memory vLLM may take for weights and KV cache.
        dtype: ``auto``, ``bfloat16``, ``float16``...
        startup_timeout: seconds to wait for the server to answer ``/health`` (model loading, CUDA graphs).
        stop_timeout: seconds :meth:`close` waits after SIGTERM before SIGKILL.
        extra_args: more ``vllm serve`` arguments, as given (``["--max-num-seqs", "64"]``).
        command: the program to start instead of ``vllm`` (a wrapper script, another install).
        progress: show a progress bar (on stderr) while generating.
        model_name: the name completions are attributed to (default: the spec).
    """

    supports_batching: ClassVar[bool] = True
    parallel_option: ClassVar[str] = "concurrency"
    """The option ``load_backend(parallel=N)`` sets: requests in flight at once."""

    def __init__(self, model: str | ModelSpec, *, adapters: Mapping[str, str | Path] | None = None,
                 concurrency: int = 64, max_model_len: int | None = None, gpu_memory_utilization: float = 0.9,
                 dtype: str = "auto", startup_timeout: float = 900.0, stop_timeout: float = 30.0,
                 extra_args: Sequence[str] = (), command: Sequence[str] | None = None, progress: bool = False,
                 model_name: str | None = None):
        from fathom.backends._http import OpenAIHTTPBackend
        from fathom.models import AdapterSpec, BundledSpec, GGUFSpec, LocalSpec, RemoteSpec, bundled_dir, resolve_model

        problems = [Problem(name, message) for name, ok, message in [
            ("concurrency", concurrency >= 1, f"must be at least 1, got {concurrency}"),
            ("gpu_memory_utilization", 0 < gpu_memory_utilization <= 1,
             f"must be in (0, 1], got {gpu_memory_utilization}"),
            ("max_model_len", max_model_len is None or max_model_len >= 16,
             f"must be at least 16, got {max_model_len}"),
            ("startup_timeout", startup_timeout > 0, f"must be > 0 seconds, got {startup_timeout}"),
        ] if not ok]
        if problems:
            raise ConfigError(problems, title="invalid vllm backend options")
        executable = list(command) if command else _vllm_executable()
        spec = resolve_model(model) if isinstance(model, str) else model
        if isinstance(spec, (GGUFSpec, RemoteSpec)):
            raise ConfigError([Problem("model", f"{spec.spec!r} is a {spec.kind} model; the vllm backend serves "
                                                f"Hugging Face models and PEFT adapters. Use the llamacpp backend for "
                                                f"GGUF files, and an http:// spec for a running server")],
                              title="invalid backend")
        own: dict[str, Path] = {}
        self._default_adapter = None
        base_spec = spec
        if isinstance(spec, AdapterSpec):
            self._default_adapter = spec.path.name
            own[self._default_adapter] = spec.path
            base_spec = resolve_model(spec.base)
        folders = adapter_folders(base_spec.spec, own, adapters or {})
        if isinstance(base_spec, BundledSpec):
            base = str(bundled_dir(base_spec.spec))
        elif isinstance(base_spec, LocalSpec):
            base = str(base_spec.path)
        else:
            base = base_spec.spec
        self.model_name = model_name or spec.spec
        self.adapters = list(folders)
        """Names a request may give as ``ChatRequest.adapter``."""
        self.port = _free_port()
        self._log_dir = tempfile.TemporaryDirectory(prefix="fathom-vllm-")
        self.log_path = Path(self._log_dir.name) / "vllm.log"
        self.command = vllm_command(executable, base, served_name=self.model_name, port=self.port,
                                    adapters=folders, max_model_len=max_model_len,
                                    gpu_memory_utilization=gpu_memory_utilization, dtype=dtype,
                                    extra_args=extra_args)
        """The command line the server was started with."""
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self._finalizer = weakref.finalize(self, _stop, self._process, stop_timeout)
        self.url = f"http://127.0.0.1:{self.port}/v1"
        try:
            self._wait_healthy(startup_timeout)
        except BaseException:
            self._finalizer()
            raise
        self._http: OpenAIHTTPBackend = OpenAIHTTPBackend(
            self.url, model=self.model_name, concurrency=concurrency, progress=progress, timeout=600.0,
            adapter_models={name: name for name in folders})

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self._process.poll()
            if code is not None:
                raise BackendError(f"vLLM exited with code {code} before it was ready. Its last lines "
                                   f"({self.log_path}):\n{_tail(self.log_path)}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise BackendError(f"vLLM did not answer /health within {timeout:.0f} s; raise startup_timeout= for big "
                           f"models. Its last lines ({self.log_path}):\n{_tail(self.log_path)}")

    def generate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        """Complete every request (``concurrency`` in flight); the result has the same length and order."""
        if self._process.poll() is not None:
            raise BackendError(f"the vLLM server has stopped (exit code {self._process.returncode}). Its last "
                               f"lines ({self.log_path}):\n{_tail(self.log_path)}")
        if self._default_adapter is not None:
            import dataclasses

            requests = [r if r.adapter else dataclasses.replace(r, adapter=self._default_adapter) for r in requests]
        return self._http.generate(requests)

    def close(self) -> None:
        """Stop the server and close the connections."""
        self._http.close()
        self._finalizer()

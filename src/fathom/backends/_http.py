"""The remote backend: any OpenAI-compatible ``/chat/completions`` endpoint over HTTP.

Works with ``fathom serve``, vLLM, llama.cpp's server, Bedrock behind a gateway, OpenAI itself.
A batch is sent as concurrent requests (at most ``concurrency`` in flight, on threads sharing one
``httpx.Client``); 429, 5xx, connection errors and timeouts are retried with exponential backoff and
jitter, honouring ``Retry-After``. After the last attempt a :class:`~fathom.errors.BackendError`
names the URL, the status and the start of the response body.

A request with ``on_text`` or ``cancel`` (a server relaying it) is streamed (``stream: true`` with
``stream_options.include_usage``): each content delta reaches ``on_text`` as it arrives, tool-call
deltas are joined, and a set ``cancel`` closes the connection at the next chunk (the server stops
generating) with ``finish_reason="cancelled"``. Only a stream that has not sent anything is retried.
``adapter_models={adapter: model name}`` makes ``ChatRequest.adapter`` a model name on the server, which
is how vLLM (``--lora-modules``) and ``fathom serve`` (``base:adapter``) pick adapters.

Not covered: the legacy ``/completions`` endpoint, ``n > 1``.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from fathom.backends._adapters import unknown_adapter
from fathom.backends._progress import progress_bar
from fathom.backends._protocol import ChatRequest, Completion
from fathom.backends._toolcalls import completion_from_text
from fathom.errors import BackendError, ConfigError

__all__ = ["OpenAIHTTPBackend"]

_RETRY_STATUS = frozenset({408, 409, 425, 429}) | frozenset(range(500, 600))
_RETRY_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def _normalise_base_url(base_url: str) -> str:
    url = base_url.split("#", 1)[0].rstrip("/")
    if urlsplit(url).path in ("", "/"):
        url += "/v1"
    return url


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), if any."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _excerpt(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


class OpenAIHTTPBackend:
    """Generate through an OpenAI-compatible HTTP endpoint.

    Args:
        base_url: the API root, e.g. ``http://127.0.0.1:8000/v1`` (a bare ``http://host:port`` gets
            ``/v1``). Anything after ``#`` is taken as the model name.
        model: the model name to request. Default: the name after ``#`` in ``base_url``, else the
            only model the server lists at ``/models``.
        api_key: the bearer token. Default: ``$FATHOM_API_KEY`` (or the variable ``api_key_env``
            names), then ``$OPENAI_API_KEY``; none is fine for local servers.
        api_key_env: the environment variable holding the key.
        concurrency: most requests in flight at once.
        retries: how many times a failed request is retried (so ``retries + 1`` attempts).
        backoff: the first retry waits about this many seconds; each later one twice as long,
            times a random jitter in [0.5, 1.5), capped at ``max_backoff``.
        max_backoff: the longest wait between attempts, ``Retry-After`` included.
        timeout: seconds to wait for a response.
        progress: show a progress bar (on stderr) while generating.
        jitter_seed: seed for the backoff jitter (None: nondeterministic).
        transport: an ``httpx`` transport to use instead of the network (tests, proxies).
        adapter_models: adapters the server serves, ``{adapter name: model name to request}``; a request's
            ``ChatRequest.adapter`` must be one of them.
        sleep: the function used to wait between retries (tests pass a recorder).
    """

    supports_batching: ClassVar[bool] = True
    parallel_option: ClassVar[str] = "concurrency"
    """The option ``load_backend(parallel=N)`` sets: most requests in flight at once."""

    def __init__(self, base_url: str, model: str | None = None, *, api_key: str | None = None,
                 api_key_env: str = "FATHOM_API_KEY", concurrency: int = 8, retries: int = 4,
                 backoff: float = 0.5, max_backoff: float = 60.0, timeout: float = 60.0,
                 progress: bool = False, jitter_seed: int | None = None,
                 transport: httpx.BaseTransport | None = None,
                 adapter_models: Mapping[str, str] | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        problems = [m for ok, m in [
            (concurrency >= 1, f"concurrency must be at least 1, got {concurrency}"),
            (retries >= 0, f"retries must be >= 0, got {retries}"),
            (backoff >= 0 and max_backoff >= 0, f"backoff and max_backoff must be >= 0, got {backoff}, {max_backoff}"),
            (timeout > 0, f"timeout must be > 0 seconds, got {timeout}"),
            (base_url.startswith(("http://", "https://")),
             f"base_url must start with http:// or https://, got {base_url!r}"),
        ] if not ok]
        if problems:
            raise ConfigError(problems, title="invalid OpenAIHTTPBackend settings")
        self.base_url = _normalise_base_url(base_url)
        self.concurrency, self.retries, self.progress = concurrency, retries, progress
        self.backoff, self.max_backoff = backoff, max_backoff
        self._sleep = sleep
        self._rng = random.Random(jitter_seed)
        self._rng_lock = threading.Lock()
        key = api_key or os.environ.get(api_key_env) or os.environ.get("OPENAI_API_KEY")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(timeout=timeout, headers=headers, transport=transport,
                                    limits=httpx.Limits(max_connections=concurrency))
        fragment = base_url.partition("#")[2]
        self.model_name = model or fragment or self._only_model()
        self._adapter_models = dict(adapter_models or {})
        self.adapters = list(self._adapter_models)
        """Names a request may give as ``ChatRequest.adapter``."""

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def _only_model(self) -> str:
        data = self._request("GET", "/models").json().get("data") or []
        names = [str(m["id"]) for m in data if isinstance(m, dict) and m.get("id")]
        if len(names) != 1:
            raise ConfigError([f"{self.base_url}/models lists {len(names)} models ({', '.join(names) or 'none'}); "
                               f"name one with model=... or {self.base_url}#<model>"])
        return str(names[0])

    def _wait(self, attempt: int, response: httpx.Response | None) -> None:
        after = _retry_after(response) if response is not None else None
        if after is None:
            with self._rng_lock:
                jitter = 0.5 + self._rng.random()
            after = self.backoff * (2 ** attempt) * jitter
        self._sleep(min(after, self.max_backoff))

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        url = self.base_url + path
        last = ""
        for attempt in range(self.retries + 1):
            response = None
            try:
                response = self._client.request(method, url, json=body)
            except _RETRY_ERRORS as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code < 400:
                    return response
                last = self._refused(method, url, response)
            if attempt < self.retries:
                self._wait(attempt, response)
        raise self._gave_up(method, url, last)

    @staticmethod
    def _refused(method: str, url: str, response: httpx.Response) -> str:
        """The error text of a failed response, raised at once when retrying cannot help (a 4xx)."""
        last = f"HTTP {response.status_code}: {_excerpt(response.text)}"
        if response.status_code not in _RETRY_STATUS:
            raise BackendError(f"{method} {url} failed with {last}. The request was rejected; "
                               f"check the model name, messages and sampling settings.")
        return last

    def _gave_up(self, method: str, url: str, last: str) -> BackendError:
        return BackendError(f"{method} {url} failed after {self.retries + 1} attempts; last error: {last}. "
                            f"Check that the server is running and reachable, or raise retries=/timeout=.")

    def _body(self, request: ChatRequest) -> dict[str, Any]:
        s = request.sampling
        model = self._adapter_models[request.adapter] if request.adapter else self.model_name
        body: dict[str, Any] = {"model": model, "messages": request.messages,
                                "temperature": s.temperature, "top_p": s.top_p, "max_tokens": s.max_tokens}
        if s.stop:
            body["stop"] = list(s.stop)
        if s.seed is not None:
            body["seed"] = s.seed
        if request.tools:
            body["tools"] = request.tools
        return body

    def _complete(self, request: ChatRequest) -> Completion:
        if request.on_text is not None or request.cancel is not None:
            return self._stream(request)
        url = f"{self.base_url}/chat/completions"
        data = self._request("POST", "/chat/completions", self._body(request)).json()
        try:
            choice = data["choices"][0]
            message = dict(choice["message"])
        except (KeyError, IndexError, TypeError) as exc:
            raise BackendError(f"POST {url} returned no choices[0].message: {_excerpt(str(data))}") from exc
        usage = data.get("usage") or {}
        return _completion(message.get("content"), message.get("tool_calls"),
                           str(choice.get("finish_reason") or "stop"),
                           int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))

    def _stream(self, request: ChatRequest) -> Completion:
        """One request as server-sent events: text to ``on_text`` as it arrives; retried only before any."""
        method, url = "POST", f"{self.base_url}/chat/completions"
        body = {**self._body(request), "stream": True, "stream_options": {"include_usage": True}}
        last = ""
        for attempt in range(self.retries + 1):
            response = None
            started = False
            try:
                with self._client.stream(method, url, json=body) as response:
                    if response.status_code >= 400:
                        response.read()
                        last = self._refused(method, url, response)
                    else:
                        started = True
                        return _read_events(response.iter_lines(), request, url)
            except _RETRY_ERRORS as exc:
                if started:  # text may have reached on_text already: a retry would send it twice
                    raise BackendError(f"POST {url} failed mid-stream ({type(exc).__name__}: {exc}); the answer "
                                       f"so far was sent, so the request is not retried.") from exc
                last = f"{type(exc).__name__}: {exc}"
            if attempt < self.retries:
                self._wait(attempt, response)
        raise self._gave_up(method, url, last)

    def generate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        """Complete every request (concurrently); the result has the same length and order."""
        if not requests:
            return []
        unknown = sorted({r.adapter for r in requests if r.adapter and r.adapter not in self._adapter_models})
        if unknown:
            raise unknown_adapter(unknown, self.adapters)
        with progress_bar(self.progress, len(requests), self.model_name) as advance, \
                ThreadPoolExecutor(max_workers=min(self.concurrency, len(requests))) as pool:
            futures = [pool.submit(self._complete, r) for r in requests]
            results = []
            try:
                for future in futures:
                    results.append(future.result())
                    advance(1)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
        return results


def _completion(content: Any, tool_calls: Any, reason: str, prompt_tokens: int, completion_tokens: int) -> Completion:
    """A completion from the server's message; ``<tool_call>`` text from servers that don't parse it is parsed."""
    if not tool_calls and isinstance(content, str) and "<tool_call>" in content:
        return completion_from_text(content, finish_reason=reason, prompt_tokens=prompt_tokens,
                                    completion_tokens=completion_tokens)
    out: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        out["tool_calls"] = tool_calls
    return Completion(message=out, text=content or "", finish_reason=reason, prompt_tokens=prompt_tokens,
                      completion_tokens=completion_tokens)


def _read_events(lines: Iterator[str], request: ChatRequest, url: str) -> Completion:
    """Join an OpenAI ``chat.completion.chunk`` stream into one completion, passing text on as it comes."""
    pieces: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    reason = "stop"
    usage: dict[str, Any] = {}
    for line in lines:
        if request.cancel is not None and request.cancel.is_set():
            reason = "cancelled"
            break  # leaving the `with` closes the connection, which stops the server generating
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            break
        try:
            chunk = json.loads(data)
        except json.JSONDecodeError as exc:
            raise BackendError(f"POST {url} streamed a line that is not JSON: {_excerpt(data)}") from exc
        if not isinstance(chunk, dict) or "error" in chunk:
            raise BackendError(f"POST {url} streamed an error: {_excerpt(str(chunk))}")
        usage = chunk.get("usage") or usage
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                pieces.append(delta["content"])
                if request.on_text is not None:
                    request.on_text(delta["content"])
            for call in delta.get("tool_calls") or []:
                slot = calls.setdefault(int(call.get("index", 0)),
                                        {"id": None, "type": "function", "function": {"name": "", "arguments": ""}})
                slot["id"] = call.get("id") or slot["id"]
                function = call.get("function") or {}
                slot["function"]["name"] += function.get("name") or ""
                slot["function"]["arguments"] += function.get("arguments") or ""
            reason = str(choice.get("finish_reason") or reason)
    text = "".join(pieces)
    tool_calls = [calls[i] for i in sorted(calls)]
    return _completion(text if text or not tool_calls else None, tool_calls, reason,
                       int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))

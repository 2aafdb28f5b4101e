"""Teachers: an OpenAI-compatible endpoint (:class:`OpenAITeacher`), or any in-process :class:`~fathom.synth.Teacher`.

:class:`OpenAITeacher` sends the task prompt to ``/chat/completions`` of any OpenAI-compatible server
(``fathom serve``, vLLM, llama.cpp's server, a gateway, a hosted API) through
:class:`fathom.backends.OpenAIHTTPBackend`, which retries 429, 5xx, connection errors and timeouts
with exponential backoff and jitter. :func:`check_endpoint` is the preflight run before any work: a
``GET /models`` with one quick retry, so an unreachable URL, a rejected key or an unknown model name
stops the run at once (exit 2) instead of failing every chunk. :func:`load_teacher` builds the
configured teacher: ``{url, model, ...}`` or ``{ref: "package.module:Class", options: {...}}``.
Not covered: the concurrency of a run (a thread pool in :mod:`fathom.synth._run`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fathom.errors import ConfigError, Problem, did_you_mean
from fathom.synth._types import Teacher, TeacherRequest

if TYPE_CHECKING:
    import httpx

__all__ = ["OpenAITeacher", "check_endpoint", "load_teacher"]


class OpenAITeacher:
    """A teacher behind an OpenAI-compatible HTTP endpoint.

    Args:
        base_url: the API root, e.g. ``http://127.0.0.1:8000/v1`` (a bare ``http://host:port`` gets ``/v1``).
        model: the model name to ask for.
        api_key: the bearer token; default ``$FATHOM_API_KEY`` then ``$OPENAI_API_KEY``; none is fine locally.
        concurrency: connections kept open (the run sends at most this many requests at once).
        retries: retries of a failed request (429, 5xx, connection errors, timeouts), so ``retries + 1`` attempts.
        backoff: seconds before the first retry; each later one waits twice as long (with jitter).
        timeout: seconds to wait for one answer.
        temperature: sampling temperature (some variety between chunks helps).
        max_tokens: most tokens in one answer.
        transport: an ``httpx`` transport instead of the network (tests).
        sleep: the function that waits between retries (tests pass a recorder).
    """

    def __init__(self, base_url: str, model: str, api_key: str | None = None, *, concurrency: int = 8,
                 retries: int = 4, backoff: float = 0.5, timeout: float = 120.0, temperature: float = 0.7,
                 max_tokens: int = 2048, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        from fathom.backends import OpenAIHTTPBackend, Sampling

        self._backend = OpenAIHTTPBackend(base_url, model, api_key=api_key, concurrency=concurrency, retries=retries,
                                          backoff=backoff, timeout=timeout, transport=transport, sleep=sleep)
        self._sampling = Sampling(max_tokens=max_tokens, temperature=temperature)
        self.base_url = self._backend.base_url
        self.model = model

    def complete(self, request: TeacherRequest) -> str:
        """The model's raw answer text for ``request.messages``, sampled with ``request.seed``.

        Raises:
            BackendError: no answer after the retries, or the request was rejected (a 4xx).
        """
        from dataclasses import replace

        from fathom.backends import ChatRequest

        chat = ChatRequest(messages=[dict(m) for m in request.messages],
                           sampling=replace(self._sampling, seed=request.seed))
        return self._backend.generate([chat])[0].text

    def close(self) -> None:
        """Close the connections."""
        self._backend.close()


def check_endpoint(base_url: str, model: str, *, api_key: str | None = None, attempts: int = 2, wait: float = 0.5,
                   timeout: float = 5.0, check_model: bool = True,
                   transport: httpx.BaseTransport | None = None) -> list[Problem]:
    """Preflight of a teacher endpoint: ``GET <base_url>/models``; the problems found (empty: it answers).

    A refused or timed-out connection is retried ``attempts - 1`` times ``wait`` seconds apart. A 401 or
    403 is a rejected key; a listed set of models without ``model`` is an unknown model (unless
    ``check_model=False``). A server without ``/models`` (404) or with a server error is taken as
    reachable: the run's own retries deal with it.
    """
    import os

    import httpx

    url = base_url.split("#", 1)[0].rstrip("/")
    if not url.startswith(("http://", "https://")):
        return [Problem("teacher.url", f"must start with http:// or https://, got {base_url!r}")]
    if httpx.URL(url).path in ("", "/"):
        url += "/v1"
    key = api_key or os.environ.get("FATHOM_API_KEY") or os.environ.get("OPENAI_API_KEY")
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    last = ""
    with httpx.Client(timeout=timeout, headers=headers, transport=transport) as client:
        for attempt in range(attempts):
            try:
                response = client.get(f"{url}/models")
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                last = f"{type(exc).__name__}: {exc}"
                if attempt + 1 < attempts:
                    time.sleep(wait)
                continue
            return _answer_problems(response, url, model, check_model)
    return [Problem("teacher.url", f"cannot reach the teacher at {url} ({last}; {attempts} attempts). Start the "
                                   "server (for example `fathom serve MODEL --port 8000`), or fix teacher.url")]


def _answer_problems(response: httpx.Response, url: str, model: str, check_model: bool) -> list[Problem]:
    if response.status_code in (401, 403):
        return [Problem("teacher.api_key_env", f"{url}/models rejected the API key (HTTP {response.status_code}); "
                                               "set the variable teacher.api_key_env names (default FATHOM_API_KEY)")]
    if response.status_code >= 400 or not check_model:
        return []
    try:
        data = response.json().get("data") or []
        names = [str(m["id"]) for m in data if isinstance(m, dict) and m.get("id")]
    except (ValueError, AttributeError):
        return []
    if names and model not in names:
        hint = did_you_mean(model, names)
        return [Problem("teacher.model", f"{model!r} is not served at {url} (it lists {', '.join(names[:10])}). "
                                         f"{hint + ' ' if hint else ''}Fix teacher.model, or set teacher.check_model: "
                                         "false if the server accepts names it does not list")]
    return []


def load_teacher(spec: dict[str, Any], *, concurrency: int) -> Teacher:
    """The teacher a config's ``teacher`` mapping names (already checked by the config loader).

    ``{ref: "package.module:attr", options: {...}}``: ``attr`` is a class or factory called with
    ``options``, or a ready teacher object. Otherwise ``{url, model, api_key_env?, retries?, backoff?,
    timeout?, temperature?, max_tokens?}`` builds an :class:`OpenAITeacher`.

    Raises:
        ConfigError: the reference does not import, or does not give an object with ``complete(request)``.
    """
    if "ref" in spec:
        return _teacher_from_ref(str(spec["ref"]), dict(spec.get("options") or {}))
    import os

    env = spec.get("api_key_env")
    options = {k: spec[k] for k in ("retries", "backoff", "timeout", "temperature", "max_tokens") if k in spec}
    return OpenAITeacher(str(spec["url"]), str(spec["model"]), api_key=os.environ.get(env) if env else None,
                         concurrency=concurrency, **options)


def _teacher_from_ref(ref: str, options: dict[str, Any]) -> Teacher:
    from fathom._plugins import load_ref

    try:
        obj = load_ref(ref)
    except (ImportError, AttributeError) as exc:
        raise ConfigError([Problem("teacher.ref", f"cannot load {ref!r}: {type(exc).__name__}: {exc}")]) from exc
    if callable(obj) and (isinstance(obj, type) or not isinstance(obj, Teacher)):  # a class or a factory
        try:
            obj = obj(**options)
        except TypeError as exc:
            raise ConfigError([Problem("teacher.options", f"{ref} does not take these options "
                                                          f"({', '.join(options) or 'none'}): {exc}")]) from exc
    if not isinstance(obj, Teacher):
        raise ConfigError([Problem("teacher.ref", f"{ref!r} gave {type(obj).__name__}, which has no "
                                                  "complete(request) -> str method")])
    return obj

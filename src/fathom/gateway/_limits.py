"""Per-key request and token limits: admit a request before it runs, settle its tokens after.

Covers :class:`RateLimiter` over any :class:`~fathom.gateway._store.LimitStore`:

* **Requests:** GCRA, ``T = 60/rpm``, burst ``B`` (default: ``rpm``, a minute's requests at once, then
  one every ``T``).
* **Tokens:** a bucket of ``tpm`` tokens refilled at ``tpm/60`` a second. Admission reserves the
  prompt estimate plus ``max_tokens``; :meth:`RateLimiter.settle` refunds ``reserved - used`` once
  the response's ``usage.total_tokens`` is known (negative when the estimate was low). Charging at
  admission is what keeps concurrent requests from overshooting: LiteLLM charges after the response,
  so N concurrent requests all pass a nearly-spent limit (litellm#24677 is the mirror image: a limit
  that trips early and locks a key out).
* **Both together, atomically:** with both limits set, one store call (:meth:`LimitStore.admit`)
  checks the request slot and the tokens and takes both or neither. A request refused for tokens
  therefore never consumes a request slot. The alternative, take the slot then give it back, leaves a
  moment in which another request is refused for a slot nobody uses, and in Redis a crash between the
  two calls loses the slot for good; one script has neither problem.
* A reservation larger than the whole ``tpm`` can never fit: :attr:`Admission.too_large`, answered
  400 (the client must lower ``max_tokens``), not 429 (waiting would not help). Nothing is taken.
* Response headers: ``x-ratelimit-{limit,remaining,reset}-{requests,tokens}`` (reset as OpenAI writes
  it: ``1s``, ``6m0s``, ``250ms``) and, when refused, ``retry-after`` (whole seconds, rounded up) and
  ``retry-after-ms`` (which the OpenAI clients prefer).
* :func:`estimate_prompt_tokens`: characters/4 rounded up plus a few tokens a message, for when no
  tokenizer is at hand.

Limits apply per (key, model) by default, as in ``docs/serving-notes.md`` §6; ``per_model=False``
makes them per key across models. Not covered: the concurrency semaphore and engine queue limits (the
app's), budgets (:class:`~fathom.gateway._ledger.BudgetGuard`), counting stream chunks when the
upstream sends no usage (the app passes whatever it counted to :meth:`RateLimiter.settle`).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from fathom.errors import ConfigError
from fathom.gateway._store import BucketResult, GcraResult, LimitStore

__all__ = [
    "CHARS_PER_TOKEN",
    "MESSAGE_OVERHEAD_TOKENS",
    "REPLY_PRIMING_TOKENS",
    "Admission",
    "RateLimiter",
    "estimate_prompt_tokens",
]

CHARS_PER_TOKEN = 4
"""Characters a token for :func:`estimate_prompt_tokens` (English averages about 4)."""
MESSAGE_OVERHEAD_TOKENS = 4
"""Tokens a chat template adds around each message (role markers, separators)."""
REPLY_PRIMING_TOKENS = 3
"""Tokens the template adds to start the assistant's reply."""

Limit = Literal["requests", "tokens"]


@dataclass
class Admission:
    """What :meth:`RateLimiter.admit` decided; pass it back to :meth:`RateLimiter.settle`."""

    allowed: bool
    """Run the request."""
    limit: Limit | None
    """The limit that refused it (the one with the longer wait when both did); None when allowed."""
    retry_after_s: float
    """Seconds until it would be admitted; 0 when allowed, ``math.inf`` when :attr:`too_large`."""
    reserved: int
    """Tokens debited from the key's bucket (0 when refused or when the key has no tpm limit)."""
    headers: dict[str, str]
    """``x-ratelimit-*`` headers for the response, plus ``retry-after`` when refused."""
    too_large: bool = False
    """The reservation exceeds the whole tpm limit: answer 400, not 429."""
    detail: str = ""
    """A sentence for the error body when refused: what was asked, the limit, what to do."""
    token_key: str | None = None
    """The store key of the bucket the reservation came from (None without a tpm limit)."""
    tpm: int | None = None
    settled: bool = field(default=False, init=False)
    """:meth:`RateLimiter.settle` has run (a second call does nothing)."""

    @property
    def status_code(self) -> int:
        """200 when allowed, 400 when :attr:`too_large`, else 429."""
        return 200 if self.allowed else 400 if self.too_large else 429


def _duration(seconds: float) -> str:
    """OpenAI's reset spelling: ``250ms``, ``1s``, ``1.5s``, ``6m0s``, ``1h2m3s``."""
    ms = max(0, math.ceil(seconds * 1000 - 1e-6))
    if ms < 1000:
        return f"{ms}ms"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs = f"{rest / 1000:.3f}".rstrip("0").rstrip(".")
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def _retry_headers(retry_after_s: float) -> dict[str, str]:
    return {"retry-after": str(max(1, math.ceil(retry_after_s - 1e-9))),
            "retry-after-ms": str(max(1, math.ceil(retry_after_s * 1000 - 1e-6)))}


def _check_limits(rpm: int | None, tpm: int | None, prompt_tokens: int, max_tokens: int) -> None:
    problems = []
    for name, value in (("rpm", rpm), ("tpm", tpm)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            problems.append(f"{name} must be a whole number >= 1 or None (no limit), got {value!r}")
    for name, value in (("prompt_tokens_estimate", prompt_tokens), ("max_tokens", max_tokens)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            problems.append(f"{name} must be a whole number >= 0, got {value!r}")
    if problems:
        raise ConfigError(problems, title="invalid rate-limit request")


class RateLimiter:
    """Requests by GCRA and tokens by reservation, per (key, model), on a shared store.

    Args:
        store: where the state lives (:class:`~fathom.gateway._store.MemoryStore` for one process,
            :class:`~fathom.gateway._store.RedisStore` for several).
        burst: requests that may arrive at once; None: the key's rpm.
        per_model: limit each (key, model) pair separately (True) or each key across models.
    """

    def __init__(self, store: LimitStore, *, burst: int | None = None, per_model: bool = True):
        if burst is not None and burst < 1:
            raise ConfigError([f"burst must be >= 1 or None (the key's rpm), got {burst!r}"],
                              title="invalid rate limiter")
        self.store = store
        self.burst = burst
        self.per_model = per_model
        self._settle_lock = threading.Lock()

    def _keys(self, key_id: str, model: str) -> tuple[str, str]:
        scope = f"{{{key_id}}}" + (f":{model}" if self.per_model else "")  # {key_id}: one Redis Cluster slot
        return f"req:{scope}", f"tok:{scope}"

    def admit(
        self, key_id: str, model: str, *, rpm: int | None, tpm: int | None, prompt_tokens_estimate: int,
        max_tokens: int,
    ) -> Admission:
        """Decide one request; when allowed, its request slot and token reservation are taken.

        Args:
            key_id: the API key's id.
            model: the model asked for (limits are per key and model unless ``per_model=False``).
            rpm: requests a minute, or None for no request limit.
            tpm: tokens a minute, or None for no token limit.
            prompt_tokens_estimate: the prompt's tokens (a tokenizer's count, or
                :func:`estimate_prompt_tokens`).
            max_tokens: the most tokens the reply may have (the request's, or the server's cap).

        Returns:
            The decision, its headers and the reservation to settle.
        """
        _check_limits(rpm, tpm, prompt_tokens_estimate, max_tokens)
        request_key, token_key = self._keys(key_id, model)
        amount = prompt_tokens_estimate + max_tokens
        if tpm is not None and amount > tpm:
            return self._too_large(amount, prompt_tokens_estimate, max_tokens, rpm, tpm)
        requests: GcraResult | None = None
        tokens: BucketResult | None = None
        burst = self.burst or rpm or 1
        if rpm is not None and tpm is not None:
            requests, tokens = self.store.admit(request_key, token_key, period_s=60 / rpm, burst=burst,
                                                amount=amount, capacity=tpm, refill_per_s=tpm / 60)
        elif rpm is not None:
            requests = self.store.gcra(request_key, period_s=60 / rpm, burst=burst)
        elif tpm is not None:
            tokens = self.store.reserve(token_key, amount=amount, capacity=tpm, refill_per_s=tpm / 60)
        headers = _headers(rpm, requests, tpm, tokens)
        refused: list[tuple[float, Limit]] = []
        if requests is not None and not requests.allowed:
            refused.append((requests.retry_after_s, "requests"))
        if tokens is not None and not tokens.allowed:
            refused.append((tokens.retry_after_s, "tokens"))
        if not refused:
            return Admission(True, None, 0.0, amount if tpm is not None else 0, headers,
                             token_key=token_key if tpm is not None else None, tpm=tpm)
        retry, limit = max(refused)
        headers.update(_retry_headers(retry))
        detail = (f"Rate limit reached for this key on {model!r}: {rpm} requests a minute." if limit == "requests"
                  else f"Rate limit reached for this key on {model!r}: {tpm} tokens a minute; this request "
                       f"reserves {amount} ({prompt_tokens_estimate} prompt + {max_tokens} max_tokens).")
        return Admission(False, limit, retry, 0, headers, detail=f"{detail} Retry in {retry:.2f}s.", tpm=tpm)

    def _too_large(self, amount: int, prompt: int, max_tokens: int, rpm: int | None, tpm: int) -> Admission:
        headers = {"x-ratelimit-limit-tokens": str(tpm)}
        if rpm is not None:
            headers["x-ratelimit-limit-requests"] = str(rpm)
        detail = (f"This request needs {amount} tokens ({prompt} prompt + {max_tokens} max_tokens), more than "
                  f"this key's whole limit of {tpm} tokens a minute, so it can never be admitted. Lower "
                  f"max_tokens to at most {max(0, tpm - prompt)} or shorten the prompt, or ask for a higher tpm.")
        return Admission(False, "tokens", math.inf, 0, headers, too_large=True, detail=detail, tpm=tpm)

    def settle(self, admission: Admission, total_tokens: int) -> BucketResult | None:
        """Refund ``reserved - total_tokens`` to the bucket (a charge when it is negative).

        Call it once the request ends, with the tokens it really used (``usage.total_tokens``, or
        what was generated before a disconnect plus the prompt). Refused admissions, keys without
        a tpm limit and second calls do nothing and return None.
        """
        with self._settle_lock:
            if admission.settled or admission.token_key is None or admission.tpm is None:
                return None
            admission.settled = True
        tpm = admission.tpm
        return self.store.settle(admission.token_key, refund=admission.reserved - int(total_tokens),
                                 capacity=tpm, refill_per_s=tpm / 60)


def _headers(rpm: int | None, requests: GcraResult | None, tpm: int | None,
             tokens: BucketResult | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if rpm is not None and requests is not None:
        headers["x-ratelimit-limit-requests"] = str(rpm)
        headers["x-ratelimit-remaining-requests"] = str(requests.remaining)
        headers["x-ratelimit-reset-requests"] = _duration(requests.reset_s)
    if tpm is not None and tokens is not None:
        headers["x-ratelimit-limit-tokens"] = str(tpm)
        headers["x-ratelimit-remaining-tokens"] = str(tokens.remaining)
        headers["x-ratelimit-reset-tokens"] = _duration(tokens.reset_s)
    return headers


def _text_chars(content: Any) -> int:
    if content is None:
        return 0
    if isinstance(content, str):
        return len(content)
    if isinstance(content, list):  # content parts: count the text ones
        return sum(len(str(part.get("text", ""))) for part in content if isinstance(part, Mapping))
    return len(str(content))


def estimate_prompt_tokens(messages: Iterable[Mapping[str, Any]], tools: Iterable[Any] | None = None) -> int:
    """Tokens a chat prompt is likely to take, without a tokenizer: characters/4, rounded up.

    Counts each message's text (string content or the text parts), name and tool calls, plus
    :data:`MESSAGE_OVERHEAD_TOKENS` a message and :data:`REPLY_PRIMING_TOKENS`; tool schemas count as
    their JSON. Images and audio are not counted. The estimate only sizes the reservation: the
    settle charges the real count.

    >>> estimate_prompt_tokens([{"role": "user", "content": "What is the forecast for Dogger?"}])
    15
    """
    chars = 0
    count = 0
    for message in messages:
        count += 1
        chars += _text_chars(message.get("content")) + len(str(message.get("name") or ""))
        for call in message.get("tool_calls") or []:
            function = (call.get("function") or {}) if isinstance(call, Mapping) else {}
            chars += len(str(function.get("name", ""))) + len(str(function.get("arguments", "")))
    if tools:
        chars += len(json.dumps(list(tools), separators=(",", ":")))
    return math.ceil(chars / CHARS_PER_TOKEN) + count * MESSAGE_OVERHEAD_TOKENS + REPLY_PRIMING_TOKENS

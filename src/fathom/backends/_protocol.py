"""The backend contract: ``generate(requests) -> completions`` for a batch of chat requests.

A backend has one job. Everything about *which* model and *where* it runs is decided when the
backend is built (:func:`fathom.backends.load_backend`); callers only ever see this protocol.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from fathom.errors import ConfigError

__all__ = ["Backend", "ChatRequest", "Completion", "Sampling"]


@dataclass(frozen=True)
class Sampling:
    """How to sample. ``temperature == 0`` means greedy decoding.

    Invalid values raise :class:`~fathom.errors.ConfigError` listing every problem; ``stop`` may be
    given as one string or any sequence of strings and is stored as a tuple.

    >>> Sampling(stop="###").stop
    ('###',)
    """

    max_tokens: int = 256
    """Most new tokens to generate."""
    temperature: float = 0.0
    """0 for greedy; > 0 samples."""
    top_p: float = 1.0
    """Nucleus sampling mass."""
    stop: tuple[str, ...] = ()
    """Strings that end generation; they are not included in the output."""
    seed: int | None = None
    """Seed for sampled decoding (None: nondeterministic)."""

    def __post_init__(self) -> None:
        if isinstance(self.stop, str):
            object.__setattr__(self, "stop", (self.stop,))
        elif not isinstance(self.stop, tuple):
            object.__setattr__(self, "stop", tuple(self.stop))
        problems = []
        if self.max_tokens < 1:
            problems.append(f"max_tokens must be at least 1, got {self.max_tokens}")
        if self.temperature < 0:
            problems.append(f"temperature must be >= 0 (0 means greedy), got {self.temperature}")
        if not 0 < self.top_p <= 1:
            problems.append(f"top_p must be in (0, 1], got {self.top_p}")
        if any(not isinstance(s, str) or not s for s in self.stop):
            problems.append(f"stop must hold non-empty strings, got {list(self.stop)!r}")
        if problems:
            raise ConfigError(problems, title="invalid sampling settings")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "stop": list(self.stop)}


@dataclass
class ChatRequest:
    """One chat to complete: OpenAI-style ``messages``, optional ``tools`` (JSON schemas).

    ``on_text`` and ``cancel`` are for servers: they let one request stream and be abandoned inside a
    batch. Backends that cannot stream call ``on_text`` once with the whole text before returning.
    """

    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None = None
    sampling: Sampling = field(default_factory=Sampling)
    adapter: str | None = None
    """Name of a LoRA adapter the backend has registered to generate with (None: the base model)."""
    on_text: Callable[[str], None] | None = field(default=None, compare=False, repr=False)
    """Called from the generating thread with each new piece of text as it is generated. Pieces never
    split a character and never reach into a stop string; joined, they equal the completion's ``text``."""
    cancel: threading.Event | None = field(default=None, compare=False, repr=False)
    """Set it when nobody waits for the answer any more (the client went away): the backend stops this
    request at its next token, frees its slot, and returns what it had with ``finish_reason="cancelled"``."""


@dataclass
class Completion:
    """One generated assistant turn.

    ``message`` is an OpenAI assistant message: ``{"role": "assistant", "content": str | None}``
    plus ``"tool_calls": [{"id", "type": "function", "function": {"name", "arguments": str}}]``
    when the model called tools. ``text`` is the raw generated text before tool-call parsing.
    """

    message: dict[str, Any]
    text: str
    finish_reason: str = "stop"
    """``"stop"``, ``"length"``, ``"tool_calls"``, or ``"cancelled"`` (its request's ``cancel`` was set)."""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tool_call_errors: list[str] = field(default_factory=list)
    """Why ``<tool_call>`` blocks in ``text`` could not be parsed (empty when all parsed)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def usage(self) -> dict[str, int]:
        """OpenAI usage counts: ``prompt_tokens``, ``completion_tokens``, ``total_tokens``."""
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "total_tokens": self.prompt_tokens + self.completion_tokens}


@runtime_checkable
class Backend(Protocol):
    """Anything that completes a batch of chat requests."""

    supports_batching: ClassVar[bool]
    """True when one call with many requests is faster than many calls with one."""
    model_name: str
    """The name completions are attributed to (used in caches and reports)."""

    def generate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        """Complete every request; the result has the same length and order."""
        ...

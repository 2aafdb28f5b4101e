"""Per-row sampling, stopping and streaming for one batched ``model.generate`` call.

transformers applies one generation config to a whole batch. To batch requests whose sampling
settings differ, Fathom runs ``generate`` greedily and lets :class:`RowSampler` pick each sampled
row's token itself (temperature, top-p, and a private seeded ``torch.Generator`` per request), then
forces that choice by masking every other logit. :class:`RowStopper` ends each row on its own
token limit, stop strings, end-of-sequence token or cancel event, records why and what the row's
final text is, and streams each row's text as it grows (:class:`RowText`). A cancelled row counts as
finished at once, so ``generate`` returns as soon as every row is finished or cancelled.

Streaming decodes a row's tokens in full at every step and hands on the part the next tokens cannot
change (:func:`stable_prefix`): an incomplete multi-byte character (decoded as trailing U+FFFD) and
any ending that could be the start of a stop string are held back until later tokens settle them.

This module imports torch and transformers at import time; only :mod:`._transformers` imports it,
and only when a backend is built. Not covered: beam search, repetition penalties, windowed
decoding (the full decode per step costs O(length) a token, fine up to a few thousand tokens).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import torch
from transformers import LogitsProcessor, StoppingCriteria

from fathom.backends._protocol import Sampling

__all__ = ["MIN_TEMPERATURE", "RowSampler", "RowStopper", "RowText", "stable_prefix"]

MIN_TEMPERATURE = 1e-4
"""Temperatures above 0 but below this sample as if they were this (practically greedy, never nan)."""


class RowSampler(LogitsProcessor):
    """Sample each row with its own temperature, top-p and seed; leave greedy rows alone."""

    def __init__(self, settings: Sequence[Sampling], device: Any):
        self._rows: list[tuple[int, float, float, torch.Generator]] = []
        for row, s in enumerate(settings):
            if s.temperature > 0:
                gen = torch.Generator(device=device)
                if s.seed is None:
                    gen.seed()
                else:
                    gen.manual_seed(s.seed)
                self._rows.append((row, s.temperature, s.top_p, gen))

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        if not self._rows:
            return scores
        scores = scores.clone()
        for row, temperature, top_p, gen in self._rows:
            # a temperature near 0 would overflow the logits to inf and the probabilities to nan
            probs = torch.softmax(scores[row].float() / max(temperature, MIN_TEMPERATURE), dim=-1)
            if top_p < 1.0:
                sorted_probs, order = torch.sort(probs, descending=True)
                outside = torch.cumsum(sorted_probs, dim=-1) - sorted_probs > top_p
                sorted_probs[outside] = 0.0
                probs = torch.zeros_like(probs).scatter(0, order, sorted_probs)
            token = torch.multinomial(probs, 1, generator=gen)
            scores[row] = float("-inf")
            scores[row, token] = 0.0
        return scores


def _held_from(text: str, stop: str) -> int:
    """Where the ending of ``text`` that is a proper start of ``stop`` begins (``len(text)``: none)."""
    i = text.find(stop[0], max(0, len(text) - len(stop) + 1))
    while i != -1:
        if stop.startswith(text[i:]):
            return i
        i = text.find(stop[0], i + 1)
    return len(text)


def stable_prefix(text: str, stops: Sequence[str] = ()) -> str:
    """The part of a growing decoded text that the next tokens cannot change.

    Trailing U+FFFD (the bytes of a character not complete yet) and any ending that could be the
    start of one of ``stops`` are held back. Callers cut ``text`` at a complete stop string first.

    >>> stable_prefix("caf\\ufffd")
    'caf'
    >>> stable_prefix("Hello ##", stops=["###"])
    'Hello '
    >>> stable_prefix("a # b", stops=["###"])
    'a # b'
    """
    end = len(text.rstrip("\ufffd"))
    return text[:min([end, *(_held_from(text[:end], stop) for stop in stops)])]


class RowText:
    """What one row has handed to its ``on_text`` callback so far (``sent``).

    :meth:`update` passes on what became stable; :meth:`finish` passes on the rest of the final
    text, so the pieces joined are the final text.
    """

    def __init__(self, stops: Sequence[str], on_text: Callable[[str], None] | None):
        self._stops = stops
        self._on_text = on_text
        self.sent = ""

    @property
    def streaming(self) -> bool:
        return self._on_text is not None

    def _send(self, text: str) -> None:
        if self._on_text is not None and len(text) > len(self.sent) and text.startswith(self.sent):
            piece, self.sent = text[len(self.sent):], text
            self._on_text(piece)

    def update(self, text: str) -> None:
        """``text``: the row's whole decoded text so far (holding no complete stop string)."""
        self._send(stable_prefix(text, self._stops))

    def finish(self, text: str) -> None:
        """``text``: the row's final text. It starts with what was sent: with
        ``clean_up_tokenization_spaces`` off, decoding more tokens only extends the text of fewer."""
        self._send(text)


class RowStopper(StoppingCriteria):
    """End each row on its own limit, stop string, end-of-sequence token or cancel event.

    After generation, ``reasons[i]`` is ``"stop"``, ``"length"`` or ``"cancelled"``, ``counts[i]`` the
    number of tokens row ``i`` generated (its end-of-sequence token included) and ``texts[i]`` its
    final text (cut before the first stop string). Rows with an ``on_text`` callback are decoded at
    every step and stream their stable text (:class:`RowText`).

    Args:
        prompt_width: the (padded) prompt length; generated tokens start there.
        settings: each row's sampling settings (stop strings, ``max_tokens``).
        eos_ids: tokens that end a row.
        tokenizer: decodes generated tokens.
        limits: each row's token limit, when tighter than its ``max_tokens`` (the context's room).
        on_text: each row's streaming callback (None: not streamed).
        cancel: each row's cancel event (None: not cancellable).
    """

    def __init__(self, *, prompt_width: int, settings: Sequence[Sampling], eos_ids: set[int], tokenizer: Any,
                 limits: Sequence[int] | None = None,
                 on_text: Sequence[Callable[[str], None] | None] | None = None,
                 cancel: Sequence[threading.Event | None] | None = None):
        n = len(settings)
        self._width = prompt_width
        self._max = list(limits) if limits is not None else [s.max_tokens for s in settings]
        self._stops = [s.stop for s in settings]
        self._eos = eos_ids
        self._tokenizer = tokenizer
        self._cancel = list(cancel) if cancel is not None else [None] * n
        self._rows = [RowText(s.stop, f) for s, f in zip(settings, on_text or [None] * n, strict=True)]
        self.reasons: list[str | None] = [None] * n
        self.counts: list[int] = [0] * n
        self.ended_on_eos: list[bool] = [False] * n
        self.texts: list[str] = [""] * n

    def _decode(self, ids: list[int]) -> str:
        return str(self._tokenizer.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False))

    def _cut(self, text: str, row: int) -> tuple[str, bool]:
        """``text`` cut before its first stop string, and whether it held one."""
        cut = min((text.find(s) for s in self._stops[row] if s in text), default=-1)
        return (text[:cut], True) if cut >= 0 else (text, False)

    def _step(self, ids: list[int], row: int) -> str | None:
        """Why row ``row`` ends after this token, or None (then its stable text is streamed)."""
        if ids[-1] in self._eos:
            self.ended_on_eos[row] = True
            return "stop"
        streaming = self._rows[row].streaming
        text = self._decode(ids) if self._stops[row] or streaming else ""
        if self._cut(text, row)[1]:
            return "stop"
        if len(ids) >= self._max[row]:
            return "length"
        cancel = self._cancel[row]
        if cancel is not None and cancel.is_set():
            return "cancelled"
        if streaming:
            self._rows[row].update(text)
        return None

    def finish(self, row: int, ids: list[int], reason: str) -> None:
        """Record that ``row`` ended with ``ids`` (its end-of-sequence token included); stream the rest."""
        text, stopped = self._cut(self._decode(ids[:-1] if self.ended_on_eos[row] else ids), row)
        self.reasons[row], self.counts[row] = "stop" if stopped else reason, len(ids)
        self.texts[row] = text
        self._rows[row].finish(text)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor,
                 **kwargs: Any) -> torch.Tensor:
        generated = input_ids[:, self._width:]
        for row, reason in enumerate(self.reasons):
            if reason is None:
                ids = generated[row].tolist()
                new_reason = self._step(ids, row)
                if new_reason:
                    self.finish(row, ids, new_reason)
        done = [reason is not None for reason in self.reasons]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)

"""Per-row sampling and stopping for one batched ``model.generate`` call.

transformers applies one generation config to a whole batch. To batch requests whose sampling
settings differ, Fathom runs ``generate`` greedily and lets :class:`RowSampler` pick each sampled
row's token itself (temperature, top-p, and a private seeded ``torch.Generator`` per request), then
forces that choice by masking every other logit. :class:`RowStopper` ends each row on its own
``max_tokens``, stop strings or end-of-sequence token and records why.

This module imports torch and transformers at import time; only :mod:`._transformers` imports it,
and only when a backend is built. Not covered: beam search, repetition penalties.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from transformers import LogitsProcessor, StoppingCriteria

from fathom.backends._protocol import Sampling

__all__ = ["RowSampler", "RowStopper"]


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
            probs = torch.softmax(scores[row].float() / temperature, dim=-1)
            if top_p < 1.0:
                sorted_probs, order = torch.sort(probs, descending=True)
                outside = torch.cumsum(sorted_probs, dim=-1) - sorted_probs > top_p
                sorted_probs[outside] = 0.0
                probs = torch.zeros_like(probs).scatter(0, order, sorted_probs)
            token = torch.multinomial(probs, 1, generator=gen)
            scores[row] = float("-inf")
            scores[row, token] = 0.0
        return scores


class RowStopper(StoppingCriteria):
    """End each row on its own limit, stop string or end-of-sequence token.

    After generation, ``reasons[i]`` is ``"stop"`` or ``"length"`` and ``counts[i]`` the number of
    tokens row ``i`` generated (its end-of-sequence token included).
    """

    def __init__(self, *, prompt_width: int, settings: Sequence[Sampling], eos_ids: set[int],
                 tokenizer: Any):
        self._width = prompt_width
        self._max = [s.max_tokens for s in settings]
        self._stops = [s.stop for s in settings]
        self._eos = eos_ids
        self._tokenizer = tokenizer
        self.reasons: list[str | None] = [None] * len(settings)
        self.counts: list[int] = [0] * len(settings)
        self.ended_on_eos: list[bool] = [False] * len(settings)

    def _row_reason(self, ids: list[int], row: int) -> str | None:
        if ids[-1] in self._eos:
            self.ended_on_eos[row] = True
            return "stop"
        if self._stops[row]:
            text = self._tokenizer.decode(ids, skip_special_tokens=False)
            if any(stop in text for stop in self._stops[row]):
                return "stop"
        if len(ids) >= self._max[row]:
            return "length"
        return None

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor,
                 **kwargs: Any) -> torch.Tensor:
        generated = input_ids[:, self._width:]
        for row, reason in enumerate(self.reasons):
            if reason is None:
                ids = generated[row].tolist()
                new_reason = self._row_reason(ids, row)
                if new_reason:
                    self.reasons[row], self.counts[row] = new_reason, len(ids)
        done = [reason is not None for reason in self.reasons]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)

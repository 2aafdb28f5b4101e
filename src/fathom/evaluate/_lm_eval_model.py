"""A Fathom backend as an lm-evaluation-harness model (``lm_eval.api.model.LM``).

The module imports without lm-eval (so that doctest collection and ``fathom --help`` never need it), but
:class:`FathomLM` can only be built with it installed (:func:`fathom.evaluate._lm_eval.require_lm_eval`).

* ``generate_until``: any backend. The context is sent as one user turn, or, when the harness applies
  a chat template (``apply_chat_template=True``), as the chat it built (few-shot turns included): the
  backend renders it with the model's own template, as in every Fathom evaluation.
* ``loglikelihood`` and ``loglikelihood_rolling``: the transformers backend only (they need the
  model's token probabilities). Raw contexts are scored as text; chat contexts are the rendered
  prompt (generation prompt included) followed by the continuation.

Not covered: continuing a half-written assistant turn (tasks with ``gen_prefix``), data-parallel
ranks, other engines' log-likelihoods.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from fathom.backends import Backend, ChatRequest, Sampling, TransformersBackend
from fathom.errors import ConfigError, Problem

__all__ = ["FathomLM"]

_CHAT = "\x00fathom-chat\x00"
"""Marks a context that :meth:`FathomLM.apply_chat_template` encoded (JSON messages follow)."""


def _lm_base() -> Any:
    """lm-eval's ``LM`` class, or ``object`` when lm-eval is missing (then :class:`FathomLM` refuses to build)."""
    try:
        from lm_eval.api.model import LM
    except ImportError:
        return object
    return LM


class FathomLM(_lm_base()):  # type: ignore[misc]  # lm-eval ships no type information
    """lm-eval's model interface over a Fathom :class:`~fathom.backends.Backend`.

    Args:
        backend: the built backend (:func:`fathom.backends.load_backend`).
        max_tokens: new tokens per generation when a task does not say (``max_gen_toks``).
        batch_size: requests per backend call, and rows per forward pass when scoring.
    """

    def __init__(self, backend: Backend, *, max_tokens: int = 256, batch_size: int = 16) -> None:
        from fathom.evaluate._lm_eval import require_lm_eval

        require_lm_eval()
        super().__init__()
        self.backend = backend
        self.max_tokens = max_tokens
        self.batch_size = batch_size

    @property
    def tokenizer_name(self) -> str:
        """Names the prompt rendering in lm-eval's cache keys: the backend's model."""
        return self.backend.model_name

    def chat_template(self, chat_template: bool | str = False) -> str:
        """What lm-eval records as the template: the backend renders chats with the model's own."""
        return f"fathom:{self.backend.model_name}"

    def apply_chat_template(self, chat_history: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
        """Keep the chat as it is (encoded in the context string); the backend renders it later."""
        return _CHAT + json.dumps({"messages": chat_history, "generation_prompt": add_generation_prompt})

    # -- generation -------------------------------------------------------------------------------

    def generate_until(self, requests: Sequence[Any]) -> list[str]:
        """Greedy (or sampled, when the task asks) completions, cut at the task's ``until`` strings."""
        chats = [self._request(*r.args) for r in requests]
        texts: list[str] = []
        for start in range(0, len(chats), self.batch_size):
            done = self.backend.generate(chats[start:start + self.batch_size])
            texts += [c.text for c in done]
        for request, text in zip(requests, texts, strict=True):
            self.cache_hook.add_partial("generate_until", request.args, text)
        return texts

    def _request(self, context: str, gen_kwargs: dict[str, Any] | None = None) -> ChatRequest:
        kwargs = dict(gen_kwargs or {})
        until = kwargs.get("until") or []
        stop = tuple(s for s in ([until] if isinstance(until, str) else until) if s)
        sample = bool(kwargs.get("do_sample")) and float(kwargs.get("temperature") or 0) > 0
        sampling = Sampling(max_tokens=int(kwargs.get("max_gen_toks") or self.max_tokens),
                            temperature=float(kwargs["temperature"]) if sample else 0.0,
                            top_p=float(kwargs.get("top_p") or 1.0) if sample else 1.0, stop=stop)
        return ChatRequest(messages=self._messages(context), sampling=sampling)

    @staticmethod
    def _decode_chat(context: str) -> tuple[list[dict[str, Any]], bool] | None:
        if not context.startswith(_CHAT):
            return None
        chat = json.loads(context[len(_CHAT):])
        return list(chat["messages"]), bool(chat["generation_prompt"])

    def _messages(self, context: str) -> list[dict[str, Any]]:
        chat = self._decode_chat(context)
        if chat is None:
            return [{"role": "user", "content": context}]
        messages, generation_prompt = chat
        if not generation_prompt:
            raise ConfigError([Problem("lm-eval", "the task continues a written-out assistant turn (gen_prefix); "
                                                  "Fathom's adapter answers whole turns only. Run it without "
                                                  "--lm-eval-chat, or pick another task.")])
        return messages

    # -- scoring (transformers only) --------------------------------------------------------------

    def _transformers(self, what: str) -> TransformersBackend:
        if not isinstance(self.backend, TransformersBackend):
            raise ConfigError([Problem("lm-eval", f"{what} requests (multiple-choice and perplexity tasks) need "
                                                  f"the model's token probabilities, which only the transformers "
                                                  f"engine gives; {self.backend.model_name!r} runs on "
                                                  f"{type(self.backend).__name__}. Use --engine transformers, or "
                                                  f"generate_until tasks only.")])
        return self.backend

    def _encode(self, backend: TransformersBackend, text: str) -> list[int]:
        return list(backend.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _prefix_id(self, backend: TransformersBackend) -> int:
        tokenizer = backend.tokenizer
        token = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
        return int(token)

    def _pair(self, backend: TransformersBackend, context: str, continuation: str) -> tuple[list[int], list[int]]:
        """Context and continuation token ids, split the way lm-eval's own HF model splits them."""
        chat = self._decode_chat(context)
        if chat is not None:
            ctx = backend.prompt_ids(ChatRequest(messages=self._messages(context)))
            return ctx, self._encode(backend, continuation)
        spaces = len(context) - len(context.rstrip())
        if spaces:  # a trailing space belongs to the continuation's first token
            context, continuation = context[:-spaces], context[-spaces:] + continuation
        if not context:
            return [self._prefix_id(backend)], self._encode(backend, continuation)
        whole, ctx = self._encode(backend, context + continuation), self._encode(backend, context)
        return ctx, whole[len(ctx):]

    def loglikelihood(self, requests: Sequence[Any]) -> list[tuple[float, bool]]:
        """``(log P(continuation | context), whether greedy decoding would write it)`` per request."""
        backend = self._transformers("loglikelihood")
        results = self._score(backend, [self._pair(backend, *r.args) for r in requests])
        for request, result in zip(requests, results, strict=True):
            self.cache_hook.add_partial("loglikelihood", request.args, result)
        return results

    def loglikelihood_rolling(self, requests: Sequence[Any]) -> list[float]:
        """Log-likelihood of whole texts, in windows of the model's context (lm-eval's rolling windows)."""
        from lm_eval.utils import get_rolling_token_windows, make_disjoint_window

        backend = self._transformers("loglikelihood_rolling")
        width = backend.context_length or 2048
        totals = []
        for request in requests:
            (text,) = request.args
            windows = [make_disjoint_window(w) for w in get_rolling_token_windows(
                token_list=self._encode(backend, text), prefix_token=self._prefix_id(backend),
                max_seq_len=width, context_len=1)]
            scored = self._score(backend, [(list(ctx), list(cont)) for ctx, cont in windows])
            totals.append(sum(logprob for logprob, _ in scored))
            self.cache_hook.add_partial("loglikelihood_rolling", request.args, totals[-1])
        return totals

    def _score(self, backend: TransformersBackend,
               pairs: list[tuple[list[int], list[int]]]) -> list[tuple[float, bool]]:
        import torch

        width = backend.context_length or 2048
        results: list[tuple[float, bool]] = [(0.0, True)] * len(pairs)
        order = sorted((i for i, (_, cont) in enumerate(pairs) if cont),
                       key=lambda i: -(len(pairs[i][0]) + len(pairs[i][1])))
        pad = backend.tokenizer.pad_token_id if backend.tokenizer.pad_token_id is not None else 0
        for start in range(0, len(order), self.batch_size):
            chunk = order[start:start + self.batch_size]
            full = [(pairs[i][0] + pairs[i][1])[-(width + 1):] for i in chunk]  # the last tokens, when too long
            inputs = [ids[:-1] for ids in full]
            ids = torch.full((len(chunk), max(map(len, inputs))), pad, dtype=torch.long)
            mask = torch.zeros_like(ids)
            for k, row in enumerate(inputs):
                ids[k, :len(row)] = torch.tensor(row)
                mask[k, :len(row)] = 1
            device = backend.model.device
            with torch.no_grad(), backend._active(backend._default_adapter):  # the spec's own adapter, if any
                logits = backend.model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
            logprobs = torch.log_softmax(logits.float(), dim=-1).cpu()
            for k, i in enumerate(chunk):
                n, length = min(len(pairs[i][1]), len(inputs[k])), len(inputs[k])
                targets = torch.tensor(full[k][-n:])
                rows = logprobs[k, length - n:length]
                picked = rows.gather(1, targets[:, None]).squeeze(1)
                results[i] = (float(picked.sum()), bool((rows.argmax(dim=-1) == targets).all()))
        return results

"""The local backend: Hugging Face transformers ``generate``, batched, on CPU or GPU.

Requests are rendered with the tokenizer's tool-aware chat template, sorted by prompt length,
left-padded into batches of ``batch_size`` and generated in one ``model.generate`` call per batch;
results come back in the order given. Each request keeps its own sampling settings inside a batch
(greedy or seeded sampling, ``max_tokens``, stop strings; see :mod:`._hf_rows`).

A batch whose prompts share a long first part (few-shot examples, a system prompt) computes that part's
attention cache once and reuses it for every row: the rows are laid out as shared prefix, padding, own
suffix, with the padding masked out, so the prefix sits at the same positions in every row. Prefilling
long few-shot prompts is most of an evaluation's time on a CPU; ``generate`` only has to read the rest.

Not covered: streaming tokens, beam search, speculative decoding, the llama.cpp and vLLM engines.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from fathom.backends._progress import progress_bar
from fathom.backends._protocol import ChatRequest, Completion
from fathom.backends._toolcalls import completion_from_text
from fathom.errors import BackendError, ConfigError

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

    from fathom.models import ModelSpec

__all__ = ["TransformersBackend"]


class TransformersBackend:
    """Generate with a local transformers model (bundled, hub id, folder or PEFT adapter).

    Args:
        model: a model spec (``"smollm2-135m"``, a folder, a hub id) or an already loaded model.
        tokenizer: the tokenizer for a loaded ``model`` (default: loaded from the model's folder).
            Its chat template is replaced by Fathom's tool-aware one when it cannot render tools.
        device: ``"cpu"``, ``"cuda"``... (default: a GPU when there is one). Ignored for loaded models.
        dtype: ``"float32"``, ``"bfloat16"``... (default: float32 on CPU, bfloat16 on GPU).
        batch_size: most requests per ``generate`` call.
        progress: show a progress bar (on stderr) while generating.
        model_name: the name completions are attributed to (default: the spec or the model's path).

    One call to :meth:`generate` runs at a time; concurrent callers wait for each other.

    Example::

        backend = TransformersBackend("smollm2-135m")
        [done] = backend.generate([ChatRequest([{"role": "user", "content": "Hi!"}])])
    """

    supports_batching: ClassVar[bool] = True
    parallel_option: ClassVar[str] = "batch_size"
    """The option ``load_backend(parallel=N)`` sets: most requests per ``generate`` call."""

    def __init__(self, model: str | ModelSpec | PreTrainedModel, *,
                 tokenizer: PreTrainedTokenizerBase | None = None, device: str | None = None,
                 dtype: str | None = None, batch_size: int = 8, progress: bool = False,
                 model_name: str | None = None):
        if batch_size < 1:
            raise ConfigError([f"batch_size must be at least 1, got {batch_size}"])
        from fathom.models import ModelSpec, ensure_tool_template, load_model, load_tokenizer

        self.model: Any
        self.tokenizer: Any
        if isinstance(model, (str, ModelSpec)):
            spec = model if isinstance(model, str) else model.spec
            self.model, self.tokenizer = load_model(model, device=device, dtype=dtype)
            self.model_name = model_name or spec
        else:
            self.model = model
            source = getattr(model, "name_or_path", "") or ""
            if tokenizer is None and not source:
                raise ConfigError(["a loaded model without name_or_path needs tokenizer=..."])
            self.tokenizer = ensure_tool_template(tokenizer) if tokenizer is not None else load_tokenizer(source)
            self.model_name = model_name or source
        self.batch_size = batch_size
        self.progress = progress
        self._lock = threading.Lock()
        self._eos_ids = self._end_ids()

    def _end_ids(self) -> set[int]:
        ids: set[int] = set()
        for value in (getattr(self.model.generation_config, "eos_token_id", None), self.tokenizer.eos_token_id):
            if isinstance(value, int):
                ids.add(value)
            elif value:
                ids.update(int(v) for v in value)
        return ids

    def prompt_ids(self, request: ChatRequest) -> list[int]:
        """The token ids of a request's rendered prompt (chat template + generation prompt)."""
        from fathom.models import prepare_messages

        tools: Any = request.tools
        try:
            text = self.tokenizer.apply_chat_template(prepare_messages(request.messages), tools=tools,
                                                      add_generation_prompt=True, tokenize=False)
        except Exception as exc:  # jinja and tokenizer errors have many types; report them as ours
            raise BackendError(f"Could not render the chat template for {self.model_name!r}: {exc}. "
                               f"Check the messages (roles, content) and tools of the request.") from exc
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def generate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        """Complete every request; the result has the same length and order as ``requests``."""
        with self._lock:
            prompts = [self.prompt_ids(r) for r in requests]
            order = sorted(range(len(requests)), key=lambda i: -len(prompts[i]))
            results: list[Completion | None] = [None] * len(requests)
            with progress_bar(self.progress, len(requests), self.model_name) as advance:
                for start in range(0, len(order), self.batch_size):
                    chunk = order[start:start + self.batch_size]
                    done = self._generate_batch([prompts[i] for i in chunk], [requests[i] for i in chunk])
                    for i, completion in zip(chunk, done, strict=True):
                        results[i] = completion
                    advance(len(chunk))
        return [c for c in results if c is not None]

    def _generate_batch(self, prompts: list[list[int]], requests: list[ChatRequest]) -> list[Completion]:
        import torch
        from transformers import GenerationConfig, LogitsProcessorList, StoppingCriteriaList

        from fathom.backends._hf_rows import RowSampler, RowStopper

        settings = [r.sampling for r in requests]
        width = max(len(p) for p in prompts)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else min(self._eos_ids)
        device = self.model.device
        shared = _shared_prefix(prompts) if len(prompts) > 1 else 0
        rows = [p[:shared] + [pad] * (width - len(p)) + p[shared:] for p in prompts]
        input_ids = torch.tensor(rows, device=device)
        mask = torch.tensor([[1] * shared + [0] * (width - len(p)) + [1] * (len(p) - shared) for p in prompts],
                            device=device)
        extra: dict[str, Any] = {}
        if shared:
            with torch.inference_mode():
                cache = self.model(input_ids=input_ids[:1, :shared], use_cache=True).cache
            cache.batch_repeat_interleave(len(prompts))
            extra["cache"] = cache  # transformers 5 name (past_key_values is deprecated)
        stopper = RowStopper(prompt_width=width, settings=settings, eos_ids=self._eos_ids, tokenizer=self.tokenizer)
        config = GenerationConfig(max_new_tokens=max(s.max_tokens for s in settings),  # type: ignore[no-untyped-call]
                                  do_sample=False, pad_token_id=pad, eos_token_id=sorted(self._eos_ids))
        with torch.inference_mode():
            out = self.model.generate(input_ids=input_ids, attention_mask=mask, generation_config=config,
                                      logits_processor=LogitsProcessorList([RowSampler(settings, device)]),
                                      stopping_criteria=StoppingCriteriaList([stopper]), **extra)
        completions = []
        for row, (prompt, sampling) in enumerate(zip(prompts, settings, strict=True)):
            count = stopper.counts[row] or out.shape[1] - width
            ids = out[row, width:width + count].tolist()
            if stopper.ended_on_eos[row]:
                ids = ids[:-1]
            text = str(self.tokenizer.decode(ids, skip_special_tokens=False))
            reason = stopper.reasons[row] or "length"
            cut = min((text.find(s) for s in sampling.stop if s in text), default=-1)
            if cut >= 0:
                text, reason = text[:cut], "stop"
            completions.append(completion_from_text(text, finish_reason=reason, prompt_tokens=len(prompt),
                                                    completion_tokens=count))
        return completions


SHARED_PREFIX_MIN = 64
"""Fewest shared prompt tokens worth caching once per batch (below this, one more forward pass costs more)."""


def _shared_prefix(prompts: Sequence[Sequence[int]]) -> int:
    """Length of the token prefix every prompt shares, less one token so each row keeps a token of its own to
    prefill; 0 when shorter than :data:`SHARED_PREFIX_MIN`."""
    first, shortest = prompts[0], min(len(p) for p in prompts)
    n = 0
    while n < shortest - 1 and all(p[n] == first[n] for p in prompts):
        n += 1
    return n if n >= SHARED_PREFIX_MIN else 0

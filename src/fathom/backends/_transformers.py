"""The local backend: Hugging Face transformers ``generate``, batched, on CPU or GPU.

Requests are rendered with the tokenizer's tool-aware chat template, sorted by prompt length,
left-padded into batches of ``batch_size`` and generated in one ``model.generate`` call per batch;
results come back in the order given. Each request keeps its own sampling settings inside a batch
(greedy or seeded sampling, ``max_tokens``, stop strings; see :mod:`._hf_rows`).

A batch whose prompts share a long first part (few-shot examples, a system prompt) computes that part's
attention cache once and reuses it for every row: the rows are laid out as shared prefix, padding, own
suffix, with the padding masked out, so the prefix sits at the same positions in every row. Prefilling
long few-shot prompts is most of an evaluation's time on a CPU; ``generate`` only has to read the rest.

Streaming and cancelling work per row inside a batch: a request's ``on_text`` gets its text as it is
generated (whole characters, never reaching into a stop string), and setting its ``cancel`` event
ends that row at its next token with ``finish_reason="cancelled"``; a request cancelled before its
batch starts is not generated at all. Prompt and answer must fit the model's context
(:attr:`TransformersBackend.context_length`, from ``max_position_embeddings``): a prompt that leaves
no room is a :class:`~fathom.errors.ConfigError` naming its length, and a row's token limit is cut
to the room its prompt leaves (it then ends with ``"length"``).

Adapters on demand: ``adapters={name: folder}`` registers PEFT LoRA adapters on the one base model
(loaded once), and each request picks one with ``ChatRequest.adapter`` (None: the base, or the spec's own
adapter when the spec is an adapter folder). A call's requests are grouped by adapter and each group is
generated with that adapter active (``set_adapter``) or with adapters disabled (the base); results keep
the order given. An adapter trained on another base, or a name given twice, is refused up front.

Not covered: beam search, speculative decoding, the llama.cpp and vLLM engines, mixing adapters inside
one ``model.generate`` call, adding adapters after the backend is built.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from fathom.backends._adapters import adapter_folders, unknown_adapter
from fathom.backends._progress import progress_bar
from fathom.backends._prompt import prompt_token_ids
from fathom.backends._protocol import ChatRequest, Completion
from fathom.backends._toolcalls import completion_from_text
from fathom.errors import ConfigError, Problem

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
        adapters: PEFT LoRA adapters to serve on the same base, ``{name: adapter folder}``; a request
            picks one by name with ``ChatRequest.adapter``. Each must have been trained on this base.

    ``adapters`` lists the names a request may give, in registration order (the spec's own adapter
    first, named after its folder, when the spec is an adapter folder). One call to :meth:`generate`
    runs at a time; concurrent callers wait for each other. ``context_length`` is the most tokens
    prompt and answer may hold together (None when the model's config does not say).

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
                 model_name: str | None = None, adapters: Mapping[str, str | Path] | None = None):
        if batch_size < 1:
            raise ConfigError([f"batch_size must be at least 1, got {batch_size}"])
        from fathom.models import ModelSpec

        self.model: Any
        self.tokenizer: Any
        self._default_adapter: str | None = None
        if isinstance(model, (str, ModelSpec)):
            folders = self._load_spec(model, device=device, dtype=dtype, adapters=adapters or {})
            self.model_name = model_name or (model if isinstance(model, str) else model.spec)
        else:
            folders = self._take_loaded(model, tokenizer, adapters or {})
            self.model_name = model_name or getattr(model, "name_or_path", "") or ""
        if folders:
            self.model = _with_adapters(self.model, folders)
        self.adapters: list[str] = list(folders)
        """Names a request may give as ``ChatRequest.adapter``, in registration order."""
        self.batch_size = batch_size
        self.progress = progress
        self._lock = threading.Lock()
        self._eos_ids = self._end_ids()
        context = getattr(self.model.config, "max_position_embeddings", None)
        self.context_length: int | None = int(context) if isinstance(context, int) and context > 0 else None

    def _load_spec(self, model: str | ModelSpec, *, device: str | None, dtype: str | None,
                   adapters: Mapping[str, str | Path]) -> dict[str, Path]:
        """Load the base model and tokenizer a spec names; the adapters to wrap it with, checked first."""
        from fathom.models import AdapterSpec, load_model, load_tokenizer, resolve_model

        spec = resolve_model(model) if isinstance(model, str) else model
        own = {spec.path.name: spec.path} if isinstance(spec, AdapterSpec) else {}
        base = spec.base if isinstance(spec, AdapterSpec) else spec
        folders = adapter_folders(base if isinstance(base, str) else base.spec, own, adapters)
        self.model, self.tokenizer = load_model(base, device=device, dtype=dtype)  # the base alone, once
        if isinstance(spec, AdapterSpec):
            self.tokenizer = load_tokenizer(spec)  # the adapter's own, when it saved one
            self._default_adapter = spec.path.name
        return folders

    def _take_loaded(self, model: Any, tokenizer: PreTrainedTokenizerBase | None,
                     adapters: Mapping[str, str | Path]) -> dict[str, Path]:
        """Use an already loaded model (and its tokenizer); the adapters to wrap it with, checked."""
        from peft import PeftModel

        from fathom.models import ensure_tool_template, load_tokenizer

        source = getattr(model, "name_or_path", "") or ""
        if tokenizer is None and not source:
            raise ConfigError(["a loaded model without name_or_path needs tokenizer=..."])
        if adapters and isinstance(model, PeftModel):
            raise ConfigError([Problem("adapters", "the loaded model is a PEFT model already; pass its base "
                                                   "(model.get_base_model()) to serve adapters on it")])
        folders = adapter_folders(source, {}, adapters)
        self.model = model
        self.tokenizer = ensure_tool_template(tokenizer) if tokenizer is not None else load_tokenizer(source)
        return folders

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
        return prompt_token_ids(self.tokenizer, request, self.model_name)

    def generate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        """Complete every request; the result has the same length and order as ``requests``.

        Raises:
            ConfigError: a request names an adapter that is not registered, or a prompt leaves no room for
                an answer in the model's context (every such request is listed; nothing was generated).
        """
        with self._lock:
            names = self._adapter_names(requests)
            results: list[Completion | None] = [None] * len(requests)
            live: list[int] = []
            for i, request in enumerate(requests):
                if request.cancel is not None and request.cancel.is_set():  # nobody waits: generate nothing
                    results[i] = completion_from_text("", finish_reason="cancelled", prompt_tokens=0,
                                                      completion_tokens=0)
                else:
                    live.append(i)
            prompts = self._prompts([requests[i] for i in live])
            groups: dict[str | None, list[int]] = {}
            for k, i in enumerate(live):
                groups.setdefault(names[i], []).append(k)
            with progress_bar(self.progress, len(live), self.model_name) as advance:
                for name, members in groups.items():
                    order = sorted(members, key=lambda k: -len(prompts[k]))
                    with self._active(name):
                        for start in range(0, len(order), self.batch_size):
                            chunk = order[start:start + self.batch_size]
                            done = self._generate_batch([prompts[k] for k in chunk],
                                                        [requests[live[k]] for k in chunk])
                            for k, completion in zip(chunk, done, strict=True):
                                results[live[k]] = completion
                            advance(len(chunk))
        return [c for c in results if c is not None]

    def _adapter_names(self, requests: Sequence[ChatRequest]) -> list[str | None]:
        """Each request's adapter (None: the base); one ConfigError naming every unknown one."""
        names = [r.adapter or self._default_adapter for r in requests]
        unknown = sorted({n for n in names if n is not None and n not in self.adapters})
        if unknown:
            raise unknown_adapter(unknown, self.adapters)
        return names

    @contextlib.contextmanager
    def _active(self, name: str | None) -> Iterator[None]:
        """Generate with adapter ``name`` active, or with the adapters disabled (None: the base model)."""
        if not self.adapters:  # a plain model (or a loaded PEFT model used as it is)
            yield
        elif name is None:
            with self.model.disable_adapter():
                yield
        else:
            self.model.set_adapter(name, inference_mode=True)
            yield

    def _prompts(self, requests: Sequence[ChatRequest]) -> list[list[int]]:
        """Every request's prompt ids; one ConfigError for all whose prompt does not fit the context."""
        prompts, problems = [], []
        for i, request in enumerate(requests):
            ids = self.prompt_ids(request)
            prompts.append(ids)
            if self.context_length is not None and len(ids) >= self.context_length:
                where = f"request {i}: " if len(requests) > 1 else ""
                problems.append(f"{where}the prompt is {len(ids)} tokens, but {self.model_name!r} holds "
                                f"{self.context_length} tokens (prompt and answer together); shorten the messages")
        if problems:
            raise ConfigError(problems, title="prompt too long for the model's context")
        return prompts

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
        limits = [min(s.max_tokens, self.context_length - len(p)) if self.context_length else s.max_tokens
                  for s, p in zip(settings, prompts, strict=True)]
        stopper = RowStopper(prompt_width=width, settings=settings, eos_ids=self._eos_ids, tokenizer=self.tokenizer,
                             limits=limits, on_text=[r.on_text for r in requests], cancel=[r.cancel for r in requests])
        config = GenerationConfig(max_new_tokens=max(limits),  # type: ignore[no-untyped-call]
                                  do_sample=False, pad_token_id=pad, eos_token_id=sorted(self._eos_ids))
        with torch.inference_mode():
            out = self.model.generate(input_ids=input_ids, attention_mask=mask, generation_config=config,
                                      logits_processor=LogitsProcessorList([RowSampler(settings, device)]),
                                      stopping_criteria=StoppingCriteriaList([stopper]), **extra)
        completions = []
        for row, prompt in enumerate(prompts):
            if stopper.reasons[row] is None:  # generate ended without asking the stopper (no token was left)
                stopper.finish(row, out[row, width:].tolist(), "length")
            completions.append(completion_from_text(stopper.texts[row], finish_reason=stopper.reasons[row] or "length",
                                                    prompt_tokens=len(prompt), completion_tokens=stopper.counts[row]))
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


def _with_adapters(base: Any, folders: Mapping[str, Path]) -> Any:
    """``base`` wrapped by PEFT with every adapter in ``folders`` loaded under its name (for inference)."""
    from peft import PeftModel

    (first, path), *rest = folders.items()
    with warnings.catch_warnings():  # PEFT probes a property transformers 5 deprecated; not ours to fix
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        model: Any = PeftModel.from_pretrained(base, str(path), adapter_name=first)
        for name, folder in rest:
            model.load_adapter(str(folder), adapter_name=name)
    model.eval()
    return model

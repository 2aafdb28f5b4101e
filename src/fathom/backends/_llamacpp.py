"""The llama.cpp backend: llama.cpp's own server engine running inside this process (``xllamacpp``).

Prompts are rendered with the same tool-aware chat template as every other backend (the Hugging Face
tokenizer of the model) and sent to llama.cpp as token ids, so a prompt is the same tokens on every
engine; tool calls are parsed from the text the same way too. llama.cpp runs ``parallel`` requests at
once in slots with continuous batching, reuses a slot's cached prompt prefix (few-shot examples are
computed once per slot), stops on stop strings itself, and streams text as it is sampled without
splitting a character. A request's ``cancel`` ends its generation at the next token and frees the slot.

Model specs: a ``.gguf`` file runs as it is; the bundled model runs the GGUF it ships as (or an export at
``gguf_type``); a model folder is exported to GGUF once (:func:`fathom.models.gguf_for`, ``f16`` unless
``gguf_type`` says otherwise). An adapter folder runs on its base's GGUF as a llama.cpp LoRA adapter
(:func:`fathom.models.adapter_gguf_for`); ``adapters={name: folder}`` registers more, which a request
picks with ``ChatRequest.adapter`` (all are loaded at start-up at scale 0 and one is enabled per request,
llama.cpp's per-request ``lora`` field).

Why ``xllamacpp``: it ships prebuilt CPU wheels of llama.cpp's C++ server (continuous batching, per-request
LoRA, streaming callbacks) on PyPI; ``llama-cpp-python`` is source-only here and has no continuous
batching. Its Linux wheels are built for AVX2 (no AVX-512 or ``-march=native``), so it runs the same
kernels on every x86-64 CPU from 2013 on. Not covered: GPU offload settings (``n_gpu_layers`` is left to
llama.cpp's default), speculative decoding, grammar-constrained output.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from fathom.backends._adapters import adapter_folders, unknown_adapter
from fathom.backends._progress import progress_bar
from fathom.backends._prompt import prompt_token_ids
from fathom.backends._protocol import ChatRequest, Completion
from fathom.backends._toolcalls import completion_from_text
from fathom.errors import BackendError, ConfigError, MissingDependencyError, Problem

if TYPE_CHECKING:
    from fathom.models import ModelSpec

__all__ = ["LlamaCppBackend"]

DEFAULT_SLOT_CONTEXT = 4096
"""Tokens of context per slot when the model allows more (prompt plus completion)."""


def _import_xllamacpp() -> Any:
    try:
        import xllamacpp
    except ImportError:
        raise MissingDependencyError("The llamacpp backend needs 'xllamacpp', which",
                                     "pip install 'fathom[llamacpp]'") from None
    except TypeError as exc:  # two Cython extension builds that cannot share one process
        if "Shared Cython type" not in str(exc):
            raise
        raise BackendError(f"xllamacpp cannot load next to a Cython module already imported here ({exc}). "
                           f"netCDF4 >= 1.7.3 and cftime >= 1.6.5 cause this; install the versions Fathom pins: "
                           f"pip install 'netCDF4<1.7.3' 'cftime<1.6.5'.") from None
    return xllamacpp


class LlamaCppBackend:
    """Generate with llama.cpp in-process (CPU by default; GPU builds of xllamacpp offload as llama.cpp does).

    Args:
        model: a model spec: a ``.gguf`` file, the bundled name, a model folder, or a LoRA adapter folder.
        parallel: requests generated at once (llama.cpp slots).
        context_length: tokens of context per slot (default: the model's, at most 4096).
        threads: CPU threads (default: llama.cpp's, the number of physical cores).
        gguf_type: for specs that are not GGUF files, the type of the export to run (``f16``, ``q8_0``,
            ``q4_0``...; default: the bundled model as shipped, ``f16`` for folders).
        adapters: more LoRA adapters to serve on the same base, ``{name: adapter folder or .gguf}``.
        progress: show a progress bar (on stderr) while generating.
        model_name: the name completions are attributed to (default: the spec).

    Example::

        backend = LlamaCppBackend("smollm2-135m", parallel=4)
        [done] = backend.generate([ChatRequest([{"role": "user", "content": "Hi!"}])])
    """

    supports_batching: ClassVar[bool] = True
    parallel_option: ClassVar[str] = "parallel"
    """The option ``load_backend(parallel=N)`` sets: requests generated at once."""

    def __init__(self, model: str | ModelSpec, *, parallel: int = 4, context_length: int | None = None,
                 threads: int | None = None, gguf_type: str | None = None,
                 adapters: Mapping[str, str | Path] | None = None, progress: bool = False,
                 model_name: str | None = None):
        from fathom.models import AdapterSpec, GGUFSpec, adapter_gguf_for, gguf_for, load_tokenizer, resolve_model

        problems = []
        if parallel < 1:
            problems.append(Problem("parallel", f"must be at least 1, got {parallel}"))
        if context_length is not None and context_length < 16:
            problems.append(Problem("context_length", f"must be at least 16 tokens, got {context_length}"))
        if threads is not None and threads < 1:
            problems.append(Problem("threads", f"must be at least 1, got {threads}"))
        if problems:
            raise ConfigError(problems, title="invalid llamacpp backend options")
        xllamacpp = _import_xllamacpp()
        spec = resolve_model(model) if isinstance(model, str) else model
        self.model_name = model_name or spec.spec
        self.parallel = parallel
        self.progress = progress
        own: dict[str, Path] = {}
        default_adapter = None
        if isinstance(spec, AdapterSpec):
            default_adapter = Path(spec.path).name
            own[default_adapter] = spec.path
            base: str | ModelSpec = spec.base
        else:
            base = spec
        ready = {n: Path(p) for n, p in (adapters or {}).items() if str(p).endswith(".gguf")}  # already converted
        base_spec = resolve_model(base) if isinstance(base, str) else base
        folders = adapter_folders(None if isinstance(base_spec, GGUFSpec) else base_spec.spec, own,
                                  {n: p for n, p in (adapters or {}).items() if n not in ready})
        clash = sorted(set(ready) & set(folders))
        if clash:
            raise ConfigError([Problem(f"adapters[{n!r}]", "the name is taken already") for n in clash],
                              title="invalid adapters")
        lora = {**{n: adapter_gguf_for(f) for n, f in folders.items()}, **ready}
        self.gguf = gguf_for(base, quant=gguf_type)
        self.tokenizer = load_tokenizer(spec)
        self.adapters = list(lora)
        """Names a request may give as ``ChatRequest.adapter``."""
        self._lora_ids = {name: i for i, name in enumerate(lora)}
        self._default_adapter = default_adapter
        trained = self._trained_context()
        self.context_length = context_length or min(trained, DEFAULT_SLOT_CONTEXT)
        """Tokens of context each request has (prompt plus completion)."""
        params = xllamacpp.CommonParams()
        params.model.path = str(self.gguf)
        params.n_parallel = parallel
        params.n_ctx = self.context_length * parallel
        params.warmup = False
        params.verbosity = 0  # llama.cpp's per-request timing lines would fill the terminal
        if threads:
            params.cpuparams.n_threads = threads
            params.cpuparams_batch.n_threads = threads
        if lora:
            params.lora_adapters = [xllamacpp.CommonAdapterLoraInfo(str(p), 0.0) for p in lora.values()]
            params.lora_init_without_apply = True
        try:
            self._server = xllamacpp.Server(params)
        except Exception as exc:  # llama.cpp reports load failures as runtime errors of several kinds
            raise BackendError(f"llama.cpp could not load {self.gguf}: {exc}. Check that the file is a complete "
                               f"GGUF model (re-export it with `fathom export gguf`).") from exc
        self._eos = {i for i in (self.tokenizer.eos_token_id,) if isinstance(i, int)}

    def _trained_context(self) -> int:
        import gguf

        reader = gguf.GGUFReader(str(self.gguf))
        arch_field = reader.fields.get("general.architecture")
        arch = bytes(arch_field.parts[arch_field.data[0]]).decode() if arch_field else "llama"
        field = reader.fields.get(f"{arch}.context_length")
        return int(field.parts[field.data[0]][0]) if field else DEFAULT_SLOT_CONTEXT

    def prompt_ids(self, request: ChatRequest) -> list[int]:
        """The token ids of a request's rendered prompt (chat template + generation prompt)."""
        return prompt_token_ids(self.tokenizer, request, self.model_name)

    def _lora(self, request: ChatRequest) -> list[dict[str, Any]]:
        name = request.adapter or self._default_adapter
        if name is None:
            return [{"id": i, "scale": 0.0} for i in self._lora_ids.values()]
        if name not in self._lora_ids:
            raise unknown_adapter([name], self.adapters)
        return [{"id": i, "scale": 1.0 if n == name else 0.0} for n, i in self._lora_ids.items()]

    def _body(self, request: ChatRequest, ids: list[int]) -> dict[str, Any]:
        s = request.sampling
        if len(ids) + 1 > self.context_length:
            raise ConfigError([Problem("messages", f"the prompt is {len(ids)} tokens; {self.model_name!r} has "
                                                   f"{self.context_length} tokens of context per request")],
                              title="prompt too long")
        body: dict[str, Any] = {
            "prompt": ids, "max_tokens": min(s.max_tokens, self.context_length - len(ids)),
            # transformers' semantics: no top-k or min-p cut when sampling; greedy takes the arg-max alone
            # (top_k 1), which spares the sampler sorting the whole vocabulary at every token
            "temperature": s.temperature, "top_p": s.top_p, "top_k": 1 if s.temperature == 0 else 0, "min_p": 0.0,
            "repeat_penalty": 1.0, "stream": True, "cache_prompt": True,
            "seed": s.seed if s.seed is not None else -1,
        }
        if s.stop:
            body["stop"] = list(s.stop)
        if self._lora_ids:
            body["lora"] = self._lora(request)
        return body

    def _one(self, request: ChatRequest) -> Completion:
        ids = self.prompt_ids(request)
        body = self._body(request, ids)
        pieces: list[str] = []
        final: dict[str, Any] = {}
        errors: list[Any] = []
        cancel = request.cancel or threading.Event()

        def on_chunk(chunk: dict[str, Any]) -> bool:
            if "error" in chunk or "choices" not in chunk:
                errors.append(chunk.get("error", chunk))
                return True
            choice = chunk["choices"][0] if chunk["choices"] else {}
            text = choice.get("text") or ""
            if text:
                pieces.append(text)
                if request.on_text is not None:
                    request.on_text(text)
            if choice.get("finish_reason"):
                final.update(reason=choice["finish_reason"], usage=chunk.get("usage") or {})
            return cancel.is_set()  # True stops llama.cpp generating for this request and frees its slot

        self._server.handle_completions(body, on_chunk)
        if errors:
            raise BackendError(f"llama.cpp refused the request: {errors[0]}")
        text = "".join(pieces)
        usage = final.get("usage") or {}
        if cancel.is_set() and not final:
            reason, count = "cancelled", len(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        else:
            reason = "length" if final.get("reason") == "length" else "stop"
            count = int(usage.get("completion_tokens", 0))
        return completion_from_text(text, finish_reason=reason, prompt_tokens=len(ids), completion_tokens=count)

    def first_token_logprobs(self, request: ChatRequest, *, top: int = 5) -> list[tuple[int, float]]:
        """``(token id, log-probability)`` of the ``top`` most likely first tokens of the answer (for parity
        checks against another engine)."""
        ids = self.prompt_ids(request)
        body = {**self._body(request, ids), "max_tokens": 1, "temperature": 0.0, "stream": False, "logprobs": top}
        reply = self._server.handle_completions(body)
        if "choices" not in reply:
            raise BackendError(f"llama.cpp refused the request: {reply.get('error', reply)}")
        [first] = reply["choices"][0]["logprobs"]["content"]
        return [(int(c["id"]), float(c["logprob"])) for c in first["top_logprobs"]]

    def generate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        """Complete every request (``parallel`` at a time); the result has the same length and order."""
        if not requests:
            return []
        results: list[Completion] = []
        with progress_bar(self.progress, len(requests), self.model_name) as advance, \
                ThreadPoolExecutor(min(self.parallel, len(requests)), thread_name_prefix="fathom-llamacpp") as pool:
            for completion in pool.map(self._one, requests):
                results.append(completion)
                advance(1)
        return results

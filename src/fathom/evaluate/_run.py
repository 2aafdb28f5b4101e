"""Evaluation runs: generate (cached), grade, summarise with confidence intervals, report.

``evaluate(model, data, grader, out)`` writes into ``out``:

* ``completions.jsonl``: the completion cache (append-only; what makes re-runs free);
* ``results.jsonl``: one row per example: id, prompt, completion, reference, grade;
* ``summary.json``: mean score and per-component means with bootstrap CIs, gate pass rates,
  timings and cache statistics;
* ``report.html``: a self-contained page with plots (see :mod:`fathom.evaluate._report`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fathom._manifest import atomic_write_text, write_manifest
from fathom.backends import Backend, ChatRequest, Completion, Sampling
from fathom.datasets import read_jsonl, write_jsonl
from fathom.evaluate._cache import CompletionCache, request_key
from fathom.evaluate._summary import CacheUse, EvalSummary, summarise
from fathom.graders import Grader

__all__ = ["EvalConfig", "build_request", "evaluate", "evaluate_model", "example_id", "model_identity"]


@dataclass
class EvalConfig:
    """How to run an evaluation."""

    sampling: Sampling = field(default_factory=Sampling)
    """Generation settings (greedy, 256 new tokens by default)."""
    batch_size: int = 16
    """Requests per backend call; also how often the cache is flushed."""
    limit: int | None = None
    """Evaluate only the first N examples."""
    fewshot: list[dict[str, Any]] = field(default_factory=list)
    """Examples whose user/assistant turns are put before each prompt (few-shot prompting)."""
    bootstrap_seed: int = 0


def example_id(example: dict[str, Any], index: int) -> str:
    """``meta.id``, else ``id``, else the 0-based line index, as a string."""
    meta = example.get("meta") or {}
    return str(meta.get("id", example.get("id", index)))


def _shots(fewshot: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    turns: list[dict[str, Any]] = []
    for shot in fewshot:
        turns += [m for m in shot["messages"] if m["role"] in ("user", "assistant")]
    return turns


def build_request(example: dict[str, Any], sampling: Sampling,
                  fewshot: Sequence[dict[str, Any]] = ()) -> ChatRequest:
    """The prompt of an example: its messages before the final assistant turn, few-shot turns first."""
    messages = list(example["messages"])
    while messages and messages[-1]["role"] == "assistant":
        messages.pop()
    if fewshot:
        system = [m for m in messages[:1] if m["role"] == "system"]
        messages = system + _shots(fewshot) + messages[len(system):]
    return ChatRequest(messages=messages, tools=example.get("tools"), sampling=sampling)


def model_identity(spec: str) -> str:
    """The model spec plus, for local folders and files (GGUF), a signature of their weights (retraining or
    re-exporting changes it)."""
    path = Path(spec)
    if path.is_file():
        return f"{spec}|{path.stat().st_size}:{path.stat().st_mtime_ns}"
    if not path.is_dir():
        return spec
    weights = sorted(p for p in path.iterdir() if p.suffix in (".safetensors", ".bin", ".gguf"))
    return spec + "|" + ";".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in weights)


def _generate_cached(backend: Backend, identity: str, requests: list[ChatRequest], cache: CompletionCache,
                     batch_size: int, quiet: bool) -> tuple[list[Completion], int]:
    from rich.progress import Progress

    keys = [request_key(identity, r) for r in requests]
    todo = [i for i, k in enumerate(keys) if k not in cache]
    todo = list(dict.fromkeys(todo))
    with Progress(disable=quiet or not todo, transient=False) as progress:
        task = progress.add_task(f"generating with {backend.model_name}", total=len(todo))
        for start in range(0, len(todo), batch_size):
            chunk = [i for i in todo[start:start + batch_size] if keys[i] not in cache]
            completions = backend.generate([requests[i] for i in chunk])
            cache.add_many([(keys[i], c) for i, c in zip(chunk, completions, strict=True)])
            progress.advance(task, len(todo[start:start + batch_size]))
    return [cache.get(k) for k in keys], len(todo)


def evaluate(model: str | Backend, data: str | Path | list[dict[str, Any]], grader: Grader, out: str | Path, *,
             config: EvalConfig | None = None, grader_spec: Any = None, quiet: bool = False,
             backend_options: dict[str, Any] | None = None) -> EvalSummary:
    """Evaluate a model on a dataset with a grader; write the run folder; return its :class:`EvalSummary`.

    Args:
        model: a model spec (``smollm2-135m``, a folder, ``http://host/v1#name``) or a built backend.
        data: a JSONL file of examples, or the examples.
        grader: the grader (see :func:`fathom.graders.build_grader`).
        out: the run folder (created; re-running in the same folder reuses its completion cache).
        config: generation and bootstrap settings.
        grader_spec: how the grader was specified (recorded in the summary and manifest).
        backend_options: passed to :func:`fathom.backends.load_backend` when ``model`` is a spec.
    """
    from fathom.evaluate._report import write_report

    config = config or EvalConfig()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    examples = read_jsonl(data) if isinstance(data, (str, Path)) else list(data)
    examples = examples[:config.limit] if config.limit else examples
    if isinstance(model, str):
        from fathom.backends import load_backend

        options = backend_options or {}
        backend = load_backend(model, **options)
        identity = model_identity(model)
        engine = [f"{k}={options[k]}" for k in ("backend", "gguf_type") if options.get(k)]
        if engine:  # another engine or quantisation writes other completions: keep their cache keys apart
            identity += "|" + ",".join(engine)
    else:
        backend, identity = model, model.model_name
    requests = [build_request(e, config.sampling, config.fewshot) for e in examples]
    cache = CompletionCache(out / "completions.jsonl")
    started = time.perf_counter()
    completions, generated = _generate_cached(backend, identity, requests, cache, config.batch_size, quiet)
    generate_s = time.perf_counter() - started
    started = time.perf_counter()
    rows = []
    for index, (example, request, completion) in enumerate(zip(examples, requests, completions, strict=True)):
        grade = grader(example, completion.message)
        rows.append({"id": example_id(example, index), "prompt": request.messages, "completion": completion.message,
                     "reference": example.get("reference"), **grade.to_dict(),
                     "finish_reason": completion.finish_reason,
                     "usage": {"prompt_tokens": completion.prompt_tokens,
                               "completion_tokens": completion.completion_tokens}})
    grade_s = time.perf_counter() - started
    summary = summarise(rows, seed=config.bootstrap_seed)
    summary.model = backend.model_name if not isinstance(model, str) else model
    summary.data = str(data) if isinstance(data, (str, Path)) else "<in memory>"
    summary.grader = grader_spec if grader_spec is not None else getattr(grader, "__name__", type(grader).__name__)
    summary.sampling = config.sampling.to_dict()
    summary.timings_s = {"generate": round(generate_s, 3), "grade": round(grade_s, 3)}
    if generated:
        summary.timings_s["examples_per_s"] = round(generated / max(generate_s, 1e-9), 3)
    summary.cache = CacheUse(generated=generated, reused=len(rows) - generated)
    summary.counts = list(getattr(grader, "counts", ()))  # components that are counts, not scores
    write_jsonl(out / "results.jsonl", rows)
    atomic_write_text(out / "summary.json", json.dumps(summary.to_dict(), indent=2, default=str) + "\n")
    write_report(out, rows, summary)
    write_manifest(out, kind="eval", config={"model": summary.model, "grader": summary.grader,
                                             "sampling": config.sampling.to_dict(), "limit": config.limit,
                                             "fewshot": len(config.fewshot)},
                   inputs={"data": data} if isinstance(data, (str, Path)) else None)
    return summary



def evaluate_model(model: str, data: str | Path, grader: str | dict[str, Any], out: str | Path, *,
                   max_tokens: int = 256, temperature: float = 0.0, seed: int | None = None, batch_size: int = 16,
                   limit: int | None = None, fewshot: Sequence[dict[str, Any]] = (), quiet: bool = False,
                   backend_options: dict[str, Any] | None = None) -> EvalSummary:
    """Evaluate a model spec with a grader spec: the one way ``fathom eval`` and the ``eval`` stage build a run.

    Args:
        model: a model spec (see :func:`evaluate`).
        data: a JSONL file of examples.
        grader: a grader name or spec (``"exact"``, ``{"name": "shipping", "mode": "strict"}``); it is
            built with :func:`fathom.graders.build_grader` and recorded in the summary as given.
        out: the run folder.
        max_tokens, temperature, seed: generation settings (:class:`fathom.backends.Sampling`).
        batch_size: requests per backend call.
        limit: evaluate only the first N examples.
        fewshot: examples whose user/assistant turns go before each prompt.
        backend_options: passed to :func:`fathom.backends.load_backend`.
    """
    from fathom.graders import build_grader

    config = EvalConfig(sampling=Sampling(max_tokens=max_tokens, temperature=temperature, seed=seed),
                        batch_size=batch_size, limit=limit, fewshot=list(fewshot))
    return evaluate(model, data, build_grader(grader), out, config=config, grader_spec=grader, quiet=quiet,
                    backend_options=backend_options)

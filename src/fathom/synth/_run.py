"""``run_synth``: documents to validated, deduplicated, split training examples, top to bottom.

1. :func:`prepare` checks everything before any work and reports every problem at once (exit 2): the
   config, the tools and categories (a category naming a tool the tools lack), the few-shot items,
   the documents folder (empty, nothing readable), the tokenizer, the teacher (an unreachable URL, a
   rejected key, an unknown model, a reference that does not import) and the embedder.
2. The documents are chunked in the target tokenizer (:mod:`fathom.synth._chunk`).
3. The teacher is asked about each chunk, ``concurrency`` requests in flight on a thread pool; a
   malformed answer gets one repair request; each finished answer is cached at once
   (:mod:`fathom.synth._cache`), so a killed run resumes without asking again.
4. Answers are checked item by item in chunk order (:mod:`fathom.synth._validate`), so the result
   does not depend on which request finished first; then exact and near duplicates are dropped.
5. The kept examples are split by document with the optional family holdout, written as Fathom JSONL
   (and Nova on request) with ``rejected.jsonl``, ``summary.json`` and ``manifest.json``.
Not covered: judging answer quality with an LLM (a grader can filter the output afterwards).
"""

from __future__ import annotations

import fnmatch
import json
import os
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fathom._manifest import atomic_write_text, check_writable, write_manifest
from fathom.errors import BackendError, ConfigError, FathomError, Problem
from fathom.synth._cache import AnswerCache, request_key
from fathom.synth._chunk import TokenCounter, chunk_documents, load_token_counter
from fathom.synth._config import SynthConfig, load_config
from fathom.synth._dedupe import Embedder, dedupe, wordllama_embedder
from fathom.synth._ingest import read_documents
from fathom.synth._output import build_example, default_system_prompt, write_nova, write_outputs
from fathom.synth._prompt import repair_request, system_prompt, teacher_request
from fathom.synth._split import leakage, split_candidates
from fathom.synth._summary import Summary
from fathom.synth._teacher import check_endpoint, load_teacher
from fathom.synth._tools import ToolSet, load_categories, load_tools
from fathom.synth._types import Category, Chunk, Document, Teacher, TeacherRequest
from fathom.synth._validate import Candidate, Rejection, check_item, parse_answer

__all__ = ["Prepared", "prepare", "run_synth"]

_REPORT_THRESHOLD = 0.9
"""Cosine used for the cross-split near-duplicate count when dedupe_threshold is null."""
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Prepared:
    """Everything a run needs, checked."""

    config: SynthConfig
    documents: list[Document]
    tools: ToolSet
    categories: tuple[Category, ...]
    count: TokenCounter
    teacher: Teacher
    teacher_id: str
    embed: Embedder | None


def prepare(config: SynthConfig, *, teacher: Teacher | None = None, embedder: Embedder | None = None,
            token_counter: TokenCounter | None = None) -> Prepared:
    """Load and check everything a run needs, before any work.

    Args:
        config: the checked config.
        teacher: a teacher to use instead of ``config.teacher`` (tests, notebooks).
        embedder: an embedder instead of wordllama (None with ``dedupe_threshold`` set loads wordllama).
        token_counter: a counter instead of loading ``config.tokenizer``.

    Raises:
        ConfigError: every problem found, at once.
        MissingDependencyError: wordllama (near duplicates) or pypdf (a PDF document) is missing.
    """
    problems: list[Problem] = []
    tools: ToolSet | None = _collect(problems, lambda: load_tools(config.tools) if config.tools is not None
                                     else ToolSet.from_schemas([]))
    categories: tuple[Category, ...] = ()
    if tools is not None:  # categories are checked against the tools, so only once those loaded
        categories = _collect(problems, lambda: load_categories(config.categories, tools)) or ()
        problems.extend(_few_shot_problems(config.few_shot, categories, tools) if categories else [])
    documents = _collect(problems, lambda: read_documents(config.documents)) or []
    sources = sorted(d.source for d in documents)
    for pattern in config.test_documents if documents else ():
        if not any(fnmatch.fnmatchcase(source, pattern) for source in sources):
            more = " ..." if len(sources) > 12 else ""
            problems.append(Problem("test_documents", f"{pattern!r} matches no document; the documents are: "
                                                      f"{', '.join(sources[:12])}{more}"))
    count = token_counter or _collect(problems, lambda: load_token_counter(config.tokenizer), key="tokenizer")
    if teacher is None and "ref" not in config.teacher:
        spec = config.teacher
        env = spec.get("api_key_env")
        problems.extend(check_endpoint(spec["url"], spec["model"], api_key=os.environ.get(env) if env else None,
                                       check_model=bool(spec.get("check_model", True))))
    chosen = teacher or (None if problems else _collect(problems, lambda: load_teacher(
        config.teacher, concurrency=config.concurrency)))
    if problems:
        raise ConfigError(problems, title=f"synth cannot start{f' ({config.path})' if config.path else ''}")
    assert chosen is not None and count is not None and tools is not None  # each failure above added a problem
    embed = embedder or (wordllama_embedder() if config.dedupe_threshold is not None else None)
    return Prepared(config, documents, tools, categories, count, chosen, _teacher_id(config, teacher), embed)


def _collect(problems: list[Problem], load: Callable[[], Any], key: str | None = None) -> Any:
    """``load()``, or None with its problems added (a ConfigError's, or one naming ``key``)."""
    try:
        return load()
    except ConfigError as exc:
        problems.extend(exc.problems)
    except FathomError as exc:
        if key is None or exc.exit_code != 2:
            raise
        problems.append(Problem(key, str(exc)))
    return None


def _few_shot_problems(items: Sequence[dict[str, Any]], categories: tuple[Category, ...],
                       tools: ToolSet) -> list[Problem]:
    by_name = {c.name: c for c in categories}
    problems = []
    for i, item in enumerate(items):
        quotes = item.get("quotes")
        text = " ".join(map(str, quotes)) if isinstance(quotes, list) else ""
        chunk = Chunk(id="few_shot", source="config", text=text, index=0, metadata={})
        result = check_item(item, chunk, by_name, tools)
        if isinstance(result, Rejection):
            problems.append(Problem(f"few_shot[{i}]", f"{result.reason}: {result.detail}"))
    return problems


def _teacher_id(config: SynthConfig, injected: Teacher | None) -> str:
    if injected is not None:
        return f"{type(injected).__module__}.{type(injected).__qualname__}"
    keep = ("url", "model", "temperature", "max_tokens", "ref", "options")
    return json.dumps({k: v for k, v in config.teacher.items() if k in keep}, sort_keys=True, default=str)


def _ask_one(request: TeacherRequest, teacher: Teacher, cache: AnswerCache, key: str) -> tuple[dict[str, Any], int]:
    """The finished entry for one chunk and how many requests it cost (0 when cached)."""
    cached = cache.get(request.chunk.id, key)
    if cached is not None:
        return cached, 0
    answer = teacher.complete(request)
    items, error = parse_answer(answer)
    repair = None
    if items is None:
        repair = teacher.complete(repair_request(request, answer, error or "not JSON"))
    calls = 1 if repair is None else 2
    entry: dict[str, Any] = {"chunk_id": request.chunk.id, "key": key, "answer": answer, "repair": repair,
                             "calls": calls}
    cache.put(entry)
    return entry, calls


def ask_all(requests: Sequence[TeacherRequest], prepared: Prepared, cache: AnswerCache,
            progress: Progress | None = None) -> tuple[dict[str, dict[str, Any]], dict[str, str], int, int]:
    """Ask about every chunk (``concurrency`` at once): ``(entries, errors, requests sent, cached chunks)``."""
    entries: dict[str, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    sent = cached = 0
    keys = {r.chunk.id: request_key(r, prepared.teacher_id) for r in requests}
    pool = ThreadPoolExecutor(max_workers=max(1, min(prepared.config.concurrency, len(requests) or 1)),
                              thread_name_prefix="fathom-synth")
    try:
        futures: dict[Future[tuple[dict[str, Any], int]], TeacherRequest] = {
            pool.submit(_ask_one, r, prepared.teacher, cache, keys[r.chunk.id]): r for r in requests}
        for done, future in enumerate(as_completed(futures), 1):
            chunk_id = futures[future].chunk.id
            try:
                entry, calls = future.result()
            except BackendError as exc:
                errors[chunk_id] = str(exc)
            else:
                entries[chunk_id] = entry
                sent += calls
                cached += calls == 0
            if progress is not None:
                progress(done, len(requests))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # an interrupt: finished answers are already cached
    return entries, errors, sent, cached


def check_answers(chunks: Sequence[Chunk], entries: dict[str, dict[str, Any]], errors: dict[str, str],
                  prepared: Prepared) -> tuple[list[Candidate], list[Rejection]]:
    """Every asked-for example of every chunk as a candidate or a rejection, in chunk order."""
    n = prepared.config.n_per_chunk
    by_name = {c.name: c for c in prepared.categories}
    candidates: list[Candidate] = []
    rejections: list[Rejection] = []
    for chunk in chunks:
        if chunk.id in errors:
            rejections.append(Rejection("teacher_error", errors[chunk.id], chunk.id, chunk.source, None, count=n))
            continue
        entry = entries[chunk.id]
        items, error = parse_answer(entry["repair"] if entry.get("repair") is not None else entry["answer"])
        if items is None:
            raw = {"answer": entry["answer"], "repair": entry.get("repair")}
            rejections.append(Rejection("malformed_json", f"after one repair request: {error}", chunk.id,
                                        chunk.source, raw, count=n))
            continue
        for k, item in enumerate(items):
            if k >= n:
                rejections.append(Rejection("surplus", f"item {k + 1} of {len(items)}; {n} were asked for",
                                            chunk.id, chunk.source, item, count=0))
                continue
            result = check_item(item, chunk, by_name, prepared.tools)
            if isinstance(result, Rejection):
                rejections.append(result)
            else:
                candidates.append(result)
        if len(items) < n:
            rejections.append(Rejection("missing", f"{len(items)} of {n} examples written", chunk.id, chunk.source,
                                        None, count=n - len(items)))
    return candidates, rejections


def _balance(kept: Sequence[Candidate], rejections: Sequence[Rejection],
             categories: tuple[Category, ...]) -> dict[str, dict[str, Any]]:
    counts = Counter(c.category.name for c in kept)
    refused = Counter(str(r.raw.get("category")) for r in rejections if isinstance(r.raw, dict) and r.count)
    total = max(1, len(kept))
    return {c.name: {"kept": counts[c.name], "rejected": refused[c.name], "share": round(counts[c.name] / total, 4)}
            for c in categories}


def _reason_counts(rejections: Sequence[Rejection]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for r in rejections:
        counts[r.reason] += r.count
    return {reason: n for reason, n in counts.most_common() if n}


def run_synth(config: SynthConfig | str | os.PathLike[str] | dict[str, Any], out_dir: str | os.PathLike[str], *,
              teacher: Teacher | None = None, embedder: Embedder | None = None,
              token_counter: TokenCounter | None = None, nova: bool | None = None,
              progress: Progress | None = None) -> Summary:
    """Turn a folder of documents into validated training examples in ``out_dir``.

    Args:
        config: a :class:`SynthConfig`, a ``synth.yaml`` path or a mapping (see :func:`load_config`).
        out_dir: the output folder; a folder holding an interrupted run's cache resumes it.
        teacher: a teacher to use instead of the config's.
        embedder: an embedder for near duplicates instead of wordllama.
        token_counter: a token counter instead of loading the config's tokenizer.
        nova: also write Amazon Nova files (default: the config's ``nova``).
        progress: called with ``(chunks done, chunks)`` as teacher answers arrive.

    Returns:
        The :class:`Summary` (also written to ``out_dir/summary.json``).

    Raises:
        ConfigError: anything wrong with the input, found before any work (see :func:`prepare`).
        OutputError: ``out_dir`` cannot be written.
    """
    cfg = config if isinstance(config, SynthConfig) else load_config(config)
    out = Path(out_dir)
    check_writable(out / "summary.json")
    prepared = prepare(cfg, teacher=teacher, embedder=embedder, token_counter=token_counter)
    chunks = chunk_documents(prepared.documents, prepared.count, chunk_tokens=cfg.chunk_tokens,
                             overlap_tokens=cfg.overlap_tokens)[:cfg.max_chunks]
    system = system_prompt(prepared.categories, prepared.tools.schemas, cfg.few_shot)
    requests = [teacher_request(c, prepared.categories, prepared.tools.schemas, system=system, n=cfg.n_per_chunk,
                                seed=cfg.seed) for c in chunks]
    cache = AnswerCache(out / "cache" / "teacher.jsonl")
    entries, errors, sent, cached = ask_all(requests, prepared, cache, progress)
    candidates, rejections = check_answers(chunks, entries, errors, prepared)
    kept, duplicates = dedupe(candidates, prepared.embed, cfg.dedupe_threshold)
    plan = split_candidates(kept, cfg.splits, cfg.seed, cfg.holdout_families, cfg.test_documents)
    rejections += duplicates + plan.dropped
    output_system = cfg.system_prompt or default_system_prompt(prepared.tools.names)
    examples = {name: [build_example(c, prepared.tools.schemas, output_system) for c in part]
                for name, part in plan.splits.items()}
    files = {k: str(v) for k, v in write_outputs(out, examples, rejections).items()}
    nova_report = write_nova(out, examples) if (cfg.nova if nova is None else nova) else None
    final = [c for part in plan.splits.values() for c in part]
    summary = Summary(
        asked=len(chunks) * cfg.n_per_chunk, kept=len(final),
        rejected=_reason_counts(rejections),
        surplus=sum(1 for r in rejections if r.reason == "surplus"),
        splits={name: len(rows) for name, rows in examples.items()},
        categories=_balance(final, rejections, prepared.categories),
        leakage=leakage(plan, examples, prepared.embed, cfg.dedupe_threshold or _REPORT_THRESHOLD),
        documents=len(prepared.documents), chunks=len(chunks), teacher_calls=sent, cached_chunks=cached,
        out_dir=out, files=files, nova=nova_report)
    atomic_write_text(out / "summary.json", json.dumps(summary.to_dict(), indent=2, ensure_ascii=False) + "\n")
    write_manifest(out, kind="synth", config=asdict(cfg), inputs={"documents": cfg.documents},
                   extra={"asked": summary.asked, "kept": summary.kept, "rejected": summary.rejected})
    return summary

"""``fathom synth`` throughput: examples per second with 1 and with 8 teacher requests in flight.

Run:  .venv/bin/python benchmarks/synth_throughput.py                 (about 10 s with the defaults)
      .venv/bin/python benchmarks/synth_throughput.py --json          (only the figures, as JSON, on stdout)

What it does: writes ``--chunks`` small documents (one chunk each) in a temporary folder and serves a
loopback OpenAI-compatible teacher (Starlette through :func:`fathom.serve.start_server`, 127.0.0.1, a free
port) that answers each request after ``--latency-ms`` (default 200 ms, an asyncio sleep, so concurrent
requests overlap as they would on a real endpoint) with ``--n`` valid, grounded examples about the chunk's
last sentence. Then it runs :func:`fathom.synth.run_synth` twice over the same documents, with
``concurrency`` 1 and ``--concurrency`` (default 8), each into a fresh output folder (so nothing comes
from the answer cache), with the same word-level tokenizer and the wordllama embedder loaded once
beforehand. Timing covers the whole run: preflight, chunking, teacher requests, checking, dedupe, split
and writing the files. examples/s = kept examples / wall seconds; the ratio is the concurrent run's over
the sequential one's. With 200 ms per request, the sequential run is bounded by 5 chunks/s, so the ratio
says how much of the latency the thread pool hides (the ideal is the concurrency, less the fixed costs).
``--json`` prints exactly ``{"c1": examples_per_s, "c8": examples_per_s, "ratio": float}`` and the
table on stderr.

There is no assertion on speed. Not covered: a real model as teacher, repairs and retries (no answer
here is malformed), documents that take more than one chunk.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fathom.serve import start_server
from fathom.synth import run_synth, sentence_spans, wordllama_embedder

TOOLS = [{"type": "function", "function": {
    "name": "get_status", "description": "Live status of a machine.",
    "parameters": {"type": "object", "properties": {"machine": {"type": "string"}}, "required": ["machine"]}}}]
CATEGORIES = {"categories": {
    "fact": {"description": "A question a sentence of the document answers.", "tools": []},
    "status": {"description": "The live status of a machine the document names.", "tools": ["get_status"]}}}
_SOURCE = re.compile(r"^source: .+ \(part \d+\)$", re.MULTILINE)


def _examples(messages: list[dict[str, Any]], n: int) -> str:
    user = next(m["content"] for m in messages if m["role"] == "user")
    text = user[_SOURCE.search(user).end():].strip()  # type: ignore[union-attr]
    start, end = sentence_spans(text)[-1]
    sentence = text[start:end]
    machine = re.search(r"\bM-\d+\b", sentence)[0]  # type: ignore[index]
    items = []
    for k in range(n):
        if k % 2:
            items.append({"category": "status", "question": f"Status check {k} of {machine}, please.",
                          "tool_calls": [{"name": "get_status", "arguments": {"machine": machine}}],
                          "answer": None, "quotes": [], "family": machine})
        else:
            items.append({"category": "fact", "question": f"Question {k}: what is recorded about {machine}?",
                          "tool_calls": [], "answer": sentence, "quotes": [sentence], "family": machine})
    return json.dumps({"examples": items})


def _app(latency_s: float, n: int) -> Starlette:
    async def chat(request: Request) -> Response:
        body = await request.json()
        await asyncio.sleep(latency_s)
        return JSONResponse({"id": "b", "object": "chat.completion", "model": body["model"], "choices": [
            {"index": 0, "message": {"role": "assistant", "content": _examples(body["messages"], n)},
             "finish_reason": "stop"}]})

    async def models(request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": "teacher"}]})

    return Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"]),
                             Route("/v1/models", models, methods=["GET"])])


def _workspace(root: Path, chunks: int) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers

    docs = root / "docs"
    docs.mkdir()
    for i in range(chunks):
        (docs / f"log{i:03d}.txt").write_text(f"Shift report {i}. Machine M-{i} ran {8 + i % 4} hours at "
                                              f"{60 + i} percent load.")
    tokenizer = Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(str(root / "tokenizer.json"))
    (root / "tools.json").write_text(json.dumps(TOOLS))
    (root / "categories.json").write_text(json.dumps(CATEGORIES))
    return root


def _config(root: Path, url: str, n: int, concurrency: int) -> dict[str, Any]:
    return {"documents": str(root / "docs"), "tools": str(root / "tools.json"),
            "categories": str(root / "categories.json"), "teacher": {"url": url, "model": "teacher"},
            "tokenizer": str(root / "tokenizer.json"), "chunk_tokens": 128, "overlap_tokens": 8, "n_per_chunk": n,
            "concurrency": concurrency, "splits": {"train": 0.8, "val": 0.1, "test": 0.1}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=24, help="documents (one chunk each)")
    parser.add_argument("--n", type=int, default=4, help="examples asked for per chunk")
    parser.add_argument("--latency-ms", type=float, default=200.0, help="teacher latency per request")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight in the concurrent run")
    parser.add_argument("--json", action="store_true", help="print only the figures, as JSON, on stdout")
    opts = parser.parse_args(argv)
    embed = wordllama_embedder()
    rows = []
    with tempfile.TemporaryDirectory(prefix="synth-bench-") as tmp, \
            start_server(_app(opts.latency_ms / 1000, opts.n), port=0) as server:
        root = _workspace(Path(tmp), opts.chunks)
        for concurrency in (1, opts.concurrency):
            start = time.perf_counter()
            summary = run_synth(_config(root, server.url + "/v1", opts.n, concurrency), root / f"out-c{concurrency}",
                                embedder=embed)
            wall = time.perf_counter() - start
            rows.append({"concurrency": concurrency, "chunks": summary.chunks, "requests": summary.teacher_calls,
                         "kept": summary.kept, "wall_s": wall, "examples_per_s": summary.kept / wall})
    sequential, concurrent = rows
    ratio = concurrent["examples_per_s"] / sequential["examples_per_s"]
    out = sys.stderr if opts.json else sys.stdout
    print(f"teacher latency {opts.latency_ms:g} ms, {opts.chunks} chunks x {opts.n} examples", file=out)
    print(f"{'in flight':>9} {'requests':>8} {'kept':>5} {'wall s':>7} {'examples/s':>10}", file=out)
    for row in rows:
        print(f"{row['concurrency']:>9} {row['requests']:>8} {row['kept']:>5} {row['wall_s']:>7.2f} "
              f"{row['examples_per_s']:>10.1f}", file=out)
    print(f"ratio (c{opts.concurrency} / c1): {ratio:.2f}x", file=out)
    if opts.json:
        print(json.dumps({"c1": round(sequential["examples_per_s"], 2), "c8": round(concurrent["examples_per_s"], 2),
                          "ratio": round(ratio, 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

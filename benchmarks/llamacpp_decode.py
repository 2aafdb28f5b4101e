"""Decoding speed of the llama.cpp backend against transformers ``generate``, same model, same prompts.

Run:  .venv/bin/python benchmarks/llamacpp_decode.py             (about 2 minutes on 2 cores)
      .venv/bin/python benchmarks/llamacpp_decode.py --json      (only the figures, as JSON, on stdout)

What it does, with the bundled ``smollm2-135m``: the same chat prompts (``PROMPTS``, rendered by the same
tool-aware template into the same token ids), greedy, ``--max-tokens`` new tokens each, one request at a
time (single-stream decoding, what one user of an edge box waits on), through

1. :class:`fathom.backends.TransformersBackend` (float32 on the CPU; ``model.generate``), and
2. :class:`fathom.backends.LlamaCppBackend` on the GGUF the model ships as (Q4_1, ``--gguf-type`` to run an
   export instead, e.g. ``f16``), one slot.

Tokens per second is completion tokens over wall-clock seconds of ``generate`` (prompt included; the prompts
are short), summed over the prompts. Each round of each engine runs in a fresh process: llama.cpp decodes
about half as fast in a process where PyTorch has just computed (measured; see README). Engines alternate
over ``--repeats`` rounds so a change in machine load
hits both; each engine's figure is its median round. The anchor from ``serving-notes.md``: about 140 tokens/s
for llama.cpp against about 25 with transformers on this kind of machine, 5x; the goal is >= 5x.
``--json`` prints ``{"transformers": {"tokens_per_s"}, "llamacpp": {"tokens_per_s"}, "ratio"}``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

PROMPTS = (
    "Write a short story about a lighthouse keeper.",
    "Explain how a sea breeze forms.",
    "Describe a walk along a beach at dawn.",
    "Give advice to a new sailor.",
)


def _round(backend: Any, max_tokens: int) -> tuple[int, float]:
    from fathom.backends import ChatRequest, Sampling

    tokens, seconds = 0, 0.0
    for prompt in PROMPTS:
        request = ChatRequest([{"role": "user", "content": prompt}], sampling=Sampling(max_tokens=max_tokens))
        start = time.perf_counter()
        [done] = backend.generate([request])
        seconds += time.perf_counter() - start
        tokens += done.completion_tokens
    return tokens, seconds


def _engine(name: str, model: str, gguf_type: str | None) -> Any:
    from fathom.backends import LlamaCppBackend, TransformersBackend

    if name == "llamacpp":
        return LlamaCppBackend(model, parallel=1, gguf_type=gguf_type)
    return TransformersBackend(model, device="cpu", batch_size=1)


def _child(name: str, model: str, gguf_type: str | None, max_tokens: int) -> dict[str, Any]:
    """One round of one engine, in a process of its own."""
    backend = _engine(name, model, gguf_type)
    _round(backend, 4)  # first-call costs (kernels, caches) are not decoding
    tokens, seconds = _round(backend, max_tokens)
    return {"tokens_per_s": tokens / seconds, "gguf": str(getattr(backend, "gguf", ""))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--gguf-type", default=None, help="run a GGUF export of this type (default: as shipped)")
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.model, args.gguf_type, args.max_tokens)))
        return

    speeds: dict[str, list[float]] = {"transformers": [], "llamacpp": []}
    gguf = ""
    order = list(speeds)
    for _ in range(args.repeats):
        for name in order:
            cmd = [sys.executable, __file__, "--child", name, "--model", args.model,
                   "--max-tokens", str(args.max_tokens), *(["--gguf-type", args.gguf_type] if args.gguf_type else [])]
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if done.returncode:
                raise SystemExit(f"the {name} round failed:\n{done.stderr[-3000:]}")
            row = json.loads(done.stdout.strip().splitlines()[-1])
            speeds[name].append(row["tokens_per_s"])
            gguf = row["gguf"] or gguf
        order.reverse()
    medians = {name: round(statistics.median(v), 1) for name, v in speeds.items()}
    result = {name: {"tokens_per_s": medians[name], "runs": [round(x, 1) for x in v]} for name, v in speeds.items()}
    ratio = medians["llamacpp"] / medians["transformers"]
    out = {**result, "ratio": round(ratio, 2), "model": args.model, "gguf": gguf, "max_tokens": args.max_tokens}
    table = (f"decode, one request at a time, {len(PROMPTS)} prompts x {args.max_tokens} tokens, each engine in a "
             f"process of its own, median of {args.repeats}\n"
             f"  transformers generate (float32)   {medians['transformers']:7.1f} tokens/s\n"
             f"  llama.cpp ({Path(gguf).name})  {medians['llamacpp']:7.1f} tokens/s\n"
             f"  speed-up {ratio:.1f}x (anchor: about 140 vs 25 tokens/s, 5x; goal >= 5x)")
    if args.json:
        print(table, file=sys.stderr)
        print(json.dumps(out))
    else:
        print(table)


if __name__ == "__main__":
    main()

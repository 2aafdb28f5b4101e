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
are short), summed over the prompts. Engines alternate over ``--repeats`` rounds so a change in machine load
hits both; each engine's figure is its median round. The anchor from ``serving-notes.md``: about 140 tokens/s
for llama.cpp against about 25 with transformers on this kind of machine, 5x; the goal is >= 5x.
``--json`` prints ``{"transformers": {"tokens_per_s"}, "llamacpp": {"tokens_per_s"}, "ratio"}``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--gguf-type", default=None, help="run a GGUF export of this type (default: as shipped)")
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from fathom.backends import LlamaCppBackend, TransformersBackend

    llama = LlamaCppBackend(args.model, parallel=1, gguf_type=args.gguf_type)
    engines: dict[str, Any] = {"transformers": TransformersBackend(args.model, device="cpu", batch_size=1),
                               "llamacpp": llama}
    for backend in engines.values():  # first-call costs (kernels, caches) are not decoding
        _round(backend, 4)
    speeds: dict[str, list[float]] = {name: [] for name in engines}
    order = list(engines)
    for _ in range(args.repeats):
        for name in order:
            tokens, seconds = _round(engines[name], args.max_tokens)
            speeds[name].append(tokens / seconds)
        order.reverse()
    medians = {name: round(statistics.median(v), 1) for name, v in speeds.items()}
    result = {name: {"tokens_per_s": medians[name], "runs": [round(x, 1) for x in v]} for name, v in speeds.items()}
    ratio = medians["llamacpp"] / medians["transformers"]
    out = {**result, "ratio": round(ratio, 2), "model": args.model,
           "gguf": str(llama.gguf), "max_tokens": args.max_tokens}
    table = (f"decode, one request at a time, {len(PROMPTS)} prompts x {args.max_tokens} tokens, median of "
             f"{args.repeats}\n"
             f"  transformers generate (float32)   {medians['transformers']:7.1f} tokens/s\n"
             f"  llama.cpp ({llama.gguf.name})  "
             f"{medians['llamacpp']:7.1f} tokens/s\n"
             f"  speed-up {ratio:.1f}x (anchor: about 140 vs 25 tokens/s, 5x; goal >= 5x)")
    if args.json:
        print(table, file=sys.stderr)
        print(json.dumps(out))
    else:
        print(table)


if __name__ == "__main__":
    main()

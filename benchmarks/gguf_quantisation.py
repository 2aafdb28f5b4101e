"""What each GGUF quantisation of the fine-tuned Shipping Forecast model costs: size, memory, speed, accuracy.

Run:  make demo                                              (first: trains runs/shipping-forecast/sft/model)
      .venv/bin/python benchmarks/gguf_quantisation.py        (about 10 minutes on 2 cores)
      .venv/bin/python benchmarks/gguf_quantisation.py --json (only the figures, as JSON, on stdout)

For each type in ``--types`` (default ``f16,q8_0,q4_0``) the SFT adapter (``--adapter``) is merged into
its base and exported with :func:`fathom.models.export_gguf`; then, in a fresh process per type (so memory
is the model's own), the llama.cpp backend loads the file and

* runs the held-out test set (``--data``, the demo's 124 areas) through the ``shipping`` grader exactly as
  ``fathom eval`` does (greedy, 48 tokens, the same prompts): tolerant accuracy (the grade) and strict
  accuracy (the mean of the five ``strict_*`` fields);
* decodes ``4 prompts x 64 tokens`` one request at a time: tokens per second;
* records the resident memory the model load added (``/proc/self/statm`` before and after, the Python
  libraries excluded) and the process's peak (``ru_maxrss``).

A PyTorch row (the adapter on its float32 base through transformers, the demo's own evaluation) is the
reference unless ``--no-pytorch``. Nothing here is estimated: every cell is measured in this run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROMPTS = ("Write a short story about a lighthouse keeper.", "Explain how a sea breeze forms.",
           "Describe a walk along a beach at dawn.", "Give advice to a new sailor.")


def _rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _child(model: str, data: str, out: str, engine: str) -> dict[str, Any]:
    """One row, measured in this process: load, evaluate, decode."""
    from fathom.backends import ChatRequest, Sampling, load_backend
    from fathom.evaluate import EvalConfig, evaluate
    from fathom.graders import build_grader

    before = _rss_mb()
    backend = load_backend(model, backend=engine, parallel=4 if engine == "llamacpp" else 16)
    backend.generate([ChatRequest([{"role": "user", "content": "Hi"}], sampling=Sampling(max_tokens=2))])
    loaded = _rss_mb() - before
    config = EvalConfig(sampling=Sampling(max_tokens=48), batch_size=16)
    start = time.perf_counter()
    summary = evaluate(backend, data, build_grader("shipping"), out, config=config, quiet=True)
    eval_s = time.perf_counter() - start
    strict = [v.mean for k, v in summary.components.items() if k.startswith("strict_") and v.mean is not None]
    tokens, seconds = 0, 0.0
    for prompt in PROMPTS:
        request = ChatRequest([{"role": "user", "content": prompt}], sampling=Sampling(max_tokens=64))
        t = time.perf_counter()
        [done] = backend.generate([request])
        seconds += time.perf_counter() - t
        tokens += done.completion_tokens
    return {"tolerant": round(100 * (summary.score.mean or 0.0), 1),
            "strict": round(100 * sum(strict) / len(strict), 1),
            "eval_s": round(eval_s, 1), "decode_tokens_per_s": round(tokens / seconds, 1),
            "model_rss_mb": round(loaded, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def _measure(model: str, data: str, out: Path, engine: str) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", model, "--data", data, "--out", str(out), "--engine", engine]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"measuring {model} failed:\n{done.stderr[-3000:]}")
    row: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adapter", default="runs/shipping-forecast/sft/model")
    parser.add_argument("--data", default="runs/shipping-forecast/data/test.jsonl")
    parser.add_argument("--types", default="f16,q8_0,q4_0")
    parser.add_argument("--no-pytorch", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--engine", default="llamacpp", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.data, args.out, args.engine)))
        return
    for path in (args.adapter, args.data):
        if not Path(path).exists():
            raise SystemExit(f"{path} does not exist; run `make demo` first or pass --adapter/--data.")

    from fathom.models import export_gguf

    rows: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="fathom-quant-") as tmp:
        if not args.no_pytorch:
            rows["pytorch f32"] = {"file_mb": None, **_measure(args.adapter, args.data, Path(tmp) / "pt",
                                                              "transformers")}
        for quant in args.types.split(","):
            exported = export_gguf(args.adapter, Path(tmp) / f"shipping-{quant}.gguf", quant=quant)
            rows[quant] = {"file_mb": round(exported.bytes / 2**20, 1), "export_s": exported.seconds,
                           **_measure(exported.path, args.data, Path(tmp) / f"eval-{quant}", "llamacpp")}
    lines = [f"Shipping Forecast SFT model ({args.adapter}), {args.data}",
             "| type | file MiB | model RSS MiB | peak RSS MiB | decode tokens/s | eval s | tolerant % | strict % |",
             "|---|---|---|---|---|---|---|---|"]
    for name, r in rows.items():
        lines.append(f"| {name} | {r['file_mb'] if r['file_mb'] is not None else '-'} | {r['model_rss_mb']} | "
                     f"{r['peak_rss_mb']} | {r['decode_tokens_per_s']} | {r['eval_s']} | {r['tolerant']} | "
                     f"{r['strict']} |")
    table = "\n".join(lines)
    if args.json:
        print(table, file=sys.stderr)
        print(json.dumps(rows))
    else:
        print(table)


if __name__ == "__main__":
    main()

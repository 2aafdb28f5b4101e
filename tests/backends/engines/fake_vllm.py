"""A stand-in for the ``vllm`` command on machines without a GPU, for the VLLMBackend lifecycle tests.

It accepts ``vllm serve``'s command line as :func:`fathom.backends._vllm.vllm_command` writes it, checks the
LoRA flags the way vLLM does (``--max-loras`` adapters at most, each rank at most ``--max-lora-rank``), and
serves the base model and each ``--lora-modules name=path`` under ``name`` with Fathom's own OpenAI server
on the transformers engine. It tests Fathom's side (start-up, health wait, adapter names as models,
streaming, shutdown), not vLLM; the real engine is tested on a GPU (tests/backends/test_vllm.py).
``FAKE_VLLM_FAIL=message`` makes it print the message and exit 1, like vLLM failing to start.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def main() -> None:
    if os.environ.get("FAKE_VLLM_FAIL"):
        print(os.environ["FAKE_VLLM_FAIL"], flush=True)
        sys.exit(1)
    parser = argparse.ArgumentParser()
    parser.add_argument("verb", choices=["serve"])
    parser.add_argument("model")
    for flag in ("--served-model-name", "--host", "--dtype", "--gpu-memory-utilization", "--max-model-len"):
        parser.add_argument(flag)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--enable-lora", action="store_true")
    parser.add_argument("--max-loras", type=int, default=1)
    parser.add_argument("--max-lora-rank", type=int, default=16)
    parser.add_argument("--lora-modules", nargs="*", default=[])
    args = parser.parse_args()
    adapters = dict(item.split("=", 1) for item in args.lora_modules)
    if adapters and not args.enable_lora:
        sys.exit("--lora-modules needs --enable-lora")
    if len(adapters) > args.max_loras:
        sys.exit(f"{len(adapters)} adapters but --max-loras {args.max_loras}")
    for path in adapters.values():
        rank = json.loads((Path(path) / "adapter_config.json").read_text())["r"]
        if rank > args.max_lora_rank:
            sys.exit(f"adapter rank {rank} > --max-lora-rank {args.max_lora_rank}")

    from fathom.backends import TransformersBackend
    from fathom.serve import create_app, run_server

    backend = TransformersBackend(args.model, device="cpu", adapters=adapters)
    name = args.served_model_name or args.model
    app = create_app(backend, model_name=name, aliases={a: a for a in adapters}, default_temperature=0.0)
    run_server(app, host=args.host or "127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()

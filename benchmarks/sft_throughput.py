"""LoRA SFT throughput of Fathom's default training path against a plain TRL ``SFTTrainer`` run.

Run:  .venv/bin/python benchmarks/sft_throughput.py                  (a few minutes on 2 idle cores)
      .venv/bin/python benchmarks/sft_throughput.py --examples 16    (a quicker look)

What it does, with the bundled ``smollm2-135m`` on the same seeded synthetic chat examples (tool
schemas, tool calls and results, multi-turn chats, one-line answers; lengths from about 50 to 600
tokens, so batches need padding):

1. Fathom: :func:`fathom.train.train_sft` with its defaults (LoRA r=16 on every linear projection,
   assistant-only labels, LM head applied only at labelled positions, length-grouped batches, no
   gradient checkpointing, bf16 autocast on CPUs with native bf16), one epoch.
2. Plain TRL: ``SFTTrainer(model=<the same weights folder>, train_dataset=<messages and tools>,
   peft_config=<the same LoRA config>)`` with ``SFTConfig`` defaults, one epoch. On a CPU-only
   machine TRL's default ``bf16=True`` needs ``use_cpu=True``, which is the one setting added.

Both use the same batch size (``--batch-size``, TRL's default 8). Throughput is real tokens per
second: the non-padding tokens of the sequences each trainer tokenized (every example once), over
the wall time of ``trainer.train()``. The two token counts can differ a little: TRL's Arrow dataset
fills tool-call arguments missing in one row with nulls from the others, which the template renders.
The runs alternate (``--repeats`` pairs, Fathom first then TRL, then swapped) so a change in machine
load hits both alike; the ratio is the median of the per-pair ratios.

There is no assertion on speed: figures depend on the machine and what else runs on it (the load
average is printed). Not covered: GPUs (the same script runs there), full fine-tuning, packing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CITIES = ["Paris", "Oslo", "Cork", "Bergen", "Brest", "Aberdeen", "Plymouth", "Dover", "Hull", "Wick"]
AREAS = ["Viking", "Forties", "Cromarty", "Forth", "Tyne", "Dogger", "Fisher", "German Bight", "Humber", "Thames",
         "Dover", "Wight", "Portland", "Plymouth", "Biscay", "Fastnet", "Lundy", "Irish Sea", "Shannon", "Rockall"]
WORDS = ["smooth", "slight", "moderate", "rough", "very rough", "high", "very high", "phenomenal"]
TOOLS: list[dict[str, Any]] = [
    {"type": "function", "function": {
        "name": "get_weather", "description": "Current weather at a place",
        "parameters": {"type": "object", "properties": {
            "city": {"type": "string", "description": "City name"},
            "units": {"type": "string", "enum": ["metric", "imperial"]}}, "required": ["city"]}}},
    {"type": "function", "function": {
        "name": "sea_state", "description": "Significant wave height in a sea area",
        "parameters": {"type": "object", "properties": {"area": {"type": "string"}, "hours": {"type": "integer"}},
                       "required": ["area"]}}},
    {"type": "function", "function": {
        "name": "tide_times", "description": "High and low water times for a port",
        "parameters": {"type": "object", "properties": {"port": {"type": "string"}, "date": {"type": "string"}},
                       "required": ["port"]}}},
]


def _tool_example(rng: random.Random) -> dict[str, Any]:
    tools = rng.sample(TOOLS, rng.randint(1, 3))
    name = tools[0]["function"]["name"]
    by_tool: dict[str, dict[str, Any]] = {"get_weather": {"city": rng.choice(CITIES)},
                                          "sea_state": {"area": rng.choice(AREAS), "hours": rng.choice([6, 12, 24])},
                                          "tide_times": {"port": rng.choice(CITIES)}}
    args = by_tool[name]
    height = round(rng.uniform(0.1, 12), 1)
    answer = f"The answer is {height} metres, which is {rng.choice(WORDS)}. " * rng.randint(1, 4)
    return {"messages": [
        {"role": "system", "content": "You are a marine forecasting assistant. Use the tools when they help."},
        {"role": "user", "content": f"Can you check {' '.join(str(v) for v in args.values())} for me?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}]},
        {"role": "tool", "tool_call_id": "c1", "content": json.dumps({"value": height, "unit": "m"})},
        {"role": "assistant", "content": answer.strip()}], "tools": tools}


def _chat_example(rng: random.Random) -> dict[str, Any]:
    messages = []
    for _ in range(rng.randint(1, 3)):
        messages.append({"role": "user", "content": f"What is the sea like in {rng.choice(AREAS)} today?"
                                                    * rng.randint(1, 2)})
        messages.append({"role": "assistant", "content": " ".join(
            f"{rng.choice(WORDS)} in {rng.choice(AREAS)}," for _ in range(rng.randint(3, 30)))})
    return {"messages": messages}


def _short_example(rng: random.Random) -> dict[str, Any]:
    height = round(rng.uniform(0, 16), 2)
    return {"messages": [{"role": "user", "content": f"Significant wave height {height} m. Sea state?"},
                         {"role": "assistant", "content": rng.choice(WORDS)}]}


def make_examples(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` seeded Fathom chat examples: half with tools, a quarter multi-turn chats, a quarter one-liners."""
    rng = random.Random(seed)
    makers = [_tool_example, _tool_example, _chat_example, _short_example]
    return [makers[i % 4](rng) for i in range(n)]


def run_fathom(data: Path, out: Path, batch_size: int, seed: int) -> dict[str, float]:
    from fathom.train import SFTArgs, train_sft

    result = train_sft(SFTArgs(model="smollm2-135m", data=data, out=out, epochs=1, batch_size=batch_size,
                               seed=seed, progress=False))
    return {"tokens": result.train_tokens, "seconds": result.train_seconds, "steps": result.steps,
            "loss": result.train_loss or float("nan")}


def run_plain_trl(examples: list[dict[str, Any]], out: Path, batch_size: int, seed: int) -> dict[str, float]:
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from trl.trainer.sft_config import SFTConfig
    from trl.trainer.sft_trainer import SFTTrainer

    from fathom.models import model_folder, prepare_messages

    rows = [{"messages": prepare_messages(ex["messages"]),
             "tools": json.dumps(ex["tools"]) if ex.get("tools") else None} for ex in examples]
    args = SFTConfig(output_dir=str(out), num_train_epochs=1, per_device_train_batch_size=batch_size, seed=seed,
                     report_to="none", disable_tqdm=True, use_cpu=not torch.cuda.is_available())
    from fathom.train import SFTArgs

    ours = SFTArgs(model="smollm2-135m", data="-", out="-").effective_lora()  # the same LoRA settings as Fathom's
    assert ours is not None
    lora = LoraConfig(r=ours["lora_rank"], lora_alpha=ours["lora_alpha"], lora_dropout=ours["lora_dropout"],
                      target_modules=ours["target_modules"], task_type="CAUSAL_LM")
    trainer = SFTTrainer(model=model_folder("smollm2-135m"), args=args, train_dataset=Dataset.from_list(rows),
                         peft_config=lora)
    dataset: Any = trainer.train_dataset  # a tokenized datasets.Dataset
    tokens = sum(len(ids) for ids in dataset["input_ids"])
    started = time.perf_counter()
    output = trainer.train()
    return {"tokens": tokens, "seconds": time.perf_counter() - started, "steps": output.global_step,
            "loss": output.training_loss}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=32, help="training examples (one epoch each run)")
    parser.add_argument("--batch-size", type=int, default=8, help="examples per step, both runs (TRL default 8)")
    parser.add_argument("--repeats", type=int, default=1, help="pairs of runs, alternating which goes first")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    opts = parser.parse_args(argv)

    import logging
    import warnings

    import torch

    from fathom.datasets import write_jsonl
    from fathom.models import bundled_dir

    warnings.filterwarnings("ignore")
    logging.getLogger("transformers").setLevel(logging.ERROR)
    bundled_dir("smollm2-135m")
    examples = make_examples(opts.examples, opts.seed)
    load_before = os.getloadavg()
    runs: dict[str, list[dict[str, float]]] = {"fathom": [], "trl": []}
    with tempfile.TemporaryDirectory(prefix="fathom-sft-bench-") as tmp:
        data = write_jsonl(Path(tmp) / "train.jsonl", examples)
        for pair in range(opts.repeats):
            order = ["fathom", "trl"] if pair % 2 == 0 else ["trl", "fathom"]
            for name in order:
                out = Path(tmp) / f"{name}-{pair}"
                print(f"[{pair + 1}/{opts.repeats}] {name} ...", file=sys.stderr, flush=True)
                if name == "fathom":
                    runs[name].append(run_fathom(data, out, opts.batch_size, opts.seed))
                else:
                    runs[name].append(run_plain_trl(examples, out, opts.batch_size, opts.seed))
    load_after = os.getloadavg()

    def rate(run: dict[str, float]) -> float:
        return run["tokens"] / run["seconds"]

    ratios = [rate(f) / rate(t) for f, t in zip(runs["fathom"], runs["trl"], strict=True)]
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(f"\nLoRA SFT throughput, smollm2-135m, {opts.examples} examples, batch {opts.batch_size}, 1 epoch, {device}, "
          f"{os.cpu_count()} cores, {torch.get_num_threads()} torch threads")
    print(f"{'run':<12}{'tokens':>9}{'steps':>7}{'seconds':>10}{'tokens/s':>10}{'loss':>8}")
    for name, label in (("fathom", "fathom"), ("trl", "plain TRL")):
        for run in runs[name]:
            print(f"{label:<12}{run['tokens']:>9.0f}{run['steps']:>7.0f}{run['seconds']:>10.1f}{rate(run):>10.1f}"
                  f"{run['loss']:>8.3f}")
    print(f"speed-up (fathom / plain TRL tokens/s): {statistics.median(ratios):.2f}x "
          f"(per pair: {', '.join(f'{r:.2f}' for r in ratios)})")
    print(f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f}")
    if opts.json:
        opts.json.write_text(json.dumps({"runs": runs, "ratios": ratios, "load": [load_before, load_after],
                                         "examples": opts.examples, "batch_size": opts.batch_size}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

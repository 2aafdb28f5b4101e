"""Write a small synthetic tool-calling test set (for trying ``fathom eval`` and its HTML report).

Run:  .venv/bin/python scripts/make_toolcall_set.py /tmp/toolcalls.jsonl            (50 examples, seed 0)
      .venv/bin/python scripts/make_toolcall_set.py OUT.jsonl --n 200 --seed 3
Then: fathom eval --model smollm2-135m --data /tmp/toolcalls.jsonl --grader tool_call --out /tmp/evalrun

Each example offers three of six simple tools (weather, unit conversion, timer, web search,
arithmetic, e-mail) as OpenAI JSON schemas, asks one question in the user turn, and stores the
expected call in ``reference.tool_calls`` (what the ``tool_call`` grader scores against) as well as
in the final assistant turn. About one in ten examples needs no tool (``reference.tool_calls: []``).
The same ``--seed`` always writes the same file.

Not covered: multi-call or multi-turn conversations, realistic phrasing; this is a smoke-test
set, not a benchmark of tool use.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

SYSTEM = "You are a helpful assistant. When a tool can answer the request, call it."
CITIES = ("Paris", "Lisbon", "Oslo", "Tokyo", "Lima", "Nairobi", "Toronto", "Perth")
UNITS = (("km", "mi"), ("kg", "lb"), ("c", "f"), ("l", "gal"))
TOPICS = ("tide tables for Dover", "the history of the Shipping Forecast", "how LoRA works",
          "the boiling point of water at altitude", "Beaufort scale")
CHATS = ("Hello! How are you today?", "Thanks, that is all.", "Tell me a short joke.",
         "What is your name?", "Say good morning in French.")


def _tool(name: str, description: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "description": description, "parameters": {
        "type": "object", "properties": properties, "required": required}}}


TOOLS: dict[str, dict[str, Any]] = {
    "get_weather": _tool("get_weather", "Current weather for a city.",
                         {"city": {"type": "string"}, "units": {"type": "string", "enum": ["metric", "imperial"]}},
                         ["city"]),
    "convert_units": _tool("convert_units", "Convert a quantity between units.",
                           {"value": {"type": "number"}, "from_unit": {"type": "string"},
                            "to_unit": {"type": "string"}}, ["value", "from_unit", "to_unit"]),
    "set_timer": _tool("set_timer", "Start a countdown timer.", {"minutes": {"type": "integer"}}, ["minutes"]),
    "web_search": _tool("web_search", "Search the web.", {"query": {"type": "string"}}, ["query"]),
    "calculate": _tool("calculate", "Evaluate an arithmetic expression.", {"expression": {"type": "string"}},
                       ["expression"]),
    "send_email": _tool("send_email", "Send a short e-mail.",
                        {"to": {"type": "string"}, "subject": {"type": "string"}}, ["to", "subject"]),
}


def _task(rng: random.Random) -> tuple[str, str | None, dict[str, Any]]:
    """A user request, the tool it needs (None: no tool) and that tool's arguments."""
    kind = rng.choice(("get_weather", "convert_units", "set_timer", "web_search", "calculate", "send_email",
                       "none"))
    if kind == "get_weather":
        city = rng.choice(CITIES)
        return f"What's the weather like in {city} right now?", kind, {"city": city}
    if kind == "convert_units":
        value, (a, b) = rng.randint(2, 500), rng.choice(UNITS)
        return f"Convert {value} {a} to {b}.", kind, {"value": value, "from_unit": a, "to_unit": b}
    if kind == "set_timer":
        minutes = rng.randint(1, 90)
        return f"Set a timer for {minutes} minutes.", kind, {"minutes": minutes}
    if kind == "web_search":
        topic = rng.choice(TOPICS)
        return f"Search the web for {topic}.", kind, {"query": topic}
    if kind == "calculate":
        expression = f"{rng.randint(10, 999)} * {rng.randint(2, 99)}"
        return f"What is {expression}?", kind, {"expression": expression}
    if kind == "send_email":
        name = rng.choice(("ana", "ben", "chen", "dara"))
        subject = rng.choice(("Lunch", "Meeting notes", "Invoice", "Weekend plans"))
        return f"Email {name}@example.com with the subject {subject}.", kind, {"to": f"{name}@example.com",
                                                                              "subject": subject}
    return rng.choice(CHATS), None, {}


def make_examples(n: int = 50, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` tool-calling examples in Fathom's example format, the same for the same ``seed``."""
    rng = random.Random(seed)
    examples = []
    for i in range(n):
        prompt, tool, args = _task(rng)
        others = [t for t in TOOLS if t != tool]
        offered = sorted(rng.sample(others, 2 if tool else 3) + ([tool] if tool else []))
        calls = [{"id": f"call_{i}", "type": "function",
                  "function": {"name": tool, "arguments": json.dumps(args)}}] if tool else []
        answer: dict[str, Any] = ({"role": "assistant", "content": None, "tool_calls": calls} if calls
                                  else {"role": "assistant", "content": "Happy to help!"})
        examples.append({"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt},
                                      answer],
                         "tools": [TOOLS[t] for t in offered], "reference": {"tool_calls": calls},
                         "meta": {"id": f"tc{i:03d}", "source": "make_toolcall_set", "tool": tool or "none"}})
    return examples


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="JSONL file to write")
    parser.add_argument("--n", type=int, default=50, help="number of examples (default 50)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error(f"--n must be at least 1, got {args.n}")
    from fathom.datasets._io import write_jsonl

    write_jsonl(args.out, make_examples(args.n, args.seed))
    print(f"wrote {args.n} examples to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

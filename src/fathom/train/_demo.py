"""A small built-in task for ``fathom demo``: wave height in metres to its Douglas sea-state word.

The demo shows the whole loop on a laptop CPU in a few minutes: seeded examples (held-out heights never
seen in training), held-out accuracy of the base model with greedy generation, a short LoRA SFT with
:func:`fathom.train.train_sft`, and the fine-tuned model's accuracy on the same held-out set. It is the
quick check that fine-tuning works on a machine; ``make demo`` runs the full Shipping Forecast recipe.

Scale used here (significant wave height Hs, upper bounds exclusive): smooth < 0.5 m, slight < 1.25,
moderate < 2.5, rough < 4, very rough < 6, high < 9, very high < 14, phenomenal beyond. The demo holds
no copy of it: the words and bounds are :mod:`fathom._sea_state`'s, a core module, because the core
never imports a domain; the Shipping Forecast vocabulary imports the same objects from there, so the
demo and the bulletins cannot drift apart (``tests/shipping/test_vocab_single_home.py`` checks it).
Only the demo's own choice is here: the highest height it draws (20 m).

Not covered: the full Shipping Forecast task (``fathom.domains.shipping``).
"""

from __future__ import annotations

import json
import random
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fathom._manifest import atomic_write_text
from fathom._sea_state import SEA_STATE_UPPER_M
from fathom._sea_state import SEA_STATES as _WORDS
from fathom.datasets import write_jsonl

__all__ = [
    "MAX_HEIGHT_M", "SEA_STATES", "DemoResult", "run_demo", "score_answer", "sea_state_examples", "sea_state_word",
]

MAX_HEIGHT_M = 20.0
"""The highest wave height the demo draws (the top of the open-ended "phenomenal" band)."""

SEA_STATES: tuple[tuple[str, float], ...] = tuple(zip(_WORDS, (*SEA_STATE_UPPER_M, MAX_HEIGHT_M), strict=True))
"""Douglas sea-state words and the (exclusive) upper bound of their wave-height band in metres; the
last bound only limits the heights the demo draws."""

SYSTEM = "Reply with the Douglas sea-state word only."
PROMPT = "Significant wave height: {height} m."


def sea_state_word(height_m: float) -> str:
    """The Douglas sea-state word for a significant wave height in metres.

    >>> sea_state_word(0.3), sea_state_word(1.25), sea_state_word(5.9), sea_state_word(14.0)
    ('smooth', 'moderate', 'very rough', 'phenomenal')
    """
    for word, upper in SEA_STATES[:-1]:
        if height_m < upper:
            return word
    return SEA_STATES[-1][0]


def score_answer(text: str, word: str) -> bool:
    """True when the first sea-state word in ``text`` is ``word`` (longer words win: "very rough" over "rough").

    >>> score_answer("Very rough.", "very rough"), score_answer("very rough", "rough"), score_answer("", "high")
    (True, False, False)
    """
    words = sorted((w for w, _ in SEA_STATES), key=len, reverse=True)
    match = re.search("|".join(re.escape(w) for w in words), " ".join(text.lower().split()))
    return match is not None and match.group(0) == word


def _example(height: float) -> dict[str, Any]:
    return {"messages": [{"role": "system", "content": SYSTEM},
                         {"role": "user", "content": PROMPT.format(height=f"{height:.2f}")},
                         {"role": "assistant", "content": sea_state_word(height)}],
            "meta": {"id": f"hs-{height:.2f}", "source": "fathom-demo"}}


def sea_state_examples(n: int, *, seed: int, exclude: set[str] | frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """``n`` examples with heights spread evenly over the eight words, none of whose ``meta.id`` is in ``exclude``.

    Each word gets the same share; a height is drawn uniformly within its word's band, to 2 decimals.
    """
    rng = random.Random(seed)
    examples: list[dict[str, Any]] = []
    seen = set(exclude)
    lower = [0.0] + [upper for _, upper in SEA_STATES[:-1]]
    while len(examples) < n:
        band = len(examples) % len(SEA_STATES)
        height = round(rng.uniform(lower[band] + 0.01, SEA_STATES[band][1] - 0.01), 2)
        example = _example(height)
        if example["meta"]["id"] not in seen:
            seen.add(example["meta"]["id"])
            examples.append(example)
    rng.shuffle(examples)
    return examples


@dataclass
class DemoResult:
    """Before/after accuracy of the demo and where its files went."""

    base_accuracy: float
    """Held-out accuracy of the base model."""
    tuned_accuracy: float
    """Held-out accuracy after LoRA SFT."""
    n_train: int
    n_test: int
    out: str
    """The demo folder (data, predictions, summary)."""
    model: str
    """The fine-tuned model (an adapter folder; a model spec)."""
    train_seconds: float
    total_seconds: float


def _accuracy(model: str, examples: list[dict[str, Any]], path: Path, *, device: str | None,
              progress: bool) -> float:
    from fathom.backends import ChatRequest, Sampling, TransformersBackend
    from fathom.train._setup import quiet_libraries

    with quiet_libraries():
        backend = TransformersBackend(model, device=device, batch_size=16, progress=progress)
    requests = [ChatRequest(ex["messages"][:-1], sampling=Sampling(max_tokens=16)) for ex in examples]
    rows, correct = [], 0
    for ex, done in zip(examples, backend.generate(requests), strict=True):
        word = ex["messages"][-1]["content"]
        ok = score_answer(done.text, word)
        correct += ok
        rows.append({"id": ex["meta"]["id"], "expected": word, "output": done.text, "correct": ok})
    write_jsonl(path, rows)
    return correct / len(examples)


def run_demo(out: str | Path = "runs/demo", *, model: str = "smollm2-135m", seed: int = 0, n_train: int = 240,
             n_test: int = 50, epochs: float = 2.0, max_steps: int | None = None, device: str | None = None,
             progress: bool = True) -> DemoResult:
    """Generate the task, measure the base model, LoRA-fine-tune it, measure again.

    Args:
        out: folder for ``train.jsonl``, ``test.jsonl``, predictions, ``summary.json`` and the run (``sft/``).
            Re-running continues an interrupted run or reuses a finished one.
        model: the model to fine-tune.
        seed: seed for the data and the training.
        n_train: training examples.
        n_test: held-out examples (their heights never occur in training).
        epochs: passes over the training data.
        max_steps: stop after this many optimizer steps instead (a quick try).
        device: ``"cpu"``, ``"cuda"``... (default: a GPU when there is one).
        progress: show progress bars.

    Returns:
        Accuracies before and after, sizes, paths and timings.
    """
    from fathom.train._args import SFTArgs
    from fathom.train._sft import train_sft

    started = time.perf_counter()
    out = Path(out)
    test = sea_state_examples(n_test, seed=seed + 1)
    train = sea_state_examples(n_train, seed=seed, exclude={ex["meta"]["id"] for ex in test})
    write_jsonl(out / "train.jsonl", train)
    write_jsonl(out / "test.jsonl", test)
    base_accuracy = _accuracy(model, test, out / "predictions_base.jsonl", device=device, progress=progress)
    args = SFTArgs(model=model, data=out / "train.jsonl", out=out / "sft", epochs=epochs, max_steps=max_steps,
                   batch_size=8, learning_rate=1e-3, warmup=0.1, logging_steps=5, seed=seed, device=device,
                   resume=True, progress=progress)
    result = train_sft(args)
    tuned_accuracy = _accuracy(result.out, test, out / "predictions_tuned.jsonl", device=device, progress=progress)
    demo = DemoResult(base_accuracy=base_accuracy, tuned_accuracy=tuned_accuracy, n_train=len(train),
                      n_test=len(test), out=str(out), model=result.out, train_seconds=result.train_seconds,
                      total_seconds=round(time.perf_counter() - started, 2))
    atomic_write_text(out / "summary.json", json.dumps(asdict(demo), indent=2) + "\n")
    return demo

"""Mining preference pairs from a model's own samples (``fathom data pairs``): best vs worst of n graded answers.

Read it as the method: sample ``n`` answers per prompt (one batch through any backend, sample ``j`` of prompt
``i`` seeded ``seed + i * n + j``), grade each against the example's reference with the grader ``fathom eval``
and RFT use, and keep the best answer as ``chosen`` and the worst as ``rejected`` only where the best beats the
worst by more than ``margin``. Prompts whose answers all score the same (a tie: no preference to learn) and
those whose spread is at most the margin (too close to call) are dropped and counted. The rows are Fathom DPO
rows ``{messages, chosen, rejected, tools?, reference?, meta}`` with the two scores in ``meta.pair``, ready for
``fathom train dpo`` (``fathom data convert --to nova`` writes Amazon Nova DPO rows).

Covers: :func:`mine_pairs` (rows and a :class:`PairSummary`) and :func:`mine_pairs_file` (a JSONL file of
prompts in, pairs and ``<out>.summary.json`` beside them out). Not covered: training on them
(:mod:`fathom.train._dpo`); online DPO, which samples and ranks during training.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fathom.errors import ConfigError, DataError, Problem

if TYPE_CHECKING:
    from fathom.backends import Backend
    from fathom.graders import Grader

__all__ = ["PairSummary", "mine_pairs", "mine_pairs_file", "summary_path"]


@dataclass(frozen=True)
class PairSummary:
    """What :func:`mine_pairs` kept and dropped."""

    prompts: int
    """Prompts sampled."""
    n: int
    """Answers sampled per prompt."""
    pairs: int
    """Pairs kept: the best answer beat the worst by more than ``margin``."""
    dropped_tie: int
    """Prompts whose answers all got the same score (or the same text): nothing to prefer."""
    dropped_below_margin: int
    """Prompts whose best answer beat the worst by ``margin`` or less."""
    margin: float
    """The least score gap kept (strictly exceeded)."""
    temperature: float
    """Sampling temperature."""
    max_tokens: int
    """Most new tokens per answer."""
    seed: int
    """Seed of the first sample."""
    mean_best: float | None
    """Mean over prompts of the best answer's score."""
    mean_worst: float | None
    """Mean over prompts of the worst answer's score."""
    mean_gap: float | None
    """Mean score gap (chosen - rejected) of the kept pairs."""
    model: str
    """The model that sampled the answers."""
    grader: str
    """The grader that scored them."""
    seconds: float
    """Wall time of sampling and grading."""
    out: str | None = None
    """The pairs file written (by :func:`mine_pairs_file`)."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (what ``pairs.summary.json`` holds)."""
        return asdict(self)

    def render(self) -> str:
        """The summary ``fathom data pairs`` prints."""
        def num(value: float | None) -> str:
            return "-" if value is None else f"{value:.3f}"

        lines = [f"{self.prompts} prompt(s) x {self.n} samples ({self.model}, temperature {self.temperature}), "
                 f"graded by {self.grader}:",
                 f"  kept {self.pairs} pair(s) (best - worst > {self.margin}), mean gap {num(self.mean_gap)}",
                 f"  dropped {self.dropped_tie} tie(s) (every sample scored the same) and "
                 f"{self.dropped_below_margin} below the margin",
                 f"  mean best {num(self.mean_best)}, mean worst {num(self.mean_worst)}, {self.seconds:.1f} s"]
        if self.out:
            lines.append(f"  wrote {self.out}")
        return "\n".join(lines)


def _problems(n: int, margin: float, temperature: float, max_tokens: int) -> list[Problem]:
    problems = []
    if not isinstance(n, int) or n < 2:
        problems.append(Problem("--n", f"must be at least 2 (a pair needs a best and a worst answer), got {n!r}"))
    if not 0 <= margin < 1:
        problems.append(Problem("--margin", f"must be in [0, 1) (grades are in [0, 1]), got {margin}"))
    if not temperature > 0:
        problems.append(Problem("--temperature", f"must be above 0: n greedy answers would all be the same, "
                                                 f"got {temperature}"))
    if not isinstance(max_tokens, int) or max_tokens < 1:
        problems.append(Problem("--max-tokens", f"must be at least 1, got {max_tokens!r}"))
    return problems


def _check_examples(grader: Grader, examples: Sequence[dict[str, Any]]) -> None:
    """Every example has a prompt and the grader can grade it (an empty answer), before a model loads."""
    from fathom.backends import prompt_messages
    from fathom.graders import grading_problems

    problems = [Problem(f"example {i + 1}", "has no prompt (no user, system or tool turn before its trailing "
                                            "assistant turns)")
                for i, ex in enumerate(examples) if not prompt_messages(ex)]
    if not examples:
        problems.append(Problem("examples", "no prompts to sample; give at least one example with a reference"))
    if problems:
        raise ConfigError(problems, title="cannot mine pairs")
    graded = grading_problems(grader, examples)
    if graded:
        raise DataError(graded, title="the grader cannot grade these examples")


def mine_pairs(grader: Grader, examples: Sequence[dict[str, Any]], *, model: str | None = None,
               backend: Backend | None = None, n: int = 8, temperature: float = 0.8, max_tokens: int = 256,
               margin: float = 0.1, seed: int = 0, parallel: int | None = None, device: str | None = None,
               progress: bool = False, grader_name: str | None = None) -> tuple[list[dict[str, Any]], PairSummary]:
    """Sample ``n`` answers per example, grade them, and pair the best with the worst where they differ enough.

    Everything that can be checked without the model is checked first: the arguments, that every example has a
    prompt, and that the grader can grade every example.

    Args:
        grader: scores each answer against its example (``reference``...).
        examples: Fathom examples; a trailing assistant turn is left out of the prompt.
        model: a model spec for :func:`fathom.backends.load_backend` (or give ``backend``).
        backend: an already built backend.
        n: answers per prompt, at least 2.
        temperature: sampling temperature (> 0).
        max_tokens: most new tokens per answer.
        margin: keep a pair only when best - worst exceeds it (0 keeps every prompt without a tie).
        seed: sample ``j`` of example ``i`` is drawn with seed ``seed + i * n + j``.
        parallel: requests in flight at once when ``model`` is given (see ``load_backend``).
        device: where a local ``model`` runs.
        progress: show a progress bar while generating (when ``model`` is given).
        grader_name: the grader's name in the summary (default: its ``name`` attribute).

    Returns:
        ``(pairs, summary)``: Fathom DPO rows in example order, and the counts.

    Raises:
        ConfigError: bad arguments (every one listed), neither ``model`` nor ``backend``, or an example
            without a prompt.
        DataError: the grader cannot grade some examples (each one listed).
    """
    from fathom.backends import ChatRequest, Sampling, load_backend, prompt_messages

    problems = _problems(n, margin, temperature, max_tokens)
    if (model is None) == (backend is None):
        problems.append(Problem("model", "give exactly one of model= (a spec) or backend="))
    if problems:
        raise ConfigError(problems, title="cannot mine pairs")
    rows = list(examples)
    _check_examples(grader, rows)
    started = time.perf_counter()
    engine = backend or load_backend(str(model), parallel=parallel, device=device, progress=progress)
    requests = [ChatRequest(messages=prompt_messages(ex), tools=ex.get("tools") or None,
                            sampling=Sampling(max_tokens=max_tokens, temperature=temperature, seed=seed + i * n + j))
                for i, ex in enumerate(rows) for j in range(n)]
    done = engine.generate(requests)
    pairs: list[dict[str, Any]] = []
    ties = below = 0
    best_scores, worst_scores, gaps = [], [], []
    for i, example in enumerate(rows):
        answers = [c.message for c in done[i * n:(i + 1) * n]]
        scores = [grader(example, answer).score for answer in answers]
        best = max(range(n), key=lambda k: scores[k])  # the first of the best, the first of the worst
        worst = min(range(n), key=lambda k: scores[k])
        best_scores.append(scores[best])
        worst_scores.append(scores[worst])
        gap = scores[best] - scores[worst]
        if gap == 0 or _same(answers[best], answers[worst]):
            ties += 1
        elif gap <= margin:
            below += 1
        else:
            gaps.append(gap)
            pairs.append(_pair(example, answers[best], answers[worst], scores[best], scores[worst], n))
    summary = PairSummary(
        prompts=len(rows), n=n, pairs=len(pairs), dropped_tie=ties, dropped_below_margin=below, margin=margin,
        temperature=temperature, max_tokens=max_tokens, seed=seed, mean_best=_mean(best_scores),
        mean_worst=_mean(worst_scores), mean_gap=_mean(gaps), model=str(getattr(engine, "model_name", model)),
        grader=grader_name or str(getattr(grader, "name", None) or type(grader).__name__),
        seconds=round(time.perf_counter() - started, 2))
    return pairs, summary


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return (a.get("content") or "") == (b.get("content") or "") and a.get("tool_calls") == b.get("tool_calls")


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 6) if values else None


def _answer(message: dict[str, Any]) -> dict[str, Any]:
    """The assistant message of a sampled answer, in the Fathom example shape."""
    answer: dict[str, Any] = {"role": "assistant", "content": message.get("content")}
    if message.get("tool_calls"):
        answer["tool_calls"] = message["tool_calls"]
    elif answer["content"] is None:
        answer["content"] = ""
    return answer


def _pair(example: dict[str, Any], chosen: dict[str, Any], rejected: dict[str, Any], chosen_score: float,
          rejected_score: float, n: int) -> dict[str, Any]:
    from fathom.backends import prompt_messages

    row: dict[str, Any] = {"messages": prompt_messages(example), "chosen": _answer(chosen),
                           "rejected": _answer(rejected)}
    for key in ("tools", "reference"):
        if example.get(key) is not None:
            row[key] = example[key]
    meta = dict(example.get("meta") or {}) if isinstance(example.get("meta"), dict) else {}
    meta["pair"] = {"chosen_score": round(chosen_score, 6), "rejected_score": round(rejected_score, 6), "n": n}
    row["meta"] = meta
    return row


def summary_path(out: str | os.PathLike[str]) -> Path:
    """Where :func:`mine_pairs_file` writes its summary: beside ``out``, ``pairs.jsonl`` -> ``pairs.summary.json``.

    >>> summary_path("runs/pairs.jsonl").name
    'pairs.summary.json'
    """
    out = Path(out)
    return out.with_name(f"{out.stem if out.suffix == '.jsonl' else out.name}.summary.json")


def mine_pairs_file(grader: Grader, data: str | os.PathLike[str], out: str | os.PathLike[str], *,
                    limit: int | None = None, **options: Any) -> PairSummary:
    """:func:`mine_pairs` on a JSONL file of prompts: write the pairs to ``out`` and the summary to
    :func:`summary_path` (both atomically, after sampling).

    Args:
        grader: scores each answer.
        data: JSONL of Fathom examples with references (a trailing assistant turn is left out of the prompt).
        out: the pairs file to write.
        limit: use only the first this many examples.
        **options: :func:`mine_pairs` keyword arguments (``model``, ``n``, ``margin``, ``temperature``...).

    Raises:
        ConfigError: bad arguments, a missing file.
        DataError: malformed lines or examples without a prompt (every one listed, before a model loads).
        OutputError: ``out`` cannot be written.
    """
    from fathom._manifest import atomic_write_text, check_writable
    from fathom.backends import check_prompt_file
    from fathom.datasets import read_jsonl, write_jsonl

    path = Path(data)
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise ConfigError([Problem("--data", f"{path} {what}; pass a JSON Lines file of prompts with references")])
    problems = _problems(options.get("n", 8), options.get("margin", 0.1), options.get("temperature", 0.8),
                         options.get("max_tokens", 256))
    if problems:
        raise ConfigError(problems, title="cannot mine pairs")
    check_prompt_file(path)
    check_writable(out)
    check_writable(summary_path(out))
    examples = read_jsonl(path)[:limit]
    pairs, summary = mine_pairs(grader, examples, **options)
    write_jsonl(out, pairs)
    summary = PairSummary(**{**summary.to_dict(), "out": str(out)})
    atomic_write_text(summary_path(out), json.dumps(summary.to_dict(), indent=2) + "\n")
    return summary

"""The arguments of continued pre-training (:class:`CPTArgs`), checked as a whole before anything loads.

Covers: every option of ``fathom train cpt`` with its type, default and meaning, and :func:`parse_mix` (the
``--mix PATH:RATIO`` entries: each ratio in (0, 1), their sum below 1, the rest of the training blocks being
domain text). Not covered: reading the corpora (:mod:`._cpt_data`) and the run (:mod:`._cpt`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from fathom.errors import ConfigError, Problem
from fathom.train._args import LoopArgs

__all__ = ["CPTArgs", "parse_mix"]


def parse_mix(entries: list[str] | tuple[str, ...]) -> list[tuple[str, float]]:
    """``["general.jsonl:0.2", ...]`` as ``[("general.jsonl", 0.2), ...]``, every problem reported at once.

    The ratio is the share of training blocks drawn from that source; the ratios sum below 1 and the rest is
    domain text. The path is what comes before the last ``:``.

    >>> parse_mix(["wiki/:0.2", "news.jsonl:0.1"])
    [('wiki/', 0.2), ('news.jsonl', 0.1)]
    >>> parse_mix(["wiki/:1.5"])
    Traceback (most recent call last):
    ...
    fathom.errors.ConfigError: invalid training arguments (1):
      - --mix wiki/:1.5: the ratio must be in (0, 1) (the share of training blocks from this source), got 1.5
    """
    parsed, problems = [], []
    for entry in entries:
        path, sep, ratio_text = str(entry).rpartition(":")
        where = f"--mix {entry}"
        if not sep or not path:
            problems.append(Problem(where, "expected PATH:RATIO, e.g. --mix general.jsonl:0.2 (a fifth of the "
                                           "training blocks from general.jsonl)"))
            continue
        try:
            ratio = float(ratio_text)
        except ValueError:
            problems.append(Problem(where, f"the ratio {ratio_text!r} is not a number; expected PATH:RATIO with a "
                                           f"ratio in (0, 1)"))
            continue
        if not 0 < ratio < 1:
            problems.append(Problem(where, f"the ratio must be in (0, 1) (the share of training blocks from this "
                                           f"source), got {ratio}"))
            continue
        parsed.append((path, ratio))
    total = sum(ratio for _, ratio in parsed)
    if not problems and total >= 1:
        problems.append(Problem("--mix", f"the ratios sum to {total:g}, but they must sum below 1: the rest of the "
                                         f"training blocks is the domain corpus; lower them"))
    if problems:
        raise ConfigError(problems, title="invalid training arguments")
    return parsed


@dataclass
class CPTArgs(LoopArgs):
    """Continued pre-training: next-token loss on every token of raw domain text, packed into blocks, with general
    text mixed in by ratio against forgetting; LoRA or in full.

    Every field is also a ``fathom train cpt`` option; the shared ones are documented on
    :class:`~fathom.train.TrainArgs` and :class:`~fathom.train.LoopArgs`. A held-out part of the domain corpus
    (and of each mix source) is never trained on: its perplexity before and after training is the result, and
    the domain part's loss picks the best checkpoint.

    >>> CPTArgs(model="smollm2-135m", data="docs/", out="runs/cpt", mix=["general.jsonl:0.25"]).mix_ratios()
    [('general.jsonl', 0.25)]
    >>> CPTArgs(model="m", data="docs/", out="o", heldout_fraction=0)
    Traceback (most recent call last):
    ...
    fathom.errors.ConfigError: invalid training arguments (1):
      - --heldout-fraction: must be in (0, 1): the perplexity is measured on held-out text, got 0
    """

    data: str | os.PathLike[str]
    """The domain corpus: a folder of ``.txt`` / ``.md`` files (searched recursively), one such file, or JSON
    Lines with a ``text`` field per document."""
    mix: list[str] = field(default_factory=list)
    """General text mixed into training against forgetting, as ``PATH:RATIO`` (repeatable): RATIO of the training
    blocks come from PATH (same forms as ``data``); the ratios sum below 1, the rest is domain text."""
    general_eval: list[str] = field(default_factory=list)
    """General text that is scored but not trained on (repeatable; same forms as ``data``): its held-out part is
    split exactly as a ``mix`` source of the same path would be, so a mixed and an unmixed run are measured on
    the very same general blocks. A path also in ``mix`` is scored once."""
    heldout_fraction: float = 0.1
    """Share of each corpus (the end of its shuffled token stream, so mostly whole documents) kept out of training
    for perplexity and the evaluation loss."""
    eval_limit: int | None = 256
    """Held-out blocks per source that are scored (perplexity, evaluation loss); None: all of them."""

    epochs: float = 2.0
    """Passes over the domain training blocks (ignored when ``max_steps`` is set)."""
    max_seq_len: int = 1024
    """Tokens per packed block: documents are joined with the end-of-sequence token and cut into blocks."""
    batch_size: int = 4
    """Blocks per forward pass."""

    def __post_init__(self) -> None:
        if isinstance(self.mix, str):
            self.mix = [self.mix]
        if isinstance(self.general_eval, str | os.PathLike):
            self.general_eval = [str(self.general_eval)]
        super().__post_init__()

    def has_held_out(self) -> bool:
        """Always true: part of the corpus is held out (``heldout_fraction``)."""
        return True

    def _problems(self) -> list[Problem]:
        problems = super()._problems()
        if not 0 < self.heldout_fraction < 1:
            problems.append(Problem("--heldout-fraction", f"must be in (0, 1): the perplexity is measured on "
                                                          f"held-out text, got {self.heldout_fraction}"))
        if self.eval_limit is not None and (not isinstance(self.eval_limit, int) or self.eval_limit < 1):
            problems.append(Problem("--eval-limit", f"must be a whole number of at least 1 (or left unset), "
                                                    f"got {self.eval_limit!r}"))
        try:
            parse_mix(self.mix)
        except ConfigError as exc:
            problems.extend(exc.problems)
        return problems

    def mix_ratios(self) -> list[tuple[str, float]]:
        """The ``mix`` entries as ``(path, ratio)`` pairs."""
        return parse_mix(self.mix)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready copy (paths absolute, mix paths too), as stored in the run folder and its manifest."""
        from pathlib import Path

        out = super().to_dict()
        out["mix"] = [f"{Path(p).expanduser().resolve()}:{r}" for p, r in self.mix_ratios()]
        out["general_eval"] = [str(Path(p).expanduser().resolve()) for p in self.general_eval]
        return out

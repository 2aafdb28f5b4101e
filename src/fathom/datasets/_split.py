"""Grouped, seeded train/val/test splits and a prompt-leakage report.

:func:`split_examples` splits by *group*, never by row: all examples that share ``meta.source``
(or another ``group_key``) land in the same split, so one source document never feeds both
training and testing. An example without the key is a group of its own, keyed by ``meta.id`` or,
without an id, by a hash of its conversation (so exact copies still stay together). Groups are
ordered by a seeded hash of their key, then each goes to the split furthest below its target
(relative to the target, so a small split is not starved by a few large groups); the result
depends only on the examples and the seed, not on the input order.

:func:`leakage_report` then looks for the same prompt (the messages before the final assistant
turn, compared with case and whitespace normalised) in more than one split.

:func:`split_file` does both for a JSONL file and writes the splits with a manifest.

Covers: exact-prompt leakage. Not covered: near-duplicate detection (MinHash and the like) and
stratification by query type or tool.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fathom._manifest import write_manifest
from fathom.datasets._files import read_examples
from fathom.datasets._io import empty_file_error, write_jsonl
from fathom.datasets._messages import content_hash, example_id, get_path, prompt_key, prompt_messages
from fathom.errors import ConfigError, Problem

__all__ = ["DEFAULT_RATIOS", "LeakageReport", "LeakedPrompt", "SplitResult", "leakage_report", "parse_ratios",
           "split_examples", "split_file"]

DEFAULT_RATIOS = {"train": 0.8, "val": 0.1, "test": 0.1}
DEFAULT_GROUP_KEY = "meta.source"
"""The grouping key by default; unlike a key one passes, it may be absent from every example."""
_MISSING = object()


def parse_ratios(ratios: str, names: str | None = None) -> dict[str, float]:
    """Parse ``"0.8,0.1,0.1"`` (and optional ``"train,val,test"``) into a ratios dict.

    Without names, three ratios are train/val/test and two are train/test.

    >>> parse_ratios("0.9,0.1")
    {'train': 0.9, 'test': 0.1}
    >>> parse_ratios("0.5,0.5", "a,b")
    {'a': 0.5, 'b': 0.5}

    Raises:
        ConfigError: numbers that do not parse, or a names list of another length.
    """
    parts = [p.strip() for p in ratios.split(",") if p.strip()]
    generic = [f"split{i}" for i in range(len(parts))]
    default_names = {3: list(DEFAULT_RATIOS), 2: ["train", "test"]}.get(len(parts), generic)
    labels = [n.strip() for n in names.split(",")] if names else default_names
    problems = []
    values = []
    for part in parts:
        try:
            values.append(float(part))
        except ValueError:
            problems.append(f"ratio {part!r} is not a number; write e.g. --ratios 0.8,0.1,0.1")
    if len(labels) != len(parts):
        problems.append(f"{len(parts)} ratios but {len(labels)} names ({', '.join(labels)}); give one name per ratio")
    if problems:
        raise ConfigError(problems)
    return dict(zip(labels, values, strict=True))


def _check_ratios(ratios: dict[str, float]) -> None:
    problems = []
    if not ratios:
        problems.append("no splits requested; pass ratios such as {'train': 0.8, 'val': 0.1, 'test': 0.1}")
    for name, value in ratios.items():
        if not isinstance(value, (int, float)) or math.isnan(value) or value < 0:
            problems.append(f"ratio for {name!r} must be a number >= 0, got {value!r}")
    total = sum(v for v in ratios.values() if isinstance(v, (int, float)))
    if ratios and not math.isclose(total, 1.0, abs_tol=1e-6):
        problems.append(f"ratios must sum to 1, got {total:g} ({', '.join(f'{k}={v}' for k, v in ratios.items())})")
    if problems:
        raise ConfigError(problems, title="invalid split ratios")


def _check_group_key(examples: list[dict[str, Any]], group_key: str | None) -> None:
    """A key one passes that no example has is a typo that would split ungrouped (a leakage risk)."""
    if not group_key or group_key == DEFAULT_GROUP_KEY or not examples:
        return
    if any(get_path(ex, group_key, _MISSING) is not _MISSING for ex in examples):
        return
    parent, seen = _keys_seen(examples, group_key)
    under = f" under {parent!r}" if parent else ""
    message = (f"no example has {group_key!r}; keys seen{under}: {', '.join(seen) or 'none'}. "
               "Pass one of them (--group-key), or '' to split without groups")
    raise ConfigError([Problem("group_key", message)], title="invalid group key")


def _keys_seen(examples: list[dict[str, Any]], group_key: str) -> tuple[str, list[str]]:
    """The nearest prefix of ``group_key`` that some example has, and the dotted keys found under it."""
    parts = group_key.split(".")[:-1]
    while True:
        parent = ".".join(parts)
        nodes = [get_path(ex, parent, None) if parent else ex for ex in examples]
        seen = sorted({f"{parent}.{k}" if parent else str(k) for node in nodes if isinstance(node, dict) for k in node})
        if seen or not parts:
            return parent, seen[:30]
        parts.pop()


def _group_of(example: dict[str, Any], group_key: str | None) -> str:
    value = get_path(example, group_key, _MISSING) if group_key else _MISSING
    if value is not _MISSING and value is not None and value != "":
        return "group:" + json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    ident = example_id(example)
    return f"id:{ident}" if ident is not None else f"hash:{content_hash(example)}"


def split_examples(examples: list[dict[str, Any]], ratios: dict[str, float] | None = None, seed: int = 0,
                   group_key: str | None = DEFAULT_GROUP_KEY) -> dict[str, list[dict[str, Any]]]:
    """Split examples so that no group spans two splits.

    Args:
        examples: Fathom examples.
        ratios: split name -> share of examples; the shares sum to 1. Default 0.8/0.1/0.1
            train/val/test. Shares are met as closely as whole groups allow.
        seed: the same seed and examples always give the same splits.
        group_key: dotted path of the grouping value (``"meta.source"``); None groups each
            example alone (by id or content hash). Another key than the default must be present
            in at least one example.

    Returns:
        split name -> examples, each split in input order; every split name is present.

    Raises:
        ConfigError: negative ratios or ratios that do not sum to 1; a ``group_key`` (other than
            the default) that no example has, naming the keys seen.

    >>> exs = [{"messages": [], "meta": {"id": i, "source": f"doc{i % 3}"}} for i in range(9)]
    >>> parts = split_examples(exs, {"train": 2 / 3, "test": 1 / 3}, seed=0)
    >>> {k: sorted({e["meta"]["source"] for e in v}) for k, v in parts.items()}
    {'train': ['doc0', 'doc2'], 'test': ['doc1']}
    """
    ratios = dict(DEFAULT_RATIOS if ratios is None else ratios)
    _check_ratios(ratios)
    _check_group_key(examples, group_key)
    members: dict[str, list[int]] = defaultdict(list)
    for index, example in enumerate(examples):
        members[_group_of(example, group_key)].append(index)
    order = sorted(members, key=lambda g: hashlib.sha256(f"{seed}\0{g}".encode()).hexdigest())
    targets = {name: share * len(examples) for name, share in ratios.items()}
    sizes = dict.fromkeys(ratios, 0)
    candidates = [name for name, share in ratios.items() if share > 0]
    assigned: dict[int, str] = {}
    for group in order:
        # the split furthest below its target, relative to the target: with at least as many
        # groups as splits, every split gets one; the first name wins a tie
        name = max(candidates, key=lambda n: (targets[n] - sizes[n]) / targets[n])
        sizes[name] += len(members[group])
        for index in members[group]:
            assigned[index] = name
    return {name: [ex for i, ex in enumerate(examples) if assigned[i] == name] for name in ratios}


@dataclass(frozen=True)
class LeakedPrompt:
    """One normalised prompt that occurs in more than one split."""

    prompt: str
    """The prompt's last message text (shortened), for reading."""
    counts: dict[str, int]
    """split name -> how many examples in it have this prompt."""
    ids: dict[str, list[str]]
    """split name -> ids of those examples (``meta.id``, or ``split[index]`` without one)."""


@dataclass(frozen=True)
class LeakageReport:
    """Prompts shared between splits. Falsy when there is no leakage."""

    leaked: list[LeakedPrompt] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.leaked)

    @property
    def leaked_examples(self) -> dict[str, int]:
        """split name -> examples whose prompt also occurs in another split."""
        out = dict.fromkeys(self.sizes, 0)
        for item in self.leaked:
            for name, n in item.counts.items():
                out[name] += n
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"sizes": self.sizes, "leaked_prompts": len(self.leaked), "leaked_examples": self.leaked_examples,
                "prompts": [{"prompt": i.prompt, "counts": i.counts, "ids": i.ids} for i in self.leaked]}

    def __str__(self) -> str:
        if not self.leaked:
            return f"no prompt occurs in more than one split ({sum(self.sizes.values())} examples checked)"
        per_split = ", ".join(f"{k} {v}" for k, v in self.leaked_examples.items() if v)
        lines = [f"{len(self.leaked)} prompt(s) occur in more than one split (examples affected: {per_split}):"]
        for item in self.leaked:
            where = "; ".join(f"{name} x{n} [{', '.join(item.ids[name][:5])}"
                              f"{', ...' if len(item.ids[name]) > 5 else ''}]" for name, n in item.counts.items())
            lines.append(f"  {item.prompt!r}: {where}")
        return "\n".join(lines)


def leakage_report(splits: dict[str, list[dict[str, Any]]]) -> LeakageReport:
    """Find prompts that occur in more than one split (case and whitespace normalised).

    >>> ex = lambda i, q: {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": "a"}],
    ...                    "meta": {"id": i}}
    >>> report = leakage_report({"train": [ex("a", "Gale warning?")], "test": [ex("b", "gale  WARNING?")]})
    >>> report.leaked[0].ids
    {'train': ['a'], 'test': ['b']}
    """
    found: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    preview: dict[str, str] = {}
    for name, examples in splits.items():
        for index, example in enumerate(examples):
            key = prompt_key(example)
            if not key:
                continue
            found[key][name].append(example_id(example) or f"{name}[{index}]")
            preview.setdefault(key, _preview(example))
    leaked = [LeakedPrompt(prompt=preview[key], counts={n: len(ids) for n, ids in by_split.items()},
                           ids={n: list(ids) for n, ids in by_split.items()})
              for key, by_split in found.items() if len(by_split) > 1]
    leaked.sort(key=lambda item: (-sum(item.counts.values()), item.prompt))
    return LeakageReport(leaked=leaked, sizes={name: len(examples) for name, examples in splits.items()})


def _preview(example: dict[str, Any], limit: int = 80) -> str:
    messages = prompt_messages(example)
    last = messages[-1] if messages and isinstance(messages[-1], dict) else {}
    text = " ".join(str(last.get("content") or "").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class SplitResult:
    """What :func:`split_file` wrote."""

    paths: dict[str, Path]
    """split name -> JSONL file."""
    sizes: dict[str, int]
    leakage: LeakageReport
    manifest: Path


def split_file(path: str | os.PathLike[str], out_dir: str | os.PathLike[str], *,
               ratios: dict[str, float] | None = None, seed: int = 0,
               group_key: str | None = DEFAULT_GROUP_KEY) -> SplitResult:
    """Split a JSONL file of examples into ``out_dir/<split>.jsonl`` plus ``manifest.json``.

    The manifest records the ratios, seed, group key, the input's hash, the split sizes and the
    leakage report.

    Args:
        path: the examples (validated first; prompt rows without an assistant turn are allowed).
        out_dir: the output folder (created when missing).
        ratios: split name -> share; default train/val/test 0.8/0.1/0.1.
        seed: the split seed.
        group_key: dotted path of the grouping value; None groups each example alone.

    Returns:
        A :class:`SplitResult`.

    Raises:
        DataError: the input file has problems (all are listed) or holds no examples.
        ConfigError: bad ratios, split names that cannot be file names, or a ``group_key`` that no
            example has.
    """
    ratios = dict(DEFAULT_RATIOS if ratios is None else ratios)
    bad = [name for name in ratios if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name)]
    if bad:
        raise ConfigError([f"split name {name!r} cannot be a file name; use letters, digits, '_', '-' or '.'"
                           for name in bad])
    examples = read_examples(path, needs_assistant=False)
    if not examples:
        raise empty_file_error(path, "split")
    splits = split_examples(examples, ratios, seed=seed, group_key=group_key)
    out = Path(out_dir)
    paths = {name: write_jsonl(out / f"{name}.jsonl", rows) for name, rows in splits.items()}
    report = leakage_report(splits)
    sizes = {name: len(rows) for name, rows in splits.items()}
    manifest = write_manifest(out, kind="data:split", config={"ratios": ratios, "seed": seed, "group_key": group_key},
                              inputs={"data": path}, extra={"sizes": sizes, "leakage": report.to_dict()})
    return SplitResult(paths, sizes, report, manifest)

"""``synth.yaml``: what ``fathom synth`` reads, checked strictly before any work.

Example (paths are relative to the file)::

    documents: docs/                     # .txt .md .html .pdf .csv, read recursively
    tools: tools.yaml                    # OpenAI tool schemas; or {ref: "package.module:attr"}
    categories: categories.yaml          # {categories: {name: {description, tools: [...]}}}
    teacher: {url: "http://127.0.0.1:8000/v1", model: teacher}   # or {ref: "package.module:Class"}
    tokenizer: smollm2-135m              # the target model's tokenizer (or a tokenizer.json / folder)
    chunk_tokens: 512
    overlap_tokens: 64
    n_per_chunk: 4
    dedupe_threshold: 0.9                # null: exact duplicates only
    splits: {train: 0.8, val: 0.1, test: 0.1}
    holdout_families: 0.2                # or a list of family names; omit for none
    test_documents: ["oven-1_*"]         # these documents are the test split, whole; omit to draw by shares
    seed: 0
    concurrency: 8

An unknown key is an error with a did-you-mean; every problem is reported at once (exit 2).
Covers: :class:`SynthConfig` and :func:`load_config`. Not covered: the checks that need the
files themselves (tools, categories, documents, the teacher's reachability), which
:func:`fathom.synth.prepare` makes, also before any work.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fathom.errors import ConfigError, Problem, did_you_mean
from fathom.synth._split import SPLITS
from fathom.synth._tools import read_structured

__all__ = ["SynthConfig", "load_config"]

_TEACHER_HTTP = {"url", "model", "api_key_env", "retries", "backoff", "timeout", "temperature", "max_tokens",
                 "check_model"}
_TEACHER_REF = {"ref", "options"}


@dataclass(frozen=True)
class SynthConfig:
    """A checked ``synth.yaml`` (build it with :func:`load_config`)."""

    documents: Path
    """Folder of documents, read recursively."""
    categories: Path | dict[str, Any]
    """A categories file, or the mapping ``{name: {description, tools}}`` inline."""
    teacher: dict[str, Any]
    """``{url, model, ...}`` for an OpenAI-compatible endpoint, or ``{ref, options}`` for an in-process teacher."""
    tools: Path | dict[str, Any] | list[Any] | None = None
    """A tools file, ``{ref: "module:attr"}``, a list of schemas inline, or None (no tools: answers only)."""
    tokenizer: str = "smollm2-135m"
    """The target model's tokenizer: a model spec, a ``tokenizer.json`` or a folder holding one."""
    chunk_tokens: int = 512
    """Most tokens of the target tokenizer in one chunk."""
    overlap_tokens: int = 64
    """Tokens of the previous chunk's end repeated at the start of the next (whole sentences, at least one)."""
    n_per_chunk: int = 4
    """Examples asked for per chunk."""
    dedupe_threshold: float | None = 0.9
    """Cosine at or above which questions with the same identifiers are near duplicates; None: exact only."""
    splits: dict[str, float] = field(default_factory=lambda: {"train": 0.8, "val": 0.1, "test": 0.1})
    """Shares of train, val and test (by examples, met as whole documents allow); they sum to 1."""
    holdout_families: tuple[str, ...] | float | None = None
    """Families only test may hold: a list of names, or a share of the families seen; None: no holdout."""
    test_documents: tuple[str, ...] = ()
    """Glob patterns over source ids: the documents they match are the test split, whole (the others are
    split between train and val); empty: test documents are drawn by the ``splits`` shares."""
    seed: int = 0
    """Seeds the teacher requests, the split and the family holdout."""
    concurrency: int = 8
    """Teacher requests in flight at once."""
    max_chunks: int | None = None
    """Ask about the first N chunks only (a trial run); None: all."""
    system_prompt: str | None = None
    """The system message of the written examples; default: a short one naming the tools."""
    few_shot: tuple[dict[str, Any], ...] = ()
    """Example items shown to the teacher (the teacher JSON item form); default: one built per category."""
    nova: bool = False
    """Also write Amazon Nova ``bedrock-conversation-2024`` files under ``nova/``."""
    path: Path | None = None
    """The file it was read from, if any."""


_KEYS = {f for f in SynthConfig.__dataclass_fields__ if f != "path"}


def load_config(source: str | os.PathLike[str] | Mapping[str, Any], *, base: Path | None = None) -> SynthConfig:
    """Read and check a config file (JSON or YAML) or mapping; relative paths are taken from its folder.

    Raises:
        ConfigError: every problem found (unknown keys with did-you-mean, missing keys, wrong types,
            out-of-range numbers, split shares that do not sum to 1).
    """
    path = None
    if isinstance(source, Mapping):
        raw: Any = dict(source)
    else:
        path = Path(source)
        raw = read_structured(path, "config")
        base = base or path.parent
    if not isinstance(raw, dict):
        raise ConfigError([Problem("config", f"expected a mapping of settings, got {type(raw).__name__}")])
    base = base or Path.cwd()
    problems: list[Problem] = []
    for key in raw:
        if key not in _KEYS:
            hint = did_you_mean(str(key), sorted(_KEYS))
            problems.append(Problem(str(key), f"unknown key. {hint + ' ' if hint else ''}Valid keys: "
                                              f"{', '.join(sorted(_KEYS))}"))
    for key in ("documents", "categories", "teacher"):
        if raw.get(key) in (None, ""):
            problems.append(Problem(key, "missing; see `fathom synth --help` for an example config"))
    values: dict[str, Any] = {"path": path}
    values["documents"] = _path(raw.get("documents"), base, "documents", problems)
    values["categories"] = _path_or(raw.get("categories"), base, "categories", (dict,), problems)
    values["tools"] = _path_or(raw.get("tools"), base, "tools", (dict, list), problems) if raw.get("tools") else None
    values["teacher"] = _teacher(raw.get("teacher"), problems)
    ints = {"chunk_tokens": 1, "overlap_tokens": 0, "n_per_chunk": 1, "concurrency": 1, "seed": None}
    for key, minimum in ints.items():
        if key in raw:
            values[key] = _int(raw[key], key, minimum, problems)
    if raw.get("max_chunks") is not None:
        values["max_chunks"] = _int(raw["max_chunks"], "max_chunks", 1, problems)
    if isinstance(values.get("chunk_tokens"), int) and isinstance(values.get("overlap_tokens"), int) \
            and values["overlap_tokens"] >= values["chunk_tokens"]:
        problems.append(Problem("overlap_tokens", f"must be below chunk_tokens ({values['chunk_tokens']}), "
                                                  f"got {values['overlap_tokens']}"))
    if "dedupe_threshold" in raw:
        values["dedupe_threshold"] = _threshold(raw["dedupe_threshold"], problems)
    if "splits" in raw:
        values["splits"] = _splits(raw["splits"], problems)
    if raw.get("holdout_families") is not None:
        values["holdout_families"] = _holdout(raw["holdout_families"], values.get("splits"), problems,
                                             raw.get("test_documents"))
    if raw.get("test_documents") is not None:
        patterns = raw["test_documents"]
        if not isinstance(patterns, (list, tuple)) or not patterns \
                or not all(isinstance(p, str) and p for p in patterns):
            problems.append(Problem("test_documents", f"expected a non-empty list of glob patterns over source ids "
                                                      f"(e.g. [\"oven-1_*\"]), got {patterns!r}"[:200]))
        else:
            values["test_documents"] = tuple(patterns)
    if raw.get("tokenizer") is not None:
        values["tokenizer"] = _tokenizer(raw["tokenizer"], base, problems)
    for key, kind in (("system_prompt", str), ("nova", bool)):
        if raw.get(key) is not None:
            if not isinstance(raw[key], kind):
                problems.append(Problem(key, f"expected {kind.__name__}, got {raw[key]!r}"))
            values[key] = raw[key]
    if raw.get("few_shot") is not None:
        shots = raw["few_shot"]
        if not isinstance(shots, list) or not all(isinstance(s, dict) for s in shots):
            problems.append(Problem("few_shot", "expected a list of example items {category, question, tool_calls, "
                                                f"answer, quotes}}, got {shots!r}"[:200]))
        else:
            values["few_shot"] = tuple(shots)
    if problems:
        raise ConfigError(problems, title=f"invalid synth config{f' {path}' if path else ''}")
    return SynthConfig(**values)


def _path(value: Any, base: Path, key: str, problems: list[Problem]) -> Path:
    if not isinstance(value, (str, os.PathLike)):
        if value not in (None, ""):
            problems.append(Problem(key, f"expected a path, got {value!r}"))
        return Path()
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _path_or(value: Any, base: Path, key: str, kinds: tuple[type, ...], problems: list[Problem]) -> Any:
    if isinstance(value, kinds):
        return value
    return _path(value, base, key, problems)


def _tokenizer(value: Any, base: Path, problems: list[Problem]) -> str:
    """A model spec as given, or a path made absolute when it names a file or folder next to the config."""
    if not isinstance(value, str) or not value.strip():
        problems.append(Problem("tokenizer", f"expected a model spec or a tokenizer path, got {value!r}"))
        return ""
    local = Path(value).expanduser()
    local = local if local.is_absolute() else base / local
    return str(local) if local.exists() else value


def _teacher(value: Any, problems: list[Problem]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(Problem("teacher", f"expected {{url, model}} or {{ref: \"module:Class\"}}, got {value!r}"))
        return {}
    allowed = _TEACHER_REF if "ref" in value else _TEACHER_HTTP
    for key in value:
        if key not in allowed:
            hint = did_you_mean(str(key), sorted(_TEACHER_HTTP | _TEACHER_REF))
            problems.append(Problem(f"teacher.{key}", f"unknown key. {hint + ' ' if hint else ''}Valid keys: "
                                                      f"{', '.join(sorted(allowed))}"
                                                      + (" (with ref)" if "ref" in value else " (or ref, options)")))
    if "ref" in value:
        if not isinstance(value["ref"], str) or ":" not in value["ref"]:
            problems.append(Problem("teacher.ref", f"expected \"package.module:attribute\", got {value['ref']!r}"))
        if not isinstance(value.get("options") or {}, dict):
            problems.append(Problem("teacher.options", f"expected a mapping, got {value['options']!r}"))
        return dict(value)
    for key in ("url", "model"):
        if not isinstance(value.get(key), str) or not value[key].strip():
            problems.append(Problem(f"teacher.{key}", f"missing; the teacher needs url and model, got {value!r}"))
    url = value.get("url")
    if isinstance(url, str) and not url.startswith(("http://", "https://")):
        problems.append(Problem("teacher.url", f"must start with http:// or https://, got {url!r}"))
    for key in ("retries", "max_tokens"):
        if key in value:
            _int(value[key], f"teacher.{key}", 0 if key == "retries" else 1, problems)
    for key in ("backoff", "timeout", "temperature"):
        if key in value and (isinstance(value[key], bool) or not isinstance(value[key], (int, float))
                             or value[key] < 0):
            problems.append(Problem(f"teacher.{key}", f"expected a number >= 0, got {value[key]!r}"))
    return dict(value)


def _int(value: Any, key: str, minimum: int | None, problems: list[Problem]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or (minimum is not None and value < minimum):
        bound = f" >= {minimum}" if minimum is not None else ""
        problems.append(Problem(key, f"expected a whole number{bound}, got {value!r}"))
        return minimum or 0
    return value


def _threshold(value: Any, problems: list[Problem]) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        problems.append(Problem("dedupe_threshold", f"expected a cosine in (0, 1] or null, got {value!r}"))
        return None
    return float(value)


def _splits(value: Any, problems: list[Problem]) -> dict[str, float]:
    if not isinstance(value, dict):
        problems.append(Problem("splits", f"expected {{train: 0.8, val: 0.1, test: 0.1}}, got {value!r}"))
        return {}
    out = {}
    for name, share in value.items():
        if name not in SPLITS:
            hint = did_you_mean(str(name), SPLITS)
            problems.append(Problem(f"splits.{name}", f"unknown split. {hint + ' ' if hint else ''}Splits: "
                                                      f"{', '.join(SPLITS)}"))
        elif isinstance(share, bool) or not isinstance(share, (int, float)) or share < 0:
            problems.append(Problem(f"splits.{name}", f"expected a share >= 0, got {share!r}"))
        else:
            out[name] = float(share)
    if "train" not in value:
        problems.append(Problem("splits", "needs a train share"))
    if out and not math.isclose(sum(out.values()), 1.0, abs_tol=1e-6):
        problems.append(Problem("splits", f"shares must sum to 1, got {sum(out.values()):g}"))
    return {name: out.get(name, 0.0) for name in SPLITS}


def _holdout(value: Any, splits: dict[str, float] | None, problems: list[Problem],
             test_documents: Any = None) -> tuple[str, ...] | float | None:
    test_share = (splits or {"test": 0.1}).get("test", 0.0)
    if not test_share and not test_documents:
        problems.append(Problem("holdout_families", "a family holdout needs a test split; give splits.test a share "
                                                    "or test_documents"))
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(v.strip() for v in value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1:
        return float(value)
    problems.append(Problem("holdout_families", f"expected a list of family names or a share in (0, 1), got {value!r}"))
    return None

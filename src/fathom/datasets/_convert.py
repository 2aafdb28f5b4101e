"""Converting whole files or row lists between formats, with every problem reported at once.

Formats: ``fathom`` (Fathom examples and Fathom DPO rows ``{messages, chosen, rejected}``),
``openai`` (OpenAI fine-tuning rows: chat rows are Fathom examples already, DPO rows are
``{input, preferred_output, non_preferred_output}``), ``nova`` (Amazon Nova
``bedrock-conversation-2024``, SFT and DPO shapes) and ``sharegpt``. Each row goes source format
-> Fathom example (validated, prompt rows allowed) -> target format (Nova rules checked). The
input format is detected from the first rows unless given; plain chat rows are ``fathom``.

Covers: :func:`detect_format`, :func:`convert_rows`, :func:`convert_file`. Not covered: the
per-format mappings (``_nova``, ``_sharegpt``, ``_openai``) and Hugging Face datasets (``_hf``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fathom.datasets._io import empty_file_error, scan_jsonl, write_jsonl
from fathom.datasets._lossy import dropped_fields, weight_problems
from fathom.datasets._nova import example_to_nova, nova_to_example
from fathom.datasets._nova_rules import validate_nova
from fathom.datasets._openai import openai_to_example, to_openai
from fathom.datasets._schema import validate_example
from fathom.datasets._sharegpt import example_to_sharegpt, sharegpt_to_example
from fathom.errors import ConfigError, DataError, Problem, did_you_mean

__all__ = ["FORMATS", "LABELS", "READERS", "ConversionReport", "canonical_format", "convert_file", "convert_rows",
           "detect_format", "row_format"]

FORMATS = ("fathom", "openai", "nova", "sharegpt")
_KEEP_EXTRA_DEFAULT = {"fathom": True, "openai": True, "nova": False, "sharegpt": True}
LABELS = {"fathom": "Fathom", "openai": "OpenAI", "nova": "Nova", "sharegpt": "ShareGPT"}

Row = dict[str, Any]
_Reader = Callable[[Row], tuple[Row, list[Problem]]]
READERS: dict[str, _Reader] = {"fathom": openai_to_example, "openai": openai_to_example,
                                "nova": nova_to_example, "sharegpt": sharegpt_to_example}


def _write_fathom(example: Row, keep_extra: bool) -> tuple[Row, list[Problem]]:
    return {k: v for k, v in example.items() if keep_extra or k not in ("meta", "reference")}, []


def _write_openai(example: Row, keep_extra: bool) -> tuple[Row, list[Problem]]:
    return to_openai(example, keep_extra=keep_extra), []


def _write_nova(example: Row, keep_extra: bool) -> tuple[Row, list[Problem]]:
    row = example_to_nova(example, keep_extra=keep_extra)
    return row, weight_problems(example, "Nova") + validate_nova(row)


def _write_sharegpt(example: Row, keep_extra: bool) -> tuple[Row, list[Problem]]:
    return example_to_sharegpt(example, keep_extra=keep_extra)


_WRITERS: dict[str, Callable[[Row, bool], tuple[Row, list[Problem]]]] = {
    "fathom": _write_fathom, "openai": _write_openai, "nova": _write_nova, "sharegpt": _write_sharegpt}


@dataclass(frozen=True)
class ConversionReport:
    """What :func:`convert_file` did."""

    source: Path
    target: Path
    from_format: str
    to_format: str
    rows: int
    """Rows written."""
    dropped_extra: int
    """Rows whose ``meta``/``reference`` were left out (see ``keep_extra``)."""
    dropped_fields: dict[str, int]
    """Fields the target format cannot hold (``"messages[].name"``) -> rows that lost them."""


def row_format(row: Any) -> str | None:
    """The format one row looks like, or None when it looks like none of them.

    >>> row_format({"conversations": [{"from": "human", "value": "Hi"}]})
    'sharegpt'
    >>> row_format({"messages": [{"role": "user", "content": [{"text": "Hi"}]}]})
    'nova'
    >>> row_format({"messages": [{"role": "user", "content": "Hi"}]})
    'fathom'
    """
    if not isinstance(row, dict):
        return None
    if "conversations" in row:
        return "sharegpt"
    if "input" in row and ("preferred_output" in row or "non_preferred_output" in row):
        return "openai"
    messages = row.get("messages")
    if not isinstance(messages, list):
        return None
    if "schemaVersion" in row or "toolConfig" in row or isinstance(row.get("system"), list):
        return "nova"
    for message in messages:
        if isinstance(message, dict) and ("candidates" in message or isinstance(message.get("content"), list)):
            return "nova"
    return "fathom"


def detect_format(rows: list[Row], *, sample: int = 20) -> str:
    """The format of a list of rows, judged from the first ``sample`` of them.

    Raises:
        DataError: no row looks like a known format, or the rows disagree.
    """
    seen: dict[str, int] = {}
    for i, row in enumerate(rows[:sample]):
        fmt = row_format(row)
        if fmt is not None:
            seen.setdefault(fmt, i + 1)
    if len(seen) == 1:
        return next(iter(seen))
    if set(seen) == {"fathom", "openai"}:
        return "openai"  # OpenAI chat rows are Fathom rows; one reader handles both shapes
    if not seen:
        keys = sorted({k for r in rows[:sample] if isinstance(r, dict) for k in r})
        raise DataError([f"no row looks like {', '.join(FORMATS)}; top-level keys seen: {keys or 'none'}. "
                         "Expected messages (fathom, nova), input+preferred_output (openai DPO) or conversations "
                         "(sharegpt)"], title="cannot tell the input format")
    found = ", ".join(f"row {n} looks like {fmt}" for fmt, n in seen.items())
    raise DataError([f"the rows disagree ({found}); convert each format separately or pass from_ (--from)"],
                    title="cannot tell the input format")


def convert_rows(rows: list[Row], *, to: str, from_: str | None = None,
                 keep_extra: bool | None = None) -> list[Row]:
    """Convert rows from one format to another.

    Args:
        rows: the rows (any of :data:`FORMATS`).
        to: the target format.
        from_: the source format; detected from the rows when None.
        keep_extra: keep ``meta``/``reference`` in the output; default True except for ``nova``.

    Returns:
        The converted rows, one per input row, in order.

    Raises:
        ConfigError: an unknown format name.
        DataError: listing every problem of every row (``row N`` is 1-based).
    """
    done = _convert([(i + 1, r) for i, r in enumerate(rows)], "row ", to, from_, keep_extra)
    problems = [p for _, p in done.problems]
    if problems:
        raise DataError(problems, title=f"{len(problems)} problem(s) converting to {to}")
    return done.rows


def convert_file(src: str | os.PathLike[str], dst: str | os.PathLike[str], *, to: str,
                 from_: str | None = None, keep_extra: bool | None = None) -> ConversionReport:
    """Convert a JSONL file, writing ``dst`` atomically only when every row converts.

    Args:
        src: the input file.
        dst: the output file.
        to: the target format.
        from_: the source format; detected from the first rows when None.
        keep_extra: keep ``meta``/``reference`` in the output; default True except for ``nova``.

    Returns:
        A :class:`ConversionReport`.

    Raises:
        ConfigError: an unknown format name.
        DataError: malformed lines and every conversion problem, with line numbers; a file that
            is not UTF-8 text or holds no rows.
        FileNotFoundError: ``src`` does not exist.
    """
    numbered, bad_lines = scan_jsonl(src)
    if not numbered and not bad_lines:
        raise empty_file_error(src, "convert")
    done = _convert(numbered, f"{src}:", to, from_, keep_extra)
    found = done.problems + [(int(p.where.rsplit(":", 1)[1]), p) for p in bad_lines]
    problems = [p for _, p in sorted(found, key=lambda item: item[0])]
    if problems:
        raise DataError(problems, title=f"{src}: {len(problems)} problem(s) converting {done.from_format} to "
                                        f"{to}; nothing was written")
    write_jsonl(dst, done.rows)
    return ConversionReport(Path(src), Path(dst), done.from_format, canonical_format(to), len(done.rows),
                            done.dropped_extra, done.dropped_fields)


def canonical_format(fmt: str) -> str:
    if fmt not in FORMATS:
        hint = did_you_mean(fmt, FORMATS)
        raise ConfigError([f"unknown format {fmt!r}. {hint + ' ' if hint else ''}Choose one of {', '.join(FORMATS)}"])
    return fmt


@dataclass
class _Outcome:
    rows: list[Row] = field(default_factory=list)
    problems: list[tuple[int, Problem]] = field(default_factory=list)  # (line, problem)
    from_format: str = "fathom"
    dropped_extra: int = 0
    dropped_fields: dict[str, int] = field(default_factory=dict)


def _convert(numbered: list[tuple[int, Row]], prefix: str, to: str, from_: str | None,
             keep_extra: bool | None) -> _Outcome:
    to = canonical_format(to)
    fmt = canonical_format(from_) if from_ else (detect_format([r for _, r in numbered]) if numbered else "fathom")
    keep = _KEEP_EXTRA_DEFAULT[to] if keep_extra is None else keep_extra
    done = _Outcome(from_format=fmt)
    for lineno, row in numbered:
        example, found = READERS[fmt](row)
        stage = f"as {LABELS[fmt]}" if found else ""
        if not found:
            found = validate_example(example, needs_assistant=False)
            stage = "as a Fathom example" if fmt not in ("fathom", "openai") else ""
        if not found:
            converted, found = _WRITERS[to](example, keep)
            stage = f"in the {LABELS[to]} row"
            done.rows.append(converted)
            done.dropped_extra += int(not keep and any(k in example for k in ("meta", "reference")))
            for name in dropped_fields(example) if to in ("nova", "sharegpt") else []:
                done.dropped_fields[name] = done.dropped_fields.get(name, 0) + 1
        for p in found:
            where = f"{prefix}{lineno}" + (f" {p.where}" if p.where else "")
            done.problems.append((lineno, Problem(where, f"{p.message} ({stage})" if stage else p.message)))
    return done

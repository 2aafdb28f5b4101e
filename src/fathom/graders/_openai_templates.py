"""OpenAI grader templates: ``{{ item.<path> }}`` and ``{{ sample.<path> }}`` in grader strings.

Covers: parsing a template at build time (unknown namespaces, unknown ``sample`` variables and bad
path syntax are problems, with a did-you-mean), and rendering it against one graded completion.
Paths use OpenAI's JSON-path-like syntax: ``.key``, ``[0]`` and ``["odd key"]``.

* ``item`` is the Fathom example row (``messages``, ``reference``, ``meta`` and any other column).
  ``item.X`` reads the row's key ``X``; when the row has none, ``X`` is looked up under
  ``reference``, where Fathom keeps reference data (so an OpenAI row's ``reference_answer`` kept as
  ``reference.reference_answer`` is still ``{{item.reference_answer}}``). A path the row lacks is
  an error (the grader or the data is wrong), raised as :class:`~fathom.errors.GraderError`.
* ``sample`` is the completion: ``output_text`` (its text), ``output_json`` (the text parsed as
  JSON, or ``null`` when it is not JSON) and ``output_tools`` (its OpenAI tool calls). A path the
  completion lacks renders as ``""``: that is the model's mistake and should simply score low.

Strings render as they are; other values as JSON.
Not covered: OpenAI's image and audio sample variables; filters or expressions inside ``{{ }}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from fathom.errors import GraderError, did_you_mean
from fathom.graders._protocol import completion_message

__all__ = ["SAMPLE_VARIABLES", "Context", "Template", "item_value", "parse_template", "sample_dict"]

SAMPLE_VARIABLES = ("output_json", "output_text", "output_tools")
_NAMESPACES = ("item", "sample")
_BRACES = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_SEGMENT = re.compile(r"""\.([A-Za-z_][\w-]*)|\[(\d+)\]|\[\s*"([^"]*)"\s*\]|\[\s*'([^']*)'\s*\]""")
_HEAD = re.compile(r"\s*([A-Za-z_]\w*)")
_MISSING = object()

Path = tuple[str | int, ...]


def _parse_json(text: str) -> Any:
    """The completion text as JSON (a fenced ```json block is unwrapped), or None."""
    body = text.strip()
    if body.startswith("```"):
        body = body.split("\n", 1)[1] if "\n" in body else ""
        body = body.rsplit("```", 1)[0]
    try:
        return json.loads(body)
    except (json.JSONDecodeError, ValueError):
        return None


@dataclass
class Context:
    """One grading: the example row and the completion, with the ``sample`` fields derived lazily."""

    item: Mapping[str, Any]
    """The Fathom example row."""
    completion: dict[str, Any] | str
    """The completion being graded (an assistant message or its text)."""

    @cached_property
    def message(self) -> dict[str, Any]:
        return completion_message(self.completion)

    @cached_property
    def sample(self) -> dict[str, Any]:
        return sample_dict(self.message)


def sample_dict(message: Mapping[str, Any]) -> dict[str, Any]:
    """OpenAI's ``sample`` namespace for one assistant message.

    >>> sample_dict({"role": "assistant", "content": '{"a": 1}'})
    {'output_text': '{"a": 1}', 'output_json': {'a': 1}, 'output_tools': []}
    """
    text = message.get("content") or ""
    text = text if isinstance(text, str) else json.dumps(text, ensure_ascii=False)
    tools = message.get("tool_calls") or []
    return {"output_text": text, "output_json": _parse_json(text), "output_tools": list(tools)}


def _step(value: Any, key: str | int) -> Any:
    if isinstance(key, int):
        return value[key] if isinstance(value, list) and -len(value) <= key < len(value) else _MISSING
    return value[key] if isinstance(value, Mapping) and key in value else _MISSING


def _show(path: Path) -> str:
    out = str(path[0])
    for key in path[1:]:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if re.fullmatch(r"[A-Za-z_][\w-]*", key)
                                                        else f'["{key}"]')
    return out


@dataclass(frozen=True)
class Template:
    """A parsed grader string: literal text and ``{{ }}`` paths, in order."""

    source: str
    parts: tuple[str | Path, ...]

    @property
    def paths(self) -> list[Path]:
        return [p for p in self.parts if isinstance(p, tuple)]

    def render(self, ctx: Context) -> str:
        """The string with every path replaced by its value.

        Raises:
            GraderError: an ``item`` path the example does not have.
        """
        return "".join(p if isinstance(p, str) else _text(self._lookup(p, ctx)) for p in self.parts)

    def _lookup(self, path: Path, ctx: Context) -> Any:
        if path[0] == "sample":
            value: Any = ctx.sample
            for key in path[1:]:
                value = _step(value, key)
                if value is _MISSING:
                    return ""
            return value
        return item_value(path, ctx.item)


def item_value(path: Path, item: Mapping[str, Any]) -> Any:
    """The value an ``item`` path names in an example row.

    Raises:
        GraderError: the row lacks it (the message names the path, the row and what it has).
    """
    first = path[1]
    root: Any = item
    if first not in item and isinstance(item.get("reference"), Mapping) and first in item["reference"]:
        root = item["reference"]
    value: Any = root
    for depth, key in enumerate(path[1:], start=1):
        found = _step(value, key)
        if found is _MISSING:
            raise GraderError(_missing_message(path, depth, value, item))
        value = found
    return value


def _missing_message(path: Path, depth: int, parent: Any, item: Mapping[str, Any]) -> str:
    where = _show(path[:depth]) if depth > 1 else "item"
    meta = item.get("meta")
    row = f" (example {meta.get('id')!r})" if isinstance(meta, Mapping) and meta.get("id") is not None else ""
    key = path[depth]
    if isinstance(parent, Mapping):
        keys = [str(k) for k in parent]
        hint = did_you_mean(str(key), keys)
        have = f"It has: {', '.join(keys[:20]) or '(no keys)'}"
        if depth == 1 and isinstance(item.get("reference"), Mapping):
            have += f"; reference has: {', '.join(map(str, item['reference'])) or '(no keys)'}"
        return (f"template {{{{{_show(path)}}}}}: {where}{row} has no {key!r}. {hint} {have}. Fix the grader's "
                f"template or add the field to the data.").replace("  ", " ")
    kind = f"a list of {len(parent)}" if isinstance(parent, list) else type(parent).__name__
    return (f"template {{{{{_show(path)}}}}}: {where}{row} is {kind}, so it has no {key!r}. Fix the grader's "
            f"template or the data.")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _parse_path(expr: str) -> tuple[Path | None, str]:
    """``item.a[0]`` -> ``("item", "a", 0)``; on failure ``(None, why)``."""
    head = _HEAD.match(expr)
    if head is None:
        return None, "a path starts with a namespace, `item` or `sample`"
    path: list[str | int] = [head.group(1)]
    rest, pos = expr.rstrip(), head.end()
    while pos < len(rest):
        seg = _SEGMENT.match(rest, pos)
        if seg is None:
            return None, f"cannot read {rest[pos:]!r}; use .key, [0] or [\"key\"]"
        name, index, dq, sq = seg.groups()
        path.append(int(index) if index is not None else next(s for s in (name, dq, sq) if s is not None))
        pos = seg.end()
    return tuple(path), ""


def _path_problem(path: Path) -> str:
    if path[0] not in _NAMESPACES:
        return f"unknown namespace {path[0]!r}. {did_you_mean(str(path[0]), _NAMESPACES)} " \
               "The namespaces are `item` (the example row) and `sample` (the completion)."
    if len(path) < 2:
        example = "sample.output_text" if path[0] == "sample" else "item.reference"
        return f"{{{{{path[0]}}}}} needs a variable, e.g. {{{{{example}}}}}"
    if path[0] == "sample" and path[1] not in SAMPLE_VARIABLES:
        return f"unknown sample variable {path[1]!r}. {did_you_mean(str(path[1]), SAMPLE_VARIABLES)} " \
               f"Valid: {', '.join(SAMPLE_VARIABLES)}."
    return ""


def parse_template(text: Any, where: str, problems: list[str]) -> Template:
    """Parse a grader string; every problem is appended to ``problems`` as ``where: ...``.

    >>> t = parse_template("Answer: {{ sample.output_text }}", "input", [])
    >>> t.render(Context({}, "42"))
    'Answer: 42'
    >>> errors = []; _ = parse_template("{{ sample.output }}", "input", errors); errors
    ["input: template {{ sample.output }}: unknown sample variable 'output'. Did you mean 'output_text'? \
Valid: output_json, output_text, output_tools."]
    """
    if not isinstance(text, str):
        problems.append(f"{where}: expected a string, got {type(text).__name__} {text!r}")
        return Template("", ())
    parts: list[str | Path] = []
    pos = 0
    for match in _BRACES.finditer(text):
        if match.start() > pos:
            parts.append(text[pos:match.start()])
        path, why = _parse_path(match.group(1))
        why = why or _path_problem(path or ())
        if why or path is None:
            problems.append(f"{where}: template {match.group(0)}: {why}")
        else:
            parts.append(path)
        pos = match.end()
    if pos < len(text):
        parts.append(text[pos:])
    return Template(text, tuple(parts))

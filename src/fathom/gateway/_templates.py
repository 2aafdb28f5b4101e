"""Prompt templates with versions, referenced by requests as ``name@version`` (or ``name`` for the latest).

A template is a list of chat messages whose text may hold ``{variable}`` fields (``str.format`` syntax;
``{{`` for a brace). Each ``add`` of a name makes its next version (1, 2, ...); versions are never changed
or deleted, so a request naming ``support@3`` gets the same prompt forever. A request sends
``"template": "support@3"`` and ``"variables": {...}``; the gateway puts the rendered messages before the
request's own ``messages``. Stored in SQLite beside the keys (WAL; several gateway processes may share it).

Not covered: conditionals or loops in templates (render those in the client), template access per key.
"""

from __future__ import annotations

import builtins
import json
import re
import sqlite3
import string
import threading
import time
from pathlib import Path
from typing import Any

from fathom.errors import ConfigError, Problem, did_you_mean

__all__ = ["GatewayTemplateError", "TemplateStore"]

_REF = re.compile(r"^(?P<name>[A-Za-z0-9][\w.-]{0,63})(?:@(?P<version>[1-9]\d{0,8}))?$")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS templates (
    name TEXT NOT NULL, version INTEGER NOT NULL, messages_json TEXT NOT NULL, created REAL NOT NULL,
    PRIMARY KEY (name, version));
"""


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _check(messages: Any, where: str) -> list[dict[str, str]]:
    if not isinstance(messages, list) or not messages:
        raise ConfigError([Problem(where, "a template is a non-empty list of {role, content} messages")],
                          title="invalid template")
    problems = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str) \
                or not isinstance(message.get("content"), str):
            problems.append(Problem(f"{where}[{i}]", "must be {role: str, content: str}"))
            continue
        try:
            _fields(message["content"])
        except ValueError as exc:
            problems.append(Problem(f"{where}[{i}].content", f"is not a valid template ({exc}); write {{{{ for a "
                                                             f"literal brace"))
    if problems:
        raise ConfigError(problems, title="invalid template")
    return [{"role": m["role"], "content": m["content"]} for m in messages]


class GatewayTemplateError(ValueError):
    """A request's template reference or variables are wrong (the gateway answers 400)."""

    def __init__(self, message: str, param: str):
        super().__init__(message)
        self.param = param


class TemplateStore:
    """Versioned prompt templates in a SQLite file.

    Args:
        path: the database file (created with its folder if missing).
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(_SCHEMA)
        self._cache: dict[tuple[str, int], list[dict[str, str]]] = {}

    def add(self, name: str, messages: Any) -> int:
        """Store the next version of ``name``; returns its number."""
        if not isinstance(name, str) or not _REF.match(name) or "@" in name:
            raise ConfigError([Problem("name", f"template names are letters, digits, '.', '_' and '-' (at most 64), "
                                               f"got {name!r}")], title="invalid template")
        checked = _check(messages, name)
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                (latest,) = self._conn.execute("SELECT COALESCE(MAX(version), 0) FROM templates WHERE name = ?",
                                               (name,)).fetchone()
                version = int(latest) + 1
                self._conn.execute("INSERT INTO templates VALUES (?, ?, ?, ?)",
                                   (name, version, json.dumps(checked), time.time()))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return version

    def list(self) -> builtins.list[dict[str, Any]]:
        """Every template: name, latest version, the variables it needs."""
        with self._lock:
            rows = self._conn.execute("SELECT name, MAX(version) FROM templates GROUP BY name ORDER BY name").fetchall()
        out = []
        for name, version in rows:
            messages = self.get(name, int(version))
            out.append({"name": name, "version": int(version),
                        "variables": sorted(set().union(*(_fields(m["content"]) for m in messages)))})
        return out

    def get(self, name: str, version: int | None = None) -> builtins.list[dict[str, str]]:
        """The messages of one version (default: the latest). Raises KeyError when there is none."""
        if version is not None and (name, version) in self._cache:
            return self._cache[(name, version)]
        with self._lock:
            if version is None:
                row = self._conn.execute("SELECT version, messages_json FROM templates WHERE name = ? "
                                         "ORDER BY version DESC LIMIT 1", (name,)).fetchone()
            else:
                row = self._conn.execute("SELECT version, messages_json FROM templates WHERE name = ? AND version = ?",
                                         (name, version)).fetchone()
        if row is None:
            raise KeyError(name if version is None else f"{name}@{version}")
        messages: list[dict[str, str]] = json.loads(row[1])
        self._cache[(name, int(row[0]))] = messages
        return messages

    def render(self, ref: Any, variables: Any, messages: builtins.list[Any]) -> builtins.list[Any]:
        """The template ``ref`` rendered with ``variables``, followed by ``messages``.

        Raises:
            GatewayTemplateError: a malformed or unknown reference, or variables missing or not strings.
        """
        match = _REF.match(ref) if isinstance(ref, str) else None
        if match is None:
            raise GatewayTemplateError(f"template must be 'name' or 'name@version', got {ref!r}.", "template")
        name, version = match["name"], int(match["version"]) if match["version"] else None
        try:
            template = self.get(name, version)
        except KeyError:
            names = [t["name"] for t in self.list()]
            hint = did_you_mean(name, names)
            raise GatewayTemplateError(f"No template {ref!r}. {hint + ' ' if hint else ''}Templates: "
                                       f"{', '.join(names) or 'none'} (add one with `fathom gateway templates add`).",
                                       "template") from None
        values = variables if variables is not None else {}
        if not isinstance(values, dict) or not all(isinstance(v, str | int | float) for v in values.values()):
            raise GatewayTemplateError("variables must be an object of strings or numbers.", "variables")
        needed = set().union(*(_fields(m["content"]) for m in template))
        missing = sorted(needed - set(values))
        if missing:
            raise GatewayTemplateError(f"The template {ref!r} needs the variables {', '.join(missing)}; send them "
                                       f"in variables.", "variables")
        rendered = [{"role": m["role"], "content": m["content"].format_map(values)} for m in template]
        return [*rendered, *messages]

    def close(self) -> None:
        with self._lock:
            self._conn.close()

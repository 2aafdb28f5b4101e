"""API keys: created once, stored only as a hash, looked up from memory.

Covers :class:`KeyStore`, a table in a SQLite file (WAL, standard library only):

* :meth:`KeyStore.create` returns the secret (``fth-`` + 43 URL-safe characters, 256 random bits)
  exactly once. The file keeps its SHA-256 and the first 8 characters for display, never the secret.
  A plain hash (no salt, no key stretching) is enough here: a 256-bit random secret cannot be guessed,
  so there is nothing for a slow hash to protect, and a fast one keeps lookups cheap.
* :meth:`KeyStore.lookup` hashes the presented secret and answers from an in-memory map of the
  active keys. Another process's changes (``fathom keys revoke`` while the gateway runs) are noticed
  through ``PRAGMA data_version``: checked at most every ``refresh_s`` seconds on a hit (so a revoke
  takes effect within ``refresh_s``, 1 s by default) and on every miss (so a new key works at once).
* :meth:`KeyStore.revoke` by id or name; revoked keys stay listed and never match again. Names are
  unique among active keys, so a revoked name can be reused.
* :class:`KeyRecord`: the key's limits (rpm, tpm, budget in USD) and its models (None: all;
  entries may be shell-style patterns such as ``smollm2-135m:*``).

Not covered: editing a key's limits (revoke and create a new one), key expiry dates, users and teams.
"""

from __future__ import annotations

import builtins
import fnmatch
import hashlib
import json
import math
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fathom.errors import ConfigError, Problem, did_you_mean

__all__ = ["SECRET_PREFIX", "KeyRecord", "KeyStore", "hash_secret"]

SECRET_PREFIX = "fth-"
"""Every secret starts with this, so leaked keys are easy to recognise (and to scan for)."""
_DISPLAY_CHARS = 8

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL UNIQUE,
    models TEXT,
    rpm INTEGER,
    tpm INTEGER,
    budget_usd REAL,
    created TEXT NOT NULL,
    revoked TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS api_keys_active_name ON api_keys (name) WHERE revoked IS NULL;
"""
_COLUMNS = "id, name, prefix, models, rpm, tpm, budget_usd, created, revoked, secret_sha256"


def hash_secret(secret: str) -> str:
    """The SHA-256 (hex) under which a secret is stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class KeyRecord:
    """One API key, without its secret."""

    id: str
    """Stable id (``key_`` + 16 hex digits): in the ledger, the limits and the logs."""
    name: str
    """Who or what the key is for; unique among active keys."""
    prefix: str
    """The secret's first 8 characters, for telling keys apart in a list."""
    models: tuple[str, ...] | None
    """Models the key may use (exact names or shell-style patterns); None: all."""
    rpm: int | None
    """Requests a minute (per model), or None for no limit."""
    tpm: int | None
    """Tokens a minute (per model), or None for no limit."""
    budget_usd: float | None
    """Most the key may spend, in USD, or None for no budget."""
    created: datetime
    revoked: datetime | None
    """When it was revoked; None while active."""

    def allows(self, model: str) -> bool:
        """Whether the key may call ``model``.

        >>> KeyRecord("key_1", "ci", "fth-abcd", ("smollm2-135m:*",), None, None, None,
        ...           datetime(2026, 1, 1, tzinfo=UTC), None).allows("smollm2-135m:shipping")
        True
        """
        if self.revoked is not None:
            return False
        return self.models is None or any(m == model or fnmatch.fnmatchcase(model, m) for m in self.models)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields (for ``fathom keys list --json``)."""
        return {"id": self.id, "name": self.name, "prefix": self.prefix,
                "models": None if self.models is None else list(self.models), "rpm": self.rpm, "tpm": self.tpm,
                "budget_usd": self.budget_usd, "created": self.created.isoformat(),
                "revoked": None if self.revoked is None else self.revoked.isoformat()}


def _record(row: tuple[Any, ...]) -> KeyRecord:
    key_id, name, prefix, models, rpm, tpm, budget, created, revoked, _ = row
    return KeyRecord(key_id, name, prefix, None if models is None else tuple(json.loads(models)), rpm, tpm, budget,
                     datetime.fromisoformat(created), None if revoked is None else datetime.fromisoformat(revoked))


def _limit_problems(name: str, models: builtins.list[str] | None, rpm: int | None, tpm: int | None,
                    budget_usd: float | None) -> builtins.list[Problem]:
    problems = []
    if not isinstance(name, str) or not name.strip():
        problems.append(Problem("name", f"must be a non-empty string, got {name!r}"))
    if models is not None and (not isinstance(models, list | tuple) or not models
                               or not all(isinstance(m, str) and m for m in models)):
        problems.append(Problem("models", f"must be a non-empty list of model names or None (all models), "
                                          f"got {models!r}"))
    for field, value in (("rpm", rpm), ("tpm", tpm)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            problems.append(Problem(field, f"must be a whole number >= 1 or None (no limit), got {value!r}"))
    if budget_usd is not None and (isinstance(budget_usd, bool) or not isinstance(budget_usd, int | float)
                                   or not math.isfinite(budget_usd) or budget_usd < 0):
        problems.append(Problem("budget_usd", f"must be a number >= 0 or None (no budget), got {budget_usd!r}"))
    return problems


class KeyStore:
    """API keys in a SQLite file; safe to share between threads and processes.

    Args:
        path: the database file (created with its folder if missing).
        refresh_s: how stale the in-memory map may get before a hit checks the file for changes.
        clock: seconds on a monotonic clock (tests pass a fake one).
    """

    def __init__(self, path: Path, *, refresh_s: float = 1.0, clock: Callable[[], float] = time.monotonic):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.refresh_s = refresh_s
        self._clock = clock
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self._active: dict[str, KeyRecord] = {}
        self._version = -1
        self._checked = -math.inf
        with self._lock:
            self._reload()

    def _reload(self) -> None:
        rows = self._conn.execute(f"SELECT {_COLUMNS} FROM api_keys WHERE revoked IS NULL").fetchall()
        self._active = {row[-1]: _record(row) for row in rows}
        self._version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        self._checked = self._clock()

    def _refresh(self) -> None:
        """Reload if another connection committed since the last look (caller holds the lock)."""
        version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        if version != self._version:
            self._reload()
        self._checked = self._clock()

    def lookup(self, secret: str) -> KeyRecord | None:
        """The active key with this secret, or None (unknown or revoked)."""
        if not secret.startswith(SECRET_PREFIX):
            return None
        digest = hash_secret(secret)
        refreshed = False
        if self._clock() - self._checked >= self.refresh_s:
            with self._lock:
                self._refresh()
            refreshed = True
        record = self._active.get(digest)
        if record is None and not refreshed:
            with self._lock:
                self._refresh()
            record = self._active.get(digest)
        return record

    def create(self, name: str, *, models: builtins.list[str] | None = None, rpm: int | None = None,
               tpm: int | None = None, budget_usd: float | None = None) -> tuple[KeyRecord, str]:
        """Make a key; returns its record and its secret, which is shown now and never again.

        Raises:
            ConfigError: a bad limit, or an active key already has this name.
        """
        problems = _limit_problems(name, models, rpm, tpm, budget_usd)
        if problems:
            raise ConfigError(problems, title="invalid API key")
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        record = KeyRecord(f"key_{secrets.token_hex(8)}", name.strip(), secret[:_DISPLAY_CHARS],
                           None if models is None else tuple(models), rpm, tpm,
                           None if budget_usd is None else float(budget_usd), datetime.now(UTC), None)
        with self._lock:
            try:
                self._conn.execute(
                    f"INSERT INTO api_keys ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (record.id, record.name, record.prefix, None if models is None else json.dumps(list(models)),
                     rpm, tpm, record.budget_usd, record.created.isoformat(), None, hash_secret(secret)))
            except sqlite3.IntegrityError:
                existing = self._find(record.name)
                raise ConfigError([Problem("name", f"an active key named {record.name!r} exists "
                                           f"({existing.id if existing else '?'}); revoke it first or pick another "
                                           f"name")], title="invalid API key") from None
            self._reload()
        return record, secret

    def _find(self, key_id_or_name: str) -> KeyRecord | None:
        row = self._conn.execute(
            f"SELECT {_COLUMNS} FROM api_keys WHERE id = ? OR (name = ? AND revoked IS NULL) "
            "ORDER BY revoked IS NULL LIMIT 1", (key_id_or_name, key_id_or_name)).fetchone()
        return None if row is None else _record(row)

    def get(self, key_id_or_name: str) -> KeyRecord | None:
        """The key with this id (active or not), else the active key with this name, else None."""
        with self._lock:
            return self._find(key_id_or_name)

    def revoke(self, key_id_or_name: str) -> KeyRecord:
        """Revoke a key by id or (active) name; revoking a revoked key changes nothing.

        Raises:
            ConfigError: no key has this id or active name (the message lists the candidates).
        """
        with self._lock:
            record = self._find(key_id_or_name)
            if record is None:
                known = sorted(r[0] for r in self._conn.execute("SELECT name FROM api_keys WHERE revoked IS NULL"))
                message = " ".join(part for part in (
                    f"no key has the id or active name {key_id_or_name!r}.", did_you_mean(key_id_or_name, known),
                    f"Active keys: {', '.join(known) or 'none'} (`fathom keys list` shows their ids).") if part)
                raise ConfigError([Problem("revoke", message)], title="unknown API key")
            if record.revoked is None:
                when = datetime.now(UTC)
                self._conn.execute("UPDATE api_keys SET revoked = ? WHERE id = ?", (when.isoformat(), record.id))
                self._reload()
                record = self._find(record.id) or record
            return record

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._conn.close()

    def list(self, *, include_revoked: bool = True) -> builtins.list[KeyRecord]:
        """Every key, oldest first (without revoked ones when ``include_revoked`` is False)."""
        where = "" if include_revoked else " WHERE revoked IS NULL"
        with self._lock:
            rows = self._conn.execute(f"SELECT {_COLUMNS} FROM api_keys{where} ORDER BY created, id").fetchall()
        return [_record(row) for row in rows]

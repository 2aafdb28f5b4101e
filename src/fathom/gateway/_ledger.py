"""The usage and cost ledger: one SQLite row per request, written off the request path; and budgets.

Covers:

* :class:`Ledger`, a SQLite file in WAL mode with one writer thread. :meth:`Ledger.record` queues a
  :class:`UsageRow` and returns a future; the writer takes whatever is queued (up to ``max_batch``)
  into one transaction (group commit) and resolves each future only after that transaction
  COMMITTED. A client that was answered after its future resolved has its row on disk: with
  ``synchronous=NORMAL`` in WAL mode a committed transaction survives the process being killed
  (SIGKILL, OOM); ``synchronous="FULL"`` also survives power loss, at an fsync per commit. A
  transaction is all or nothing, so a kill never leaves part of a row.
* The cost is fixed at write time from a :class:`~fathom.gateway._prices.PriceTable`, with the
  table's version beside it (``docs/serving-notes.md`` §7 lists the columns).
* Reading: :meth:`Ledger.usage` (requests, tokens, cost, errors and median latency by key, model or
  adapter), :meth:`Ledger.spend` (a key's cost, for budgets).
* Conversation text in a separate table, ``chat_logs``, written only by :meth:`Ledger.log_chat` with
  text the caller has already redacted; :meth:`Ledger.purge` deletes what is older than the
  retention period.
* :class:`BudgetGuard`: admits a request only if the key's committed spend, plus the reserved cost
  of its requests in flight, plus this request's reserved cost (prompt estimate + ``max_tokens`` at
  the key's prices) stays within its budget. Checked and reserved under one lock, so concurrent
  requests in one process cannot overshoot together (the check-then-add-later race of litellm#34732
  and #40095); a hold is released only once its row committed, so no moment exists in which a
  request's cost is in neither the holds nor the ledger.

Not covered: Postgres (same interface later), exact budgets across several gateway processes (see
:class:`BudgetGuard`), usage rows for requests refused before authentication.
"""

from __future__ import annotations

import asyncio
import json
import math
import queue
import sqlite3
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from fathom.errors import ConfigError, OutputError, Problem, did_you_mean
from fathom.gateway._prices import PriceTable

__all__ = ["BudgetGuard", "BudgetHold", "Ledger", "RowBatcher", "UsageRow"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS usage (
    request_id TEXT PRIMARY KEY,
    ts REAL NOT NULL,
    key_id TEXT,
    model TEXT NOT NULL,
    adapter TEXT,
    upstream TEXT,
    status INTEGER NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    reserved_tokens INTEGER NOT NULL,
    ttft_ms REAL,
    latency_ms REAL,
    price_version TEXT NOT NULL,
    cost REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_key_ts ON usage (key_id, ts);
CREATE INDEX IF NOT EXISTS usage_ts ON usage (ts);
CREATE TABLE IF NOT EXISTS chat_logs (
    request_id TEXT PRIMARY KEY,
    ts REAL NOT NULL,
    key_id TEXT,
    model TEXT NOT NULL,
    messages_json TEXT NOT NULL,
    answer TEXT
);
CREATE INDEX IF NOT EXISTS chat_logs_ts ON chat_logs (ts);
"""
_USAGE_COLUMNS = ("request_id", "ts", "key_id", "model", "adapter", "upstream", "status", "prompt_tokens",
                  "completion_tokens", "reserved_tokens", "ttft_ms", "latency_ms", "price_version", "cost")
_INSERT_USAGE = f"INSERT INTO usage ({', '.join(_USAGE_COLUMNS)}) VALUES ({', '.join('?' * len(_USAGE_COLUMNS))})"
_GROUPS = {"key": "key_id", "model": "model", "adapter": "adapter"}
_STOP = object()


@dataclass(frozen=True, kw_only=True)
class UsageRow:
    """One request in the ledger."""

    request_id: str
    """Unique; a second row with the same id is refused (its future raises ``sqlite3.IntegrityError``)."""
    ts: datetime | None = None
    """When the request arrived (UTC; naive times are taken as UTC); None: when recorded."""
    key_id: str | None
    model: str
    adapter: str | None = None
    upstream: str | None = None
    """Which engine or upstream URL served it."""
    status: int
    """The HTTP status answered (>= 400 counts as an error; 499: the client went away)."""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reserved_tokens: int = 0
    """What the rate limiter reserved at admission."""
    ttft_ms: float | None = None
    """Time to the first content token (streams)."""
    latency_ms: float | None = None
    price_version: str | None = None
    """None: priced by the ledger's table when recorded."""
    cost: float | None = None
    """USD; None: priced by the ledger's table when recorded."""


def _epoch(ts: datetime) -> float:
    return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).timestamp()


@dataclass
class _Job:
    run: Callable[[sqlite3.Connection], Any]
    future: Future[Any]


class Ledger:
    """Usage rows and chat logs in a SQLite file, written by one background thread.

    Args:
        path: the database file (created with its folder if missing).
        prices: the table that prices rows recorded without a cost; default: everything free.
        synchronous: ``"NORMAL"`` survives a killed process, ``"FULL"`` also a power cut.
        max_batch: the most writes one transaction takes.
    """

    def __init__(self, path: Path, *, prices: PriceTable | None = None,
                 synchronous: Literal["NORMAL", "FULL"] = "NORMAL", max_batch: int = 1000):
        if synchronous not in ("NORMAL", "FULL"):
            raise ConfigError([Problem("synchronous", f"must be 'NORMAL' or 'FULL', got {synchronous!r}")],
                              title="invalid ledger")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.prices = prices or PriceTable.free()
        self.max_batch = max_batch
        self.commits = 0
        """Transactions committed so far (fewer than writes when group commit batches them)."""
        self.writes = 0
        """Writes committed so far."""
        self._queue: queue.SimpleQueue[_Job | object] = queue.SimpleQueue()
        self._closed = False
        self._close_lock = threading.Lock()
        writer = self._connect(synchronous)
        writer.executescript(_SCHEMA)
        self._reader = self._connect(synchronous)
        self._read_lock = threading.Lock()
        self._thread = threading.Thread(target=self._write_loop, args=(writer,), name="fathom-ledger", daemon=True)
        self._thread.start()

    def _connect(self, synchronous: str) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        return conn

    # ---- writing ------------------------------------------------------------------------------------

    def _submit(self, run: Callable[[sqlite3.Connection], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        with self._close_lock:
            if self._closed:
                raise OutputError(f"the ledger {self.path} is closed; nothing more can be written to it")
            self._queue.put(_Job(run, future))
        return future

    def _write_loop(self, conn: sqlite3.Connection) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is _STOP:
                break
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is _STOP:
                    stop = True
                    break
                batch.append(job)
            self._commit(conn, [job for job in batch if isinstance(job, _Job)])
        conn.close()

    def _commit(self, conn: sqlite3.Connection, batch: list[_Job]) -> None:
        """Run a batch in one transaction; resolve each future after COMMIT (or fail it)."""
        live = [job for job in batch if job.future.set_running_or_notify_cancel()]  # cancelled: not written
        done: list[tuple[_Job, Any]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job in live:
                try:
                    done.append((job, job.run(conn)))
                except Exception as e:  # handed to the caller through its future; the writer carries on
                    if isinstance(e, sqlite3.Error) and not conn.in_transaction:  # the whole transaction is gone
                        raise
                    job.future.set_exception(e)  # only this statement was undone
            conn.execute("COMMIT")
        except sqlite3.Error as e:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for job in live:
                if not job.future.done():
                    job.future.set_exception(e)
            return
        self.commits += 1
        self.writes += len(done)
        for job, result in done:
            job.future.set_result(result)

    def price(self, row: UsageRow) -> UsageRow:
        """The row with ``price_version`` and ``cost`` filled from the ledger's table (if not set)."""
        if row.cost is not None and row.price_version is not None:
            return row
        version, cost = self.prices.cost(row.model, row.adapter, row.prompt_tokens, row.completion_tokens)
        return replace(row, price_version=row.price_version or version, cost=cost if row.cost is None else row.cost)

    def record(self, row: UsageRow) -> Future[None]:
        """Queue one usage row; the future resolves once its transaction committed.

        Raises:
            OutputError: the ledger is closed.
        """
        params = self._params(row)

        def insert(conn: sqlite3.Connection) -> None:
            conn.execute(_INSERT_USAGE, params)

        return self._submit(insert)

    def _params(self, row: UsageRow) -> tuple[Any, ...]:
        row = self.price(row)
        ts = _epoch(row.ts) if row.ts is not None else time.time()
        return tuple(ts if c == "ts" else getattr(row, c) for c in _USAGE_COLUMNS)  # asdict() deep-copies

    def record_many(self, rows: Sequence[UsageRow]) -> Future[list[Exception | None]]:
        """Queue several usage rows as one job: one hand-off to the writer thread instead of one per row.

        The rows share a transaction but not a fate: a row that fails (a duplicate ``request_id``) is
        undone alone. The future resolves once they committed, to one entry per row: None when it was
        written, else the exception it raised.

        Raises:
            OutputError: the ledger is closed.
        """
        batch = [self._params(row) for row in rows]

        def insert(conn: sqlite3.Connection) -> list[Exception | None]:
            results: list[Exception | None] = []
            for params in batch:
                try:
                    conn.execute(_INSERT_USAGE, params)
                    results.append(None)
                except sqlite3.IntegrityError as e:  # the statement is undone (ABORT), the transaction goes on
                    results.append(e)
            return results

        return self._submit(insert)

    def log_chat(self, request_id: str, *, key_id: str | None, model: str, messages: Any, answer: str | None,
                 ts: datetime | None = None) -> Future[None]:
        """Queue a conversation for the ``chat_logs`` table. Pass text already redacted: it is stored as is.

        Args:
            request_id: the request's id (as in its usage row).
            key_id: the key that made it.
            model: the model asked for.
            messages: the (redacted) request messages, stored as JSON.
            answer: the (redacted) reply text.
            ts: when; None: now.
        """
        params = (request_id, _epoch(ts) if ts is not None else time.time(), key_id, model,
                  json.dumps(messages, ensure_ascii=False), answer)

        def insert(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO chat_logs (request_id, ts, key_id, model, messages_json, answer) "
                         "VALUES (?, ?, ?, ?, ?, ?)", params)

        return self._submit(insert)

    def purge(self, older_than_days: float, *, usage: bool = False) -> int:
        """Delete chat logs (and, with ``usage=True``, usage rows) older than this; returns rows deleted.

        Usage rows are kept by default: budgets are sums over them.
        """
        if not older_than_days >= 0:
            raise ConfigError([Problem("older_than_days", f"must be >= 0, got {older_than_days!r}")],
                              title="invalid purge")
        cutoff = time.time() - older_than_days * 86400

        def delete(conn: sqlite3.Connection) -> int:
            deleted = conn.execute("DELETE FROM chat_logs WHERE ts < ?", (cutoff,)).rowcount
            if usage:
                deleted += conn.execute("DELETE FROM usage WHERE ts < ?", (cutoff,)).rowcount
            return int(deleted)

        return int(self._submit(delete).result())

    def close(self) -> None:
        """Write everything queued, then stop the writer and close the file (idempotent)."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_STOP)
        self._thread.join()
        with self._read_lock:
            self._reader.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- reading ------------------------------------------------------------------------------------

    def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._read_lock:
            return self._reader.execute(sql, params).fetchall()

    @staticmethod
    def usage_columns(by: str) -> list[str]:
        """The keys of each :meth:`usage` row for a grouping (the header of an empty report too)."""
        return [_GROUPS.get(by, by), "requests", "prompt_tokens", "completion_tokens", "cost", "errors",
                "p50_latency_ms"]

    def usage(self, by: str = "key", since: datetime | None = None) -> list[dict[str, Any]]:
        """Totals per key (``key_id``), model or adapter since a time (default: all rows).

        Each dict has the group's column (``key_id``, ``model`` or ``adapter``) and ``requests``,
        ``prompt_tokens``, ``completion_tokens``, ``cost``, ``errors`` (status >= 400) and
        ``p50_latency_ms`` (None without latencies), sorted by the group.

        Raises:
            ConfigError: ``by`` is not key, model or adapter.
        """
        column = _GROUPS.get(by)
        if column is None:
            raise ConfigError([Problem("by", f"unknown grouping {by!r}. {did_you_mean(by, _GROUPS)} "
                                       f"Valid: {', '.join(_GROUPS)}.")], title="invalid usage query")
        start = _epoch(since) if since is not None else -math.inf
        rows = self._read(
            f"SELECT {column}, COUNT(*), SUM(prompt_tokens), SUM(completion_tokens), SUM(cost), "
            f"SUM(status >= 400) FROM usage WHERE ts >= ? GROUP BY {column} ORDER BY {column}", (start,))
        latencies: dict[Any, list[float]] = defaultdict(list)
        for group, latency in self._read(f"SELECT {column}, latency_ms FROM usage WHERE ts >= ? AND "
                                         "latency_ms IS NOT NULL", (start,)):
            latencies[group].append(latency)
        return [{column: group, "requests": n, "prompt_tokens": prompt, "completion_tokens": completion,
                 "cost": cost, "errors": errors,
                 "p50_latency_ms": statistics.median(latencies[group]) if latencies.get(group) else None}
                for group, n, prompt, completion, cost, errors in rows]

    def spend(self, key_id: str, since: datetime | None = None) -> float:
        """USD a key has spent (committed rows), since a time or ever."""
        start = _epoch(since) if since is not None else -math.inf
        ((total,),) = self._read("SELECT COALESCE(SUM(cost), 0) FROM usage WHERE key_id = ? AND ts >= ?",
                                 (key_id, start))
        return float(total)


@dataclass
class BudgetHold:
    """What :meth:`BudgetGuard.admit` decided, and the cost it holds while the request runs."""

    allowed: bool
    key_id: str
    reserved_usd: float
    """Cost held for this request (0 when refused or when the key has no budget)."""
    spent_usd: float
    """Committed spend plus other requests' holds when it was checked."""
    budget_usd: float | None
    detail: str = ""
    """Why it was refused, with the numbers."""
    released: bool = field(default=False, init=False)


class BudgetGuard:
    """Budgets checked at admission, with the request's worst-case cost held while it runs.

    In one process this is exact: ``spent + held + reserved <= budget`` is checked and the hold
    taken under one lock, and a hold is dropped only after its row committed, so concurrent
    requests cannot together pass a budget. Spend can still exceed a budget by however much the
    prompt estimate undercounted the real prompt of requests in flight.

    With several gateway processes on one ledger file, each sees the others' committed spend within
    ``refresh_s`` (it re-reads the SQL sum that often) but not their requests in flight, so the
    overshoot is bounded by what the other processes have in flight plus ``refresh_s`` of their spend.
    Exact budgets across processes would need the holds in a shared store (Redis); not built yet.

    Args:
        ledger: where spend is summed; its price table prices the reservations.
        window: only spend this recent counts (a rolling budget); None: all time.
        refresh_s: how often a key's committed spend is re-read from the ledger.
        clock: seconds on a monotonic clock (tests pass a fake one).
    """

    def __init__(self, ledger: Ledger, *, window: timedelta | None = None, refresh_s: float = 1.0,
                 clock: Callable[[], float] = time.monotonic):
        self.ledger = ledger
        self.window = window
        self.refresh_s = refresh_s
        self._clock = clock
        self._lock = threading.Lock()
        self._committed: dict[str, tuple[float, float]] = {}  # key -> (SQL sum, read at)
        self._since_read: dict[str, float] = defaultdict(float)  # cost committed here since the SQL read
        self._held: dict[str, float] = defaultdict(float)

    def _spent(self, key_id: str) -> float:
        cached = self._committed.get(key_id)
        now = self._clock()
        if cached is None or now - cached[1] >= self.refresh_s:
            since = datetime.now(UTC) - self.window if self.window is not None else None
            cached = (self.ledger.spend(key_id, since), now)
            self._committed[key_id] = cached
            self._since_read[key_id] = 0.0
        return cached[0] + self._since_read[key_id]

    def admit(self, key_id: str, budget_usd: float | None, *, model: str, adapter: str | None, prompt_tokens: int,
              max_tokens: int) -> BudgetHold:
        """Check the budget and hold this request's worst-case cost.

        Args:
            key_id: the key.
            budget_usd: its budget; None admits without holding anything.
            model: the model (for its price).
            adapter: the adapter, if any (for its price).
            prompt_tokens: the prompt's tokens (estimated).
            max_tokens: the most the reply may have.
        """
        if budget_usd is None:
            return BudgetHold(True, key_id, 0.0, 0.0, None)
        _, reserved = self.ledger.prices.cost(model, adapter, prompt_tokens, max_tokens)
        with self._lock:
            spent = self._spent(key_id) + self._held[key_id]
            if spent + reserved > budget_usd + 1e-12:
                detail = (f"This key's budget of ${budget_usd:.6g} would be exceeded: ${spent:.6g} spent or "
                          f"held by requests in flight, and this request may cost up to ${reserved:.6g} "
                          f"({prompt_tokens} prompt + {max_tokens} max_tokens). Lower max_tokens or raise "
                          f"the budget.")
                return BudgetHold(False, key_id, 0.0, spent, budget_usd, detail)
            self._held[key_id] += reserved
        return BudgetHold(True, key_id, reserved, spent, budget_usd)

    def record(self, hold: BudgetHold, row: UsageRow) -> Future[None]:
        """Record the request's row in the ledger; its hold is released once the row committed."""
        row = self.ledger.price(row)
        future = self.ledger.record(row)
        cost = float(row.cost or 0.0)
        future.add_done_callback(lambda f: self._release(hold, cost if not f.cancelled() and f.exception() is None
                                                         else 0.0))
        return future

    def record_many(self, items: Sequence[tuple[BudgetHold | None, UsageRow]]) -> Future[list[Exception | None]]:
        """:meth:`record` for several rows in one ledger job (:meth:`Ledger.record_many`); a None hold has
        nothing to release."""
        rows = [self.ledger.price(row) for _, row in items]
        future = self.ledger.record_many(rows)

        def settle(f: Future[list[Exception | None]]) -> None:
            failed = f.cancelled() or f.exception() is not None
            results = [None] * len(rows) if failed else f.result()
            for (hold, _), row, error in zip(items, rows, results, strict=True):
                if hold is not None:
                    self._release(hold, 0.0 if failed or error is not None else float(row.cost or 0.0))

        future.add_done_callback(settle)
        return future

    def release(self, hold: BudgetHold) -> None:
        """Drop a hold without recording anything (the request never ran)."""
        self._release(hold, 0.0)

    def _release(self, hold: BudgetHold, committed_cost: float) -> None:
        with self._lock:
            if hold.released or not hold.allowed or hold.budget_usd is None:
                return
            hold.released = True
            self._held[hold.key_id] -= hold.reserved_usd
            self._since_read[hold.key_id] += committed_cost


class RowBatcher:
    """Usage rows finished in one event-loop turn, handed to the ledger as one job.

    Each hand-off to the writer thread costs a wake-up there and one back into the loop when it has
    committed; with many requests in flight these crossings, not SQLite, were a fifth of the gateway's
    time. :meth:`add` queues a row and returns an asyncio future; the first row of a turn schedules a
    flush at the end of the turn, which sends every queued row in one :meth:`BudgetGuard.record_many`
    and resolves their futures together once they committed.

    Args:
        budgets: the budget guard (and through it the ledger) the rows go to.
    """

    def __init__(self, budgets: BudgetGuard):
        self.budgets = budgets
        self._pending: list[tuple[BudgetHold | None, UsageRow, asyncio.Future[None]]] = []

    def add(self, hold: BudgetHold | None, row: UsageRow) -> asyncio.Future[None]:
        """Queue one row (with its budget hold, if any); the future resolves once the row committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._pending.append((hold, row, future))
        if len(self._pending) == 1:
            loop.call_soon(self._flush, loop)
        return future

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        pending, self._pending = self._pending, []
        try:
            done = self.budgets.record_many([(hold, row) for hold, row, _ in pending])
        except Exception as e:  # the ledger is closed
            self._resolve(pending, None, e)
            return
        done.add_done_callback(lambda f: loop.call_soon_threadsafe(self._resolve, pending, f, None))

    @staticmethod
    def _resolve(pending: list[tuple[BudgetHold | None, UsageRow, asyncio.Future[None]]],
                 done: Future[list[Exception | None]] | None, error: BaseException | None) -> None:
        if done is not None and error is None:
            error = done.exception() if not done.cancelled() else OutputError("the ledger write was cancelled")
        results = done.result() if done is not None and error is None else [error] * len(pending)
        for (_, _, future), result in zip(pending, results, strict=True):
            if future.done():
                continue
            if result is None:
                future.set_result(None)
            else:
                future.set_exception(result)

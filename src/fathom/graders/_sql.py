"""The ``sql_exec`` grader: run the generated SQL and the gold SQL on the same SQLite database and
compare their result sets.

Covers: databases given as a file path (opened read-only) or inline (``reference.schema`` DDL plus
``reference.rows``, built in memory), a read-only connection that only allows reading statements, a
wall-clock timeout, SQL extraction from code fences, and order-aware or multiset comparison with
partial credit for overlapping rows.
Not covered: other database engines, comparing query text (two different queries that return the
same rows are equally right).
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from fathom.errors import ConfigError, GraderError
from fathom.graders._common import ref_field
from fathom.graders._protocol import Grade, completion_text
from fathom.graders._toolcall_match import name_prf

__all__ = ["extract_sql", "sql_exec"]

_FENCE = re.compile(r"```(?:sql|sqlite)?\s*\n?(.*?)```", re.DOTALL | re.IGNORECASE)
_ALLOWED = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
            getattr(sqlite3, "SQLITE_RECURSIVE", 33)}


def extract_sql(text: str) -> str:
    """The SQL in a completion: the first fenced block's body, else the whole text; trailing ``;`` dropped.

    >>> extract_sql("Here you go:\\n```sql\\nSELECT 1;\\n```")
    'SELECT 1'
    """
    fenced = _FENCE.search(text)
    sql = (fenced.group(1) if fenced else text).strip()
    return sql.rstrip(";").strip()


def _authorize(action: int, *_: Any) -> int:
    return sqlite3.SQLITE_OK if action in _ALLOWED else sqlite3.SQLITE_DENY


def _inline_db(schema: str, rows: dict[str, Iterable[Sequence[Any] | dict[str, Any]]]) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    try:
        conn.executescript(schema)
        for table, table_rows in (rows or {}).items():
            for row in table_rows:
                if isinstance(row, dict):
                    cols = ", ".join(f'"{c}"' for c in row)
                    conn.execute(f'INSERT INTO "{table}" ({cols}) VALUES ({", ".join("?" * len(row))})',
                                 list(row.values()))
                else:
                    conn.execute(f'INSERT INTO "{table}" VALUES ({", ".join("?" * len(row))})', list(row))
        conn.commit()
    except (sqlite3.Error, TypeError) as exc:
        conn.close()
        raise GraderError(f"sql_exec: the inline database in reference.schema/rows does not build: {exc}. "
                          "Fix the example.") from exc
    return conn


def _normalise(value: Any, digits: int) -> Any:
    if isinstance(value, float):
        return int(value) if value.is_integer() else round(value, digits)
    return value


@dataclass(frozen=True)
class _SqlExec:
    name: ClassVar[str] = "sql_exec"
    order_matters: bool
    timeout_s: float
    max_rows: int
    float_digits: int
    partial: float
    db_root: str | None

    def _connect(self, example: dict[str, Any]) -> sqlite3.Connection:
        db, schema = ref_field(example, "db"), ref_field(example, "schema")
        if isinstance(db, str):
            path = Path(self.db_root or ".") / db
            if not path.is_file():
                raise GraderError(f"sql_exec: reference.db {str(path)!r} is not a file. Give an existing SQLite "
                                  "file (relative paths resolve against the grader's db_root).")
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        elif isinstance(schema, str):
            conn = _inline_db(schema, ref_field(example, "rows") or {})
        else:
            raise GraderError("sql_exec: the example names no database. Give reference.db (a SQLite file) or "
                              "reference.schema (CREATE statements) with reference.rows ({table: [rows]}).")
        conn.execute("PRAGMA query_only = ON")
        conn.set_authorizer(_authorize)
        return conn

    def _run(self, conn: sqlite3.Connection, sql: str) -> list[tuple[Any, ...]]:
        deadline = time.monotonic() + self.timeout_s
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
        try:
            rows = conn.execute(sql).fetchmany(self.max_rows + 1)
        finally:
            conn.set_progress_handler(None, 0)
        if len(rows) > self.max_rows:
            raise sqlite3.OperationalError(f"more than max_rows={self.max_rows} rows")
        return [tuple(_normalise(v, self.float_digits) for v in row) for row in rows]

    def __call__(self, example: dict[str, Any], completion: dict[str, Any] | str) -> Grade:
        gold_sql = ref_field(example, "sql")
        if not isinstance(gold_sql, str):
            raise GraderError("sql_exec: the example has no reference.sql (the gold query).")
        ordered = ref_field(example, "order_matters")
        ordered = self.order_matters if ordered is None else bool(ordered)
        sql = extract_sql(completion_text(completion))
        conn = self._connect(example)
        try:
            try:
                gold = self._run(conn, gold_sql)
            except (sqlite3.Error, ValueError) as exc:
                raise GraderError(f"sql_exec: the gold SQL fails: {exc}. Fix reference.sql.") from exc
            try:
                got = self._run(conn, sql)
            except (sqlite3.Error, ValueError) as exc:
                message = "timed out" if "interrupted" in str(exc) else str(exc)
                return Grade(0.0, {"executes": 0.0, "result_match": 0.0, "row_f1": 0.0}, {"executes": False},
                             f"the generated SQL fails: {message}")
        finally:
            conn.close()
        return self._compare(got, gold, ordered)

    def _compare(self, got: list[tuple[Any, ...]], gold: list[tuple[Any, ...]], ordered: bool) -> Grade:
        match = got == gold if ordered else Counter(got) == Counter(gold)
        keys_got, keys_gold = [repr(r) for r in got], [repr(r) for r in gold]
        row_f1 = name_prf(keys_got, keys_gold)[2]
        score = 1.0 if match else self.partial * row_f1
        how = "in order" if ordered else "as a multiset"
        reason = (f"result matches the gold result {how} ({len(gold)} rows)" if match else
                  f"result differs {how}: {len(got)} rows vs {len(gold)} expected, row F1 {row_f1:.2f}")
        return Grade(score, {"executes": 1.0, "result_match": float(match), "row_f1": row_f1},
                     {"executes": True}, reason)


def sql_exec(*, order_matters: bool = False, timeout_s: float = 5.0, max_rows: int = 10_000, float_digits: int = 6,
             partial: float = 0.5, db_root: str | None = None) -> _SqlExec:
    """Execution accuracy for text-to-SQL: the generated query must return the gold query's rows.

    Why: many different queries are correct; comparing what they return is the standard check
    (Spider/BIRD execution accuracy). The connection is read-only and only reading statements are
    authorised, so a generated ``DROP TABLE`` cannot harm the database; an error or timeout fails
    the ``executes`` gate and the error becomes the reason.

    The example gives ``reference.sql`` and either ``reference.db`` (a SQLite file path) or
    ``reference.schema`` (CREATE statements) with ``reference.rows`` (``{table: [row, ...]}``, rows as
    lists or dicts); ``reference.order_matters`` overrides ``order_matters``.

    Args:
        order_matters: compare rows in order (for ``ORDER BY`` questions) instead of as multisets.
        timeout_s: wall-clock limit per query.
        max_rows: a result with more rows fails (guards against cross joins).
        float_digits: floats are rounded to this many digits before comparing.
        partial: score for a result that differs is ``partial x`` row-multiset F1 (0 = all or nothing).
        db_root: folder that relative ``reference.db`` paths resolve against (default: the cwd).

    Returns:
        A grader with components ``executes``, ``result_match`` and ``row_f1``.

    >>> example = {"reference": {"sql": "SELECT name FROM area WHERE wind >= 8",
    ...     "schema": "CREATE TABLE area (name TEXT, wind INT)",
    ...     "rows": {"area": [["Viking", 8], ["Forth", 5], ["Fisher", 9]]}}}
    >>> grade = sql_exec()
    >>> grade(example, "```sql\\nSELECT name FROM area WHERE wind > 7 ORDER BY name\\n```").score
    1.0
    >>> grade(example, "SELECT name FROM area").score   # 2 of 3 rows right: 0.5 x F1 0.8
    0.4
    >>> g = grade(example, "DROP TABLE area"); g.score, g.gates
    (0.0, {'executes': False})
    """
    if timeout_s <= 0 or max_rows < 1 or not 0.0 <= partial < 1.0:
        raise ConfigError([f"grader 'sql_exec': need timeout_s > 0, max_rows >= 1 and 0 <= partial < 1; got "
                           f"{timeout_s}, {max_rows}, {partial}."])
    return _SqlExec(order_matters, float(timeout_s), int(max_rows), int(float_digits), float(partial), db_root)

"""sql_exec (read-only execution, timeouts, result comparison) and the weighted composite."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from fathom.errors import ConfigError, GraderError
from fathom.graders import Grade, build_grader, sql_exec, weighted

INLINE = {"schema": "CREATE TABLE area (name TEXT, wind INT, sea TEXT);",
          "rows": {"area": [["Viking", 8, "rough"], {"name": "Forth", "wind": 5, "sea": "moderate"},
                            ["Fisher", 9, "high"]]}}


def test_inline_database_and_partial_credit() -> None:
    ex = {"reference": {"sql": "SELECT name FROM area WHERE wind >= 8", **INLINE}}
    grade = sql_exec()
    assert grade(ex, "SELECT name FROM area WHERE wind > 7;").score == 1.0
    # 3 rows vs 2: TP 2, P 2/3, R 1, F1 0.8 -> 0.5 * 0.8
    near = grade(ex, "SELECT name FROM area")
    assert near.score == pytest.approx(0.4) and near.components["row_f1"] == pytest.approx(0.8)
    assert sql_exec(partial=0.0)(ex, "SELECT name FROM area").score == 0.0
    assert grade(ex, "SELECT 'nothing' WHERE 0").score == 0.0  # empty vs 2 rows: F1 0


def test_order_aware_when_asked() -> None:
    gold = "SELECT name FROM area ORDER BY wind DESC"
    reversed_order = "SELECT name FROM area ORDER BY wind ASC"
    ex = {"reference": {"sql": gold, **INLINE}}
    assert sql_exec()(ex, reversed_order).score == 1.0  # multiset comparison by default
    assert sql_exec(order_matters=True)(ex, reversed_order).components["result_match"] == 0.0
    assert sql_exec()({"reference": {**ex["reference"], "order_matters": True}}, reversed_order).score < 1.0


def test_floats_are_compared_rounded() -> None:
    ex = {"reference": {"sql": "SELECT 0.1 + 0.2", **INLINE}}
    assert sql_exec()(ex, "SELECT 0.3").score == 1.0
    assert sql_exec(float_digits=20)(ex, "SELECT 0.3").score < 1.0


def test_errors_fail_the_gate_with_the_error_as_reason() -> None:
    ex = {"reference": {"sql": "SELECT name FROM area", **INLINE}}
    missing = sql_exec()(ex, "SELECT nme FROM area")
    assert missing.gates == {"executes": False} and "no such column: nme" in missing.reason
    write = sql_exec()(ex, "DELETE FROM area")
    assert write.score == 0.0 and "not authorized" in write.reason
    two = sql_exec()(ex, "SELECT 1; SELECT 2")
    assert two.gates == {"executes": False}
    with pytest.raises(GraderError, match="the gold SQL fails"):
        sql_exec()({"reference": {"sql": "SELECT * FROM nowhere", **INLINE}}, "SELECT 1")
    with pytest.raises(GraderError, match="names no database"):
        sql_exec()({"reference": {"sql": "SELECT 1"}}, "SELECT 1")


def test_database_file_is_opened_read_only(tmp_path: Path) -> None:
    path = tmp_path / "sea.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE area (name TEXT)")
        conn.executemany("INSERT INTO area VALUES (?)", [("Viking",), ("Forth",)])
    ex = {"reference": {"sql": "SELECT count(*) FROM area", "db": "sea.db"}}
    grade = sql_exec(db_root=str(tmp_path))
    assert grade(ex, "SELECT COUNT(name) FROM area").score == 1.0
    for attack in ("DROP TABLE area", "INSERT INTO area VALUES ('X')", "PRAGMA query_only = OFF",
                   f"ATTACH DATABASE '{tmp_path / 'other.db'}' AS o"):
        assert grade(ex, attack).gates == {"executes": False}, attack
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM area").fetchone() == (2,)
    assert not (tmp_path / "other.db").exists()
    with pytest.raises(GraderError, match="is not a file"):
        sql_exec()({"reference": {"sql": "SELECT 1", "db": str(tmp_path / "nope.db")}}, "SELECT 1")


def test_timeout_and_row_limit() -> None:
    ex = {"reference": {"sql": "SELECT 1", **INLINE}}
    forever = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
    start = time.monotonic()
    g = sql_exec(timeout_s=0.2)(ex, forever)
    assert time.monotonic() - start < 5
    assert g.gates == {"executes": False} and "timed out" in g.reason
    many = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50) SELECT i FROM n"
    assert "max_rows" in sql_exec(max_rows=10)(ex, many).reason
    with pytest.raises(ConfigError, match="timeout_s > 0"):
        sql_exec(timeout_s=0)


def test_weighted_mean_and_gates() -> None:
    spec = {"name": "weighted", "graders": [
        {"grader": {"name": "json_schema", "schema": {"type": "object", "required": ["area"]}}, "weight": 0,
         "gate": True},
        {"grader": {"name": "regex", "pattern": "Viking"}, "weight": 1},
        {"grader": {"name": "regex", "pattern": "gale"}, "weight": 3},
    ]}
    grade = build_grader(spec)
    both = grade({}, '{"area": "Viking", "note": "gale"}')
    assert both.score == 1.0 and both.gates == {"json_schema": True}
    one = grade({}, '{"area": "Viking"}')
    assert one.score == pytest.approx(0.25)  # (1 * 1 + 3 * 0) / 4
    assert set(one.components) >= {"json_schema", "json_schema.schema_valid", "regex", "regex_2", "regex_2.regex"}
    gated = grade({}, '{"place": "Viking gale"}')
    assert gated.score == 0.0 and gated.gates == {"json_schema": False}
    assert gated.components["regex"] == 1.0  # components are still reported


def test_weighted_min_score_names_and_short_circuit() -> None:
    calls: list[str] = []

    def spy(example: dict[str, object], completion: object) -> Grade:
        calls.append("spy")
        return Grade(0.5, {"half": 0.5})

    entries = [{"grader": {"name": "exact"}, "weight": 1, "gate": True, "min_score": 1.0, "name": "must"},
               {"grader": spy, "weight": 1, "name": "soft"}]
    ex = {"reference": {"text": "yes"}}
    assert weighted(graders=entries)(ex, "yes").score == pytest.approx(0.75)
    assert weighted(graders=entries)(ex, "no").score == 0.0 and calls == ["spy", "spy"]
    skipped = weighted(graders=entries, short_circuit=True)(ex, "no")
    assert calls == ["spy", "spy"] and "soft: skipped" in skipped.reason
    lenient = [dict(entries[0], min_score=0.0), entries[1]]
    assert weighted(graders=lenient)(ex, "no").score == pytest.approx(0.25)


def test_weighted_reports_every_bad_entry() -> None:
    with pytest.raises(ConfigError) as info:
        weighted(graders=[{"grader": "nope"}, {"grader": "exact", "weight": -1, "colour": "red"}, "exact"])
    text = str(info.value)
    assert "graders[0]" in text and "Unknown grader 'nope'" in text
    assert "weight must be a number >= 0" in text and "unknown key(s) ['colour']" in text
    assert "graders[2]" in text
    with pytest.raises(ConfigError, match="no entry has a weight > 0"):
        weighted(graders=[{"grader": "exact", "weight": 0, "gate": True}])

"""The usage ledger (commit before acknowledge, group commit, a killed writer), prices and budgets."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta

import pytest

from fathom.errors import ConfigError, OutputError
from fathom.gateway._ledger import BudgetGuard, Ledger, UsageRow
from fathom.gateway._prices import PriceTable

PRICES = PriceTable.from_dict({
    "version": "2026-12-01",
    "prices": {"m": {"input_per_mtok": 1.0, "output_per_mtok": 2.0},
               "m:ad": {"input_per_mtok": 10.0, "output_per_mtok": 20.0}},
    "default": {"input_per_mtok": 0.0, "output_per_mtok": 0.0},
})


def _row(request_id: str, **fields) -> UsageRow:
    values = {"key_id": "key_a", "model": "m", "status": 200, "prompt_tokens": 10, "completion_tokens": 5,
              "reserved_tokens": 100, "latency_ms": 50.0} | fields
    return UsageRow(request_id=request_id, **values)


def _rows(path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT * FROM usage ORDER BY request_id").fetchall()


# ---- writing ----------------------------------------------------------------------------------------


def test_a_row_is_committed_before_its_future_resolves(tmp_path):
    path = tmp_path / "usage.db"
    seen: list[int] = []
    with Ledger(path, prices=PRICES) as ledger:
        future = ledger.record(_row("r1", ts=datetime(2026, 12, 1, tzinfo=UTC)))

        def check(f: Future[None]) -> None:  # runs as soon as the future resolves, on the writer thread
            with sqlite3.connect(path) as other:
                seen.append(other.execute("SELECT COUNT(*) FROM usage WHERE request_id = 'r1'").fetchone()[0])

        future.add_done_callback(check)
        assert future.result(timeout=10) is None
    assert seen == [1]
    (row,) = _rows(path)
    assert row == ("r1", datetime(2026, 12, 1, tzinfo=UTC).timestamp(), "key_a", "m", None, None, 200, 10, 5, 100,
                   None, 50.0, "2026-12-01", pytest.approx((10 * 1.0 + 5 * 2.0) / 1e6))


def test_50_concurrent_writers_share_commits_and_wait_for_them(tmp_path):
    path = tmp_path / "usage.db"
    ledger = Ledger(path)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # hold the write lock: the writer's transaction must wait
    futures: list[Future[None]] = []
    lock = threading.Lock()

    def write(n: int) -> None:
        future = ledger.record(_row(f"r{n:02d}"))
        with lock:
            futures.append(future)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not any(f.done() for f in futures)  # nothing acknowledged before its commit
    blocker.execute("ROLLBACK")
    for f in futures:
        f.result(timeout=30)
    assert ledger.writes == 50 and ledger.commits <= 2  # one waiting transaction, then all the rest in one
    ledger.close()
    assert [r[0] for r in _rows(path)] == [f"r{n:02d}" for n in range(50)]


def test_many_writers_lose_nothing(tmp_path):
    path = tmp_path / "usage.db"
    with Ledger(path) as ledger:
        def write(n: int) -> None:
            for f in [ledger.record(_row(f"w{n}-{i}", prompt_tokens=i)) for i in range(20)]:
                f.result(timeout=30)

        threads = [threading.Thread(target=write, args=(n,)) for n in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert ledger.writes == 1000 and ledger.commits < 1000
    assert len(_rows(path)) == 1000


def test_a_duplicate_request_id_fails_alone(tmp_path):
    path = tmp_path / "usage.db"
    with Ledger(path) as ledger:
        ledger.record(_row("same")).result(timeout=10)
        futures = [ledger.record(_row("a")), ledger.record(_row("same")), ledger.record(_row("b"))]
        assert futures[0].result(timeout=10) is None and futures[2].result(timeout=10) is None
        with pytest.raises(sqlite3.IntegrityError):
            futures[1].result(timeout=10)
    assert [r[0] for r in _rows(path)] == ["a", "b", "same"]


def test_close_writes_everything_queued_then_refuses(tmp_path):
    path = tmp_path / "usage.db"
    ledger = Ledger(path)
    futures = [ledger.record(_row(f"r{i:03d}")) for i in range(300)]
    ledger.close()
    assert all(f.done() and f.exception() is None for f in futures)
    assert len(_rows(path)) == 300
    with pytest.raises(OutputError, match="closed"):
        ledger.record(_row("late"))
    ledger.close()  # twice is fine


_KILLED_WRITER = textwrap.dedent("""
    import sys, threading
    from pathlib import Path
    from fathom.gateway._ledger import Ledger, UsageRow
    ledger = Ledger(Path(sys.argv[1]))
    out = threading.Lock()

    def work(w):
        i = 0
        while True:
            rid = f"w{w}-{i}"
            ledger.record(UsageRow(request_id=rid, key_id=f"k{w}", model="m", status=200, prompt_tokens=i,
                                   completion_tokens=2 * i, reserved_tokens=3 * i, latency_ms=float(i))).result()
            with out:
                print(rid, flush=True)  # acknowledged: the client would have been answered now
            i += 1

    for w in range(8):
        threading.Thread(target=work, args=(w,), daemon=True).start()
    threading.Event().wait()
""")


def test_a_killed_writer_leaves_every_acknowledged_row_and_no_partial_one(tmp_path):
    path = tmp_path / "usage.db"
    child = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    acknowledged = []
    assert child.stdout is not None
    for line in child.stdout:
        acknowledged.append(line.strip())
        if len(acknowledged) >= 400:
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    acknowledged += [line.strip() for line in child.stdout if line.strip()]  # printed before the kill
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = conn.execute("SELECT request_id, key_id, prompt_tokens, completion_tokens, reserved_tokens, "
                            "latency_ms, price_version, cost FROM usage").fetchall()
    stored = {r[0]: r for r in rows}
    assert set(acknowledged) <= set(stored)
    for request_id, key_id, prompt, completion, reserved, latency, version, cost in rows:
        w, i = request_id[1:].split("-")
        assert (key_id, prompt, completion, reserved, latency, version, cost) == (
            f"k{w}", int(i), 2 * int(i), 3 * int(i), float(i), "free", 0.0)


# ---- reading ----------------------------------------------------------------------------------------


def test_usage_by_key_model_and_adapter(tmp_path):
    old = datetime.now(UTC) - timedelta(days=3)
    with Ledger(tmp_path / "usage.db", prices=PRICES) as ledger:
        rows = [_row("1", latency_ms=10.0), _row("2", latency_ms=30.0, status=500, completion_tokens=0),
                _row("3", adapter="ad", latency_ms=20.0), _row("4", key_id="key_b", model="other"),
                _row("5", ts=old, prompt_tokens=1000)]
        for f in [ledger.record(r) for r in rows]:
            f.result(timeout=10)
        by_key = ledger.usage("key")
        assert [(u["key_id"], u["requests"], u["prompt_tokens"], u["errors"]) for u in by_key] == [
            ("key_a", 4, 1030, 1), ("key_b", 1, 10, 0)]
        assert by_key[0]["p50_latency_ms"] == 25.0  # median of 10, 30, 20 and 50 (the old row)
        recent = {u["model"]: u for u in ledger.usage("model", since=datetime.now(UTC) - timedelta(days=1))}
        assert recent["m"]["requests"] == 3 and recent["m"]["completion_tokens"] == 10
        assert recent["m"]["p50_latency_ms"] == 20.0
        assert recent["other"]["cost"] == 0.0  # priced by the default
        by_adapter = {u["adapter"]: u for u in ledger.usage("adapter")}
        assert by_adapter["ad"]["cost"] == pytest.approx((10 * 10.0 + 5 * 20.0) / 1e6)
        assert ledger.spend("key_a") == pytest.approx((20 + 10 + 200 + 1010) / 1e6)  # rows 1, 2, 3 and 5
        assert ledger.spend("key_a", since=old + timedelta(hours=1)) == pytest.approx((20 + 10 + 200) / 1e6)
        assert ledger.spend("nobody") == 0.0
        with pytest.raises(ConfigError, match="Did you mean 'model'"):
            ledger.usage("modle")


def test_chat_logs_and_purge(tmp_path):
    path = tmp_path / "usage.db"
    old = datetime.now(UTC) - timedelta(days=40)
    with Ledger(path) as ledger:
        messages = [{"role": "user", "content": "my card is [CREDIT_DEBIT_CARD_NUMBER]"}]
        futures = [ledger.log_chat("new", key_id="key_a", model="m", messages=messages, answer="ok"),
                   ledger.log_chat("old", key_id="key_a", model="m", messages=messages, answer="ok", ts=old),
                   ledger.record(_row("old-usage", ts=old)), ledger.record(_row("new-usage"))]
        for f in futures:
            f.result(timeout=10)
        assert ledger.purge(30) == 1
        with sqlite3.connect(path) as conn:
            assert conn.execute("SELECT request_id, messages_json, answer FROM chat_logs").fetchall() == [
                ("new", json.dumps(messages), "ok")]
            assert conn.execute("SELECT COUNT(*) FROM usage").fetchone() == (2,)  # usage kept for budgets
        assert ledger.purge(30, usage=True) == 1
        assert [u["requests"] for u in ledger.usage()] == [1]


# ---- prices -----------------------------------------------------------------------------------------


def test_price_lookup_order_and_files(tmp_path):
    assert PRICES.cost("m", "ad", 1_000_000, 0) == ("2026-12-01", 10.0)
    assert PRICES.cost("m", "unknown", 1_000_000, 1_000_000) == ("2026-12-01", 3.0)
    assert PRICES.cost("x", None, 5, 5) == ("2026-12-01", 0.0)
    (tmp_path / "p.yaml").write_text("version: 2026-12-01\nprices: {}\ndefault: {input_per_mtok: 1, "
                                     "output_per_mtok: 1}\n")
    assert PriceTable.load(tmp_path / "p.yaml").version == "2026-12-01"  # an unquoted YAML date
    (tmp_path / "p.json").write_text(json.dumps({"version": "v2", "default": {"input_per_mtok": 0,
                                                                             "output_per_mtok": 0}}))
    assert PriceTable.load(tmp_path / "p.json").version == "v2"


def test_a_bad_price_table_lists_every_problem(tmp_path):
    with pytest.raises(ConfigError) as info:
        PriceTable.from_dict({"versoin": "x", "prices": {"m": {"input_per_mtok": -1, "outptu_per_mtok": 1}}})
    text = str(info.value)
    for expected in ("versoin: unknown field. Did you mean 'version'?", "prices.m.input_per_mtok: must be",
                     "prices.m.outptu_per_mtok: unknown field. Did you mean 'output_per_mtok'?",
                     "prices.m.output_per_mtok: missing", "default: missing", "version: must be"):
        assert expected in text
    with pytest.raises(ConfigError, match="cannot read"):
        PriceTable.load(tmp_path / "missing.yaml")


# ---- budgets ----------------------------------------------------------------------------------------

# output 1000 $/Mtok: max_tokens 100 holds $0.10; 50 tokens used costs $0.05
BUDGET_PRICES = PriceTable.from_dict({"version": "b", "prices": {},
                                      "default": {"input_per_mtok": 0, "output_per_mtok": 1000}})


def test_concurrent_requests_cannot_pass_a_budget_together(tmp_path):
    with Ledger(tmp_path / "usage.db", prices=BUDGET_PRICES) as ledger:
        guard = BudgetGuard(ledger)
        holds = []
        lock = threading.Lock()
        start = threading.Barrier(50)

        def admit() -> None:
            start.wait()
            hold = guard.admit("key_a", 1.0, model="m", adapter=None, prompt_tokens=0, max_tokens=100)
            with lock:
                holds.append(hold)

        threads = [threading.Thread(target=admit) for _ in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        admitted = [h for h in holds if h.allowed]
        assert len(admitted) == 10  # 10 x $0.10 = the whole $1.00 held
        refused = next(h for h in holds if not h.allowed)
        assert "budget of $1" in refused.detail and "up to $0.1" in refused.detail
        for n, hold in enumerate(admitted):  # each used half its reservation: $0.05
            guard.record(hold, _row(f"r{n}", prompt_tokens=0, completion_tokens=50)).result(timeout=10)
        assert ledger.spend("key_a") == pytest.approx(0.5)
        more = [guard.admit("key_a", 1.0, model="m", adapter=None, prompt_tokens=0, max_tokens=100)
                for _ in range(8)]
        assert sum(h.allowed for h in more) == 5  # $0.50 spent + 5 x $0.10 held
        assert guard.admit("key_b", None, model="m", adapter=None, prompt_tokens=0, max_tokens=10**6).allowed


def test_a_failed_or_cancelled_request_gives_its_hold_back(tmp_path):
    with Ledger(tmp_path / "usage.db", prices=BUDGET_PRICES) as ledger:
        guard = BudgetGuard(ledger)
        ledger.record(_row("dup", prompt_tokens=0, completion_tokens=0)).result(timeout=10)
        hold = guard.admit("key_a", 0.1, model="m", adapter=None, prompt_tokens=0, max_tokens=100)
        assert hold.allowed
        assert not guard.admit("key_a", 0.1, model="m", adapter=None, prompt_tokens=0, max_tokens=1).allowed
        with pytest.raises(sqlite3.IntegrityError):  # the row was refused, so nothing was spent
            guard.record(hold, _row("dup", completion_tokens=100)).result(timeout=10)
        second = guard.admit("key_a", 0.1, model="m", adapter=None, prompt_tokens=0, max_tokens=100)
        assert second.allowed
        guard.release(second)
        guard.release(second)  # twice is harmless
        assert guard.admit("key_a", 0.1, model="m", adapter=None, prompt_tokens=0, max_tokens=100).allowed


def test_budgets_see_spend_from_before_a_restart_and_from_other_processes(tmp_path, clock):
    path = tmp_path / "usage.db"
    with Ledger(path, prices=BUDGET_PRICES) as first:
        first.record(_row("before", completion_tokens=600)).result(timeout=10)  # $0.60
    with Ledger(path, prices=BUDGET_PRICES) as ledger, Ledger(path, prices=BUDGET_PRICES) as other:
        guard = BudgetGuard(ledger, refresh_s=1.0, clock=clock)
        assert guard.admit("key_a", 1.0, model="m", adapter=None, prompt_tokens=0, max_tokens=400).allowed
        assert not guard.admit("key_a", 1.0, model="m", adapter=None, prompt_tokens=0, max_tokens=1).allowed
        assert guard.admit("key_b", 1.0, model="m", adapter=None, prompt_tokens=0, max_tokens=0).allowed
        other.record(_row("elsewhere", key_id="key_b", completion_tokens=900)).result(timeout=10)  # $0.90
        clock.advance(1.0)  # refresh_s later the guard has read the other process's spend
        assert not guard.admit("key_b", 1.0, model="m", adapter=None, prompt_tokens=0, max_tokens=200).allowed
        assert guard.admit("key_b", 1.0, model="m", adapter=None, prompt_tokens=0, max_tokens=100).allowed


def test_rows_of_one_loop_turn_go_as_one_job_and_fail_alone(tmp_path):
    import asyncio

    from fathom.gateway._ledger import RowBatcher

    path = tmp_path / "usage.db"
    with Ledger(path, prices=BUDGET_PRICES) as ledger:
        guard = BudgetGuard(ledger)
        ledger.record(_row("dup", prompt_tokens=0, completion_tokens=0)).result(timeout=10)
        holds = [guard.admit("key_a", 1.0, model="m", adapter=None, prompt_tokens=0, max_tokens=100)
                 for _ in range(3)]
        assert all(h.allowed for h in holds)

        async def finish() -> list[BaseException | None]:
            batcher = RowBatcher(guard)
            futures = [batcher.add(holds[0], _row("a", prompt_tokens=0, completion_tokens=50)),
                       batcher.add(holds[1], _row("dup", completion_tokens=100)),
                       batcher.add(holds[2], _row("b", prompt_tokens=0, completion_tokens=50)),
                       batcher.add(None, _row("c", key_id="key_b"))]
            return list(await asyncio.gather(*futures, return_exceptions=True))

        commits_before = ledger.commits
        results = asyncio.run(finish())
        assert results[0] is None and results[2] is None and results[3] is None
        assert isinstance(results[1], sqlite3.IntegrityError)  # only the duplicate failed
        assert ledger.commits == commits_before + 1  # one job, one transaction
        assert ledger.spend("key_a") == pytest.approx(0.1)  # 2 x $0.05; the refused row spent nothing
        # every hold was given back: the whole budget minus what was spent can be held again
        again = [guard.admit("key_a", 1.0, model="m", adapter=None, prompt_tokens=0, max_tokens=100) for _ in range(10)]
        assert sum(h.allowed for h in again) == 9
    assert [r[0] for r in _rows(path)] == ["a", "b", "c", "dup"]

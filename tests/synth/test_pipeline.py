"""``run_synth`` end to end against a scripted OpenAI-compatible teacher on loopback.

The teacher misbehaves on cue (``tests/synth/_script.py``): malformed JSON (valid after the repair
request), JSON broken twice, a wrong tool name, bad arguments, a wrong sequence, an ungrounded quote,
a duplicate, a paraphrase, too few and too many items, a 500 that succeeds on retry and a teacher
that stays down. Every case lands where it should and the counts add up.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.synth._server import TeacherServer, serving
from tests.synth.conftest import Workspace

from fathom.datasets import read_examples
from fathom.synth import Embedder, run_synth

DOCS = {
    "alpha.txt": "Pump P-101 feeds the cooling loop. Pump P-101 is lubricated with ISO VG 46 oil every 500 hours.",
    "manuals/beta.md": "# Valves\n\nMALFORMED note. Valve V-22 closes at 6 bar.",
    "gamma.txt": "WRONGTOOL here. Fan F-3 runs at 1450 rpm.",
    "delta.txt": "UNGROUNDED here. Motor M-7 draws 12 A at full load.",
    "epsilon.txt": "DUPLICATE here. Belt B-9 is tensioned to 40 N.",
    "zeta.txt": "ERROR500 here. Compressor C-12 is drained daily.",
    "eta.txt": "BROKEN here. Heater H-5 is set to 60 degrees.",
    "theta.txt": "BADARGS and SHORT here. Gear G-8 is greased monthly.",
    "iota.txt": "WRONGSEQ here. Chain K-4 is oiled weekly.",
    "kappa.txt": "DOWN here. Pipe D-2 is inspected yearly.",
    "lambda.txt": "PARAPHRASE here. Filter FL-6 is changed every quarter.",
    "mu.txt": "EXTRA here. Tank T-11 holds 300 litres.",
    "nu.txt": "Boiler BO-1 is descaled every spring.",
}
EXPECTED_REJECTED = {"teacher_error": 3, "malformed_json": 3, "unknown_tool": 1, "bad_arguments": 1,
                     "wrong_sequence": 1, "ungrounded": 1, "duplicate": 1, "near_duplicate": 1, "missing": 1}


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_every_misbehaviour_is_handled_and_the_counts_add_up(workspace: Workspace, embedder: Embedder,
                                                             tmp_path: Path) -> None:
    server = TeacherServer()
    with serving(server) as url:
        config = workspace(DOCS, teacher={"url": url, "model": "teacher", "retries": 1, "backoff": 0.01})
        summary = run_synth(config, tmp_path / "out", embedder=embedder)

    assert summary.asked == 13 * 3 and summary.chunks == 13 and summary.documents == 13
    assert summary.rejected == EXPECTED_REJECTED
    assert summary.asked == summary.kept + sum(summary.rejected.values())
    assert summary.kept == sum(summary.splits.values()) == 39 - 13
    assert summary.surplus == 1
    # the 500 was retried, the malformed answer repaired, the dead teacher tried twice (retries=1)
    assert server.requests["zeta.txt#0"] == 2 and server.requests["manuals/beta.md#0"] == 2
    assert server.requests["kappa.txt#0"] == 2 and server.requests["eta.txt#0"] == 2
    assert server.requests["alpha.txt#0"] == 1 and server.models_calls == 1
    assert summary.teacher_calls == sum(server.requests.values()) - 2 - 1  # kappa's failures, zeta's 500

    dead = _lines(tmp_path / "out" / "rejected.jsonl")
    by_reason = {r["reason"]: r for r in dead}
    assert sum(r["count"] for r in dead) == sum(summary.rejected.values())
    assert by_reason["unknown_tool"]["source"] == "gamma.txt" and "get_stats" in by_reason["unknown_tool"]["detail"]
    assert by_reason["unknown_tool"]["raw"]["tool_calls"][0]["name"] == "get_stats"
    assert by_reason["ungrounded"]["chunk_id"] == "delta.txt#0"
    assert by_reason["malformed_json"]["chunk_id"] == "eta.txt#0" and by_reason["malformed_json"]["count"] == 3
    assert by_reason["teacher_error"]["source"] == "kappa.txt" and "500" in by_reason["teacher_error"]["detail"]
    assert by_reason["near_duplicate"]["source"] == "lambda.txt"
    assert by_reason["surplus"]["count"] == 0 and by_reason["surplus"]["source"] == "mu.txt"
    assert {r["reason"] for r in dead} == set(EXPECTED_REJECTED) | {"surplus"}

    written = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert written["asked"] == summary.asked and written["rejected"] == EXPECTED_REJECTED
    assert written["splits"] == summary.splits and written["leakage"]["document_overlap"] == []
    assert set(written["categories"]) == {"fact", "status", "maintain"}
    assert sum(c["kept"] for c in written["categories"].values()) == summary.kept


def test_written_examples_are_valid_and_carry_the_grader_reference(workspace: Workspace, embedder: Embedder,
                                                                  tmp_path: Path) -> None:
    config = workspace({"alpha.txt": DOCS["alpha.txt"], "nu.txt": DOCS["nu.txt"], "gamma.txt": "Fan F-3 runs."},
                       splits={"train": 1.0})
    summary = run_synth(config, tmp_path / "out", embedder=embedder, nova=True)
    rows = read_examples(tmp_path / "out" / "train.jsonl")
    assert len(rows) == summary.kept == 9
    by_category = {r["meta"]["category"]: r for r in rows if r["meta"]["source"] == "alpha.txt"}
    maintain = by_category["maintain"]
    calls = maintain["messages"][-1]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["get_status", "schedule_work"]
    assert json.loads(calls[1]["function"]["arguments"]) == {"asset": "P-101", "task": "inspection", "days": 7}
    assert maintain["reference"] == {"tool_calls": calls, "order": "ordered"}
    assert maintain["messages"][-1]["content"] is None and len(maintain["tools"]) == 2
    assert maintain["messages"][0]["role"] == "system" and "get_status" in maintain["messages"][0]["content"]
    fact = by_category["fact"]
    assert fact["reference"]["tool_calls"] == [] and fact["messages"][-1]["content"].endswith("every 500 hours.")
    assert fact["meta"] | {"id": None} == {"id": None, "source": "alpha.txt", "chunk_id": "alpha.txt#0",
                                           "category": "fact", "family": "P-101",
                                           "quotes": ["Pump P-101 is lubricated with ISO VG 46 oil every 500 hours."]}
    nova = _lines(tmp_path / "out" / "nova" / "train.jsonl")
    assert len(nova) == 9 and summary.nova == {"written": {"train": 9, "val": 0, "test": 0}, "left_out": []}
    assert any("toolUse" in block for row in nova for m in row["messages"] for block in m["content"])


def test_a_rerun_asks_nothing_and_gives_the_same_files(workspace: Workspace, embedder: Embedder,
                                                       tmp_path: Path) -> None:
    server = TeacherServer()
    with serving(server) as url:
        config = workspace({k: DOCS[k] for k in ("alpha.txt", "manuals/beta.md", "nu.txt")},
                           teacher={"url": url, "model": "teacher"})
        first = run_synth(config, tmp_path / "out", embedder=embedder)
        before = (tmp_path / "out" / "train.jsonl").read_text()
        second = run_synth(config, tmp_path / "out", embedder=embedder)
    assert first.teacher_calls == 4 and second.teacher_calls == 0 and second.cached_chunks == 3
    assert (tmp_path / "out" / "train.jsonl").read_text() == before
    assert sum(server.requests.values()) == 4

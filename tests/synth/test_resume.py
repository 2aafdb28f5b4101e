"""A killed ``fathom synth`` resumes: finished chunks are never sent to the teacher again.

The run is a real ``python -m fathom synth`` process against the scripted teacher on loopback (each
answer takes ``LATENCY_S``, one request at a time); it is killed with SIGKILL once some answers are
in its cache, then run again in-process with the same output folder.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.synth._server import TeacherServer, serving
from tests.synth.conftest import Workspace

from fathom.synth import Embedder, run_synth

LATENCY_S = 0.4
DOCS = {f"doc{i:02d}.txt": f"Line L-{i} carries part {i}. Station S-{i} inspects line L-{i} every {i + 2} hours."
        for i in range(10)}
REPO = Path(__file__).resolve().parents[2]


def _cached_ids(cache: Path) -> set[str]:
    if not cache.exists():
        return set()
    return {json.loads(line)["chunk_id"] for line in cache.read_text().splitlines() if line.strip()}


def test_a_killed_run_does_not_ask_again_for_finished_chunks(workspace: Workspace, embedder: Embedder,
                                                             tmp_path: Path) -> None:
    server = TeacherServer(latency_s=LATENCY_S)
    out = tmp_path / "out"
    cache = out / "cache" / "teacher.jsonl"
    with serving(server) as url:
        config = workspace(DOCS, teacher={"url": url, "model": "teacher"}, concurrency=1)
        process = subprocess.Popen([sys.executable, "-m", "fathom", "synth", "--config", str(config), "--out",
                                    str(out), "--no-progress"], cwd=REPO, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(REPO / "src")})
        deadline = time.monotonic() + 120
        while len(_cached_ids(cache)) < 3 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        _, err = process.communicate(timeout=30)
        assert process.returncode == -signal.SIGKILL, err.decode()[-2000:]
        finished = _cached_ids(cache)
        assert 3 <= len(finished) < len(DOCS), "the run was not interrupted mid-way"
        assert not (out / "summary.json").exists()
        asked_before = dict(server.requests)

        summary = run_synth(config, out, embedder=embedder)

    asked_after = {k: server.requests[k] - asked_before.get(k, 0) for k in server.requests}
    assert all(asked_after.get(chunk, 0) == 0 for chunk in finished), asked_after
    assert sum(asked_after.values()) == len(DOCS) - len(finished) == summary.teacher_calls
    assert summary.cached_chunks == len(finished) and summary.kept == 3 * len(DOCS)

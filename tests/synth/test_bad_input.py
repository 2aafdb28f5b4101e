"""Bad input stops ``fathom synth`` before any work: exit 2, a message that names the problem, nothing written.

The teacher is the scripted loopback server, so "before any work" is checked as "no chat request
was sent" (a preflight ``GET /models`` is allowed) and "no output file exists".
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml
from tests.cli._run import run
from tests.synth._server import TeacherServer, serving
from tests.synth.conftest import Workspace

DOCS = {"a.txt": "Pump P-1 runs. Valve V-2 closes."}


def _free_port() -> int:
    with socket.socket() as sock:  # bound then closed: nothing listens there
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _edit(path: Path, name: str, content: object) -> None:
    (path.parent / name).write_text(yaml.safe_dump(content))


@pytest.mark.parametrize(("case", "expected"), [
    ("typo_key", ["chunk_token: unknown key. Did you mean 'chunk_tokens'?"]),
    ("tool_missing", ["categories.yaml.status.tools: tool 'get_statuz' is not in the tools file. "
                      "Did you mean 'get_status'?"]),
    ("unknown_category", ["few_shot[0]: unknown_category: category 'facts' is not declared. Did you mean 'fact'?"]),
    ("empty_documents", ["documents: ", "is empty (hidden files are not read)"]),
    ("unsupported_documents", ["no readable document in", "1 file(s) of unsupported types (.docx)"]),
    ("unreachable", ["teacher.url: cannot reach the teacher at http://127.0.0.1:", "ConnectError", "2 attempts"]),
    ("unknown_model", ["teacher.model: 'teachr' is not served at", "Did you mean 'teacher'?"]),
    ("bad_split", ["splits: shares must sum to 1, got 0.9"]),
])
def test_bad_input_exits_2_before_any_work(case: str, expected: list[str], workspace: Workspace, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    server = TeacherServer()
    with serving(server) as url:
        teacher = {"url": url, "model": "teacher"}
        config: dict = {"teacher": teacher}
        docs: dict[str, str | bytes] = dict(DOCS)
        if case == "typo_key":
            config["chunk_token"] = 32
        elif case == "unknown_category":
            config["few_shot"] = [{"category": "facts", "question": "q?", "tool_calls": [], "answer": "a",
                                   "quotes": ["a"]}]
        elif case == "empty_documents":
            docs = {}
        elif case == "unsupported_documents":
            docs = {"manual.docx": b"PK\x03\x04"}
        elif case == "unreachable":
            config["teacher"] = {"url": f"http://127.0.0.1:{_free_port()}/v1", "model": "teacher"}
        elif case == "unknown_model":
            config["teacher"] = {"url": url, "model": "teachr"}
        elif case == "bad_split":
            config["splits"] = {"train": 0.7, "test": 0.2}
        path = workspace(docs, **config)
        if case == "tool_missing":
            from tests.synth._script import CATEGORIES

            status = {**CATEGORIES["status"], "tools": ["get_statuz"]}
            _edit(path, "categories.yaml", {"categories": {**CATEGORIES, "status": status}})
        out = tmp_path / "out"
        code, stdout, err = run(["synth", "--config", str(path), "--out", str(out)], capsys)
    assert code == 2, (stdout, err)
    for text in expected:
        assert text in err, err
    assert "Traceback" not in err
    assert sum(server.requests.values()) == 0 and not out.exists()


def test_every_problem_is_reported_at_once(workspace: Workspace, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = workspace({}, chunk_token=3, seed="x", teacher={"url": f"http://127.0.0.1:{_free_port()}", "modle": "m"})
    code, _, err = run(["synth", "--config", str(path), "--out", str(tmp_path / "out")], capsys)
    assert code == 2
    for text in ("chunk_token: unknown key", "seed: expected a whole number", "teacher.modle: unknown key",
                 "teacher.model: missing"):
        assert text in err, err


def test_a_missing_config_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["synth", "--config", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "does not exist" in err

"""The completion cache counts the lines it cannot read and says so, instead of dropping them silently."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import pytest

from fathom.backends import ChatRequest, Completion
from fathom.errors import CacheWarning, FathomWarning
from fathom.evaluate import CacheUse, evaluate
from fathom.graders import Grade


class EchoBackend:
    supports_batching: ClassVar[bool] = True
    model_name = "echo"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        self.calls.append(len(requests))
        return [Completion({"role": "assistant", "content": r.messages[-1]["content"]}, r.messages[-1]["content"],
                           "stop", 3, 2) for r in requests]


def _grade(example: dict[str, Any], completion: Any) -> Grade:
    return Grade(1.0, {}, {}, "")


def _examples(n: int) -> list[dict[str, Any]]:
    return [{"messages": [{"role": "user", "content": f"q{i}"}], "meta": {"id": f"e{i}"}} for i in range(n)]


def test_corrupt_cache_lines_are_counted_warned_and_regenerated(tmp_path: Path) -> None:
    run = tmp_path / "run"
    evaluate(EchoBackend(), _examples(5), _grade, run, quiet=True)
    cache = run / "completions.jsonl"
    lines = cache.read_text().splitlines()
    assert len(lines) == 5
    lines[1] = lines[1][:20]  # cut short by a crash
    lines[3] = json.dumps({"completion": {}})  # valid JSON, but no key
    cache.write_text("\n".join(lines) + "\n\xff garbage\n", encoding="latin-1")
    again = EchoBackend()
    with pytest.warns(CacheWarning, match=r"skipped 3 unreadable cache line\(s\) \(line 2, 4, 6\)") as seen:
        summary = evaluate(again, _examples(5), _grade, run, quiet=True)
    assert issubclass(seen[0].category, FathomWarning) and str(cache) in str(seen[0].message)
    assert again.calls == [2] and summary.cache == CacheUse(generated=2, reused=3)


def test_a_clean_cache_warns_nothing(tmp_path: Path, recwarn: pytest.WarningsRecorder) -> None:
    evaluate(EchoBackend(), _examples(3), _grade, tmp_path / "run", quiet=True)
    again = EchoBackend()
    evaluate(again, _examples(3), _grade, tmp_path / "run", quiet=True)
    assert again.calls == [] and not [w for w in recwarn if issubclass(w.category, FathomWarning)]

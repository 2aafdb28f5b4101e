"""The teacher's finished answers, kept in the output folder so an interrupted run resumes without asking again.

``<out>/cache/teacher.jsonl`` gets one line per finished chunk, appended, flushed and fsynced as soon as
the answer (and its repair, if one was asked for) arrives: ``{"chunk_id", "key", "answer", "repair",
"calls"}``. ``key`` hashes the request (prompt, n, seed) and the teacher's settings, so a changed
document, prompt or teacher asks again. Failed requests are not kept: the next run retries them.
A line that does not parse (a write cut short by a crash) is skipped with a
:class:`~fathom.errors.CacheWarning` and its chunk asked again.
Not covered: sharing a cache between output folders.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import warnings
from pathlib import Path
from typing import Any

from fathom.errors import CacheWarning
from fathom.synth._types import TeacherRequest

__all__ = ["AnswerCache", "request_key"]


def request_key(request: TeacherRequest, teacher_id: str) -> str:
    """A hash of what determines the teacher's answer: its messages, n, seed and the teacher itself."""
    payload = json.dumps({"messages": request.messages, "n": request.n, "seed": request.seed, "teacher": teacher_id},
                         sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


class AnswerCache:
    """Finished answers by chunk id; :meth:`put` is thread-safe and durable when it returns."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        bad = 0
        with open(self.path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    bad += 1
                    continue
                if isinstance(entry, dict) and isinstance(entry.get("chunk_id"), str):
                    self._entries[entry["chunk_id"]] = entry
                else:
                    bad += 1
        if bad:
            warnings.warn(f"{self.path}: {bad} unreadable line(s) skipped; their chunks are asked again",
                          CacheWarning, stacklevel=3)

    def get(self, chunk_id: str, key: str) -> dict[str, Any] | None:
        """The finished entry for ``chunk_id`` if it answered this very request, else None."""
        entry = self._entries.get(chunk_id)
        return entry if entry is not None and entry.get("key") == key else None

    def put(self, entry: dict[str, Any]) -> None:
        """Append one entry and make it durable (flush and fsync) before returning."""
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
            self._entries[entry["chunk_id"]] = entry

    def __len__(self) -> int:
        return len(self._entries)

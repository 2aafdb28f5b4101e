"""A completion cache keyed by (model, prompt, settings), stored as append-only JSON Lines.

Every finished batch is appended and flushed, so a killed evaluation loses at most the batch in
flight, and re-running it (or re-grading with another grader) regenerates nothing that finished.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import Any

from fathom.backends import ChatRequest, Completion
from fathom.errors import CacheWarning

__all__ = ["CompletionCache", "request_key"]


def request_key(model: str, request: ChatRequest) -> str:
    """A stable hash of everything that determines a completion."""
    fields = {"model": model, "messages": request.messages, "tools": request.tools,
              "sampling": request.sampling.to_dict()}
    if request.adapter is not None:  # only when set, so keys written before adapters existed still match
        fields["adapter"] = request.adapter
    blob = json.dumps(fields, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def _entry(line: str) -> tuple[str, dict[str, Any]] | None:
    """``(key, completion)`` of one cache line, or None when the line is not a cache entry."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(row, dict) or not isinstance(row.get("key"), str) or not isinstance(row.get("completion"), dict):
        return None
    return row["key"], row["completion"]


class CompletionCache:
    """Completions by key, loaded from and appended to ``path``."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._items: dict[str, dict[str, Any]] = {}
        self.skipped: list[int] = []
        """Line numbers (1-based) of unreadable lines; their completions are generated again."""
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        with open(self.path, encoding="utf-8", errors="replace") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                entry = _entry(line)
                if entry is None:  # e.g. a line cut short by a crash: regenerate it
                    self.skipped.append(lineno)
                else:
                    self._items[entry[0]] = entry[1]
        if self.skipped:
            shown = ", ".join(map(str, self.skipped[:10])) + (", ..." if len(self.skipped) > 10 else "")
            warnings.warn(f"{self.path}: skipped {len(self.skipped)} unreadable cache line(s) (line {shown}); "
                          "their completions will be generated again", CacheWarning, stacklevel=3)

    def __contains__(self, key: str) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> Completion:
        return Completion(**self._items[key])

    def add_many(self, pairs: list[tuple[str, Completion]]) -> None:
        """Store completions and append them to the file durably."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as fh:
            for key, completion in pairs:
                self._items[key] = completion.to_dict()
                fh.write(json.dumps({"key": key, "completion": completion.to_dict()}, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

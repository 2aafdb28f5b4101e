"""A completion cache keyed by (model, prompt, settings), stored as append-only JSON Lines.

Every finished batch is appended and flushed, so a killed evaluation loses at most the batch in
flight, and re-running it (or re-grading with another grader) regenerates nothing that finished.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from fathom.backends._protocol import ChatRequest, Completion

__all__ = ["CompletionCache", "request_key"]


def request_key(model: str, request: ChatRequest) -> str:
    """A stable hash of everything that determines a completion."""
    blob = json.dumps({"model": model, "messages": request.messages, "tools": request.tools,
                       "sampling": request.sampling.to_dict()}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


class CompletionCache:
    """Completions by key, loaded from and appended to ``path``."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._items: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            with open(self.path, encoding="utf-8") as fh:
                for line in fh:
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError:  # a line cut short by a crash: regenerate it
                        continue
                    self._items[row["key"]] = row["completion"]

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

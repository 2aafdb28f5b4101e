"""What a ``fathom synth`` run produced: counts that add up, the category balance and the leakage report.

``asked`` is the number of examples asked for (chunks x ``n_per_chunk``), and every one of them is
either kept (written to a split) or rejected for exactly one reason, so ``asked == kept +
sum(rejected.values())`` always holds.
Not covered: writing it (``summary.json`` is written atomically by :func:`fathom.synth.run_synth`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Summary"]


@dataclass(frozen=True)
class Summary:
    """The outcome of :func:`fathom.synth.run_synth`."""

    asked: int
    kept: int
    rejected: dict[str, int]
    """reason code -> asked-for examples rejected for it (see :data:`fathom.synth.REASONS`)."""
    splits: dict[str, int]
    categories: dict[str, dict[str, Any]]
    """category -> ``{"kept", "rejected", "share"}`` (share of the kept examples)."""
    leakage: dict[str, Any]
    documents: int
    chunks: int
    teacher_calls: int
    """Requests sent to the teacher by this run (repairs included; cached chunks cost none)."""
    cached_chunks: int
    """Chunks whose answer came from the cache of an earlier, interrupted run."""
    out_dir: Path
    surplus: int = 0
    """Items the teacher wrote beyond the ``n_per_chunk`` asked for: dropped, listed in ``rejected.jsonl``
    with ``count: 0``, and not part of ``asked``."""
    files: dict[str, str] = field(default_factory=dict)
    nova: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"asked": self.asked, "kept": self.kept, "rejected": self.rejected, "splits": self.splits,
                "categories": self.categories, "leakage": self.leakage, "documents": self.documents,
                "chunks": self.chunks, "teacher_calls": self.teacher_calls, "cached_chunks": self.cached_chunks,
                "surplus": self.surplus, "files": self.files, "nova": self.nova}

    def line(self) -> str:
        """``asked N, kept K, rejected R: reason counts``.

        >>> Summary(10, 7, {"ungrounded": 2, "duplicate": 1}, {}, {}, {}, 1, 1, 1, 0, Path(".")).line()
        'asked 10, kept 7, rejected 3: ungrounded 2, duplicate 1'
        """
        rejected = sum(self.rejected.values())
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(self.rejected.items(), key=lambda kv: (-kv[1], kv[0])) if v)
        return f"asked {self.asked}, kept {self.kept}, rejected {rejected}" + (f": {reasons}" if reasons else "")

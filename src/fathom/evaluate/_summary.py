"""What an evaluation returns (:class:`EvalSummary`) and keeps in ``OUT/summary.json``.

Covers: the typed summary of one run (mean score and per-component means with bootstrap CIs, gate
pass rates, what was evaluated, timings, cache use) and its JSON form, whose keys are a contract
(other tools read ``summary.json``). Not covered: computing the rows (:mod:`fathom.evaluate._run`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["CacheUse", "Estimate", "EvalSummary", "summarise"]


@dataclass(frozen=True)
class Estimate:
    """A mean with its 95% percentile-bootstrap interval (``None`` everywhere when ``n`` is 0)."""

    mean: float | None
    ci_low: float | None
    ci_high: float | None
    n: int

    @classmethod
    def of(cls, values: list[float], *, seed: int = 0) -> Estimate:
        """The bootstrap estimate of ``values`` (:func:`fathom.evaluate.bootstrap_mean`)."""
        from fathom.evaluate._stats import bootstrap_mean

        return cls(**bootstrap_mean(values, seed=seed))


@dataclass(frozen=True)
class CacheUse:
    """How many completions this run generated and how many it found in the completion cache."""

    generated: int
    reused: int


@dataclass
class EvalSummary:
    """The outcome of :func:`fathom.evaluate.evaluate`; :meth:`to_dict` is ``summary.json``."""

    n: int
    """Examples graded."""
    score: Estimate
    """The grader's overall score."""
    components: dict[str, Estimate]
    """Each component the grader reports (those declared as counts included: see ``counts``)."""
    gates: dict[str, float]
    """Pass rate of each gate."""
    model: str = ""
    """The model spec (or the backend's model name)."""
    data: str = ""
    """The data file, or ``<in memory>``."""
    grader: Any = None
    """How the grader was specified."""
    sampling: dict[str, Any] = field(default_factory=dict)
    """Generation settings."""
    timings_s: dict[str, float] = field(default_factory=dict)
    """Seconds spent generating and grading (and examples per second when anything was generated)."""
    cache: CacheUse = field(default_factory=lambda: CacheUse(0, 0))
    """Completions generated in this run vs reused from the cache."""
    counts: list[str] = field(default_factory=list)
    """Components that are counts, not scores in [0, 1]."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form written to ``summary.json`` (keys unchanged since the first release)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalSummary:
        """Read back a ``summary.json`` object."""
        values = dict(data)
        values["score"] = Estimate(**values["score"])
        values["components"] = {k: Estimate(**v) for k, v in values.get("components", {}).items()}
        values["cache"] = CacheUse(**values.get("cache", {"generated": 0, "reused": 0}))
        return cls(**values)

    @classmethod
    def read(cls, path: str | Path) -> EvalSummary:
        """Read ``RUN/summary.json`` (or the file itself)."""
        path = Path(path)
        return cls.from_dict(json.loads((path / "summary.json" if path.is_dir() else path).read_text("utf-8")))


def summarise(rows: list[dict[str, Any]], *, seed: int = 0) -> EvalSummary:
    """Mean score and per-component means with bootstrap CIs, and gate pass rates, of graded rows."""
    components = sorted({k for r in rows for k in r["components"]})
    gates = sorted({k for r in rows for k in r["gates"]})
    return EvalSummary(
        n=len(rows),
        score=Estimate.of([r["score"] for r in rows], seed=seed),
        components={c: Estimate.of([r["components"][c] for r in rows if c in r["components"]], seed=seed)
                    for c in components},
        gates={g: sum(bool(r["gates"][g]) for r in rows if g in r["gates"]) /
               max(1, sum(g in r["gates"] for r in rows)) for g in gates},
    )

"""The ``weighted`` grader: a weighted mean of sub-graders, with gates for hard requirements.

Mirrors OpenAI's ``multi`` grader and adds gates (graders-and-formats.md §1, §9): an entry marked
``gate: true`` must pass (score >= its ``min_score`` and no failed gate of its own) or the whole score
is 0, while its components are still reported.
Not covered: formulas other than the weighted mean (write a grader for those).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from fathom.errors import ConfigError, FathomError
from fathom.graders._protocol import Grade, Grader

__all__ = ["weighted"]

_ENTRY_KEYS = {"grader", "weight", "gate", "min_score", "name"}


@dataclass(frozen=True)
class _Entry:
    name: str
    grader: Grader
    weight: float
    gate: bool
    min_score: float


@dataclass(frozen=True)
class _Weighted:
    name: ClassVar[str] = "weighted"
    entries: tuple[_Entry, ...]
    short_circuit: bool

    def __call__(self, example: dict[str, Any], completion: dict[str, Any] | str) -> Grade:
        components: dict[str, float] = {}
        gates: dict[str, bool] = {}
        reasons: list[str] = []
        ordered = sorted(self.entries, key=lambda e: not e.gate) if self.short_circuit else self.entries
        for entry in ordered:
            if self.short_circuit and not all(gates.values()):
                reasons.append(f"{entry.name}: skipped (a gate failed)")
                continue
            grade = entry.grader(example, completion)
            components[entry.name] = grade.score
            components.update({f"{entry.name}.{k}": v for k, v in grade.components.items()})
            components.update({f"{entry.name}.{k}": float(v) for k, v in grade.gates.items()})
            if entry.gate:
                gates[entry.name] = grade.score >= entry.min_score and all(grade.gates.values())
            reasons.append(f"{entry.name} {grade.score:.2f}: {grade.reason}")
        scored = [e for e in self.entries if e.weight > 0 and e.name in components]
        total = sum(e.weight for e in scored)
        score = sum(e.weight * components[e.name] for e in scored) / total if total else 0.0
        return Grade(min(1.0, max(0.0, score)), components, gates, " | ".join(reasons))


def _entry(i: int, raw: Any, taken: set[str], problems: list[str]) -> _Entry | None:
    from fathom.graders._registry import build_grader

    if not isinstance(raw, dict) or "grader" not in raw:
        problems.append(f"graders[{i}]: expected {{grader: <spec>, weight: ..., gate: ...}}, got {raw!r}")
        return None
    unknown = sorted(set(raw) - _ENTRY_KEYS)
    if unknown:
        problems.append(f"graders[{i}]: unknown key(s) {unknown}; valid: {sorted(_ENTRY_KEYS)}")
    spec = raw["grader"]
    weight, min_score = raw.get("weight", 1.0), raw.get("min_score", 1.0)
    if not isinstance(weight, (int, float)) or weight < 0:
        problems.append(f"graders[{i}]: weight must be a number >= 0, got {weight!r}")
    if not isinstance(min_score, (int, float)) or not 0 <= min_score <= 1:
        problems.append(f"graders[{i}]: min_score must be in [0, 1], got {min_score!r}")
    try:
        grader: Callable[..., Grade] = spec if callable(spec) else build_grader(spec)
    except FathomError as exc:
        problems.append(f"graders[{i}]: {exc}")
        return None
    base = raw.get("name") or (spec.get("name") if isinstance(spec, dict) else spec if isinstance(spec, str)
                               else getattr(spec, "__name__", f"grader{i}"))
    name, n = str(base), 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return _Entry(name, grader, float(weight) if isinstance(weight, (int, float)) else 0.0,
                  bool(raw.get("gate", False)), float(min_score) if isinstance(min_score, (int, float)) else 1.0)


def weighted(*, graders: Sequence[dict[str, Any]], short_circuit: bool = False) -> _Weighted:
    """Weighted mean of sub-graders; failing a gate entry zeroes the score.

    Why: most tasks have a hard requirement (valid JSON, SQL that runs) and softer qualities; gating
    keeps a well-written but invalid answer from being rewarded, and the sub-graders' components stay
    visible (prefixed with the entry name) so you can see which part failed.

    Each entry: ``{grader: <spec or grader>, weight: 1.0, gate: false, min_score: 1.0, name: ...}``.
    ``weight: 0, gate: true`` is a pure requirement. The entry name defaults to the grader's name
    (``_2``, ``_3`` appended on repeats).

    Args:
        graders: the entries, as above.
        short_circuit: evaluate gates first and skip the other graders once one fails (saves judge
            calls in filtering and RL; their components are then missing from that grade).

    Returns:
        The grader. Components: each entry's score under its name, its components and gates as
        ``name.component``.

    Raises:
        ConfigError: listing every bad entry at once.

    >>> grade = weighted(graders=[
    ...     {"grader": {"name": "regex", "pattern": "^[A-Z]", "mode": "search"}, "weight": 0, "gate": True},
    ...     {"grader": {"name": "rouge_l"}, "weight": 1}])
    >>> grade({"reference": {"text": "Fair then rain"}}, "Fair then rain").score
    1.0
    >>> g = grade({"reference": {"text": "Fair then rain"}}, "fair then rain"); g.score, g.gates
    (0.0, {'regex': False})
    """
    problems: list[str] = []
    if not isinstance(graders, (list, tuple)) or not graders:
        raise ConfigError(["grader 'weighted': `graders` must be a non-empty list of entries."])
    taken: set[str] = set()
    entries = [e for i, raw in enumerate(graders) if (e := _entry(i, raw, taken, problems)) is not None]
    if not problems and not any(e.weight > 0 for e in entries):
        problems.append("no entry has a weight > 0; at least one must carry the score")
    if problems:
        raise ConfigError([f"grader 'weighted': {p}" for p in problems])
    return _Weighted(tuple(entries), short_circuit)

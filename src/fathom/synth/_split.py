"""Train/val/test splits of synthetic examples, grouped by source document, with an optional family holdout.

Documents are assigned to splits by :func:`fathom.datasets.split_examples` (grouped by ``meta.source``,
seeded, shares met as closely as whole documents allow), so no document feeds two splits. With a family
holdout, some families (the teacher's ``family`` labels: an entity or topic) are held out: an example
goes to *test* only if its document is a test document and its family a held-out one, to *train* or
*val* only if its document is on that side and its family is not held out; the others are dropped (as
``family_holdout``) and counted. Examples without a family are never held out. Held-out families are
the listed ones, or a seeded share of the families seen (at least one, never all).

Covers: :func:`held_out_families`, :func:`split_candidates` and :func:`leakage` (documents and
families per split, their overlaps, exact prompt leaks, near-duplicate questions across splits).
Not covered: stratification by category (the category balance is reported, not enforced).
"""

from __future__ import annotations

import fnmatch
import hashlib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fathom.datasets import leakage_report, split_examples
from fathom.errors import FathomWarning
from fathom.synth._dedupe import Embedder, cross_split_near_duplicates
from fathom.synth._validate import Candidate, Rejection

__all__ = ["SPLITS", "SplitPlan", "held_out_families", "leakage", "split_candidates"]

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class SplitPlan:
    """Which candidate went where."""

    splits: dict[str, list[Candidate]]
    dropped: list[Rejection] = field(default_factory=list)
    """Examples whose document and family are on different sides of the holdout."""
    held_out: tuple[str, ...] = ()
    holdout: bool = False


def held_out_families(families: Sequence[str], holdout: Sequence[str] | float | None, seed: int) -> tuple[str, ...]:
    """The families to hold out: the listed ones, or a seeded share of ``families`` (at least 1, never all).

    >>> held_out_families(["a", "b", "c", "d"], 0.5, seed=0) == held_out_families(["d", "c", "b", "a"], 0.5, seed=0)
    True
    >>> len(held_out_families(["a", "b", "c", "d"], 0.5, seed=0)), held_out_families(["a", "b"], ["b"], seed=0)
    (2, ('b',))
    """
    if holdout is None:
        return ()
    if not isinstance(holdout, (int, float)):
        return tuple(sorted(set(holdout)))
    unique = sorted(set(families), key=lambda f: hashlib.sha256(f"{seed}\0{f}".encode()).hexdigest())
    if len(unique) < 2 or holdout <= 0:
        return ()
    count = min(len(unique) - 1, max(1, round(holdout * len(unique))))
    return tuple(sorted(unique[:count]))


def split_candidates(candidates: Sequence[Candidate], ratios: dict[str, float], seed: int,
                     holdout: Sequence[str] | float | None = None,
                     test_documents: Sequence[str] = ()) -> SplitPlan:
    """Split by document, then apply the family holdout (see the module docstring).

    ``test_documents`` are glob patterns over source ids (``"oven-1_*"``): the documents they match are the
    test split, whole, and the others are split between train and val in the ratio of their shares.
    """
    rows: list[dict[str, Any]] = [{"messages": [], "meta": {"id": i, "source": c.chunk.source}}
                                  for i, c in enumerate(candidates)]
    side: dict[int, str] = {}
    if test_documents:
        chosen = [r for r in rows if any(fnmatch.fnmatchcase(r["meta"]["source"], p) for p in test_documents)]
        side |= {r["meta"]["id"]: "test" for r in chosen}
        rest = [r for r in rows if r["meta"]["id"] not in side]
        others = {n: v for n, v in ratios.items() if n != "test" and v > 0}
        total = sum(others.values())
        if rest and total > 0:
            parts = split_examples(rest, {n: v / total for n, v in others.items()}, seed=seed, group_key="meta.source")
            side |= {row["meta"]["id"]: name for name, part in parts.items() for row in part}
        else:
            side |= {r["meta"]["id"]: "train" for r in rest}
    else:
        by_document = split_examples(rows, ratios, seed=seed, group_key="meta.source")
        side = {row["meta"]["id"]: name for name, part in by_document.items() for row in part}
    seen = {c.family for c in candidates if c.family}
    held = held_out_families(sorted(seen), holdout, seed)
    absent = sorted(set(held) - seen)
    if absent:
        warnings.warn(f"held-out famil{'y' if len(absent) == 1 else 'ies'} {', '.join(map(repr, absent))} never "
                      f"occur{'s' if len(absent) == 1 else ''} among the kept examples' families "
                      f"({', '.join(sorted(seen)[:10]) or 'none'}); check holdout_families", FathomWarning,
                      stacklevel=2)
    splits: dict[str, list[Candidate]] = {name: [] for name in (*ratios, "test")}
    dropped = []
    for i, c in enumerate(candidates):
        name = side[i]
        if holdout is not None and (name == "test") != (c.family in held):
            where = "a test document" if name == "test" else f"a {name} document"
            family = f"held-out family {c.family!r}" if c.family in held else f"family {c.family!r} (not held out)"
            dropped.append(Rejection("family_holdout", f"{where} with {family}", c.chunk.id, c.chunk.source, c.raw))
            continue
        splits[name].append(c)
    return SplitPlan(splits=splits, dropped=dropped, held_out=held, holdout=holdout is not None)


def leakage(plan: SplitPlan, examples: dict[str, list[dict[str, Any]]], embed: Embedder | None,
            threshold: float) -> dict[str, Any]:
    """The leakage report: documents and families per split, documents in two splits and (with a holdout)
    test families also in train or val, both of which must be empty; prompts found in two splits; and
    near-duplicate questions across splits."""
    documents = {n: sorted({c.chunk.source for c in part}) for n, part in plan.splits.items()}
    families = {n: sorted({c.family for c in part if c.family}) for n, part in plan.splits.items()}
    shared_documents = _shared(documents)
    others = {f for n, v in families.items() if n != "test" for f in v}
    shared_families = sorted(set(families.get("test", [])) & others) if plan.holdout else []
    prompts = leakage_report(examples)
    return {
        "documents_per_split": {n: len(v) for n, v in documents.items()},
        "documents": documents,
        "document_overlap": shared_documents,
        "families_per_split": {n: len(v) for n, v in families.items()},
        "families": families,
        "held_out_families": list(plan.held_out),
        "family_overlap": shared_families if plan.holdout else None,
        "leaked_prompts": len(prompts.leaked),
        "near_duplicates_across_splits": cross_split_near_duplicates(plan.splits, embed, threshold),
        "clean": not shared_documents and not shared_families and not prompts.leaked,
    }


def _shared(groups: dict[str, list[str]]) -> list[str]:
    """Values that occur in more than one group."""
    seen: dict[str, int] = {}
    for values in groups.values():
        for v in values:
            seen[v] = seen.get(v, 0) + 1
    return sorted(v for v, n in seen.items() if n > 1)

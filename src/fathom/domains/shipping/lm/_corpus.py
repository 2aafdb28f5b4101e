"""The ``shipping_corpus`` recipe stage: unlabelled bulletin text from the rule-based writer, for continued
pre-training (CPT) on the domain's language.

Each document is one whole bulletin (preamble, gale warnings, synopsis, area forecasts) written from seeded
random statistics (:func:`fathom.domains.shipping.writer.random_stats`), not from the recipe's model runs, so
no held-out day's text can reach training through the corpus.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fathom.recipes import StageContext

__all__ = ["bulletin_corpus_stage"]


def bulletin_corpus_stage(ctx: StageContext, bulletins: int = 200, seed: int = 1_000_000,
                          start: str = "2024-01-01T00:00:00Z") -> dict[str, Any]:
    """Write ``bulletins`` writer bulletins as ``corpus/bulletin-NNNN.txt`` (one every 12 hours from ``start``).

    Args:
        bulletins: how many bulletins (documents) to write.
        seed: seed of the first bulletin's statistics (bulletin ``i`` uses ``seed + i``).
        start: run start of the first bulletin (ISO 8601, UTC).
    """
    from fathom.domains.shipping.writer import random_stats, write_bulletin
    from fathom.errors import ConfigError, Problem

    if bulletins < 1:
        raise ConfigError([Problem("bulletins", f"must be at least 1, got {bulletins}")],
                          title="invalid shipping_corpus arguments")
    folder = ctx.out_dir / "corpus"
    folder.mkdir(parents=True, exist_ok=True)
    first = datetime.fromisoformat(start.replace("Z", "+00:00"))
    words = 0
    for i in range(bulletins):
        t = (first + timedelta(hours=12 * i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        text = write_bulletin(random_stats(seed + i, start=t)).text
        (folder / f"bulletin-{i:04d}.txt").write_text(text, encoding="utf-8")
        words += len(text.split())
    if not ctx.quiet:
        from rich.console import Console

        Console(stderr=True).print(f"shipping corpus: {bulletins} bulletins, {words} words -> {folder}")
    return {"corpus": str(folder), "documents": bulletins, "words": words}


bulletin_corpus_stage.outputs = ("corpus", "documents", "words")  # type: ignore[attr-defined]

"""Whole bulletins with a language model writing the area texts (``fathom shipping forecast``).

For one model run: statistics -> one prompt per sea area (:mod:`~fathom.domains.shipping.lm._prompt`)
-> the model's area texts (one batched generation) -> each text parsed. An area whose text does not
parse (a missing field or an unknown phrase) falls back to the rule-based writer, and the bulletin
says which areas did. Gale warnings, the synopsis and the grouping of identical neighbours in broadcast order
come from the same code as the rule-based bulletin, so the result is always a valid bulletin;
area texts are re-worded from the parsed fields in the writer's canonical phrasing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from fathom.backends import Backend, ChatRequest, Sampling
from fathom.domains.shipping.lm._prompt import area_messages
from fathom.domains.shipping.parse import parse_area_body
from fathom.domains.shipping.writer import Bulletin, WrittenArea, write_area, write_bulletin

__all__ = ["ModelBulletin", "forecast_bulletin"]


@dataclass
class ModelBulletin:
    """A bulletin whose area texts came from a model, with what happened to each area."""

    bulletin: Bulletin
    generated: dict[str, str] = field(default_factory=dict)
    """Area name -> the model's raw text."""
    fallbacks: dict[str, str] = field(default_factory=dict)
    """Area name -> why the rule-based writer was used instead."""
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {**self.bulletin.to_dict(), "generated": self.generated, "fallbacks": self.fallbacks,
                "seconds": self.seconds}


def forecast_bulletin(stats: dict[str, Any], backend: Backend, *, max_tokens: int = 64,
                      issued: str | None = None) -> ModelBulletin:
    """Write a whole bulletin from one run's statistics with ``backend`` writing the area texts."""
    started = time.perf_counter()
    names = [n for n, a in stats["areas"].items() if a.get("cells")]
    requests = [ChatRequest(area_messages(n, stats["areas"][n]), sampling=Sampling(max_tokens=max_tokens))
                for n in names]
    completions = backend.generate(requests)
    generated = {n: (c.message.get("content") or "") for n, c in zip(names, completions, strict=True)}
    generate_s = time.perf_counter() - started
    fallbacks: dict[str, str] = {}

    def model_area(area: dict[str, Any], name: str) -> WrittenArea:
        fields = parse_area_body(generated.get(name, ""), names=(name,))
        if not fields.complete():
            missing = fields.missing()
            why = (f"unknown phrase(s) {', '.join(repr(u) for u in fields.unknown)}" if fields.unknown else "")
            why += ("; " if why and missing else "") + (f"missing {', '.join(missing)}" if missing else "")
            fallbacks[name] = why or "does not parse"
            return write_area(area, name)
        written = WrittenArea(fields.with_names((name,)))
        try:
            written.text  # noqa: B018 - the writer must be able to say what the model meant
        except (ValueError, KeyError, TypeError) as exc:
            fallbacks[name] = f"cannot be re-worded ({exc})"
            return write_area(area, name)
        return written

    bulletin = write_bulletin(stats, issued=issued, area_writer=model_area)
    return ModelBulletin(bulletin, generated, fallbacks,
                         {"generate": round(generate_s, 2), "total": round(time.perf_counter() - started, 2)})

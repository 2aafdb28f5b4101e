"""The Shipping Forecast grader: one area's forecast text scored field by field.

Registered by the domain plug-in as ``shipping`` (``build_grader({"name": "shipping",
"mode": "strict"})``). It is the evaluation metric and the reinforcement-learning reward of a
model that writes area texts from statistics, so it is pure, fast (parsing is memoised per
field string) and takes junk without raising: empty text, repeated or extra sentences and
prose all fail the ``parses`` gate, which forces the score to 0.

What it checks, and why: the completion ("Wind. Sea state. Weather. Visibility.", optionally
opened by the area name(s) and a full stop or colon, or a whole bulletin) is parsed and compared
with the reference by :func:`~fathom.domains.shipping.score._scorer.compare_area`, the same
comparison the bulletin scorer uses, so the reward and the reported accuracy cannot drift apart.

* ``score``: mean over the five fields of the tolerant accuracy (``mode="strict"``: strict);
  a field neither side fills counts as a hit.
* ``components``: ``wind_direction``, ``wind_force``, ``sea_state``, ``weather``,
  ``visibility`` (tolerant) and ``strict_*`` (exact).
* ``gates``: ``parses`` = every field present and no unknown phrase.
* ``reason``: the fields that missed, or why the text does not parse.

The example's ``reference`` holds the reference area's ``fields`` (``AreaForecast.to_dict()``)
and/or its ``text``; fields win when both are given.

Not covered: scoring whole bulletins with per-area reports (``score/_scorer.py``).

>>> grade = shipping_grader()
>>> example = {"reference": {"text": "Southwest 5 to 7. Moderate or rough. Rain. Good."}}
>>> g = grade(example, "Viking: West 6 to gale 8. Rough. Rain. Good, occasionally moderate.")
>>> g.score, g.gates, g.components["strict_wind_direction"]
(0.9, {'parses': True}, 0.0)
>>> g.reason
'missed: visibility'
>>> bad = grade(example, "Southwest 5 to 7. The sea will be lively. Rain. Good.")
>>> bad.score, bad.gates
(0.0, {'parses': False})
>>> bad.reason
"does not parse: unknown phrase(s) 'the sea will be lively'; missing sea_state"
"""

from __future__ import annotations

from typing import Any

from fathom.domains.shipping.parse import expand_names, parse_area_body, parse_bulletin
from fathom.domains.shipping.score._scorer import COMPONENTS, compare_area, expand_areas
from fathom.domains.shipping.vocab import FIELDS, AreaForecast
from fathom.errors import ConfigError, GraderError
from fathom.graders import Grade, Grader, completion_text

__all__ = ["grade_area_text", "shipping_grader"]

_MODES = ("tolerant", "strict")


def _reference(example: dict[str, Any]) -> AreaForecast:
    ref = example.get("reference") if isinstance(example, dict) else None
    if isinstance(ref, str):
        return parse_area_body(ref)
    if isinstance(ref, dict):
        if isinstance(ref.get("fields"), dict):
            fields = ref["fields"]
            return AreaForecast.from_dict({"names": ref.get("names") or [], **fields})
        if isinstance(ref.get("text"), str):
            return parse_area_body(ref["text"], names=ref.get("names") or ())
    got = sorted(ref) if isinstance(ref, dict) else type(ref).__name__
    raise GraderError(f"The shipping grader needs example['reference'] with 'fields' "
                      f"(AreaForecast.to_dict()) or 'text' (the reference area text); got {got}. "
                      f"Build examples with the shipping dataset stage or add one of the two.")


def _pairs(text: str, ref: AreaForecast) -> list[tuple[AreaForecast | None, AreaForecast]]:
    """(prediction, reference) pairs: one for an area text, one per reference area for a
    whole bulletin."""
    blocks = parse_bulletin(text) if text.count("\n") else []
    if len(blocks) <= 1:
        return [(parse_area_body(text, names=ref.names), ref)]
    areas = expand_areas(blocks)
    wanted = expand_names(ref.names)
    if not wanted:
        return [(blocks[0], ref)]
    return [(areas.get(area), ref) for area in wanted]


def _why_not(preds: list[AreaForecast | None]) -> str:
    unknown = [u for p in preds if p is not None for u in p.unknown]
    missing = sorted({m for p in preds if p is not None for m in p.missing()})
    parts = []
    if any(p is None for p in preds):
        parts.append("the reference area is not in the bulletin")
    if unknown:
        shown = ", ".join(repr(u[:60]) for u in unknown[:3])
        more = f" (+{len(unknown) - 3} more)" if len(unknown) > 3 else ""
        parts.append(f"unknown phrase(s) {shown}{more}")
    if missing:
        parts.append("missing " + ", ".join(COMPONENTS[m] for m in missing))
    return "does not parse: " + "; ".join(parts)


def grade_area_text(example: dict[str, Any], completion: dict[str, Any] | str, *,
                    mode: str = "tolerant", max_chars: int = 4000) -> Grade:
    """Grade one completion against the example's reference area forecast.

    Args:
        example: a Fathom example whose ``reference`` has ``fields`` and/or ``text``.
        completion: the assistant message (or its text).
        mode: "tolerant" (Met Office tolerances) or "strict" (exact) for the score.
        max_chars: longer completions are cut to this many characters (and then usually fail
            to parse), so junk cannot slow the grader down.

    Returns:
        The :class:`~fathom.graders.Grade` (see the module docstring).

    Raises:
        GraderError: the example has no usable reference.
    """
    ref = _reference(example)
    text = completion_text(completion)[:max_chars]
    pairs = _pairs(text, ref)
    sums = {name: [0.0] * 6 for name in FIELDS}
    for pred, one_ref in pairs:
        for name, s in compare_area(pred, one_ref).items():
            sums[name] = [a + b for a, b in zip(sums[name], s, strict=True)]
    components: dict[str, float] = {}
    for name in FIELDS:
        tol, strict, n = sums[name][:3]
        components[COMPONENTS[name]] = round(tol / n, 6) if n else 1.0
        components[f"strict_{COMPONENTS[name]}"] = round(strict / n, 6) if n else 1.0
    prefix = "" if mode == "tolerant" else "strict_"
    per_field = [components[prefix + COMPONENTS[name]] for name in FIELDS]
    score = round(sum(per_field) / len(per_field), 6)
    preds = [p for p, _ in pairs]
    parses = all(p is not None and p.complete() for p in preds)
    if not parses:
        reason = _why_not(preds)
    else:
        missed = [COMPONENTS[n] for n, v in zip(FIELDS, per_field, strict=True) if v < 1.0]
        reason = ("missed: " + ", ".join(missed)) if missed else f"every field hit ({mode})"
    return Grade(score=min(1.0, max(0.0, score)), components=components,
                 gates={"parses": parses}, reason=reason)


def shipping_grader(mode: str = "tolerant", max_chars: int = 4000) -> Grader:
    """Factory for the ``shipping`` grader (see :func:`grade_area_text`).

    Args:
        mode: "tolerant" or "strict": which accuracy is the score.
        max_chars: completions are cut to this length before parsing.

    Returns:
        A grader ``grade(example, completion) -> Grade``.

    Raises:
        ConfigError: ``mode`` or ``max_chars`` is not valid.
    """
    problems = []
    if mode not in _MODES:
        problems.append(f"shipping grader: mode={mode!r}; valid: {', '.join(_MODES)}")
    if not isinstance(max_chars, int) or max_chars < 1:
        problems.append(f"shipping grader: max_chars={max_chars!r}; give a positive integer")
    if problems:
        raise ConfigError(problems)

    def grade(example: dict[str, Any], completion: dict[str, Any] | str) -> Grade:
        return grade_area_text(example, completion, mode=mode, max_chars=max_chars)

    grade.__doc__ = grade_area_text.__doc__
    grade.__name__ = f"shipping_grader_{mode}"
    return grade

"""Argument matching for the ``tool_call`` grader, after BFCL's AST checker (graders-and-formats.md §3).

Covers: the possible answer of a gold call (its arguments plus ``acceptable`` values, ``""`` marking a
parameter optional), type checks against the declared JSON Schema type (an int is accepted for a
float; a possible-answer value of another type makes that type acceptable), BFCL string
normalisation (switchable per parameter for ID-like values), and one pair's argument score.
Not covered: pairing calls (see :mod:`fathom.graders._toolcall_match`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from fathom.graders._toolcall_io import Call

__all__ = ["ArgOptions", "PairScore", "mandatory_keys", "normalise_string", "score_pair", "value_credit"]

_DROP = re.compile(r"[ ,./\-_*^]")
_TYPE_ALIASES = {"float": "number", "int": "integer", "dict": "object", "tuple": "array", "list": "array",
                 "str": "string", "bool": "boolean"}


def normalise_string(text: str) -> str:
    """BFCL's normaliser: drop spaces and ``, . / - _ * ^``, lower-case, ``'`` -> ``"``.

    >>> normalise_string("New York, NY"), normalise_string("A-1") == normalise_string("a1")
    ('newyorkny', True)
    """
    return _DROP.sub("", text).lower().replace("'", '"')


@dataclass(frozen=True)
class ArgOptions:
    """How argument values are compared."""

    normalise: bool = True
    """Normalise strings (BFCL rules) before comparing."""
    exact_params: Collection[str] = ()
    """Parameters (``"param"`` or ``"tool.param"``) compared without normalisation (IDs, codes)."""
    fuzzy: float | None = None
    """Opt-in: a string whose similarity ratio to an acceptable one is at least this earns the ratio."""


def _is_type(value: Any, declared: str) -> bool:
    declared = _TYPE_ALIASES.get(declared, declared)
    checks = {
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "string": lambda v: isinstance(v, str),
        "boolean": lambda v: isinstance(v, bool),
        "array": lambda v: isinstance(v, (list, tuple)),
        "object": lambda v: isinstance(v, dict),
        "null": lambda v: v is None,
    }
    check = checks.get(declared)
    return True if check is None else check(value)


def _type_ok(value: Any, declared: Any, acceptable: list[Any]) -> bool:
    types = declared if isinstance(declared, list) else [declared] if isinstance(declared, str) else []
    if not types or any(_is_type(value, t) for t in types):
        return True
    # BFCL: a possible-answer value of another type (e.g. a variable name) makes that type acceptable.
    return any(type(value) is type(a) for a in acceptable)


def _equal(pred: Any, gold: Any, normalise: bool) -> bool:
    if isinstance(pred, bool) or isinstance(gold, bool):
        return isinstance(pred, bool) and isinstance(gold, bool) and pred == gold
    if isinstance(pred, (int, float)) and isinstance(gold, (int, float)):
        return pred == gold
    if isinstance(pred, str) and isinstance(gold, str):
        return normalise_string(pred) == normalise_string(gold) if normalise else pred == gold
    if isinstance(pred, (list, tuple)) and isinstance(gold, (list, tuple)):
        return len(pred) == len(gold) and all(_equal(p, g, normalise) for p, g in zip(pred, gold, strict=True))
    if isinstance(pred, dict) and isinstance(gold, dict):
        return pred.keys() == gold.keys() and all(_equal(pred[k], gold[k], normalise) for k in gold)
    return type(pred) is type(gold) and pred == gold


def value_credit(pred: Any, acceptable: list[Any], *, declared: Any = None, normalise: bool = True,
                 fuzzy: float | None = None) -> float:
    """Credit in [0, 1] for one argument value against its acceptable values.

    1 for an acceptable value (after the type check and string normalisation); with ``fuzzy``, the
    best similarity ratio to an acceptable string when it reaches ``fuzzy``; else 0.

    >>> value_credit(3, [3.0], declared="number")      # int accepted for float
    1.0
    >>> value_credit("3", [3], declared="integer")     # a string is not an integer
    0.0
    >>> value_credit("Lundy", ["lundy"]), value_credit("Lundy", ["lundy"], normalise=False)
    (1.0, 0.0)
    """
    if not _type_ok(pred, declared, acceptable):
        return 0.0
    if any(_equal(pred, a, normalise) for a in acceptable):
        return 1.0
    if fuzzy is not None and isinstance(pred, str):
        key = normalise_string if normalise else str
        ratios = [difflib.SequenceMatcher(None, key(pred), key(a)).ratio() for a in acceptable if isinstance(a, str)]
        best = max(ratios, default=0.0)
        return best if best >= fuzzy else 0.0
    return 0.0


def _possible_answer(gold: Call) -> tuple[dict[str, list[Any]], set[str]]:
    """Acceptable values per parameter, and the optional parameters (``""`` in their list)."""
    values: dict[str, list[Any]] = {k: [v] for k, v in (gold.args or {}).items()}
    optional: set[str] = set()
    for key, extra in gold.acceptable.items():
        if "" in extra:
            optional.add(key)
        values.setdefault(key, []).extend(v for v in extra if v != "")
    return values, optional


def mandatory_keys(gold: Call) -> set[str]:
    """Gold parameters that must be present (their acceptable list lacks ``""``).

    >>> sorted(mandatory_keys(Call("f", {"a": 1, "b": 2}, {"b": [2, ""]})))
    ['a']
    """
    values, optional = _possible_answer(gold)
    return set(values) - optional


@dataclass(frozen=True)
class PairScore:
    """Argument credit of one (predicted, gold) pair."""

    correct: float
    """Sum of value credits over K(g)."""
    keys: int
    """|K(g)|: mandatory parameters plus the optional ones the prediction supplied."""
    extra: int
    """Predicted parameters found in neither the tool schema nor the possible answer."""
    wrong: tuple[str, ...]
    """Parameters in K(g) without full credit (for the reason)."""

    @property
    def exact(self) -> bool:
        """All of K(g) fully correct and no extras."""
        return not self.wrong and self.extra == 0



def score_pair(pred: Call, gold: Call, schema: dict[str, Any] | None, options: ArgOptions) -> PairScore:
    """Score the arguments of ``pred`` against ``gold`` (same tool name).

    >>> score_pair(Call("f", {"x": 1, "z": 0}), Call("f", {"x": 1.0, "y": "a"}), None, ArgOptions())
    PairScore(correct=1.0, keys=2, extra=1, wrong=('y',))
    """
    values, optional = _possible_answer(gold)
    properties = (schema or {}).get("properties") or {}
    args = pred.args
    if args is None:  # undecodable arguments: every mandatory parameter is wrong
        keys = sorted(set(values) - optional)
        return PairScore(0.0, len(keys), 0, tuple(keys))
    in_k = sorted((set(values) - optional) | (optional & set(args)))
    correct, wrong = 0.0, []
    for key in in_k:
        declared = properties.get(key)
        spec = declared if isinstance(declared, dict) else {}
        normalise = (options.normalise and spec.get("normalise", True) is not False
                     and key not in options.exact_params and f"{gold.name}.{key}" not in options.exact_params)
        credit = value_credit(args[key], values[key], declared=spec.get("type"), normalise=normalise,
                              fuzzy=options.fuzzy) if key in args else 0.0
        correct += credit
        if credit < 1.0:
            wrong.append(key)
    extra = sum(1 for key in args if key not in values and key not in properties)
    return PairScore(correct, len(in_k), extra, tuple(wrong))

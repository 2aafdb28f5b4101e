"""Argument matching for the ``tool_call`` grader, after BFCL's AST checker (graders-and-formats.md §3).

Covers: the possible answer of a gold call (its arguments plus ``acceptable`` values, ``""`` marking a
parameter optional), the type check (a value must fit its declared property the way the schema gate
sees it, see :mod:`fathom.graders._toolcall_rules`; a possible-answer value of another type makes
that type acceptable), string normalisation (switchable per parameter for ID-like values), unexpected
arguments (BFCL rule 3: a parameter the possible answer does not mention is unexpected, declared or
not, unless the example lists it in ``reference.free_args``), and one pair's argument score.
Not covered: pairing calls (see :mod:`fathom.graders._toolcall_match`).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from fathom.graders._toolcall_io import Call
from fathom.graders._toolcall_rules import ArgOptions, normalise_string, normalises, value_fits, values_equal

__all__ = ["PairScore", "mandatory_keys", "score_pair", "value_credit"]


def value_credit(pred: Any, acceptable: list[Any], *, normalise: bool = True, fuzzy: float | None = None) -> float:
    """Credit in [0, 1] for one argument value against its acceptable values (types already checked).

    1 for an acceptable value (strings compared normalised when ``normalise``); with ``fuzzy``, the
    best similarity ratio to an acceptable string when it reaches ``fuzzy``; else 0.

    >>> value_credit(3, [3.0]), value_credit("3", [3])
    (1.0, 0.0)
    >>> value_credit("Lundy", ["lundy"]), value_credit("Lundy", ["lundy"], normalise=False)
    (1.0, 0.0)
    """
    if any(values_equal(pred, a, normalise) for a in acceptable):
        return 1.0
    if fuzzy is not None and isinstance(pred, str):
        key = normalise_string if normalise else str
        ratios = [difflib.SequenceMatcher(None, key(pred), key(a)).ratio() for a in acceptable if isinstance(a, str)]
        best = max(ratios, default=0.0)
        return best if best >= fuzzy else 0.0
    return 0.0


def _type_ok(tool: str, key: str, value: Any, schema: dict[str, Any] | None, acceptable: list[Any],
             options: ArgOptions) -> bool:
    if schema is None or value_fits(tool, key, value, schema, options):
        return True
    # BFCL: a possible-answer value of another type than the declared one (a variable name) makes that
    # type acceptable. Only an off-schema gold value does, so such a reference is one that
    # check_tool_references reports; in checked data a credited value always passes the gate.
    return any(type(value) is type(a) and not value_fits(tool, key, a, schema, options) for a in acceptable)


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
    unexpected: tuple[str, ...]
    """Predicted parameters the possible answer does not mention (declared in the schema or not),
    except the example's free ones (``reference.free_args``)."""
    wrong: tuple[str, ...]
    """Parameters in K(g) without full credit (for the reason)."""

    @property
    def extra(self) -> int:
        """How many unexpected parameters (each adds one miss to ArgAcc's denominator)."""
        return len(self.unexpected)

    @property
    def exact(self) -> bool:
        """All of K(g) fully correct and no unexpected parameters."""
        return not self.wrong and not self.unexpected


def score_pair(pred: Call, gold: Call, schema: dict[str, Any] | None, options: ArgOptions,
               free: Collection[str] = ()) -> PairScore:
    """Score the arguments of ``pred`` against ``gold`` (same tool name); ``free`` names parameters
    the prediction may set to any value without it counting as unexpected.

    >>> score_pair(Call("f", {"x": 1, "z": 0}), Call("f", {"x": 1.0, "y": "a"}), None, ArgOptions())
    PairScore(correct=1.0, keys=2, unexpected=('z',), wrong=('y',))
    >>> score_pair(Call("f", {"x": 1, "z": 0}), Call("f", {"x": 1}), None, ArgOptions(), free=["z"]).exact
    True
    """
    values, optional = _possible_answer(gold)
    properties = (schema or {}).get("properties") or {}
    args = pred.args
    if args is None:  # undecodable arguments: every mandatory parameter is wrong
        keys = sorted(set(values) - optional)
        return PairScore(0.0, len(keys), (), tuple(keys))
    in_k = sorted((set(values) - optional) | (optional & set(args)))
    correct, wrong = 0.0, []
    for key in in_k:
        normalise = normalises(gold.name, key, properties.get(key), options)
        credit = 0.0
        if key in args and _type_ok(gold.name, key, args[key], schema, values[key], options):
            credit = value_credit(args[key], values[key], normalise=normalise, fuzzy=options.fuzzy)
        correct += credit
        if credit < 1.0:
            wrong.append(key)
    unexpected = tuple(key for key in args if key not in values and key not in free)
    return PairScore(correct, len(in_k), unexpected, tuple(wrong))

"""The ``tool_call`` grader: did the model call the right tools, with the right arguments, in order?

Implements graders-and-formats.md §2 (metrics) with the §3 BFCL argument rules and without the §5
Nova reward defects: names are compared as multisets, calls are matched one-to-one (Hungarian, or
LCS for ordered examples), a missing gold call still costs its arguments, and the sequence score is
LCS / max(|P|, |G|). A call made twice keeps one pairing; the copy lowers name precision, adds its
arguments to ArgAcc's denominator, and lowers the sequence and exact-match shares.
Like BFCL (rule 3) and unlike §2's "extra" as written, an argument the reference does not mention
is unexpected even when the tool declares it, unless the example lists it in ``reference.free_args``
(``{"tool": ["param", ...]}``). The ``schema_valid`` gate and argument matching use one set of value
rules (:mod:`fathom.graders._toolcall_rules`): types, enums and string normalisation agree.
Every parameter is read; unknown weight or gate names are rejected.
Not covered: running the tools (agent loops), multi-turn state checks, checking references against
their tools (:func:`fathom.graders.check_tool_references` does that before grading).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

from fathom.errors import ConfigError
from fathom.graders._common import check_choice, check_keys
from fathom.graders._protocol import Grade
from fathom.graders._toolcall_args import PairScore, mandatory_keys, score_pair
from fathom.graders._toolcall_io import (
    ORDERS,
    Call,
    Predicted,
    expected_calls,
    free_args,
    offered_tools,
    parallel_groups,
    predicted_calls,
    reference_order,
)
from fathom.graders._toolcall_match import hungarian_pairs, lcs_pairs, name_prf, sequence_lcs, sequence_parallel
from fathom.graders._toolcall_rules import ArgOptions, argument_errors

__all__ = ["DEFAULT_TOOL_CALL_WEIGHTS", "tool_call"]

DEFAULT_TOOL_CALL_WEIGHTS: dict[str, float] = {"name_f1": 0.3, "arg_accuracy": 0.4, "sequence": 0.2,
                                               "exact_match": 0.1}
"""Arguments weigh most (the hardest part, and what breaks a real call), tool choice next, order and
whole-call exactness least; ``json_valid`` and ``schema_valid`` default to gates, not weights."""
_WEIGHT_KEYS = ("name_f1", "arg_accuracy", "sequence", "exact_match", "json_valid", "schema_valid")
_GATE_KEYS = ("json_valid", "schema_valid")
_FORMATS = ("chat", "smollm2")


def _schema_problems(calls: Sequence[Call], tools: dict[str, dict[str, Any]], options: ArgOptions) -> list[str]:
    """Why the calls do not validate against the offered tools (empty when they all do), by the
    rules argument matching uses (:mod:`fathom.graders._toolcall_rules`)."""
    problems = []
    for number, call in enumerate(calls, 1):
        if call.name not in tools:
            problems.append(f"call {number}: unknown tool {call.name!r} (offered: {', '.join(sorted(tools))})")
            continue
        if call.args is None:
            continue  # already a JSON-validity problem
        errors = argument_errors(call.name, call.args, tools[call.name], options)
        if errors:
            where, message = errors[0]
            problems.append(f"call {number} ({call.name!r}) {where}: {message}")
    return problems


@dataclass(frozen=True)
class _ToolCall:
    name: ClassVar[str] = "tool_call"
    counts: ClassVar[tuple[str, ...]] = ("calls_expected", "calls_made", "name_tp", "arg_correct", "arg_total")
    """Components that are counts for pooled averages, not scores (reports list rather than plot them)."""
    weights: dict[str, float]
    gates: tuple[str, ...]
    order: str
    format: str
    options: ArgOptions

    def __call__(self, example: dict[str, Any], completion: dict[str, Any] | str) -> Grade:
        gold = expected_calls(example)
        got = predicted_calls(completion)
        tools = offered_tools(example)
        order = reference_order(example, self.order)
        free = free_args(example)
        components, notes = self._validity(got, tools)
        pred_names, gold_names = [c.name for c in got.calls], [c.name for c in gold]
        precision, recall, f1, tp = name_prf(pred_names, gold_names)
        schemas = tools or {}

        @cache
        def pair(i: int, j: int) -> PairScore:
            name = gold[j].name
            return score_pair(got.calls[i], gold[j], schemas.get(name), self.options, free.get(name, ()))

        def gain(i: int, j: int) -> float:
            # ArgAcc's denominator counts every gold call's mandatory keys whatever the pairing, so a
            # pairing gains its correct credit and loses its unexpected arguments.
            s = pair(i, j)
            return s.correct - s.extra

        match = lcs_pairs if order == "ordered" else hungarian_pairs
        pairs = match(pred_names, gold_names, gain)
        scored = {j: pair(i, j) for i, j in pairs}
        arg_total = sum(len(mandatory_keys(g)) for j, g in enumerate(gold) if j not in scored)
        arg_total += sum(s.keys + s.extra for s in scored.values())
        # calls made beyond the gold count (a duplicate, an invented one) add their arguments as misses, so
        # repeating a right call cannot keep its credit (the reward check's duplicate_call probe)
        paired = {i for i, _ in pairs}
        surplus = [c for i, c in enumerate(got.calls) if i not in paired][:max(0, len(got.calls) - len(gold))]
        arg_total += sum(max(1, len(c.args or {})) for c in surplus) if gold else 0
        arg_correct = sum(s.correct for s in scored.values())
        exact = sum(s.exact for s in scored.values())
        lcs = sequence_lcs(pred_names, gold_names)
        if order == "ordered":
            sequence = lcs
        elif order == "unordered":
            sequence = float(Counter(pred_names) == Counter(gold_names))
        else:
            sequence = sequence_parallel(len(pred_names), len(gold), pairs, parallel_groups(example, len(gold)))
        components.update({
            "name_precision": precision, "name_recall": recall, "name_f1": f1,
            "arg_accuracy": arg_correct / arg_total if arg_total else f1,
            "exact_match": exact / max(len(gold), len(got.calls)) if gold else float(not got.calls),
            "sequence_strict": float(pred_names == gold_names), "sequence_lcs": lcs, "sequence": sequence,
            "calls_expected": float(len(gold)), "calls_made": float(len(got.calls)),
            "name_tp": float(tp), "arg_correct": arg_correct, "arg_total": float(arg_total),
        })
        components["irrelevance" if not gold else "relevance"] = float(bool(got.calls) == bool(gold))
        notes.extend(self._call_notes(got.calls, gold, pairs, scored))
        return self._grade(components, notes)

    def _validity(self, got: Predicted, tools: dict[str, dict[str, Any]] | None) -> tuple[dict[str, float], list[str]]:
        notes = list(got.problems)
        if self.format == "smollm2" and not got.container:
            notes.append("no <tool_call>[...]</tool_call> block (SmolLM2 format writes [] for no call)")
        components = {"json_valid": float(not notes)}
        if tools is not None:
            schema_notes = _schema_problems(got.calls, tools, self.options)
            components["schema_valid"] = float(not notes and not schema_notes)
            notes.extend(schema_notes)
        return components, notes

    @staticmethod
    def _call_notes(pred: Sequence[Call], gold: Sequence[Call], pairs: Sequence[tuple[int, int]],
                    scored: dict[int, PairScore]) -> list[str]:
        matched_pred = {i for i, _ in pairs}
        notes = [f"missing call {gold[j].name!r}" for j in range(len(gold)) if j not in scored]
        notes += [f"extra call {pred[i].name!r}" for i in range(len(pred)) if i not in matched_pred]
        for j, s in sorted(scored.items()):
            if s.wrong:
                notes.append(f"{gold[j].name!r}: wrong or missing {', '.join(s.wrong)}")
            if s.unexpected:
                notes.append(f"{gold[j].name!r}: unexpected argument(s) {', '.join(s.unexpected)}, which the "
                             "reference does not mention (reference.free_args lists those any value of which is fine)")
        return notes

    def _grade(self, components: dict[str, float], notes: list[str]) -> Grade:
        used = {k: w for k, w in self.weights.items() if w > 0 and k in components}
        total = sum(used.values())
        score = sum(w * components[k] for k, w in used.items()) / total if total else 0.0
        gates = {g: components[g] == 1.0 for g in self.gates if g in components}
        summary = (f"{components['calls_made']:.0f} call(s) made, {components['calls_expected']:.0f} expected; "
                   f"name F1 {components['name_f1']:.2f}, args {components['arg_accuracy']:.2f}, "
                   f"sequence {components['sequence']:.2f}")
        reason = summary + ("; " + "; ".join(notes) if notes else "")
        return Grade(min(1.0, max(0.0, score)), components, gates, reason)


def tool_call(*, weights: dict[str, float] | None = None, gates: Sequence[str] = _GATE_KEYS, order: str = "ordered",
              format: str = "chat", normalise: bool = True, exact_params: Sequence[str] = (),
              fuzzy: float | None = None) -> _ToolCall:
    """Tool-call correctness with partial credit: names, arguments, order, JSON and schema validity.

    Why: one score for filtering synthetic tool-use data, evaluating and rewarding RL, built so a
    near miss (right tool, one wrong argument) lands between a miss and a hit, and so it cannot be
    gamed the way the Nova reference reward can (graders-and-formats.md §5).

    Expected calls come from ``reference.tool_calls`` (OpenAI tool calls; ``[]`` = no call expected;
    each may add ``acceptable: {param: [values...]}``, where ``""`` marks the parameter optional) or,
    without it, the last assistant message. ``reference.order`` overrides ``order`` per example,
    ``reference.groups`` (lists of gold indices) declares parallel groups, and
    ``reference.free_args`` (``{tool: [param, ...]}``) names parameters the reference leaves open:
    a call may set them to any schema-valid value. Any other argument the reference does not
    mention is unexpected, declared by the tool or not: it adds a miss to ``arg_accuracy`` and
    spoils ``exact_match``.

    Components: ``json_valid``; ``schema_valid`` (when the example offers ``tools``); multiset
    ``name_precision``/``name_recall``/``name_f1``; ``arg_accuracy`` = sum of matched argument credit
    / (sum over gold calls of |K(g)| + unexpected arguments), an unmatched gold call adding its
    mandatory params and each call made beyond the gold count (a duplicate, an invented one) its arguments;
    ``exact_match`` (gold calls matched exactly, over the larger of the gold and made call counts, so an
    extra call costs); ``sequence_strict``, ``sequence_lcs`` and
    ``sequence`` (the order mode's score); ``irrelevance`` (no call expected) or ``relevance``; and
    counts for pooled (micro) averages: ``calls_expected``, ``calls_made``, ``name_tp``,
    ``arg_correct``, ``arg_total``.

    Args:
        weights: overall score weights over ``name_f1``, ``arg_accuracy``, ``sequence``,
            ``exact_match``, ``json_valid``, ``schema_valid`` (normalised by their sum). Default
            :data:`DEFAULT_TOOL_CALL_WEIGHTS`: 0.3 name F1, 0.4 arguments, 0.2 sequence, 0.1 exact.
        gates: components that must be 1 or the score is 0 (``json_valid``, ``schema_valid``).
            Pass ``[]`` in evaluation to report validity as metrics only.
        order: ``ordered`` (LCS), ``unordered`` (1 iff name multisets are equal) or ``parallel``.
        format: ``chat`` (no tool-call container = a valid "no call") or ``smollm2`` (the text must
            hold a ``<tool_call>`` list; ``[]`` means no call). ``smollm2`` needs the raw text: a
            string completion (as in RL) or a ``Completion.to_dict()``; a backend-parsed message
            has already dropped an empty ``<tool_call>[]</tool_call>``.
        normalise: normalise strings BFCL-style before comparing, in argument matching and in the
            ``schema_valid`` gate's ``enum``/``const`` checks alike.
        exact_params: parameters (``"param"`` or ``"tool.param"``) compared verbatim, e.g. IDs, by
            matching and gate alike; a tool schema property may also say ``"normalise": false``.
        fuzzy: opt-in similarity threshold for partial string credit (None = off).

    Returns:
        The grader.

    Raises:
        ConfigError: an unknown weight or gate key, a negative or all-zero weight set, a bad mode.

    >>> example = {"reference": {"tool_calls": [{"type": "function", "function": {
    ...     "name": "get_forecast", "arguments": '{"area": "Dogger", "hours": 24}'}}]}}
    >>> import json
    >>> grade = tool_call()
    >>> def smol(area):
    ...     call = {"name": "get_forecast", "arguments": {"area": area, "hours": 24}}
    ...     return f"<tool_call>[{json.dumps(call)}]</tool_call>"
    >>> grade(example, smol("dogger")).score
    1.0
    >>> round(grade(example, smol("Fisher")).score, 2)  # right tool, one of two arguments wrong
    0.7
    >>> grade(example, "It will be windy.").score
    0.0
    """
    weights = dict(DEFAULT_TOOL_CALL_WEIGHTS if weights is None else weights)
    check_keys("tool_call", "weights", weights, _WEIGHT_KEYS)
    check_keys("tool_call", "gates", dict.fromkeys(gates), _GATE_KEYS)
    check_choice("tool_call", "order", order, ORDERS)
    check_choice("tool_call", "format", format, _FORMATS)
    if any(not isinstance(w, (int, float)) or w < 0 for w in weights.values()) or not sum(weights.values()):
        raise ConfigError([f"grader 'tool_call': weights must be non-negative numbers, not all zero; got {weights}."])
    if fuzzy is not None and not 0.0 < fuzzy <= 1.0:
        raise ConfigError([f"grader 'tool_call': fuzzy must be in (0, 1] or None, got {fuzzy!r}."])
    return _ToolCall({k: float(w) for k, w in weights.items()}, tuple(gates), order, format,
                     ArgOptions(normalise=normalise, exact_params=frozenset(exact_params), fuzzy=fuzzy))

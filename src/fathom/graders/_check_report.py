"""The advice of a reward check and its plain-text report.

:func:`advise` turns the measured statistics of a :class:`~fathom.graders.RewardCheck` into its
``advice`` code, the sentence saying what to do, and warnings; :func:`render_check` lays the check
out for a terminal. Thresholds and their reasons: :mod:`fathom.graders._check`.
Not covered: measuring anything (:func:`fathom.graders.check_reward`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fathom.graders._check import ComponentStats, RewardCheck

__all__ = ["advise", "render_check"]


def _issues(c: RewardCheck) -> list[str]:
    t = c.thresholds
    found = []
    if c.failed_probes:
        found.append("hackable")
    if c.reward.mean < t.too_hard_mean or c.all_zero_share >= t.stuck_share:
        found.append("too_hard")
    if c.reward.mean > t.too_easy_mean or c.all_full_share >= t.stuck_share:
        found.append("too_easy")
    if c.extreme_share >= t.binary_share or c.zero_spread_share >= t.stuck_share:
        found.append("binary")
    return found


def _hackable(c: RewardCheck) -> str:
    named = "; ".join(f"'{p.name}' ({p.description}) earns {p.mean:.2f}, above {p.threshold:.2f}"
                      for p in c.probes if p.passed is False and p.mean is not None)
    return (f"Hackable: {named}. A policy trained on this reward learns such answers instead of the task: gate "
            f"or penalise them (e.g. a `weighted` grader with a format gate, or a length limit relative to the "
            f"reference), then check again.")


def _text(code: str, c: RewardCheck) -> str:
    m, n = c.reward.mean, c.n
    if code == "hackable":
        return _hackable(c)
    if code == "too_hard":
        return (f"Too hard: mean reward {m:.2f}, and {c.all_zero_share:.0%} of prompts get 0 in all {n} samples, "
                f"so their groups teach nothing. Fine-tune with SFT first (`fathom train sft`), or use easier "
                f"prompts or a grader with partial credit.")
    if code == "too_easy":
        return (f"Too easy: mean reward {m:.2f}, and {c.all_full_share:.0%} of prompts get full credit in all {n} "
                f"samples; RFT has little left to gain. Use harder prompts or a stricter grader "
                f"(e.g. its strict mode).")
    if code == "binary":
        return (f"Binary: {c.extreme_share:.0%} of samples score exactly 0 or 1 and {c.zero_spread_share:.0%} of "
                f"prompts give all {n} samples the same reward, so most groups carry no signal. Add partial "
                f"credit (a `weighted` grader over components), or sample more diversely (higher temperature, "
                f"larger n).")
    return (f"Ready for RFT: mean reward {m:.2f}, {1 - c.zero_spread_share:.0%} of prompts give a learning "
            f"signal (spread within a prompt {c.reward.spread:.2f}), and every probe stays under its limit.")


def _warnings(c: RewardCheck) -> list[str]:
    t, found = c.thresholds, []
    if c.reference_score is not None and c.reference_score < t.control_min:
        found.append(f"the reference answers themselves score only {c.reference_score:.2f} on average: check the "
                     f"grader's parameters and the examples' references")
    if any(p.name == "wrong" and p.n == 0 for p in c.probes):
        found.append("no other example's reference differs enough from each reference to make a wrong answer, so "
                     "the 'wrong' probe did not run: check with more varied examples")
    corr = c.strict.correlation
    if c.strict.source != "score == 1" and corr is not None and corr < t.weak_correlation:
        found.append(f"the reward tracks strict correctness ({c.strict.source}) weakly: correlation {corr:.2f}")
    return found


def advise(check: RewardCheck) -> RewardCheck:
    """``check`` with ``advice``, ``advice_text``, ``issues`` and the warnings filled in."""
    issues = _issues(check)
    code = issues[0] if issues else "ready"
    more = issues[1:]
    text = _text(code, check) + (f" Also: {', '.join(more)}." if more else "")
    return replace(check, advice=code, advice_text=text, issues=issues,
                   warnings=[*check.warnings, *_warnings(check)])


def _num(x: float | None, spec: str = ".2f") -> str:
    return "-" if x is None else format(x, spec)


def _row(name: str, s: ComponentStats) -> str:
    return f"  {name:<24} {s.mean:>6.3f} {s.std:>6.3f} {s.spread:>7.3f} {s.zero_spread_share:>7.0%}"


def render_check(c: RewardCheck) -> str:
    """The check as aligned plain text: reward, components, gates, strictness, probes, advice."""
    made = ", ".join(f"{k} {v}" for k, v in c.meta.items() if v is not None)
    lines = [f"Reward check of {c.grader!r}: {c.prompts} prompts x {c.n} samples" + (f" ({made})" if made else ""),
             f"  {'':<24} {'mean':>6} {'std':>6} {'spread':>7} {'same':>7}", _row("reward", c.reward)]
    lines += [_row(k, s) for k, s in c.components.items()]
    lines.append(f"  prompts all 0: {c.all_zero_share:.0%}, all 1: {c.all_full_share:.0%}; "
                 f"samples at exactly 0 or 1: {c.extreme_share:.0%}")
    lines += [f"  gate {k}: passed by {v:.0%} of samples" for k, v in c.gates.items()]
    s = c.strict
    lines.append(f"Strict correctness ({s.source}): mean {s.mean:.2f}, correlation with reward {_num(s.correlation)}, "
                 f"reward when correct {_num(s.reward_when_correct)}, when not {_num(s.reward_when_wrong)}")
    lines.append(f"Probes (reference answers score {_num(c.reference_score)}):")
    for p in c.probes:
        verdict = "n/a" if p.passed is None else "pass" if p.passed else "FAIL"
        lines.append(f"  {p.name:<15} {verdict:<5} mean {_num(p.mean)} max {_num(p.max)} "
                     f"(limit {p.threshold:.2f}, {p.n} examples): {p.description}")
        if p.passed is False:
            lines.append(f"    e.g. {p.answer[:100]!r}")
    lines.append(f"Advice: {c.advice}. {c.advice_text}")
    lines += [f"Warning: {w}" for w in c.warnings]
    return "\n".join(lines)

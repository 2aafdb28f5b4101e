"""Reward checks before reinforcement fine-tuning: does a grader give GRPO something to learn from?

GRPO learns from the differences between the n completions of one prompt; a group whose samples all
get the same reward teaches nothing. :func:`check_reward` takes n sampled completions per prompt and
reports, for the reward and each component: mean, spread (std over all samples and the mean std
within a prompt's group) and the share of prompts with no spread; how the reward tracks strict
correctness; the hack probes of :mod:`fathom.graders._probes`; and one piece of advice.

Advice, first match wins (thresholds in :class:`CheckThresholds`):

* ``hackable``: a probe earns more than its threshold. Training would teach the hack.
* ``too_hard``: mean reward < 0.1, or half the prompts get 0 in every sample. With a reward of mean
  0.1 a prompt's 8 samples all score 0 about 0.9**8 = 43% of the time: mostly dead groups. SFT first.
* ``too_easy``: mean reward > 0.9, or half the prompts get full credit in every sample.
* ``binary``: 95% of samples score exactly 0 or 1, or half the prompts give all their samples one
  reward: the reward is too coarse to rank a prompt's samples. Add partial credit.
* ``ready``: none of the above.

:func:`run_reward_check` samples the completions first, with any backend (n copies of each prompt in
one batch, each with its own seed). Not covered: the hack probes themselves (:mod:`._probes`), the
advice text and report layout (:mod:`._check_report`).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from fathom.errors import ConfigError, DataError, GraderError, Problem
from fathom.graders._check_report import advise, render_check
from fathom.graders._probes import DEFAULT_PROBES, Probe, ProbeResult, grade_probes, reference_message
from fathom.graders._protocol import Grade, Grader, completion_message

if TYPE_CHECKING:
    from fathom.backends import Backend

__all__ = ["REWARD_ADVICE", "CheckThresholds", "ComponentStats", "RewardCheck", "StrictStats", "check_reward",
           "run_reward_check"]

REWARD_ADVICE = ("hackable", "too_hard", "too_easy", "binary", "ready")
"""Every advice code, in priority order (the first that applies is ``RewardCheck.advice``)."""
SCHEMA = "fathom.reward_check/1"
_EPS = 1e-9


@dataclass(frozen=True)
class CheckThresholds:
    """Where the advice changes (see the module docstring for why these values)."""

    too_hard_mean: float = 0.1
    """Mean reward below this is ``too_hard``."""
    too_easy_mean: float = 0.9
    """Mean reward above this is ``too_easy``."""
    stuck_share: float = 0.5
    """This share of prompts all at 0 (``too_hard``), all at 1 (``too_easy``) or with no spread (``binary``)."""
    binary_share: float = 0.95
    """This share of samples scored exactly 0 or 1 is ``binary``."""
    weak_correlation: float = 0.3
    """A reward/strict-correctness correlation below this is warned about."""
    control_min: float = 0.9
    """Reference answers scoring below this on average are warned about (grader or references broken)."""


@dataclass(frozen=True)
class ComponentStats:
    """Spread of one reward component over the sampled completions."""

    mean: float
    """Mean over every sample that reports it."""
    std: float
    """Population std over those samples."""
    spread: float
    """Mean over prompts of the std within the prompt's samples: the signal GRPO sees."""
    zero_spread_share: float
    """Share of prompts whose samples all have the same value."""
    n: int
    """Samples that report it."""


@dataclass(frozen=True)
class StrictStats:
    """How the reward tracks strict correctness."""

    source: str
    """What strict correctness is: ``"score == 1"`` or the strict grader's name."""
    mean: float
    """Mean strict correctness of the samples (their accuracy when it is 0/1)."""
    correlation: float | None
    """Pearson correlation of reward and strict correctness (None when either is constant)."""
    reward_when_correct: float | None
    """Mean reward of strictly correct samples (strict == 1; None when there are none)."""
    reward_when_wrong: float | None
    """Mean reward of the other samples (None when there are none)."""


@dataclass(frozen=True)
class RewardCheck:
    """Whether a grader is ready to be an RL reward. ``to_dict()`` is the ``--json`` contract."""

    grader: str
    """The grader's name."""
    prompts: int
    """Prompts checked."""
    n: int
    """Samples per prompt (the smallest group when they differ)."""
    reward: ComponentStats
    """The score (the reward GRPO sees)."""
    components: dict[str, ComponentStats]
    """Each component the grader reports."""
    gates: dict[str, float]
    """Each gate's pass rate over the samples."""
    all_zero_share: float
    """Share of prompts whose samples all score 0."""
    all_full_share: float
    """Share of prompts whose samples all score 1."""
    extreme_share: float
    """Share of samples scored exactly 0 or 1."""
    strict: StrictStats
    """Reward against strict correctness."""
    probes: list[ProbeResult]
    """The hack probes, in order."""
    reference_score: float | None
    """Mean score of the reference answers (a control: should be near 1)."""
    advice: str
    """One of :data:`REWARD_ADVICE`."""
    advice_text: str
    """What to do, in a sentence or two (names the failing probes)."""
    issues: list[str] = field(default_factory=list)
    """Every advice code that applies, in priority order (empty when ``ready``)."""
    warnings: list[str] = field(default_factory=list)
    """Other things that look wrong (weak correlation, low-scoring references, truncated samples)."""
    thresholds: CheckThresholds = field(default_factory=CheckThresholds)
    """The thresholds the advice used."""
    meta: dict[str, Any] = field(default_factory=dict)
    """How the samples were made (model, temperature, max_tokens, seed) when known."""

    @property
    def zero_spread_share(self) -> float:
        """Share of prompts whose samples all get the same reward (no learning signal)."""
        return self.reward.zero_spread_share

    @property
    def failed_probes(self) -> list[str]:
        """Names of the probes that earned too much credit."""
        return [p.name for p in self.probes if p.passed is False]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``schema``, ``zero_spread_share`` and every field (dataclasses as dicts)."""
        out = {"schema": SCHEMA, **asdict(self)}
        out["zero_spread_share"] = self.zero_spread_share
        return out

    def render(self) -> str:
        """A plain-text report for the terminal."""
        return render_check(self)


def _stats(groups: Sequence[Sequence[float]]) -> ComponentStats:
    values = [v for g in groups for v in g]
    spreads = [statistics.pstdev(g) if len(g) > 1 else 0.0 for g in groups if g]
    same = [max(g) - min(g) <= _EPS for g in groups if g]
    return ComponentStats(mean=statistics.fmean(values), std=statistics.pstdev(values),
                          spread=statistics.fmean(spreads), zero_spread_share=sum(same) / len(same), n=len(values))


def _correlation(x: Sequence[float], y: Sequence[float]) -> float | None:
    try:
        return statistics.correlation(x, y)
    except statistics.StatisticsError:  # fewer than 2 points, or a constant side
        return None


def _strict_stats(source: str, rewards: list[float], strict: list[float]) -> StrictStats:
    right = [r for r, s in zip(rewards, strict, strict=True) if s >= 1.0 - _EPS]
    wrong = [r for r, s in zip(rewards, strict, strict=True) if s < 1.0 - _EPS]
    return StrictStats(source, statistics.fmean(strict), _correlation(rewards, strict),
                       statistics.fmean(right) if right else None, statistics.fmean(wrong) if wrong else None)


def _grader_name(grader: Any) -> str:
    return str(getattr(grader, "name", None) or getattr(grader, "__name__", None) or type(grader).__name__)


def _check_groups(examples: Sequence[dict[str, Any]], samples: Sequence[Sequence[Any]]) -> None:
    problems = []
    if len(samples) != len(examples):
        problems.append(Problem("samples", f"one list of completions per example: got {len(samples)} lists "
                                           f"for {len(examples)} examples"))
    if not examples:
        problems.append(Problem("examples", "no examples to check; give at least one prompt with a reference"))
    small = [str(i + 1) for i, group in enumerate(samples) if len(group) < 2]
    if small:
        problems.append(Problem("samples", f"every prompt needs at least 2 completions to measure a spread; "
                                           f"example(s) {', '.join(small[:5])} have fewer. Sample n >= 2 (e.g. 8) "
                                           f"per prompt"))
    if problems:
        raise ConfigError(problems, title="cannot check the reward")


def check_reward(grader: Grader, examples: Sequence[dict[str, Any]], samples: Sequence[Sequence[dict[str, Any] | str]],
                 *, strict: Grader | None = None, probes: Sequence[Probe] = DEFAULT_PROBES,
                 thresholds: CheckThresholds | None = None, name: str | None = None,
                 pool: Sequence[dict[str, Any]] | None = None) -> RewardCheck:
    """Check a grader as an RL reward on sampled completions (see the module docstring).

    Args:
        grader: the reward.
        examples: Fathom examples with references.
        samples: ``samples[i]`` holds the completions sampled for ``examples[i]`` (at least 2 each):
            OpenAI assistant messages or strings.
        strict: a grader whose score is strict correctness (default: the reward's score == 1).
        probes: the hack probes to run (default :data:`~fathom.graders.DEFAULT_PROBES`).
        thresholds: where the advice changes (default :class:`CheckThresholds`).
        name: the grader's name in the report (default: its ``name`` or ``__name__``).
        pool: examples whose references the ``long`` and ``wrong`` probes draw on (default:
            ``examples``); a wider pool gives more varied wrong answers.

    Returns:
        The :class:`RewardCheck`.

    Raises:
        ConfigError: the samples do not match the examples, or a prompt has fewer than 2 samples.

    >>> from fathom.graders import exact
    >>> examples = [{"messages": [{"role": "user", "content": f"Say {w}"}], "reference": {"text": w}}
    ...             for w in ("gale", "rain", "fog")]
    >>> check = check_reward(exact(), examples, [["gale", "Gale!"], ["rain", "snow"], ["fog", "mist"]])
    >>> check.advice, check.extreme_share, check.failed_probes
    ('binary', 1.0, [])
    """
    _check_groups(examples, samples)
    limits = thresholds or CheckThresholds()
    grades: list[list[Grade]] = [[grader(ex, completion_message(c)) for c in group]
                                 for ex, group in zip(examples, samples, strict=True)]
    scores = [[g.score for g in group] for group in grades]
    flat = [s for group in scores for s in group]
    keys = list(dict.fromkeys(k for group in grades for g in group for k in g.components))
    components = {k: _stats([[float(g.components[k]) for g in group if k in g.components] for group in grades])
                  for k in keys}
    gate_keys = list(dict.fromkeys(k for group in grades for g in group for k in g.gates))
    gates = {k: statistics.fmean(float(g.gates[k]) for group in grades for g in group if k in g.gates)
             for k in gate_keys}
    if strict is None:
        strict_values, source = [float(s >= 1.0 - _EPS) for s in flat], "score == 1"
    else:
        strict_values = [strict(ex, completion_message(c)).score for ex, group in zip(examples, samples, strict=True)
                         for c in group]
        source = _grader_name(strict)
    probe_results, control = grade_probes(grader, examples, probes, pool=pool)
    check = RewardCheck(
        grader=name or _grader_name(grader), prompts=len(examples), n=min(len(g) for g in samples),
        reward=_stats(scores), components=components, gates=gates,
        all_zero_share=statistics.fmean(max(g) <= _EPS for g in scores),
        all_full_share=statistics.fmean(min(g) >= 1.0 - _EPS for g in scores),
        extreme_share=statistics.fmean(s <= _EPS or s >= 1.0 - _EPS for s in flat),
        strict=_strict_stats(source, flat, strict_values), probes=probe_results,
        reference_score=statistics.fmean(control) if control else None,
        advice="ready", advice_text="", thresholds=limits)
    return advise(check)


def _sampling_problems(model: str | None, backend: Backend | None, n: int, temperature: float, max_tokens: int,
                       limit: int | None) -> list[Problem]:
    problems = []
    if (model is None) == (backend is None):
        problems.append(Problem("model", "give a model spec (model=...) or a built backend (backend=...), not both "
                                         "and not neither"))
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        problems.append(Problem("n", f"samples per prompt must be at least 2 to measure a spread (GRPO learns "
                                     f"from the differences within a prompt's group), got {n!r}; try 8"))
    if not temperature > 0:
        problems.append(Problem("temperature", f"must be > 0 so the n samples can differ, got {temperature!r}; "
                                               f"use the RFT run's temperature (e.g. 1.0)"))
    if max_tokens < 1:
        problems.append(Problem("max_tokens", f"must be at least 1, got {max_tokens!r}"))
    if limit is not None and limit < 1:
        problems.append(Problem("limit", f"must be at least 1 prompt, got {limit!r}"))
    return problems


def _grades_references(grader: Grader, rows: Sequence[dict[str, Any]]) -> None:
    """Grade each example's reference answer, so a grader that cannot read the examples fails before the
    model loads; its errors become one :class:`DataError` listing every such example."""
    problems = []
    for i, example in enumerate(rows):
        try:
            grader(example, reference_message(example) or "")
        except GraderError as exc:
            problems.append(Problem(f"example {i + 1}", str(exc)))
    if problems:
        raise DataError(problems, title="the grader cannot grade these examples")


def run_reward_check(grader: Grader, examples: Sequence[dict[str, Any]], *, model: str | None = None,
                     backend: Backend | None = None, n: int = 8, temperature: float = 1.0, max_tokens: int = 256,
                     limit: int | None = None, parallel: int | None = None, seed: int = 0,
                     strict: Grader | None = None, probes: Sequence[Probe] = DEFAULT_PROBES,
                     thresholds: CheckThresholds | None = None, device: str | None = None,
                     progress: bool = False) -> RewardCheck:
    """Sample ``n`` completions per prompt and check the grader on them (:func:`check_reward`).

    Everything that can be checked without the model is checked first: the arguments, that every
    example has a prompt, and that the grader can grade each example's reference answer (a grader
    that rejects the examples fails here, not after loading the model).

    Args:
        grader: the reward.
        examples: Fathom examples with references; a trailing assistant turn is left out of the prompt.
        model: a model spec for :func:`fathom.backends.load_backend` (or give ``backend``).
        backend: an already built backend (the RFT trainer passes its own).
        n: samples per prompt, at least 2.
        temperature: sampling temperature (> 0; use the RFT run's).
        max_tokens: most new tokens per sample.
        limit: sample only the first this many examples (the probes' wrong answers still come from
            all of them).
        parallel: requests in flight at once when ``model`` is given (see ``load_backend``).
        seed: sample ``j`` of example ``i`` is drawn with seed ``seed + i * n + j``.
        strict: a grader whose score is strict correctness (default: reward == 1).
        probes: the hack probes (default :data:`~fathom.graders.DEFAULT_PROBES`).
        thresholds: where the advice changes.
        device: where a local ``model`` runs (see ``load_backend``).
        progress: show a progress bar while generating (when ``model`` is given).

    Returns:
        The :class:`RewardCheck`; ``meta`` records the model and sampling settings.

    Raises:
        ConfigError: bad arguments (every one listed), or an example without a prompt.
        DataError: the grader cannot grade some examples' reference answers (each one listed).
    """
    from fathom.backends import ChatRequest, Sampling, load_backend, prompt_messages

    problems = _sampling_problems(model, backend, n, temperature, max_tokens, limit)
    rows = list(examples)[:limit]
    if not rows:
        problems.append(Problem("examples", "no examples to check; give at least one prompt with a reference"))
    problems += [Problem(f"example {i + 1}", "has no prompt (no user, system or tool turn before its "
                                             "trailing assistant turns)")
                 for i, ex in enumerate(rows) if not prompt_messages(ex)]
    if problems:
        raise ConfigError(problems, title="cannot check the reward")
    _grades_references(grader, rows)
    engine = backend or load_backend(str(model), parallel=parallel, device=device, progress=progress)
    requests = [ChatRequest(messages=prompt_messages(ex), tools=ex.get("tools") or None,
                            sampling=Sampling(max_tokens=max_tokens, temperature=temperature, seed=seed + i * n + j))
                for i, ex in enumerate(rows) for j in range(n)]
    done = engine.generate(requests)
    samples = [[c.message for c in done[i * n:(i + 1) * n]] for i in range(len(rows))]
    check = check_reward(grader, rows, samples, strict=strict, probes=probes, thresholds=thresholds,
                         pool=examples)
    truncated = sum(c.finish_reason == "length" for c in done) / len(done)
    notes = [f"{truncated:.0%} of samples stopped at max_tokens={max_tokens}; raise it if answers are cut off"
             ] if truncated >= 0.1 else []
    meta = {"model": getattr(engine, "model_name", model), "temperature": temperature, "max_tokens": max_tokens,
            "seed": seed, "truncated_share": truncated}
    return replace(check, meta=meta, warnings=[*check.warnings, *notes])

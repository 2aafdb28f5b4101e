"""A Fathom grader as a TRL reward function (``GRPOTrainer(reward_funcs=[...])``).

TRL calls each reward function as ``f(prompts=..., completions=..., completion_ids=..., **columns)``
where ``prompts``/``completions`` are strings (standard datasets) or lists of message dicts
(conversational), every other dataset column arrives as a list with one value per completion, and
TRL adds ``trainer_state``, ``log_extra`` and ``log_metric`` (``trl/trainer/grpo_trainer.py``,
``_calculate_rewards``). The adapter rebuilds one Fathom example per completion from those columns,
grades it, and returns the scores.
Not covered: async rewards, reward models (``nn.Module`` rewards).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

from fathom.graders._protocol import Grade, Grader

__all__ = ["TrlReward", "as_trl_reward"]

_TRL_RUNTIME = {"trainer_state", "log_extra", "log_metric", "environments", "completion_ids"}
_JSON_COLUMNS = {"reference", "tools", "meta"}


def _drop_none(value: Any) -> Any:
    """Remove ``None`` dict values recursively (Arrow fills absent struct fields with None)."""
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def _column_value(key: str, value: Any) -> Any:
    if key in _JSON_COLUMNS and isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return value
    return _drop_none(value) if key == "tools" else value


def _completion(raw: Any) -> dict[str, Any] | str:
    """A TRL completion (string, or list of messages) as one assistant message: the last assistant
    text, with the tool calls of every assistant turn in order."""
    if not isinstance(raw, list):
        return cast("dict[str, Any] | str", raw)
    assistants = [m for m in raw if isinstance(m, dict) and m.get("role", "assistant") == "assistant"]
    if len(assistants) == 1:
        return assistants[0]
    calls = [c for m in assistants for c in (m.get("tool_calls") or [])]
    message: dict[str, Any] = {"role": "assistant", "content": assistants[-1].get("content") if assistants else ""}
    if calls:
        message["tool_calls"] = calls
    return message


class TrlReward:
    """A grader wrapped as a TRL reward function. Build it with :func:`as_trl_reward`.

    Attributes:
        __name__: the name TRL logs the reward under (``rewards/<name>/mean``).
        last_grades: the :class:`Grade` of each completion in the latest call.
        last_components: means over the latest call of every component (over the completions that
            report it), plus ``score`` and ``gate_failed`` (share of completions zeroed by a gate).
    """

    def __init__(self, grader: Grader, *, name: str, log_components: bool):
        self.grader = grader
        self.__name__ = name
        self.log_components = log_components
        self.last_grades: list[Grade] = []
        self.last_components: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"TrlReward({self.__name__!r})"

    def examples(self, prompts: Sequence[Any], **columns: Any) -> list[dict[str, Any]]:
        """The Fathom examples TRL's arguments describe (one per completion)."""
        n = len(prompts)
        rows = []
        for i, prompt in enumerate(prompts):
            example = {key: _column_value(key, col[i]) for key, col in columns.items()
                       if key not in _TRL_RUNTIME and isinstance(col, (list, tuple)) and len(col) == n}
            if "messages" not in example:
                example["messages"] = list(prompt) if isinstance(prompt, list) else \
                    [{"role": "user", "content": prompt}]
            rows.append(example)
        return rows

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float]:
        examples = self.examples(prompts, **kwargs)
        grades = [self.grader(ex, _completion(c)) for ex, c in zip(examples, completions, strict=True)]
        self.last_grades = grades
        self.last_components = self._means(grades)
        if self.log_components:
            log_metric, log_extra = kwargs.get("log_metric"), kwargs.get("log_extra")
            if callable(log_metric):
                for key, value in self.last_components.items():
                    log_metric(f"{self.__name__}/{key}", value)
            if callable(log_extra):
                log_extra(f"{self.__name__}_reason", [g.reason for g in grades])
        return [g.score for g in grades]

    @staticmethod
    def _means(grades: Sequence[Grade]) -> dict[str, float]:
        sums: dict[str, list[float]] = {}
        for grade in grades:
            for key, value in grade.components.items():
                sums.setdefault(key, []).append(float(value))
        means = {key: sum(v) / len(v) for key, v in sums.items()}
        if grades:
            means["score"] = sum(g.score for g in grades) / len(grades)
            means["gate_failed"] = sum(not all(g.gates.values()) for g in grades) / len(grades)
        return means


def as_trl_reward(grader: Grader, *, log_components: bool = True, name: str | None = None) -> TrlReward:
    """Wrap a grader as a TRL ``reward_funcs`` entry: ``(prompts, completions, **kwargs) -> list[float]``.

    The same grader that filters data and scores evaluations becomes the RL reward, so they cannot
    drift apart. Dataset columns such as ``reference``, ``tools`` and ``meta`` are passed to the grader
    as example fields (JSON strings in those columns are decoded; ``None`` fields in ``tools``, which
    Arrow adds for absent keys, are dropped). Without a ``messages`` column the example's messages
    are the prompt.

    Args:
        grader: any grader (e.g. from :func:`build_grader`).
        log_components: log each component's batch mean through TRL's ``log_metric`` (as
            ``<name>/<component>``) and each grade's reason as a completions-table column through
            ``log_extra``; the means are always kept in ``reward.last_components``.
        name: the reward's name in TRL logs (default: the grader's ``name``, e.g. ``tool_call``).

    Returns:
        The reward function.

    >>> from fathom.graders import exact
    >>> reward = as_trl_reward(exact(), name="exact")
    >>> reward(prompts=["Capital of France?", "2+2?"], completions=["Paris", "5"],
    ...        reference=[{"text": "paris"}, {"text": "4"}])
    [1.0, 0.0]
    >>> reward.last_components
    {'exact': 0.5, 'score': 0.5, 'gate_failed': 0.0}
    """
    label = name or getattr(grader, "name", None) or getattr(grader, "__name__", None) or type(grader).__name__
    return TrlReward(grader, name=label, log_components=log_components)

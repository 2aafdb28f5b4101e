"""The leaf OpenAI grader types as Fathom nodes: ``string_check``, ``text_similarity`` and ``python``.

A node computes an :class:`Outcome`: OpenAI's own value (``raw``, what a ``multi`` formula sees)
and a Fathom score in [0, 1]. Each node's ``details`` are components whose keys are the same on
every grading (so RL logs stay aligned).

* ``string_check`` compares rendered ``input`` and ``reference`` exactly, no trimming: ``eq``
  (equal), ``ne`` (not equal), ``like`` (``input`` contains ``reference``), ``ilike`` (the same,
  ignoring case). 1 or 0.
* ``text_similarity`` scores with ``evaluation_metric`` (see :mod:`._openai_similarity`).
* ``python`` runs ``source``'s ``grade(sample, item)`` in :class:`~._sandbox.PythonSandbox`; the
  score is the returned value clipped to [0, 1] (``raw`` keeps it). ``image_tag`` is accepted and
  ignored: the worker uses this interpreter and its installed packages.

``pass_threshold`` (an evals field) adds a ``passed`` component (score >= threshold), not a gate.
Not covered: the model-backed types (:mod:`._openai_model`) and ``multi`` (:mod:`._openai`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from fathom.errors import ConfigError, did_you_mean
from fathom.graders._openai_similarity import METRICS, Embedder, similarity_metric
from fathom.graders._openai_templates import Context, Template, parse_template
from fathom.graders._sandbox import PythonSandbox

__all__ = ["Node", "Options", "Outcome", "PythonNode", "StringCheck", "TextSimilarity", "check_keys", "clip",
           "threshold"]

OPERATIONS = ("eq", "ilike", "like", "ne")


def clip(value: float) -> float:
    """``value`` clipped to [0, 1]."""
    return min(1.0, max(0.0, value))


@dataclass(frozen=True)
class Options:
    """Settings of :func:`~fathom.graders.openai_grader` that reach the nodes."""

    model: Any = None
    """Judge for every score_model/label_model node: a model spec, ``{spec: ..., **options}`` or a Backend."""
    embedder: Embedder | None = None
    """Texts -> vectors, for ``evaluation_metric: cosine``."""
    python_time_limit_s: float = 120.0
    """Wall-clock seconds one python grading may take."""
    python_memory_mb: int = 2048
    """Address-space limit of the python worker, MiB."""
    python_on_error: str = "raise"
    """``raise`` or ``zero``: what an exception or non-number from a python grader's ``grade`` does."""


@dataclass
class Outcome:
    """One node's result for one completion."""

    raw: float
    """OpenAI's value (a formula's result, a judge's number in its range, what ``grade`` returned)."""
    score: float
    """The Fathom score, in [0, 1]."""
    details: dict[str, float] = field(default_factory=dict)
    """Extra components (``raw``, ``passed``, ``unparsed``...), unprefixed."""
    reason: str = ""


class Node(Protocol):
    """A built grader node."""

    @property
    def key(self) -> str:
        """Its name: the key under ``graders`` of its ``multi``, else its ``name`` or type."""
        ...

    def run(self, ctx: Context) -> Outcome: ...

    def describe(self) -> list[str]:
        """Lines for ``fathom grader import``'s tree: the first describes the node, the rest its children."""
        ...

    def templates(self) -> list[Template]:
        """Every template of the node and its children."""
        ...


def check_keys(config: Mapping[str, Any], where: str, allowed: Sequence[str], required: Sequence[str],
               problems: list[str]) -> None:
    """Append a problem for each key outside ``allowed`` (with did-you-mean) and each missing required key."""
    valid = ("type", "name", *allowed)
    for key in config:
        if key not in valid:
            hint = did_you_mean(str(key), valid)
            problems.append(f"{where}: unknown key {key!r} for type {config.get('type')!r}. {hint} "
                            f"Valid keys: {', '.join(valid)}.".replace(".  ", ". "))
    problems.extend(f"{where}: missing required key {key!r}" for key in required if key not in config)


def threshold(config: Mapping[str, Any], where: str, problems: list[str]) -> float | None:
    """The optional ``pass_threshold`` (a number)."""
    value = config.get("pass_threshold")
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
        problems.append(f"{where}: pass_threshold must be a number, got {value!r}")
        return None
    return None if value is None else float(value)


def _passed(details: dict[str, float], score: float, pass_threshold: float | None) -> dict[str, float]:
    if pass_threshold is not None:
        details["passed"] = float(score >= pass_threshold)
    return details


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")


_COMPARE: dict[str, Callable[[str, str], bool]] = {
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "like": lambda a, b: b in a,
    "ilike": lambda a, b: b.casefold() in a.casefold(),
}


@dataclass(frozen=True)
class StringCheck:
    type: ClassVar[str] = "string_check"
    key: str
    input: Template
    reference: Template
    operation: str

    @classmethod
    def build(cls, key: str, config: Mapping[str, Any], where: str, options: Options,
              problems: list[str]) -> StringCheck:
        check_keys(config, where, ("input", "reference", "operation"), ("input", "reference", "operation"),
                   problems)
        operation = config.get("operation")
        if "operation" in config and operation not in OPERATIONS:
            problems.append(f"{where}: operation {operation!r} is not one of {', '.join(OPERATIONS)}. "
                            f"{did_you_mean(str(operation), OPERATIONS)}".strip())
        return cls(key, parse_template(config.get("input", ""), f"{where}.input", problems),
                   parse_template(config.get("reference", ""), f"{where}.reference", problems), str(operation))

    def run(self, ctx: Context) -> Outcome:
        got, ref = self.input.render(ctx), self.reference.render(ctx)
        value = float(_COMPARE[self.operation](got, ref))
        return Outcome(value, value, {}, f"{_short(got)} {self.operation} {_short(ref)}: {value:g}")

    def templates(self) -> list[Template]:
        return [self.input, self.reference]

    def describe(self) -> list[str]:
        return [f"{self.key}: string_check {self.operation}  input={self.input.source!r} "
                f"reference={self.reference.source!r}"]


@dataclass(frozen=True)
class TextSimilarity:
    type: ClassVar[str] = "text_similarity"
    key: str
    input: Template
    reference: Template
    metric: str
    fn: Callable[[str, str], float]
    pass_threshold: float | None

    @classmethod
    def build(cls, key: str, config: Mapping[str, Any], where: str, options: Options,
              problems: list[str]) -> TextSimilarity:
        check_keys(config, where, ("input", "reference", "evaluation_metric", "pass_threshold"),
                   ("input", "reference", "evaluation_metric"), problems)
        metric = config.get("evaluation_metric")
        fn: Callable[[str, str], float] = lambda a, b: 0.0  # noqa: E731 (replaced unless the config is bad)
        if metric not in METRICS and "evaluation_metric" in config:
            problems.append(f"{where}: evaluation_metric {metric!r} is not one of {', '.join(METRICS)}. "
                            f"{did_you_mean(str(metric), METRICS)}".strip())
        elif metric in METRICS:
            found, why = similarity_metric(str(metric), options.embedder)
            if found is None:
                problems.append(f"{where}: {why}")
            else:
                fn = found
        return cls(key, parse_template(config.get("input", ""), f"{where}.input", problems),
                   parse_template(config.get("reference", ""), f"{where}.reference", problems), str(metric), fn,
                   threshold(config, where, problems))

    def run(self, ctx: Context) -> Outcome:
        got, ref = self.input.render(ctx), self.reference.render(ctx)
        value = clip(float(self.fn(got, ref)))
        return Outcome(value, value, _passed({}, value, self.pass_threshold),
                       f"{self.metric} {_short(got)} vs {_short(ref)}: {value:.3f}")

    def templates(self) -> list[Template]:
        return [self.input, self.reference]

    def describe(self) -> list[str]:
        extra = f" pass_threshold={self.pass_threshold:g}" if self.pass_threshold is not None else ""
        return [f"{self.key}: text_similarity {self.metric}  input={self.input.source!r} "
                f"reference={self.reference.source!r}{extra}"]


@dataclass(frozen=True)
class PythonNode:
    type: ClassVar[str] = "python"
    key: str
    sandbox: PythonSandbox
    pass_threshold: float | None

    @classmethod
    def build(cls, key: str, config: Mapping[str, Any], where: str, options: Options,
              problems: list[str]) -> PythonNode | None:
        check_keys(config, where, ("source", "image_tag", "pass_threshold"), ("source",), problems)
        pass_threshold = threshold(config, where, problems)
        if "source" not in config:
            return None
        try:
            sandbox = PythonSandbox(config["source"], name=key, time_limit_s=options.python_time_limit_s,
                                    memory_mb=options.python_memory_mb, on_error=options.python_on_error)
        except ConfigError as exc:
            problems.extend(f"{where}: {p}" for p in exc.problems)
            return None
        return cls(key, sandbox, pass_threshold)

    def run(self, ctx: Context) -> Outcome:
        result = self.sandbox(ctx.sample, dict(ctx.item))
        details = {"error": float(result.value is None)} if self.sandbox.on_error == "zero" else {}
        if result.value is None:
            return Outcome(0.0, 0.0, _passed({"raw": 0.0, **details}, 0.0, self.pass_threshold),
                           f"grade() failed, scored 0: {result.error[:160]}")
        score = clip(result.value)
        return Outcome(result.value, score, _passed({"raw": result.value, **details}, score, self.pass_threshold),
                       f"grade() returned {result.value:g}")

    def templates(self) -> list[Template]:
        return []

    def describe(self) -> list[str]:
        lines = self.sandbox.source.count("\n") + 1
        return [f"{self.key}: python  grade(sample, item), {lines} line(s); limits "
                f"{self.sandbox.time_limit_s:g} s, {self.sandbox.memory_mb} MiB, no network"]

"""OpenAI reinforcement-fine-tuning grader configurations as Fathom graders: :func:`openai_grader`.

OpenAI has retired its hosted graders; their JSON is kept as a format that runs here, so a team's
reward definitions move with it. Supported types: ``string_check``, ``text_similarity``,
``score_model``, ``label_model``, ``python`` and ``multi`` (sub-graders under ``graders`` combined by
a ``calculate_output`` formula; nesting is allowed). Templates, metrics, judges, the python sandbox
and formulas live in ``_openai_templates``, ``_openai_similarity``, ``_openai_model``, ``_sandbox``
and ``_openai_formula``.

A configuration is checked completely when the grader is built: unknown types and keys (with a
did-you-mean), bad operations, metrics and formulas, unknown template namespaces and ``sample``
variables, python source that does not compile, metrics whose library is missing. All problems are
raised together as one :class:`~fathom.errors.ConfigError`.

Scores: a ``multi`` formula sees OpenAI's values (``raw``: a ``score_model`` number in its range, a
python grader's return value) and its result is clipped to [0, 1]; ``raw`` stays a component.
Not covered: OpenAI's image/audio inputs, the hosted ``cosine`` embedding model (pass an embedder).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from fathom.errors import ConfigError, DataError, GraderError, Problem, did_you_mean
from fathom.graders._openai_formula import Formula, parse_formula
from fathom.graders._openai_model import LabelModel, ScoreModel
from fathom.graders._openai_nodes import (
    Node,
    Options,
    Outcome,
    PythonNode,
    StringCheck,
    TextSimilarity,
    check_keys,
    clip,
)
from fathom.graders._openai_similarity import load_embedder
from fathom.graders._openai_templates import Context, Template, item_value
from fathom.graders._protocol import Grade

__all__ = ["OpenAIGrader", "load_openai_config", "openai_grader"]

_TYPES: dict[str, Callable[..., Any]] = {
    "label_model": LabelModel.build, "python": PythonNode.build, "score_model": ScoreModel.build,
    "string_check": StringCheck.build, "text_similarity": TextSimilarity.build,
}
TYPES = (*sorted(_TYPES), "multi")


@dataclass(frozen=True)
class Multi:
    type: ClassVar[str] = "multi"
    key: str
    children: dict[str, Node]
    formula: Formula

    def run(self, ctx: Context) -> Outcome:
        values: dict[str, float] = {}
        details: dict[str, float] = {}
        reasons = []
        for key, node in self.children.items():
            out = node.run(ctx)
            values[key], details[key] = out.raw, out.score
            details.update({f"{key}.{k}": v for k, v in out.details.items()})
            reasons.append(f"{key} {out.score:.2f}: {out.reason}")
        raw = self.formula.evaluate(values)
        details["raw"] = raw
        clipped = "" if 0.0 <= raw <= 1.0 else f" (clipped from {raw:g})"
        return Outcome(raw, clip(raw), details, f"{self.formula.source} = {clip(raw):.3f}{clipped} | "
                                                + " | ".join(reasons))

    def templates(self) -> list[Template]:
        return [t for child in self.children.values() for t in child.templates()]

    def describe(self) -> list[str]:
        lines = [f"{self.key}: multi  calculate_output={self.formula.source!r}"]
        children = list(self.children.values())
        for i, child in enumerate(children):
            last = i == len(children) - 1
            sub = child.describe()
            lines.append(("└── " if last else "├── ") + sub[0])
            lines.extend(("    " if last else "│   ") + line for line in sub[1:])
        return lines


def _build(key: str, config: Any, where: str, options: Options, problems: list[str]) -> Node | None:
    if not isinstance(config, Mapping):
        problems.append(f"{where}: expected a grader object with a 'type', got {config!r:.80}")
        return None
    kind = config.get("type")
    if kind == "multi":
        return _build_multi(key, config, where, options, problems)
    if kind is None:
        problems.append(f"{where}: missing 'type' (one of {', '.join(TYPES)})")
        return None
    if kind not in _TYPES:
        hint = did_you_mean(str(kind), TYPES)
        problems.append(f"{where}: unknown grader type {kind!r}. {hint} Supported: {', '.join(TYPES)}."
                        .replace(".  ", ". "))
        return None
    node: Node | None = _TYPES[kind](key, config, where, options, problems)
    return node


def _build_multi(key: str, config: Mapping[str, Any], where: str, options: Options,
                 problems: list[str]) -> Multi | None:
    check_keys(config, where, ("graders", "calculate_output"), ("graders", "calculate_output"), problems)
    graders = config.get("graders")
    if not isinstance(graders, Mapping) or not graders:
        problems.append(f"{where}.graders: expected an object of named sub-graders, got {graders!r:.80}")
        return None
    children = {str(name): _build(str(name), sub, f"{where}.graders.{name}", options, problems)
                for name, sub in graders.items()}
    formula = parse_formula(config.get("calculate_output"), list(children), f"{where}.calculate_output", problems)
    built = {name: node for name, node in children.items() if node is not None}
    if formula is None or len(built) < len(children):
        return None
    return Multi(key, built, formula)


def load_openai_config(config: Mapping[str, Any] | None = None,
                       file: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The grader object from ``config`` or a JSON (or YAML) ``file``.

    A wrapper is unwrapped: ``{"grader": {...}}`` (the run-grader request) or a fine-tuning job's
    ``method.reinforcement.grader``.

    Raises:
        ConfigError: neither or both given, an unreadable file, or no grader object inside.
    """
    if (config is None) == (file is None):
        raise ConfigError(["grader 'openai': give exactly one of `config` (the grader object) or `file` "
                           "(a JSON file holding it)"])
    where = "config"
    if file is not None:
        where = str(file)
        config = _read(Path(file))
    found: Any = config
    if isinstance(found, Mapping) and "type" not in found:
        method = found.get("method")
        reinforcement = method.get("reinforcement") if isinstance(method, Mapping) else None
        found = found.get("grader", reinforcement.get("grader") if isinstance(reinforcement, Mapping) else None)
    if not isinstance(found, Mapping):
        raise ConfigError([Problem(where, "no OpenAI grader object: expected {\"type\": ..., ...}, "
                                          "{\"grader\": {...}} or a fine-tuning job with method.reinforcement.grader")])
    return dict(found)


def _read(path: Path) -> Any:
    from fathom._textfile import read_utf8

    try:
        text = read_utf8(path)
    except FileNotFoundError:
        raise ConfigError([Problem(str(path), "file not found")]) from None
    except DataError as exc:
        raise ConfigError(exc.problems) from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            return yaml.safe_load(text)
        return json.loads(text)
    except (json.JSONDecodeError, ValueError) as exc:
        raise ConfigError([Problem(str(path), f"not valid JSON: {exc}")]) from None


class OpenAIGrader:
    """A built OpenAI grader configuration; call it like any grader. Build it with :func:`openai_grader`.

    Attributes:
        config: the OpenAI grader object it was built from.
        root: the top node (``multi`` or a leaf).
    """

    name: ClassVar[str] = "openai"

    def __init__(self, config: dict[str, Any], root: Node):
        self.config, self.root = config, root

    def __repr__(self) -> str:
        return f"OpenAIGrader({getattr(self.root, 'type', '?')} {self.root.key!r})"

    def __call__(self, example: dict[str, Any], completion: dict[str, Any] | str) -> Grade:
        out = self.root.run(Context(example, completion))
        components = dict(out.details) if isinstance(self.root, Multi) else {self.root.key: out.score, **out.details}
        return Grade(clip(out.score), components, {}, out.reason)

    def item_problems(self, examples: Iterable[Mapping[str, Any]], limit: int = 20) -> list[Problem]:
        """What the ``{{item.*}}`` templates need that the examples lack, without grading anything
        (at most ``limit`` problems; each names the example).

        >>> grader = openai_grader({"type": "string_check", "input": "{{item.reference.answer}}",
        ...                         "reference": "x", "operation": "eq"})
        >>> for problem in grader.item_problems([{"reference": {"answer": "a"}}, {"reference": {"answr": "b"}}]):
        ...     print(problem)
        example 2: template {{item.reference.answer}}: item.reference has no 'answer'. Did you mean 'answr'? \
It has: answr. Fix the grader's template or add the field to the data.
        """
        paths = {p for t in self.root.templates() for p in t.paths if p[0] == "item"}
        found: list[Problem] = []
        for index, example in enumerate(examples, start=1):
            for path in sorted(paths, key=str):
                try:
                    item_value(path, example)
                except GraderError as exc:
                    found.append(Problem(f"example {index}", str(exc)))
            if len(found) >= limit:
                break
        return found[:limit]

    def describe(self) -> str:
        """The grader tree, one node a line (what ``fathom grader import`` prints)."""
        return "\n".join(self.root.describe())

    def close(self) -> None:
        """Stop any python grader worker processes (they restart on the next grading)."""
        stack: list[Any] = [self.root]
        while stack:
            node = stack.pop()
            stack.extend(getattr(node, "children", {}).values())
            if isinstance(node, PythonNode):
                node.sandbox.close()


def openai_grader(config: Mapping[str, Any] | None = None, file: str | os.PathLike[str] | None = None, *,
                  model: Any = None, embedder: Any = None, python_time_limit_s: float = 120.0,
                  python_memory_mb: int = 2048, python_on_error: str = "raise") -> OpenAIGrader:
    """An OpenAI grader configuration (``string_check``, ``text_similarity``, ``score_model``,
    ``label_model``, ``python``, ``multi``) as a Fathom grader.

    Why: OpenAI retired its hosted graders; a team's reward definitions are JSON in this format,
    and loading them keeps the same reward for evaluation and Fathom's RFT without a rewrite.
    Recipes write ``grader: {name: openai, file: grader.json}`` or ``{name: openai, config: {...}}``.

    Components: a leaf grader's score under its name; a ``multi``'s sub-grader scores under their
    keys, their details as ``key.detail`` and the formula's unclipped value as ``raw``.

    Args:
        config: the OpenAI grader object (or a ``{"grader": ...}`` wrapper).
        file: a JSON (or YAML) file holding it, instead of ``config``.
        model: the judge for every ``score_model``/``label_model``: a Fathom model spec, a dict
            ``{spec: ..., **load_backend options}`` or a Backend. Default: each node's ``model``,
            which must then be a Fathom spec.
        embedder: for ``cosine``: a function from a list of texts to vectors, or a
            sentence-transformers model name.
        python_time_limit_s: wall-clock limit per python grading (OpenAI's was 2 minutes).
        python_memory_mb: memory limit of the python worker (OpenAI's was 2 GB).
        python_on_error: ``"raise"`` or ``"zero"`` (OpenAI's behaviour): what an exception or a
            non-number from a python grader does. Time-outs, the memory limit and refused
            operations always raise.

    Returns:
        The grader (an :class:`OpenAIGrader`).

    Raises:
        ConfigError: every problem in the configuration, at once.

    >>> grade = openai_grader({"type": "string_check", "name": "city", "operation": "ilike",
    ...                        "input": "{{sample.output_text}}", "reference": "{{item.reference.text}}"})
    >>> grade({"reference": {"text": "Paris"}}, "It is paris.").score
    1.0
    >>> grade({"reference": {"text": "Paris"}}, "Lyon").components
    {'city': 0.0}
    """
    raw = load_openai_config(config, file)
    problems: list[str] = []
    if python_on_error not in ("raise", "zero"):
        problems.append(f"python_on_error must be 'raise' or 'zero', got {python_on_error!r}")
    options = Options(model=model, embedder=load_embedder(embedder), python_time_limit_s=python_time_limit_s,
                      python_memory_mb=python_memory_mb, python_on_error=python_on_error)
    key = str(raw.get("name") or raw.get("type") or "grader")
    root = _build(key, raw, key, options, problems)
    if problems or root is None:
        raise ConfigError([f"grader 'openai': {p}" for p in problems or ["the configuration is empty"]])
    return OpenAIGrader(raw, root)

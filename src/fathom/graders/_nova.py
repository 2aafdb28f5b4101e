"""A Fathom grader as an Amazon Nova reinforcement fine-tuning (RFT) reward Lambda.

Contract (graders-and-formats.md §9, Nova RFT): the Lambda receives a list of samples
``{id, messages (the generated assistant turn last), reference_answer, tools?}`` and returns, per
sample, ``{id, aggregate_reward_score, metrics_list: [{name, value, type: "Reward" | "Metric"}]}``.
The grade's score is the aggregate (and the one ``Reward`` metric); its components and gates are
``Metric`` entries. The same handler serves ``rft_eval``.

Covers: the handler factory, and :func:`write_nova_lambda`, which writes a deployable folder
(``lambda_function.py`` with the grader spec embedded, a copy of the ``fathom`` package, and the
``requirements.txt`` for the grader's third-party needs).
Not covered: creating the Lambda or the SageMaker job (AWS tooling does that).
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from fathom._manifest import atomic_write_text
from fathom.errors import ConfigError, FathomError, GraderError
from fathom.graders._protocol import Grade, Grader

__all__ = ["nova_lambda_handler", "nova_sample_example", "write_nova_lambda"]

_log = logging.getLogger(__name__)
_NEEDS = {"tool_call": ["jsonschema", "scipy"], "json_schema": ["jsonschema"], "chrf": ["sacrebleu"],
          "bleu": ["sacrebleu"], "llm_judge": ["httpx"]}


def _text(content: Any) -> str | None:
    """Message content as text: strings as-is; Bedrock-style ``[{"text": ...}]`` blocks joined."""
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(block.get("text", "") for block in content if isinstance(block, dict))
    return str(content)


def nova_sample_example(sample: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split one Nova RFT sample into a Fathom example and the generated assistant message.

    A string ``reference_answer`` becomes ``reference["text"]``; an object is used as the reference.

    >>> ex, completion = nova_sample_example({"id": "1", "messages": [{"role": "user", "content": "Hi"},
    ...     {"role": "assistant", "content": "Hello"}], "reference_answer": "Hello"})
    >>> ex["reference"], completion["content"]
    ({'text': 'Hello'}, 'Hello')
    """
    messages = [dict(m, content=_text(m.get("content"))) for m in sample.get("messages") or []
                if isinstance(m, Mapping)]
    if not messages or messages[-1].get("role") != "assistant":
        raise GraderError(f"Nova sample {sample.get('id')!r}: the last message must be the generated assistant "
                          f"turn, got role {messages[-1].get('role') if messages else None!r}.")
    reference = sample.get("reference_answer")
    example: dict[str, Any] = {
        "messages": messages[:-1],
        "reference": {"text": reference} if isinstance(reference, str) else dict(reference or {}),
        "meta": {"id": sample.get("id")},
    }
    if sample.get("tools"):
        example["tools"] = sample["tools"]
    return example, messages[-1]


def _metrics(grade: Grade, reward_name: str) -> list[dict[str, Any]]:
    metrics = [{"name": reward_name, "value": grade.score, "type": "Reward"}]
    metrics += [{"name": k, "value": float(v), "type": "Metric"} for k, v in grade.components.items()
                if math.isfinite(v)]
    metrics += [{"name": f"gate.{k}", "value": float(v), "type": "Metric"} for k, v in grade.gates.items()]
    return metrics


def nova_lambda_handler(grader: Grader, *, reward_name: str = "score") -> Callable[[Any, Any], list[dict[str, Any]]]:
    """A Lambda ``handler(event, context)`` that grades Nova RFT samples with ``grader``.

    A sample the grader cannot read (a :class:`~fathom.errors.FathomError`, e.g. no assistant turn)
    gets reward 0 and the metric ``grader_error = 1``, and the error is logged, so one bad sample does
    not fail the whole training batch; any other exception propagates.

    Args:
        grader: the grader.
        reward_name: the name of the ``Reward`` metric.

    Returns:
        The handler.

    >>> from fathom.graders import exact
    >>> handler = nova_lambda_handler(exact())
    >>> [result] = handler([{"id": "a", "messages": [{"role": "user", "content": "Area?"},
    ...     {"role": "assistant", "content": "Dogger"}], "reference_answer": "dogger"}], None)
    >>> result["id"], result["aggregate_reward_score"]
    ('a', 1.0)
    >>> result["metrics_list"]
    [{'name': 'score', 'value': 1.0, 'type': 'Reward'}, {'name': 'exact', 'value': 1.0, 'type': 'Metric'}]
    """

    def handler(event: Any, context: Any) -> list[dict[str, Any]]:
        samples = json.loads(event) if isinstance(event, str) else event
        if not isinstance(samples, list):
            raise GraderError(f"Nova reward Lambda: expected a list of samples, got {type(samples).__name__}.")
        results = []
        for sample in samples:
            sample_id = sample.get("id") if isinstance(sample, Mapping) else None
            try:
                example, completion = nova_sample_example(sample)
                grade = grader(example, completion)
            except FathomError as exc:
                _log.error("sample %r not graded: %s", sample_id, exc)
                results.append({"id": sample_id, "aggregate_reward_score": 0.0, "metrics_list": [
                    {"name": reward_name, "value": 0.0, "type": "Reward"},
                    {"name": "grader_error", "value": 1.0, "type": "Metric"}]})
                continue
            results.append({"id": sample_id, "aggregate_reward_score": grade.score,
                            "metrics_list": _metrics(grade, reward_name)})
        return results

    return handler


def _grader_names(spec: Any, top: bool = True) -> set[str]:
    """Grader names a spec mentions: its ``name`` and, recursively, those of nested ``grader`` specs."""
    if isinstance(spec, str):
        return {spec} if top else set()
    if isinstance(spec, Mapping):
        found = {spec["name"]} if isinstance(spec.get("name"), str) else set()
        return found | {n for k, v in spec.items() for n in _grader_names(v, top=k == "grader")}
    if isinstance(spec, list):
        return {n for v in spec for n in _grader_names(v, top=False)}
    return set()


_TEMPLATE = '''"""Amazon Nova RFT reward Lambda generated by Fathom (fathom.graders.write_nova_lambda).

Handler: lambda_function.lambda_handler. The grader spec below is built once per container.
Install the third-party packages in requirements.txt into this folder before zipping, e.g.
    pip install -r requirements.txt -t . --platform manylinux2014_x86_64 --only-binary=:all:
"""

import json

from fathom._plugins import load_ref
from fathom.graders import build_grader, nova_lambda_handler, register_grader

# Plug-in graders the spec uses (a Lambda has no package metadata, so entry points are not found).
for _name, _ref in json.loads({plugins_json!r}).items():
    register_grader(_name)(load_ref(_ref))

GRADER_SPEC = json.loads({spec_json!r})
lambda_handler = nova_lambda_handler(build_grader(GRADER_SPEC), reward_name={reward_name!r})
'''


def write_nova_lambda(out_dir: str | os.PathLike[str], spec: str | dict[str, Any], *,
                      reward_name: str = "score") -> Path:
    """Write a deployable Nova reward Lambda folder for a grader spec.

    The folder holds ``lambda_function.py`` (handler ``lambda_function.lambda_handler``, the spec
    embedded as JSON, plug-in graders it names registered explicitly), a copy of the installed
    ``fathom`` package, and ``requirements.txt`` naming the third-party packages the spec's graders
    import (jsonschema, scipy, sacrebleu, httpx as needed). The spec is built once here first, so a
    bad spec fails now, not in AWS.

    Args:
        out_dir: the folder to write (created; an existing ``fathom`` copy in it is replaced).
        spec: a grader spec, as in a recipe (``{"name": "tool_call", "weights": {...}}``).
        reward_name: the name of the ``Reward`` metric.

    Returns:
        The path of ``lambda_function.py``.

    Raises:
        ConfigError: the spec does not build, or names a grader registered only in this process.
    """
    from fathom.graders._registry import _BUILTIN, _GRADERS, build_grader

    build_grader(spec)
    refs = _GRADERS.refs()
    names = sorted(n for n in _grader_names(spec) if n in refs and n not in _BUILTIN)
    local = [n for n in names if not isinstance(refs[n], str)]
    if local:
        raise ConfigError([f"grader {n!r} was registered in this process (register_grader), so the Lambda "
                           "cannot import it; ship it in a domain plug-in (DomainPlugin.graders) instead."
                           for n in local])
    plugins = {n: refs[n] for n in names}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    package = Path(__file__).resolve().parents[1]
    if (out / "fathom").exists():
        shutil.rmtree(out / "fathom")
    shutil.copytree(package, out / "fathom", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    needs = sorted({pkg for name in _grader_names(spec) for pkg in _NEEDS.get(name, [])})
    atomic_write_text(out / "requirements.txt", "".join(f"{pkg}\n" for pkg in needs))
    path = out / "lambda_function.py"
    atomic_write_text(path, _TEMPLATE.format(spec_json=json.dumps(spec, sort_keys=True),
                                             plugins_json=json.dumps(plugins), reward_name=reward_name))
    return path
